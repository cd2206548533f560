import jax
import jax.numpy as jnp
import jax.lax as lax


def f(x0, x1, x2):
    v0 = jnp.roll(jnp.fmax(x1, jnp.eye(11, k=-1, dtype=jnp.float16)), 2, axis=1)
    v1 = -(jnp.cumsum(x0, axis=1).sum(axis=1) * v0 / x2)
    return jnp.clip(v1.sum(), 0.0, 1.0)
