import jax
import jax.numpy as jnp
import jax.lax as lax


def f(x0, x1, x2):
    def cond_true0(a0, a1):
        v0 = jnp.logical_not(a0)
        return v0
    def cond_false0(a2, a3):
        return x0
    v1 = lax.cond(x0, cond_true0, cond_false0, x0, x1)
    def loop_body0(i0, c0):
        def while_body0(state0):
            k0, c1, c2 = state0
            def cond_true1(a4, a5):
                v2 = jnp.where(a4, c0, c1)
                return v2
            def cond_false1(a6, a7):
                return a6
            v3 = lax.cond(c0, cond_true1, cond_false1, c1, c2)
            return k0 + 1, v3, c2
        def while_cond0(state1):
            return state1[0] < 5
        _, v4, _ = lax.while_loop(while_cond0, while_body0, (0, c0, i0))
        return v4
    v5 = lax.fori_loop(0, 1, loop_body0, v1)
    v6 = jnp.where(jnp.logical_or(v5, jnp.logical_or(x2, jnp.where(x0, x2, x0))), x1, -1)
    return v6
