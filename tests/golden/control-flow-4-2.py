import jax
import jax.numpy as jnp
import jax.lax as lax


def f(x0, x1, x2, x3):
    v0 = jnp.minimum(jnp.log10(jnp.exp(jnp.exp2(jax.nn.log_sigmoid(x0)))), jnp.log1p(x1))
    v1 = jnp.tan(jnp.copysign(jnp.sign(jnp.expm1(x0)), x0)) + v0
    v2 = jnp.ceil(jnp.copysign(v1, jnp.nanmean(x2, axis=0) * x3))
    return v2, jnp.arange(3, dtype=jnp.float32)
