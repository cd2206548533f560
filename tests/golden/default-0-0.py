import jax
import jax.numpy as jnp
import jax.lax as lax


def f(x0, x1, x2):
    v0 = jnp.flip(x0 / jnp.exp(jnp.cos(x0)) / x1, axis=1)
    v1 = jnp.tanh(jnp.clip(-jnp.cos(x2), 0.0, 6.0))
    return jnp.min(v0, axis=1, keepdims=True), jnp.exp(v1)
