import jax
import jax.numpy as jnp
import jax.lax as lax


def f(x0):
    v0 = jnp.abs(x0)
    v1 = jax.scipy.special.erf(jnp.sin(lax.rsqrt(jnp.log1p(jnp.ceil(v0)))))
    return jnp.square(v1) + v0
