import jax
import jax.numpy as jnp
import jax.lax as lax


def f(x0, x1, x2):
    v0 = jnp.flip(jnp.arctanh(jax.nn.gelu(x0, approximate=False)) / 0.25, axis=2)
    v1 = jnp.expm1(jnp.outer(jnp.arccosh(jnp.exp2(x1) + 0.25), x2))
    return jnp.arccos(jnp.deg2rad(v0 + v1))
