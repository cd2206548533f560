import jax
import jax.numpy as jnp
import jax.lax as lax


def f(x0, x1, x2, x3):
    def cond_true0(a0, a1):
        def loop_body0(i0, c0):
            v0 = jnp.log1p(jnp.abs(c0) + 0.25)
            return v0
        v1 = lax.fori_loop(0, 3, loop_body0, a0)
        v2 = jnp.where(jnp.broadcast_to(x1, (1, 4)), v1, a0)
        return v2
    def cond_false0(a2, a3):
        v3 = jnp.where(x1, jnp.broadcast_to(jnp.max(x0), (1, 4)), a2)
        v4 = 10.0 - v3
        return v4
    v5 = lax.cond(x1, cond_true0, cond_false0, x2, x3)
    v6 = jnp.einsum('ik,jk->ij', x0, jnp.clip(jnp.square(jnp.abs(v5)), 0.0, 6.0))
    v7 = jnp.sin(jnp.broadcast_to(jnp.min(x2), (6, 6)))
    return 1.5 * v6, v7
