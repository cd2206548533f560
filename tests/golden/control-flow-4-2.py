import jax
import jax.numpy as jnp
import jax.lax as lax


def f(x0, x1, x2, x3):
    def loop_body0(i0, carry0):
        c0, c1 = carry0
        v0 = jnp.where(x2, c0, c0)
        return v0, c1
    v1, _ = lax.fori_loop(0, 5, loop_body0, (x0, x1))
    def scan_body0(carry1, s0):
        c2, c3 = carry1
        return (c2, x1), c2
    (v2, _), _ = lax.scan(scan_body0, (x0, x1), x3)
    v3 = jnp.where(jnp.where(v1, x0, v2), jnp.logical_not(x0), x0)
    v4 = jnp.dot(jnp.broadcast_to(x1, (1, 2)), jnp.broadcast_to(x1, (2, 1)))
    v5 = jnp.where(v3, jnp.where(x2, v4, x1), jnp.expm1(x1))
    return jnp.round(jnp.expm1(v5))
