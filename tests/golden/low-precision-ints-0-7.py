import jax
import jax.numpy as jnp
import jax.lax as lax


def f(x0, x1, x2, x3):
    v0 = jnp.floor(x3)
    def scan_body0(carry0, s0):
        c0, c1 = carry0
        v1 = jnp.clip(c1 + jnp.exp(v0), -1.0, 2.0)
        return (jax.nn.sigmoid(c0), v1), s0 + s0
    (v2, _), _ = lax.scan(scan_body0, (x2, v0), jnp.broadcast_to(x3, (4,)))
    return jnp.logical_not(x0[x1]), v2
