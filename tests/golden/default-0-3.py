import jax
import jax.numpy as jnp
import jax.lax as lax


def f(x0, x1, x2, x3):
    def loop_body0(_, carry0):
        c0, c1 = carry0
        v0 = jnp.clip(jax.nn.hard_sigmoid(c1) - c0, -2.0, 1.0)
        v1 = jnp.clip(0.1 - c1, -2.0, 1.0)
        return v0, v1
    v2, _ = lax.fori_loop(0, 8, loop_body0, (x2, x3))
    v3 = jnp.broadcast_to(x0.astype(jnp.float32), (3, 6)).max(axis=0, keepdims=True)
    v4 = jnp.take_along_axis(jnp.take(x0, jnp.array([0, 0, 0, 0, 0, 0]), axis=0), x1, axis=0)
    v5 = jax.scipy.special.erf(jax.scipy.special.erf(v3))
    v6 = jnp.where(v4, jnp.ceil(jnp.exp(jnp.abs(x2))) * v2, v5)
    return jnp.arctan(v6)
