import jax
import jax.numpy as jnp
import jax.lax as lax


def f(x0, x1, x2, x3):
    def loop_body0(i0, c0):
        v0 = jnp.clip(lax.cummin(x3, axis=0).mean(axis=0), -1.0, 1.0)
        return v0
    v1 = lax.fori_loop(0, 8, loop_body0, x2)
    v2 = jnp.sin(jnp.where(x1, v1, x2))
    return jnp.power(0.5, x0 / 3.0), v2
