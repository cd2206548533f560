import jax
import jax.numpy as jnp
import jax.lax as lax


def f(x0, x1, x2, x3):
    v0 = jnp.log1p(jax.scipy.special.erf(jnp.sign(x0)))
    v1 = jnp.take(jnp.broadcast_to(x0 > 0.1, (2, 4)), jnp.array([1]), axis=1)
    v2 = jnp.concatenate([jnp.round(x2), x0 - x3, jnp.cumprod(v1.astype(jnp.float16), axis=1)], axis=0)
    v3 = jnp.clip(jnp.power(x1, jnp.squeeze(v2, axis=1)), 0.0, 1.0)
    return v0, v3
