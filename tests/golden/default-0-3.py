import jax
import jax.numpy as jnp
import jax.lax as lax


def f(x0, x1, x2):
    v0 = jnp.ceil(x0)
    v1 = jnp.cos(jnp.sin(jnp.min(jnp.exp(v0) * v0, axis=0)))
    return jnp.floor(jnp.sin(v1)), jax.random.permutation(jax.random.key(x1), x2)
