import jax
import jax.numpy as jnp
import jax.lax as lax


def f(x0, x1, x2, x3):
    v0 = jnp.clip((x2 + jnp.tan(x3)) * jnp.tanh(x0), 0.0, 1.0)
    return jnp.cumsum(jnp.sign(lax.rsqrt(x0)) + x1, axis=2), jnp.ceil(v0)
