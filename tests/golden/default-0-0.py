import jax
import jax.numpy as jnp
import jax.lax as lax


def f(x0, x1, x2):
    v0 = jnp.square(-1.0 - jnp.log(x0))
    v1 = jnp.min(jnp.sin(x1 / (x1 + jnp.tan(x2))), axis=1)
    return v0, v1
