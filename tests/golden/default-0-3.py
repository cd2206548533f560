import jax
import jax.numpy as jnp
import jax.lax as lax


def f(x0, x1, x2, x3):
    v0 = lax.dynamic_update_slice(
        x2, x3, (jnp.full((), 3, dtype=jnp.int32), jnp.full((), 1, dtype=jnp.int32))
    )
    v1 = jnp.linalg.norm(jnp.log2(jnp.exp(jnp.copysign(x0, x1))))
    v2 = jnp.expand_dims(v1 * jnp.floor(jnp.arcsin(jnp.deg2rad(v0))), axis=1)
    return jnp.arccos(jnp.cbrt(v2))
