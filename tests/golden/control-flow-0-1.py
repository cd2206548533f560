import jax
import jax.numpy as jnp
import jax.lax as lax


def f(x0, x1, x2, x3):
    def scan_body0(carry0, s0):
        c0, c1 = carry0
        def branch0_0(a0, a1):
            return jnp.where((a1 <= -0.5).reshape(1), jnp.ceil(c1), a0)
        def branch0_1(a2, a3):
            v0 = a2.at[a3.astype(jnp.int32)].max(a3, mode='promise_in_bounds')
            return v0 @ jnp.broadcast_to(s0, (3, 3))
        def branch0_2(a4, a5):
            v1 = jnp.where(c0 >= 4.0, a4, a5.reshape(1))
            return a5 * v1 + a5
        v2 = lax.switch(
            jnp.full((), 7, dtype=jnp.int32),
            [branch0_0, branch0_1, branch0_2],
            c1,
            jnp.full((), -0.5, dtype=jnp.float32),
        )
        v3 = jnp.clip(jax.scipy.special.logit(s0), -1.0, 10.0)
        return (v3, jnp.clip(v2, -1.0, 1.0)), s0 + jnp.full((), 2.0, dtype=jnp.float32)
    (_, _), v4 = lax.scan(scan_body0, (x1, x2), jax.nn.glu(x3, axis=0))
    return jnp.maximum(jax.scipy.special.ndtri(x0), jnp.square(v4))
