import jax
import jax.numpy as jnp
import jax.lax as lax


def f(x0, x1, x2, x3):
    v0 = jnp.fmax(jnp.nanquantile(jnp.log10(x0), 0.1, axis=0, method='lower'), -1.0)
    v1 = -jnp.cos(jnp.logaddexp(0.1, jnp.minimum(-2.0, v0)))
    def scan_body0(carry0, s0):
        c0, c1 = carry0
        def scan_body1(c2, s1):
            def cond_true0(_a0):
                return jax.scipy.special.rel_entr(0.25, jnp.abs(s1) + 0.75) >= s1
            def cond_false0(a0):
                return a0 != -0.5
            v2 = lax.cond(c2, cond_true0, cond_false0, s1)
            v3 = jnp.logical_xor(jnp.squeeze(c2.reshape(1), axis=0), c2)
            return v2, v3
        _, v4 = lax.scan(scan_body1, jnp.reshape(s0 >= 0.5, ()), c1)
        return (jnp.logical_and(c0, v4), jax.nn.hard_silu(x2)), 0.25 >= s0
    (v5, _), _ = lax.scan(scan_body0, (x1, x2), x3)
    v6 = jnp.select([v5, x1, x1], [10.0, jnp.arctan2(x2 + 2.0, x2), x2], 1.0)
    return v1, v6
