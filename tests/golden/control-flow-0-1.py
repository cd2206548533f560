import jax
import jax.numpy as jnp
import jax.lax as lax


def f(x0, x1, x2, x3):
    def cond_true0(a0):
        return jnp.round(a0) * a0
    def cond_false0(a1):
        def branch0_0(a2, a3):
            return jnp.maximum(jnp.clip(a2, 0.0, 6.0), a3)
        def branch0_1(a4, _a0):
            v0 = jnp.minimum(jnp.broadcast_to(a4, (8, 8)), jnp.broadcast_to(x3, (8, 8)))
            return v0.mean()
        def branch0_2(_a1, _a2):
            return jnp.max(jnp.tan(jnp.full((7,), 0.1, dtype=jnp.float32)), axis=0)
        v1 = lax.switch(x3.astype(jnp.int32), [branch0_0, branch0_1, branch0_2], a1, x1)
        return jnp.where(x2, x3, v1)
    v2 = lax.cond(jnp.logical_not(x2), cond_true0, cond_false0, jnp.sqrt(x3))
    return x0 / x1 * x1 + x0, jnp.ceil(jnp.sign(v2))
