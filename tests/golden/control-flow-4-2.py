import jax
import jax.numpy as jnp
import jax.lax as lax


def f(x0, x1, x2, x3):
    v0 = jnp.sin(jnp.reshape(x0, ()).astype(jnp.float32) * x1)
    v1 = -jnp.maximum(v0 + -2.0, v0)
    v2 = jnp.logaddexp(jnp.sign(x2), jnp.where(x3, jnp.broadcast_to(x1, (1, 8)), x2))
    return v1, v2
