import jax
import jax.numpy as jnp
import jax.lax as lax


def f(x0, x1, x2):
    v0 = jnp.broadcast_to(x2.astype(jnp.float16), (6,))
    v1 = jnp.prod(jnp.broadcast_to(x1.astype(jnp.float16), (3,)), axis=0) + v0
    v2 = jax.nn.relu(v1)
    def branch0_0(_a0):
        return v0.astype(jnp.bool_)
    def branch0_1(_a1):
        return jax.nn.one_hot(jnp.minimum(5, x1), 6, dtype=jnp.bool_)
    def branch0_2(a0):
        return a0 <= v2
    v3 = lax.switch(x1, [branch0_0, branch0_1, branch0_2], jnp.floor(lax.cummax(v2, axis=0, reverse=True)))
    return jnp.logical_not(lax.dynamic_index_in_dim(x0, x1, axis=1, keepdims=False)), v3
