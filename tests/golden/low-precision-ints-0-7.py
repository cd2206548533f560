import jax
import jax.numpy as jnp
import jax.lax as lax


def f(x0, x1):
    v0 = jnp.repeat(x0.astype(jnp.float16), 2, axis=0).astype(jnp.bool_)
    v1 = jnp.expm1(jnp.arctanh(jnp.tan(0.25 * jax.nn.relu(x1))))
    return v0, v1
