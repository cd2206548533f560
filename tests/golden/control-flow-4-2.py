import jax
import jax.numpy as jnp
import jax.lax as lax


def f(x0, x1, x2, x3):
    def cond_true0(a0):
        def branch0_0(a1):
            return jax.nn.sigmoid(a1)
        def branch0_1(a2):
            return jnp.sign(a2)
        def branch0_2(_a0):
            return x3.astype(jnp.float32)
        return lax.switch(x3, [branch0_0, branch0_1, branch0_2], a0)
    def cond_false0(a3):
        def loop_body0(_, carry0):
            c0, c1 = carry0
            v0 = jnp.clip(jnp.where(x0, c1, 0.25), -1.0, 1.0)
            v1 = jnp.clip(jnp.sign(c0), -1.0, 1.0)
            return v0, v1
        v2, _ = lax.fori_loop(0, 8, loop_body0, (a3, x2))
        return v2
    v3 = lax.cond(x1, cond_true0, cond_false0, x2)
    v4 = jnp.clip(x2, -0.5, 0.5)
    v5 = jnp.sin(jnp.where(x0, v3, x2) * x2) + -jnp.abs(v4)
    def branch1_0(a4):
        return jax.nn.sigmoid(jnp.abs(a4))
    def branch1_1(a5):
        return jnp.log1p(jnp.power(a5, x2))
    v6 = lax.switch(jnp.square(x3), [branch1_0, branch1_1], x2)
    return -jnp.minimum(v5, v6), jnp.logaddexp(jnp.sign(v4), -0.5)
