import jax
import jax.numpy as jnp
import jax.lax as lax


def f(x0, x1, x2, x3):
    def branch0_0(a0):
        return jnp.where(x2, x1, a0)
    def branch0_1(_a0):
        return jnp.var(x3, axis=0)
    def branch0_2(a1):
        return jax.nn.silu(a1)
    v0 = lax.switch(x0, [branch0_0, branch0_1, branch0_2], x1)
    v1 = jnp.arctan(jnp.cumsum(lax.broadcasted_iota(jnp.float32, (6, 6), 1), axis=0))
    v2 = jnp.arccos(jnp.arcsin(jnp.arctanh(jnp.copysign(0.5, v0))))
    return jnp.nanmax(jax.nn.sigmoid(v1.at[jnp.clip(x0, 0, 5)].max(v2, mode='drop')))
