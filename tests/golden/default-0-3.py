import jax
import jax.numpy as jnp
import jax.lax as lax


def f(x0):
    v0 = jnp.arccos(jax.scipy.special.i1e(jax.nn.soft_sign(jnp.log(jnp.ceil(x0)))))
    return jnp.arcsinh(jnp.diff(jnp.fmin(v0, jnp.clip(x0, -0.5, 0.5))))
