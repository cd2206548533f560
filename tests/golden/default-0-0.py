import jax
import jax.numpy as jnp
import jax.lax as lax


def f(x0, x1, x2, x3):
    v0 = jnp.min(jnp.flip(x0 / x1 / x2, axis=1), axis=1, keepdims=True)
    v1 = jnp.square(jnp.round(jax.nn.softplus(x3 / jax.nn.log_sigmoid(x3))))
    return v0, v1
