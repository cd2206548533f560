import jax
import jax.numpy as jnp
import jax.lax as lax


def f(x0, x1):
    v0 = jax.nn.standardize(jnp.arccos(jax.scipy.special.log_ndtr(x1)), axis=1, algorithm="stable")
    return lax.rsqrt(x0), jnp.arctanh(jnp.roll(v0, -1, axis=2))
