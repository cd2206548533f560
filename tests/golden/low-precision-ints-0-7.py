import jax
import jax.numpy as jnp
import jax.lax as lax


def f(x0, x1, x2, x3):
    v0 = jnp.maximum(x1.reshape(4, 1), jnp.broadcast_to(x3.astype(jnp.int32), (4, 6)))
    v1 = lax.associative_scan(jnp.multiply, lax.shift_right_logical(v0, jnp.int32(3)) << 0, axis=0)
    v2 = jnp.maximum(v1, jnp.broadcast_to(x3.astype(jnp.int32), (4, 6)))
    v3 = jnp.take_along_axis(x2 != x3, v2, axis=0).astype(jnp.float16)
    return jnp.logical_not(x0[x1]), v3
