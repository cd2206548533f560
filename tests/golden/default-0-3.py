import jax
import jax.numpy as jnp
import jax.lax as lax


def f(x0, x1):
    v0 = jax.scipy.special.erf(jnp.log1p(jnp.expm1(lax.rsqrt(jnp.maximum(x0, x1)))))
    return jnp.arcsin(jnp.arctan(jnp.arctanh(v0)))
