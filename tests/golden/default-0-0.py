import jax
import jax.numpy as jnp
import jax.lax as lax


def f(x0, x1, x2):
    v0 = jnp.sign(jnp.einsum('ij,ij->', jnp.tril(x0 / x1, k=-1), x1))
    v1 = jnp.cbrt(jnp.clip(jnp.square(v0), 0.0, 1.0))
    v2 = jnp.round(jax.nn.sigmoid(-1.0 * jnp.trunc(x2)))
    return v1, v2
