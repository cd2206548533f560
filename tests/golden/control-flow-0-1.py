import jax
import jax.numpy as jnp
import jax.lax as lax


def f(x0, x1, x2, x3):
    v0 = jnp.sqrt(jnp.broadcast_to(jnp.arcsin(jnp.tanh(x0)), (3,)))
    v1 = (-jax.nn.sigmoid(jnp.max(x1, axis=0))).at[x3].min(lax.rsqrt(x2 + x2), mode='clip')
    v2 = jnp.concatenate([v0, jnp.trunc(jnp.exp(v1)), jnp.broadcast_to(x0, (2,))], axis=0)
    return jax.nn.sigmoid(v2)
