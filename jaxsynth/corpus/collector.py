"""Python's cyclic garbage collector, tuned for record generation.

Building one record allocates on the order of 10^5 short-lived objects inside JAX (tracers,
equations, MLIR bindings). With CPython's default thresholds ``(700, 10, 10)`` a young collection
runs every 700 net allocations and a full one every 100 young ones, and a full collection walks
every live object: the ~160,000 module, JAX and XLA objects alive since start-up included. That
costs about a tenth of a record's time (bench/bench_throughput.py, step "tuned garbage collector").

:func:`tuned_collector` moves the objects alive on entry into the permanent generation
(``gc.freeze``), so collections no longer walk them, and raises the young threshold to
:data:`YOUNG_THRESHOLD`. Garbage made afterwards is still collected, just in larger batches; JAX's
own caches are emptied by ``clear_caches`` as before, so memory stays bounded
(bench/bench_memory.py). Leaving the context undoes both. No emitted byte depends on it.
"""

from __future__ import annotations

import contextlib
import gc
from collections.abc import Iterator

__all__ = ["YOUNG_THRESHOLD", "tuned_collector"]

#: Net allocations between two young collections while generating (CPython's default is 700).
YOUNG_THRESHOLD = 10_000

_depth = 0


@contextlib.contextmanager
def tuned_collector() -> Iterator[None]:
    """Within the block, collect garbage in larger batches and skip objects alive on entry (reentrant)."""
    global _depth
    if _depth:
        _depth += 1
        try:
            yield
        finally:
            _depth -= 1
        return
    previous = gc.get_threshold()
    gc.collect()  # freeze only what is alive, not garbage waiting for a collection
    gc.freeze()
    gc.set_threshold(YOUNG_THRESHOLD, *previous[1:])
    _depth = 1
    try:
        yield
    finally:
        _depth = 0
        gc.set_threshold(*previous)
        gc.unfreeze()
