import jax
import jax.numpy as jnp
import jax.lax as lax


def f(x0, x1, x2):
    v0 = jnp.arccos(jax.scipy.special.ndtri(jax.nn.softplus(jnp.log(jnp.ceil(x0)))))
    return jnp.arctan(jnp.diff(jnp.fmax(v0, jax.ops.segment_sum(x1, x2, num_segments=6))))
