import jax
import jax.numpy as jnp
import jax.lax as lax


def f(x0, x1, x2, x3):
    v0 = jax.nn.relu(jnp.arctan2(x0, x1)).astype(jnp.bool_)
    v1 = lax.rsqrt(jnp.cbrt(jnp.reshape(x2 + 10.0, ())))
    v2 = jnp.reshape(x2, ()) != jnp.reshape(x2, ())
    v3 = jnp.stack([v1.astype(jnp.bool_), x3[0], v2], axis=0)
    return v0, v3
