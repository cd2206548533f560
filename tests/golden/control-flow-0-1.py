import jax
import jax.numpy as jnp
import jax.lax as lax


def f(x0, x1, x2, x3):
    def loop_body0(_, carry0):
        c0, c1 = carry0
        v0 = jnp.abs(c0.astype(jnp.float32).reshape(1)) + 2.0
        v1 = jnp.minimum(c1, lax.bitcast_convert_type(jnp.log(jnp.sqrt(v0)), jnp.int32))
        return jnp.triu(c0, k=1), v1
    v2, _ = lax.fori_loop(0, 3, loop_body0, (x0, x2 // x3))
    v3 = x0.at[jnp.fmod(x2, x0.reshape(1) + 3)].max(jnp.where(x1[:, x2], v2, x0))
    return jnp.triu(jnp.count_nonzero(v3, axis=0, keepdims=True), k=1)
