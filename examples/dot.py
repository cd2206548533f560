"""Dot product of two vectors (a scalar, so it also has a gradient).

jaxsynth lower examples/dot.py:dot --arg f32[16] --arg f32[16] --grad
"""

import jax.numpy as jnp


def dot(x, y):
    """Return the inner product ``sum(x * y)`` of two vectors."""
    return jnp.dot(x, y)
