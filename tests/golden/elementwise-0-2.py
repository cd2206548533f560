import jax
import jax.numpy as jnp
import jax.lax as lax


def f(x0):
    v0 = jax.scipy.special.erf(jax.nn.silu(jax.nn.leaky_relu(x0, negative_slope=0.01))) + x0
    return jnp.tan(jax.scipy.special.digamma(jnp.sqrt(v0)))
