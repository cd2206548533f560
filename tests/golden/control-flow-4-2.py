import jax
import jax.numpy as jnp
import jax.lax as lax


def f(x0, x1, x2, x3):
    def cond_true0(a0):
        def cond_true1(_a0):
            def cond_true2():
                return -x3
            def cond_false2():
                return jax.scipy.special.erf(x2)
            return lax.cond(x1, cond_true2, cond_false2)
        def cond_false1(a1):
            return jnp.minimum(a1, x3)
        return lax.cond(x1, cond_true1, cond_false1, a0)
    def cond_false0(a2):
        return jnp.where(x1, x2, a2)
    v0 = lax.cond(x1, cond_true0, cond_false0, x2)
    v1 = jnp.sin(jnp.where(x0, v0, x2) * x3) + v0
    v2 = -jnp.minimum(v1, jnp.where(x1, v1, x2))
    v3 = jnp.clip(x2, -0.5, 0.5) - -0.5
    return v2, v3
