import jax
import jax.numpy as jnp
import jax.lax as lax


def f(x0, x1, x2, x3):
    def scan_body0(c0, s0):
        v0 = jnp.clip(jnp.square(c0), -1.0, 11.0)
        v1 = jnp.maximum(s0, c0)
        return v0, v1
    v2, _ = lax.scan(scan_body0, jnp.abs(x0), x1)
    v3 = jnp.log1p(x2)
    def while_body0(state0):
        k0, c1, c2 = state0
        v4 = jnp.where(jnp.broadcast_to(x0 < 3.0, (5,)), c2, x2)
        v5 = jnp.clip(v4, -1.0, 2.0)
        v6 = jnp.clip(jax.nn.logsumexp(jnp.broadcast_to(x1, (5, 6)), axis=1), -1.0, 1.0)
        return k0 + 1, v5, v6
    def while_cond0(state1):
        return state1[0] < 1
    _, v7, _ = lax.while_loop(while_cond0, while_body0, (0, jnp.power(x3, jnp.broadcast_to(jnp.max(x2), (1,))), v3))
    v8 = jnp.pad(jnp.broadcast_to(jnp.min(x1), (4,)), ((0, 1),))
    v9 = jnp.minimum(jnp.broadcast_to(v2, (6, 5)), jnp.where(v3 > v7, v8, jnp.floor(v7)))
    return jnp.ceil(v9)
