import jax
import jax.numpy as jnp
import jax.lax as lax


def f(x0, x1, x2, x3):
    v0 = jnp.arccos(jnp.arcsinh(jnp.flip(lax.rsqrt(jnp.cosh(x0)), axis=0)))
    v1 = jnp.fmin(jnp.where(jnp.diagonal(x1), jnp.reciprocal(x2), x3), x3)
    v2 = lax.approx_max_k(jnp.roll(jax.nn.relu(v1), 11, axis=2), 6)[0]
    return jnp.arcsinh(jnp.einsum('bij,bjk->bik', jnp.sin(v0), v2))
