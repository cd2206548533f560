import jax
import jax.numpy as jnp
import jax.lax as lax


def f(x0, x1, x2):
    v0 = jnp.arcsin(jnp.fmin(jnp.arccosh(x0).reshape(6, 1, 6), 0.1))
    v1 = jnp.minimum(jax.nn.sigmoid(x1), jnp.cosh(jax.nn.relu(jnp.nan_to_num(jnp.abs(x2)))))
    return jnp.arctan(jnp.cumprod(jnp.fmax(v0, v1), axis=1))
