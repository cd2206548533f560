import jax
import jax.numpy as jnp
import jax.lax as lax


def f(x0):
    v0 = jax.nn.celu(jnp.log10(x0), alpha=2.0)
    v1 = jnp.take(v0, jnp.array([0, 0, 0, 0, 0, 0, 0]), axis=2)
    v2 = jnp.fmin(jnp.arccos(jnp.arctan(v1)), jax.nn.elu(jnp.sign(v1)))
    return jnp.arcsinh(jnp.diff(v2))
