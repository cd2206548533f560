import jax
import jax.numpy as jnp
import jax.lax as lax


def f(x0, x1, x2, x3):
    v0 = x1 - jnp.cos(x1)
    v1 = jnp.where(jnp.where(x0, x0, x2), -x3, jnp.round(x3))
    v2 = jnp.where(x0, v0, x1) + jnp.sqrt(jnp.exp(jnp.sin(v1)))
    v3 = jnp.log(jnp.abs(x3.reshape(1)) + 0.75)
    return jnp.ceil(jnp.maximum(v2, jax.nn.sigmoid(v0))), jnp.reshape(v3, ())
