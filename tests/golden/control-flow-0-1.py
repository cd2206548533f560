import jax
import jax.numpy as jnp
import jax.lax as lax


def f(x0, x1):
    v0 = -jnp.power(jnp.sin(x0 + x1) + 10.0, 3.0)
    return jax.nn.silu(jnp.sin(v0))
