import jax
import jax.numpy as jnp
import jax.lax as lax


def f(x0, x1, x2, x3):
    def while_body0(state0):
        k0, c0 = state0
        v0 = jnp.reshape(x3, (3, 1))
        return k0 + 1, v0
    def while_cond0(state1):
        return state1[0] < 6
    _, v1 = lax.while_loop(while_cond0, while_body0, (0, jnp.any(x2, axis=1, keepdims=True)))
    v2 = jnp.where(x0, jax.nn.one_hot(jnp.argmin(x1, axis=0, keepdims=True), 11, dtype=jnp.bool_), jnp.all(jnp.any(jnp.flip(v1, axis=0), axis=0), axis=0))
    return jnp.any(v2, axis=2)[::2]
