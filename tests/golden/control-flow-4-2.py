import jax
import jax.numpy as jnp
import jax.lax as lax


def f(x0, x1, x2, x3):
    v0 = lax.rsqrt(x2)
    v1 = jnp.where(x0, x1 * jnp.log(v0), x2) + 10.0
    v2 = jnp.power(jnp.abs(jnp.broadcast_to(x1, (8, 8))) + 1.5, x1)
    def branch0_0(_a0):
        return jnp.broadcast_to(x2, (3,))[jnp.clip(jnp.broadcast_to(x3, (8,)), 0, 2)]
    def branch0_1(a0):
        return jnp.exp2(jax.nn.standardize(a0, axis=-1, algorithm="stable"))
    def branch0_2(a1):
        return jnp.arcsinh(a1)
    v3 = lax.switch(x3, [branch0_0, branch0_1, branch0_2], jnp.dot(v2, jnp.broadcast_to(x2, (8,))))
    return jax.scipy.special.erf(jnp.fmin(v1, v0)), v3
