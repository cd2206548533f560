import jax
import jax.numpy as jnp
import jax.lax as lax


def f(x0, x1, x2, x3):
    def loop_body0(i0, carry0):
        c0, c1 = carry0
        def scan_body0(c2, s0):
            def while_body0(state0):
                k0, c3, c4 = state0
                v0 = jax.scipy.special.erf(c4)
                v1 = jnp.clip(jnp.clip(c2, -1.0, 1.0), -1.0, 1.0)
                return k0 + 1, v0, v1
            def while_cond0(state1):
                return state1[0] < 5
            _, v2, _ = lax.while_loop(while_cond0, while_body0, (0, s0, x2))
            v3 = jnp.clip(v2, -1.0, 1.0)
            v4 = jax.scipy.special.erf(s0)
            return v3, v4
        v5, _ = lax.scan(scan_body0, x2, x3)
        v6 = jnp.clip(v5, -2.0, 1.0)
        v7 = jnp.tanh(c0)
        return v6, v7
    v8, _ = lax.fori_loop(0, 3, loop_body0, (x0, x1))
    v9 = jnp.squeeze(jnp.round(-jnp.abs(jnp.exp(v8))), axis=0)
    return jnp.round(v9)
