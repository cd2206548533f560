import jax
import jax.numpy as jnp
import jax.lax as lax


def f(x0, x1):
    v0 = jnp.where(jnp.reshape(x0, ()), jnp.minimum(x1, jnp.minimum(x1, -2.0)), 4.0)
    v1 = jnp.sqrt(jnp.arccos(jnp.broadcast_to(jnp.expm1(x1), (7,))))
    return jnp.cbrt(v0), jnp.reciprocal(v1)
