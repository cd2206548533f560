"""Version shims: the only module that checks which jax/jaxlib is installed.

``jaxsynth fuzz`` runs against jax/jaxlib from 0.4.26 to the current release. Everything that differs
between those releases and that the fuzzer touches is wrapped here, each shim one small function:

- ``enable_x64``: ``jax.enable_x64`` (new) or ``jax.experimental.enable_x64`` (0.4.x);
- ``clear_caches``: ``jax.clear_caches`` (>= 0.4.14; a no-op before);
- ``compile``: ``jax.jit(f).lower(*args).compile(options)``; ``.lower`` works in every version (the
  ``.trace`` stage only exists from 0.4.30);
- ``per_compile_pass_options``: whether ``compile({"xla_disable_hlo_passes": ...})`` works. Old
  jaxlibs (0.4.26 at least) reject this repeated field ("Protocol Buffer reflection usage error");
  there the ``passes`` oracle disables passes with ``XLA_FLAGS`` in a helper process instead
  (``xla_flags_disabling``) and triage by pass is unavailable;
- ``jax_version``: the installed JAX's release, read from its package metadata without importing it (the
  sampler asks, and must not load JAX before a worker configures it). An op whose rendering calls an API
  newer than it (``OpSpec.since``: ``jax.nn.standardize(algorithm=...)`` from 0.10.1, ``lax.top_k(axis=...)``
  from 0.8.1) is left out of sampling there, instead of failing in every program as a false finding;
- ``toolchain``: versions for finding reports.

Imports JAX lazily, so importing this module never initializes a backend.
"""

from __future__ import annotations

import contextlib
import functools
import os
import platform
import sys
from collections.abc import Sequence
from typing import Any

__all__ = [
    "clear_caches",
    "enable_x64",
    "jax_version",
    "per_compile_pass_options",
    "toolchain",
    "xla_flags_disabling",
]


def _version_tuple(text: str) -> tuple[int, ...]:
    parts = []
    for piece in text.split(".")[:3]:
        digits = "".join(ch for ch in piece if ch.isdigit())
        parts.append(int(digits or 0))
    return tuple(parts)


@functools.cache
def jax_version() -> tuple[int, ...]:
    from importlib import metadata

    try:
        return _version_tuple(metadata.version("jax"))
    except metadata.PackageNotFoundError:  # a source checkout on sys.path
        import jax

        return _version_tuple(jax.__version__)


def enable_x64(flag: bool = True) -> contextlib.AbstractContextManager[Any]:
    """Context manager turning JAX's 64-bit mode on (or off) for the enclosed code."""
    import jax

    if hasattr(jax, "enable_x64"):
        return jax.enable_x64(flag)
    from jax.experimental import disable_x64
    from jax.experimental import enable_x64 as _enable

    return _enable() if flag else disable_x64()


def clear_caches() -> None:
    import jax

    if hasattr(jax, "clear_caches"):
        jax.clear_caches()


@functools.cache
def per_compile_pass_options() -> bool:
    """Whether this jaxlib accepts ``xla_disable_hlo_passes`` as a per-compile option."""
    import jax
    import jax.numpy as jnp

    try:
        jax.jit(lambda x: x + 1).lower(jnp.zeros(())).compile({"xla_disable_hlo_passes": "algsimp"})
    except Exception:
        return False
    return True


def xla_flags_disabling(passes: Sequence[str], flags: str | None = None) -> str:
    """``XLA_FLAGS`` (default: this process's) with ``--xla_disable_hlo_passes`` set to ``passes``."""
    tokens = [t for t in (os.environ.get("XLA_FLAGS", "") if flags is None else flags).split()
              if not t.startswith("--xla_disable_hlo_passes")]
    return " ".join(tokens + [f"--xla_disable_hlo_passes={','.join(passes)}"])


def toolchain() -> dict[str, str]:
    """Versions a finding depends on (initializes the JAX backend)."""
    import jax
    import jaxlib
    import numpy as np

    return {
        "jax": jax.__version__,
        "jaxlib": getattr(jaxlib, "__version__", "unknown"),
        "backend": jax.default_backend(),
        "numpy": np.__version__,
        "python": platform.python_version(),
        "platform": sys.platform,
        "per_compile_pass_options": str(per_compile_pass_options()).lower(),
        "xla_flags": " ".join(os.environ.get("XLA_FLAGS", "").split()),  # a fuzz worker's, which its repros add
    }
