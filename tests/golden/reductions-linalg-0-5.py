import jax
import jax.numpy as jnp
import jax.lax as lax


def f(x0, x1):
    v0 = jnp.sum(jax.nn.elu(jnp.rint(lax.approx_max_k(x0, 11)[0])), axis=2)
    v1 = jax.nn.sparse_sigmoid(jnp.max(jnp.min(x1, axis=0), axis=0))
    v2 = lax.dot_general(v0, v1, (((1,), (0,)), ((), ())))
    return jax.nn.leaky_relu(lax.approx_max_k(v2, 1)[0], negative_slope=0.2).mean(axis=0)
