import jax
import jax.numpy as jnp
import jax.lax as lax


def f(x0, x1):
    v0 = jnp.where(jnp.all(x0, axis=0), jnp.log(x1 + x1), jnp.cumsum(x1, axis=0))
    return -jax.nn.logsumexp(v0, axis=0)
