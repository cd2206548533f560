import jax
import jax.numpy as jnp
import jax.lax as lax


def f(x0):
    v0 = jnp.sign(jnp.trace(jax.scipy.special.erf(jnp.arcsinh(x0))))
    v1 = jnp.cbrt(jnp.clip(-v0, 0.0, 1.0))
    return v1, v0
