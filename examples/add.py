"""Add two arrays elementwise.

jaxsynth lower examples/add.py:add --arg f32[16] --arg f32[16]
"""

import jax.numpy as jnp


def add(x, y):
    """Return ``x + y`` (same shapes, or broadcastable ones)."""
    return jnp.add(x, y)
