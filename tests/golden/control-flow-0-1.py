import jax
import jax.numpy as jnp
import jax.lax as lax


def f(x0, x1, x2, x3):
    v0 = jax.ops.segment_sum(x1, x2, num_segments=1)
    v1 = jnp.where(jnp.triu(0.25 > v0, k=-1), v0, jnp.exp2(x3))
    def loop_body0(_, carry0):
        c0, c1 = carry0
        def scan_body0(carry1, s0):
            c2, c3 = carry1
            v2 = jnp.where(jnp.broadcast_to(s0 >= 0.25, (7,)), c1.reshape(1), c3)
            v3 = jnp.clip(jnp.ceil(c2), -10.0, 10.0)
            return (v3, jnp.clip(v2, -11.0, 11.0)), lax.cummax(c1, axis=1, reverse=True)
        (v4, _), _ = lax.scan(scan_body0, (c0, c0.reshape(7)), c0.reshape(7))
        v5 = jnp.fmin(jnp.reshape(x3, ()), jnp.reshape(x3, ()))
        v6 = jnp.clip(c1 + v5, -1.0, 17.0)
        return jnp.clip(v4, -10.0, 10.0), v6
    v7, _ = lax.fori_loop(0, 2, loop_body0, (x0, v1))
    return v7
