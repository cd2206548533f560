import jax
import jax.numpy as jnp
import jax.lax as lax


def f(x0, x1, x2, x3):
    v0 = jnp.where(x0, x1, x2) + jnp.fmax(10.0, jax.scipy.special.logit(x3))
    v1 = jnp.broadcast_to(x1, (3, 3))
    v2 = jnp.broadcast_to(x0.astype(jnp.int32), (3,))
    v3 = jnp.maximum(v2, x2.astype(jnp.int32).reshape(1))
    v4 = jnp.broadcast_to(x2, (3, 3)).at[:, v3].get(mode='clip') + v1
    v5 = jnp.sinc(v0) == jnp.arctanh(jnp.full((), 0.5, dtype=jnp.float32))
    v6 = jnp.arctan2(-2.0 - jnp.broadcast_to(x3, (3, 3)), v4)
    return jnp.where(v5, jnp.cosh(v1 * jnp.broadcast_to(x3, (3, 3))), v6)
