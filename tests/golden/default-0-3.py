import jax
import jax.numpy as jnp
import jax.lax as lax


def f(x0, x1, x2, x3):
    v0 = jnp.nanargmax(x0, axis=0)
    v1 = jnp.prod(v0, axis=1)
    v2 = v1 * jnp.sign(jnp.abs(x1))
    def cond_true0(_a0, a0):
        return v1 * a0
    def cond_false0(a1, _a1):
        return jnp.abs(lax.clz(a1))
    v3 = lax.cond(jnp.squeeze(x2, axis=0), cond_true0, cond_false0, v2, x3)
    v4 = lax.dynamic_index_in_dim(v0, jnp.sign(jnp.reshape(x3, ())), axis=0, keepdims=False)
    return jnp.dot(jnp.clip(v2, 0, 1), jnp.minimum(v3, v4))
