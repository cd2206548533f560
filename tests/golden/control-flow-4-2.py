import jax
import jax.numpy as jnp
import jax.lax as lax


def f(x0, x1, x2, x3):
    v0 = jnp.copysign(x0, jnp.eye(8, dtype=jnp.float32)) - (10.0 - x1)
    v1 = jnp.arcsin(jnp.log10(jnp.abs(x3.astype(jnp.float32)) + 0.75))
    v2 = jax.nn.leaky_relu(x3.astype(jnp.float32), negative_slope=0.2)
    v3 = 0.1 + jnp.where(lax.dynamic_index_in_dim(x2, x3, axis=0, keepdims=False), v1, v2)
    return jax.nn.hard_sigmoid(jnp.arctan(v0)), jax.nn.selu(v3)
