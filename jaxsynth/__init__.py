"""jaxsynth: a typed-grammar random program synthesizer for JAX."""

__version__ = "0.1.0"
