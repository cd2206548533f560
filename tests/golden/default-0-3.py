import jax
import jax.numpy as jnp
import jax.lax as lax


def f(x0, x1, x2, x3):
    v0 = jnp.concatenate([lax.rsqrt(x0), x0 + jnp.round(jnp.cos(x1)), x0], axis=2)
    def cond_true0(a0, a1):
        v1 = jnp.sin(a0)
        return v1
    def cond_false0(a2, a3):
        v2 = a2 + 3.0
        return v2
    v3 = lax.cond(x2, cond_true0, cond_false0, x3, jnp.min(x1))
    v4 = jnp.concatenate([v3.reshape(2, 1, 3), jnp.broadcast_to(jnp.min(x1), (2, 1, 3))], axis=1)
    v5 = jnp.clip(jnp.clip(-v0 + v4, -1.0, 1.0), 0.0, 6.0)
    return v5
