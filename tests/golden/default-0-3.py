import jax
import jax.numpy as jnp
import jax.lax as lax


def f(x0, x1, x2):
    v0 = jnp.cumsum(jnp.exp(lax.rsqrt(jax.nn.softplus(jnp.log1p(x0)))), axis=0)
    v1 = jax.nn.sigmoid(1.5 * x0 / v0) * jnp.floor(jax.nn.logsumexp(x1, axis=0) * jnp.log(x2))
    return v1
