import jax
import jax.numpy as jnp
import jax.lax as lax


def f(x0, x1, x2, x3):
    v0 = jax.nn.sigmoid(jax.nn.silu(jnp.cos(jnp.exp(jnp.log1p(x0)))))
    v1 = jnp.maximum(x1 + x1, jnp.clip(jnp.take(x2, jnp.array([4]), axis=0), 0.0, 6.0))
    v2 = jnp.einsum('ij,ij->', x3 * x1, x3) + jax.nn.silu(x0)
    return jax.scipy.special.erf(jnp.maximum(v0, v1 + x0)) * v2
