import jax
import jax.numpy as jnp
import jax.lax as lax


def f(x0):
    v0 = -jnp.sinh(jax.nn.hard_sigmoid(jnp.clip(x0, -1.0, 1.0)))
    return jnp.arctanh(jax.nn.elu(jax.scipy.special.erfinv(jnp.tan(v0))))
