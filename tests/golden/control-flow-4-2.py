import jax
import jax.numpy as jnp
import jax.lax as lax


def f(x0, x1, x2):
    def loop_body0(_, carry0):
        c0, c1 = carry0
        v0 = jnp.clip(c0 * 10.0, -1.0, 1.0)
        v1 = jnp.clip(c1 * jax.scipy.special.ndtri(x2), -1.0, 5.0)
        return v0, v1
    v2, _ = lax.fori_loop(0, 8, loop_body0, (x0, jax.nn.elu(x0 / x1)))
    return v2 / jnp.rad2deg(x2)
