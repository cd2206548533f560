import jax
import jax.numpy as jnp
import jax.lax as lax


def f(x0, x1, x2, x3):
    def cond_true0(a0, a1):
        def while_body0(state0):
            k0, c0, c1 = state0
            v0 = jnp.logical_xor(c0, c0)
            return k0 + 1, v0, x1
        def while_cond0(state1):
            return state1[0] < 2
        _, v1, _ = lax.while_loop(while_cond0, while_body0, (0, a0, x2))
        return v1
    def cond_false0(a2, a3):
        v2 = jnp.where(x0, a2, a2)
        return v2
    v3 = lax.cond(x0, cond_true0, cond_false0, x0, x1)
    def loop_body0(i0, c2):
        return v3
    v4 = lax.fori_loop(0, 1, loop_body0, v3)
    def loop_body1(i1, c3):
        v5 = jnp.reshape(x3, ())
        return v5
    v6 = lax.fori_loop(0, 5, loop_body1, x0)
    def cond_true1(a4):
        return x1
    def cond_false1(a5):
        v7 = a5 - a5
        return v7
    v8 = lax.cond(x0, cond_true1, cond_false1, x1)
    def scan_body0(carry0, s0):
        c4, c5 = carry0
        v9 = jnp.clip(jnp.square(x2), -100, 100)
        return (c4, v9), x0
    (v10, _), _ = lax.scan(scan_body0, (jnp.broadcast_to(x3, (5,)), x2), jnp.broadcast_to(x2, (7,)))
    def scan_body1(c6, s1):
        def loop_body2(i2, carry1):
            c7, c8 = carry1
            return v3, x1
        v11, _ = lax.fori_loop(0, 5, loop_body2, (x0, c6))
        def cond_true2(a6):
            return x2
        def cond_false2(a7):
            return c6
        v12 = lax.cond(v11, cond_true2, cond_false2, v8)
        return c6, v12
    v13, _ = lax.scan(scan_body1, v8, jnp.where(x0, v10, x0))
    v14 = jnp.where(jnp.logical_or(v4, v6), x1, v13 % jnp.full((), 1, dtype=jnp.int32))
    return v14
