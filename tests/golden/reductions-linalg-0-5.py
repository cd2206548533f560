import jax
import jax.numpy as jnp
import jax.lax as lax


def f(x0, x1, x2):
    v0 = jnp.floor(jnp.flip(x0, axis=0)) @ jnp.max(x1, axis=1, keepdims=True) / x2
    return jnp.tanh(jnp.prod(jnp.maximum(jnp.cumprod(v0, axis=0), x2)))
