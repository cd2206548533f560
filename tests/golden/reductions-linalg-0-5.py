import jax
import jax.numpy as jnp
import jax.lax as lax


def f(x0):
    v0 = jnp.take(jnp.sin(jnp.swapaxes(x0, 1, 2)), jnp.array([5]), axis=2)
    v1 = jnp.var(jnp.cumsum(jnp.diagonal(v0, axis1=-2, axis2=-1), axis=1), axis=0)[-1]
    return jnp.cosh(v1)
