import jax
import jax.numpy as jnp
import jax.lax as lax


def f(x0, x1, x2, x3):
    v0 = jax.nn.log_sigmoid(lax.bitcast_convert_type(x0, jnp.float32))
    v1 = jnp.tan(jnp.copysign(v0, jnp.stack([x1, jax.nn.mish(x2), x2], axis=0)))
    v2 = jnp.abs(x3)
    v3 = jnp.exp(jax.nn.relu(jnp.tanh(x3) / (v2 + 4.0)))
    return v1, jnp.power(v3, v2)
