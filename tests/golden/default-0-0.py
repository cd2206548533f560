import jax
import jax.numpy as jnp
import jax.lax as lax


def f(x0):
    v0 = jnp.sign(jnp.ceil(lax.rsqrt(x0))[-1])
    v1 = jnp.expm1(jnp.clip(jnp.square(v0), 0.0, 1.0))
    return v1, v0
