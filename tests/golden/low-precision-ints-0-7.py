import jax
import jax.numpy as jnp
import jax.lax as lax


def f(x0, x1, x2, x3):
    v0 = jnp.clip(x0.at[jnp.sign(x3)].add(jnp.gcd(x1, x2), mode='promise_in_bounds'), 1, 100)
    v1 = jnp.gcd(jnp.full((), 1, dtype=jnp.uint8), jnp.full((), 2, dtype=jnp.uint8))
    return 2 * x0 // v0, v1 % jnp.full((), 5, dtype=jnp.uint8)
