import jax
import jax.numpy as jnp
import jax.lax as lax


def f(x0, x1, x2):
    v0 = jnp.log1p(jax.scipy.special.erf(jnp.sign(x0)))
    v1 = jnp.square(jnp.clip(x0, 0.0, 1.0)) * x1 + x1
    v2 = (lax.reduce_window(v1, -jnp.inf, lax.max, (1, 2), (1, 1), 'SAME') / x2).max(axis=1)
    return v0, v2
