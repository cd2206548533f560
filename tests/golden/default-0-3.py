import jax
import jax.numpy as jnp
import jax.lax as lax


def f(x0, x1, x2, x3):
    v0 = jnp.sqrt(jnp.logaddexp(-0.5, x0))
    v1 = lax.bitcast_convert_type(jnp.abs(x3.astype(jnp.float32)) + 4.0, jnp.int32)
    v2 = lax.dynamic_update_slice(v0, x1, (0, jnp.sum(x2) * (x3 // v1), 2 & x3))
    v3 = jnp.maximum(jax.nn.sigmoid(v2), jnp.log1p(jnp.sqrt(jnp.exp(v0))))
    return jnp.tanh(jnp.transpose(v3, (1, 0, 2)))
