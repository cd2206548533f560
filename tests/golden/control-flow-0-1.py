import jax
import jax.numpy as jnp
import jax.lax as lax


def f(x0, x1, x2, x3):
    def cond_true0(a0):
        def loop_body0(_, carry0):
            c0, c1 = carry0
            v0 = jnp.clip(10 - x1, -1, 20)
            return v0, jnp.logical_or(c1, jnp.isin(c0, jnp.array([-3, -1, 6])))
        v1, _ = lax.fori_loop(0, 1, loop_body0, (a0, x0))
        return v1
    def cond_false0(_a0):
        return jnp.cumsum(jax.nn.one_hot(x2.astype(jnp.int32), 8, dtype=jnp.int32), axis=0)
    v2 = lax.cond(x2, cond_true0, cond_false0, x3)
    v3 = jax.nn.gelu(x2.astype(jnp.float32), approximate=True) * x2.astype(jnp.float32)
    def while_body0(state0):
        k0, c2 = state0
        return k0 + 1, jnp.expand_dims(jnp.where(x2, jnp.reshape(c2, ()), x2), axis=0)
    def while_cond0(state1):
        return state1[0] < 4
    _, v4 = lax.while_loop(while_cond0, while_body0, (0, v3 < x2.astype(jnp.float32).reshape(1)))
    v5 = jnp.where(x2.reshape(1), x2.reshape(1), v4)
    return jnp.where(jnp.logical_not(x0), x1 == v2, v5)
