import jax
import jax.numpy as jnp
import jax.lax as lax


def f(x0, x1, x2, x3):
    def loop_body0(i0, c0):
        return jnp.logical_or(x1 - i0 >= x2, c0)
    v0 = lax.fori_loop(0, 8, loop_body0, x0)
    v1 = jnp.tril(v0, k=-1)
    def loop_body1(_, c1):
        v2 = jnp.where(x3, c1, (x1 <= -2).reshape(1, 1))
        return jnp.triu(v2, k=1)
    v3 = lax.fori_loop(0, 1, loop_body1, v1)
    return jnp.logical_or(v3, v1)
