import jax
import jax.numpy as jnp
import jax.lax as lax


def f(x0):
    v0 = jnp.quantile(x0, 0.25, axis=0, keepdims=True).swapaxes(0, 1)
    v1 = jnp.std(jnp.cumsum(lax.iota(jnp.float16, 11), axis=0), axis=0, keepdims=True, ddof=1)
    v2 = jnp.sign(lax.associative_scan(jnp.multiply, v0, axis=1))
    v3 = lax.dot_general(v2, v1, (((1,), (0,)), ((), ())))
    return jnp.clip(jnp.sum(lax.approx_max_k(v3, 11)[0]), 0.0, 1.0)
