import jax
import jax.numpy as jnp
import jax.lax as lax


def f(x0, x1, x2, x3):
    v0 = jnp.minimum(jnp.log10(jnp.exp(jnp.log1p(jnp.cosh(x1)))), jnp.where(x2, x0, x1))
    v1 = jnp.tan(jnp.copysign(jnp.sign(jnp.expm1(x0)), x0)) + v0
    v2 = jnp.ceil(jnp.copysign(v1, jnp.linalg.norm(jnp.arcsin(x3))))
    def scan_body0(c0, s0):
        v3 = jnp.where(jnp.broadcast_to(x2, (8, 3)), c0, jnp.broadcast_to(s0, (8, 3)))
        def cond_true0():
            return jnp.reciprocal(s0)
        def cond_false0():
            return jax.nn.mish(lax.rsqrt(s0))
        v4 = lax.cond(x2, cond_true0, cond_false0)
        v5 = jnp.clip(v3 ** 2, -11.0, 5.0)
        return v5, v4
    v6, _ = lax.scan(
        scan_body0,
        jnp.broadcast_to(x0, (8, 3)),
        jnp.arcsin(jnp.full((3,), 0.75, dtype=jnp.float32)),
    )
    return v2, v6 - x0
