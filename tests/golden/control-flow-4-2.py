import jax
import jax.numpy as jnp
import jax.lax as lax


def f(x0, x1, x2, x3):
    def cond_true0(_a0):
        return jnp.maximum(x1, 10.0)
    def cond_false0(a0):
        v0 = jnp.broadcast_to(x0.astype(jnp.int32), (4,))
        v1 = jnp.cumprod(v0.at[x0.astype(jnp.int32)].set(a0.astype(jnp.int32)), axis=0)
        v2 = jnp.take_along_axis(x3, jnp.broadcast_to(x0.astype(jnp.int32), (3,)), axis=0)
        v3 = lax.associative_scan(jnp.multiply, v1, axis=0, reverse=True)
        def scan_body0(c0, s0):
            def loop_body0(_, c1):
                return jnp.clip(jnp.where(x0, jnp.arccosh(a0 + 3.0), c1), -1.0, 100001.0)
            v4 = lax.fori_loop(0, 4, loop_body0, jnp.where(x0, -0.5, s0))
            v5 = jnp.clip(jnp.maximum(c0, jnp.where(x0, s0, x2)), -3.0, 2.0)
            return v5, v4
        v6, _ = lax.scan(scan_body0, jnp.where(x0, -2.0, a0), v2.at[v3].multiply(x3, mode='clip'))
        return v6
    v7 = lax.cond(x0, cond_true0, cond_false0, x2)
    return jax.nn.sigmoid(jnp.sin(v7)), jnp.log2(x3)
