import jax
import jax.numpy as jnp
import jax.lax as lax


def f(x0, x1, x2, x3):
    v0 = jnp.tan(jnp.copysign(jnp.sign(jnp.expm1(x0)), x0))
    v1 = jnp.copysign(v0 + jnp.minimum(jnp.exp2(x0), jnp.arctanh(x1)), v0)
    def branch0_0(a0, a1):
        return jnp.kron(a0, a1)
    def branch0_1(a2, _a0):
        v2 = jnp.where(x2 <= 1, x2 > 1, x1 <= 0.25)
        return jnp.where(v2, a2, x3)
    def branch0_2(a3, a4):
        v3 = jnp.count_nonzero(jnp.broadcast_to(x0 <= 0.75, (3, 8)), axis=0)
        return a3.at[v3].add(jnp.broadcast_to(a4, (8,)), mode='drop')
    v4 = lax.switch(x2, [branch0_0, branch0_1, branch0_2], x3, x0.reshape(1))
    return jnp.ceil(v1), v4
