import jax
import jax.numpy as jnp
import jax.lax as lax


def f(x0, x1, x2, x3):
    def branch0_0(_a0):
        def cond_true0(_a1):
            return x2 ** 3
        def cond_false0(a0):
            def loop_body0(_, carry0):
                c0, c1 = carry0
                v0 = jnp.clip(jnp.sinh(c0), -1.0, 2.0)
                v1 = jnp.clip(c0 + 10.0 + c1, -1.0, 2.0)
                return v0, v1
            v2, _ = lax.fori_loop(0, 5, loop_body0, (a0, a0))
            return jnp.concatenate([v2, a0], axis=0)
        return lax.cond(
            x3 <= 7,
            cond_true0,
            cond_false0,
            jnp.power(1.5, jnp.full((1,), 0.75, dtype=jnp.float32)),
        )
    def branch0_1(_a2):
        return jnp.clip(jnp.sqrt(x2), 0.0, 1.0)
    def branch0_2(a1):
        return jnp.sinh(lax.cummax(a1, axis=0, reverse=True))
    v3 = lax.switch(x3, [branch0_0, branch0_1, branch0_2], x2)
    v4 = jnp.clip(jnp.broadcast_to(x3, (2,)), 0, 1)
    v5 = jnp.expm1(jnp.where(x0, x1, x2).at[v4].min(v3, mode='clip'))
    v6 = x3.astype(jnp.float32).reshape(1)[jnp.clip(jnp.broadcast_to(x3, (9,)), 0, 0)]
    v7 = lax.dynamic_slice(v6, (jnp.clip(x3, 0, 3),), (6,))
    return v5, v7
