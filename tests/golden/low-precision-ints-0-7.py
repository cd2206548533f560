import jax
import jax.numpy as jnp
import jax.lax as lax


def f(x0, x1, x2):
    def loop_body0(i0, c0):
        v0 = jnp.clip(c0 * x0, 0, 10)
        return v0
    v1 = lax.fori_loop(0, 2, loop_body0, x0)
    return v1 * 10, lax.rsqrt(jax.scipy.special.erf(x1)) - lax.rsqrt(x2)
