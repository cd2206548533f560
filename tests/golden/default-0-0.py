import jax
import jax.numpy as jnp
import jax.lax as lax


def f(x0, x1):
    v0 = jnp.arccos(jax.scipy.special.log_ndtr(jnp.log(jnp.nanmin(1.5 - x0))))
    v1 = lax.rsqrt(jax.nn.gelu(v0, approximate=True))
    v2 = jnp.reciprocal(jnp.ceil(jnp.arcsin(jnp.deg2rad(jax.scipy.special.polygamma(3, x1)))))
    return v1, v2
