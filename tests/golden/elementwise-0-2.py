import jax
import jax.numpy as jnp
import jax.lax as lax


def f(x0, x1, x2):
    v0 = jnp.arctan2(jnp.full((), -0.5, dtype=jnp.float32), jnp.full((), 0.5, dtype=jnp.float32))
    v1 = jnp.copysign(x1, jnp.sin(jnp.maximum(v0, jnp.full((), 0.75, dtype=jnp.float32))))
    return jnp.square(jnp.where(x0, x1, x2)) * v1
