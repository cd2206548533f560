import jax
import jax.numpy as jnp
import jax.lax as lax


def f(x0, x1, x2, x3):
    v0 = jnp.where(x1, x2, x3)
    def cond_true0(a0):
        return x1
    def cond_false0(a1):
        def while_body0(state0):
            k0, c0, c1 = state0
            def cond_true1(a2):
                v1 = jnp.broadcast_to(jnp.max(x3), (3,)) < x3
                return v1
            def cond_false1(a3):
                v2 = jnp.where(jnp.any(a3), a3, x1)
                return v2
            v3 = lax.cond(jnp.any(a1), cond_true1, cond_false1, c0)
            return k0 + 1, v3, c1
        def while_cond0(state1):
            return state1[0] < 5
        _, v4, _ = lax.while_loop(while_cond0, while_body0, (0, a1, jnp.max(x2)))
        return v4
    v5 = lax.cond(jnp.all(x1), cond_true0, cond_false0, x1)
    v6 = jnp.where(jnp.any(v5, axis=1), jnp.broadcast_to(jnp.min(x3), (3,)), jnp.broadcast_to(jnp.min(x0), (1,)))
    v7 = jnp.where(x1, x0 * jnp.broadcast_to(jnp.max(x0), (3, 1)), v6)
    return jnp.maximum(x0, v0), jnp.einsum('ij,ij->', v0, v7)
