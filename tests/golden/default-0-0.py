import jax
import jax.numpy as jnp
import jax.lax as lax


def f(x0, x1):
    v0 = jax.scipy.special.erfc(jnp.cos(jax.scipy.special.erf(jnp.sinh(x0))))
    v1 = jnp.sqrt(jnp.log1p(jnp.tanh(v0)))
    return v1, jnp.arcsin(x1)
