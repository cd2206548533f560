import jax
import jax.numpy as jnp
import jax.lax as lax


def f(x0, x1, x2, x3):
    v0 = jnp.expm1(x2)
    v1 = lax.conv_general_dilated(
        v0[None],
        x3.reshape(3, 3, 3, 10),
        (1, 1),
        'VALID',
        dimension_numbers=('NHWC', 'HWIO', 'NHWC'),
    )[0]
    v2 = lax.approx_min_k(v1, 9)[0]
    return jax.nn.selu(x0), lax.dot_general(x1, v2, (((2,), (2,)), ((0,), (0,))))
