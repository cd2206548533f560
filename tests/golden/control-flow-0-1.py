import jax
import jax.numpy as jnp
import jax.lax as lax


def f(x0, x1, x2, x3):
    v0 = jax.scipy.stats.norm.pdf(jnp.exp2(jnp.arctan2(x2, jnp.log(x3))), loc=-1.0)
    return jnp.kron(jnp.nanargmax(x0, axis=0), x1), jax.nn.relu(v0)
