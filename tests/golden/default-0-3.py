import jax
import jax.numpy as jnp
import jax.lax as lax


def f(x0):
    v0 = -jnp.sinh(jax.scipy.special.gammainc(2.0, jax.nn.relu(jnp.hypot(x0, x0))))
    return jnp.arccos(jax.nn.elu(jax.nn.glu(v0)))
