import jax
import jax.numpy as jnp
import jax.lax as lax


def f(x0, x1, x2, x3):
    def cond_true0(a0):
        return 0.5 - jnp.exp(jax.nn.soft_sign(jnp.minimum(a0, x1)))
    def cond_false0(_a0):
        return jax.scipy.special.erfinv(jnp.arctanh(jax.nn.soft_sign(jnp.log(jnp.exp(x2)))))
    v0 = lax.cond(x0, cond_true0, cond_false0, x1)
    v1 = jnp.square(jnp.exp2(jax.nn.log_sigmoid(x3)))
    return jnp.round(lax.reduce_precision(v0, exponent_bits=5, mantissa_bits=10)), v1
