import jax
import jax.numpy as jnp
import jax.lax as lax


def f(x0, x1):
    v0 = jax.nn.softmax(jnp.ceil(jnp.trunc(x0 - x0)), axis=-1)
    v1 = jax.scipy.special.ndtri(jax.nn.celu(jax.scipy.special.ndtr(v0)))
    return jnp.maximum(v1, jnp.triu(jnp.copysign(x1, x1), k=-1)[:3:2])
