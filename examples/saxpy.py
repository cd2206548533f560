"""SAXPY: single-precision ``a * x + y`` with a scalar ``a``.

jaxsynth lower examples/saxpy.py:saxpy --arg f32[] --arg f32[16] --arg f32[16]
"""


def saxpy(a, x, y):
    """Return ``a * x + y`` for a scalar ``a`` and vectors ``x``, ``y``."""
    return a * x + y
