import jax
import jax.numpy as jnp
import jax.lax as lax


def f(x0, x1):
    v0 = jnp.tanh(jnp.log(jnp.maximum(x0 + x1, jnp.stack([x1, x1, x1], axis=0))))
    return jax.scipy.special.erf(jnp.cos(v0))
