import jax
import jax.numpy as jnp
import jax.lax as lax


def f(x0, x1, x2):
    v0 = jnp.sqrt(x1)
    def branch0_0(a0):
        v1 = jnp.clip(v0, -2.0, 2.0)
        return v1
    def branch0_1(a1):
        v2 = jnp.ceil(v0)
        return v2
    def branch0_2(a2):
        v3 = x1 * a2
        return v3
    v4 = lax.switch(x2, [branch0_0, branch0_1, branch0_2], x1)
    return jnp.mean(x0 + v0), v4
