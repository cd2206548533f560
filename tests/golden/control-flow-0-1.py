import jax
import jax.numpy as jnp
import jax.lax as lax


def f(x0, x1, x2, x3):
    v0 = jnp.maximum(x0, -0.5) * 10.0 + x1
    def cond_true0(a0):
        return jnp.tanh(jnp.sign(a0))
    def cond_false0(_a0):
        return 0.1 / jnp.ceil(x3)
    v1 = lax.cond(x2, cond_true0, cond_false0, x3)
    v2 = jnp.concatenate([jnp.broadcast_to(x3, (4,)), x3.reshape(1)], axis=0)
    def scan_body0(c0, s0):
        def scan_body1(c1, s1):
            v3 = jnp.min(x0.reshape(7, 8))
            v4 = jnp.clip(jnp.where(x2, s1, c1), -1.0, 2.0)
            return v4, v3
        v5, _ = lax.scan(scan_body1, jnp.floor(s0), jnp.broadcast_to(s0, (7,)))
        v6 = jnp.clip(c0 * jnp.maximum(10.0, x3), -1.0, 1.0)
        return v6, -v5
    v7, _ = lax.scan(scan_body0, v1, v2)
    return v0, v7
