import jax
import jax.numpy as jnp
import jax.lax as lax


def f(x0, x1):
    v0 = jnp.exp2(jnp.nextafter(x1, jnp.sign(x1)))
    return jnp.round(x0), v0
