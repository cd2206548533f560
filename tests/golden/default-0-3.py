import jax
import jax.numpy as jnp
import jax.lax as lax


def f(x0, x1, x2, x3):
    def scan_body0(carry0, s0):
        c0, c1 = carry0
        v0 = jnp.clip(jnp.maximum(c1, x3), -4.0, 4.0)
        return (x0, v0), c0
    (v1, _), _ = lax.scan(scan_body0, (x0, x1), x2)
    v2 = jnp.broadcast_to(x3, (3, 4, 4))
    def cond_true0(a0):
        v3 = jnp.tan(jnp.full((3, 4, 4), 0.5, dtype=jnp.float32))
        return v3
    def cond_false0(a1):
        return v2
    v4 = lax.cond(jnp.reshape(jnp.pad(v1, ((1, 1),)).all(axis=0, keepdims=True), ()), cond_true0, cond_false0, v2)
    return jnp.square(jnp.minimum(jnp.sum(v4, axis=2), 0.25))
