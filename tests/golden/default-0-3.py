import jax
import jax.numpy as jnp
import jax.lax as lax


def f(x0):
    v0 = jnp.expm1(jax.nn.sigmoid(jnp.ceil(jnp.sin(x0) - x0)))
    return jnp.log(jnp.sqrt(jnp.exp(v0)))
