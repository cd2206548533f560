import jax
import jax.numpy as jnp
import jax.lax as lax


def f(x0, x1, x2, x3):
    v0 = jnp.tanh(jnp.cos(jnp.sqrt(jnp.abs(x0)))[x1])
    v1 = jax.nn.sigmoid(jnp.maximum(v0, jnp.min(x2 * x3 / 0.5, axis=1, keepdims=True)))
    v2 = jnp.min(x1) // (-3 - x1) * jnp.broadcast_to(jnp.max(x1), (1,))[x1]
    return v1 * ((eig := jnp.linalg.eigh(v0.T @ v0 + 4.0 * jnp.eye(1, dtype=v0.dtype)))[1] * jnp.sqrt(eig[0]) @ eig[1].T)[v2]
