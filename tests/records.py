"""Re-executing a record's (or a finding's) Python in a test: its JAXPR at its signature."""

from __future__ import annotations

import json

import jax

from jaxsynth.lowering import parse_type

#: Records in the session's shared corpus (``shared_corpus`` in conftest.py: the default config, full default emit).
CORPUS_N = 50


def jaxpr_of(python: str, function_name: str, signature: list[str], signature_tree: str | None = None) -> str:
    """Run ``python`` (in the test, on purpose) and trace ``function_name`` at ``signature``: its leaves' types,
    grouped as ``signature_tree`` says where the arguments are pytrees."""
    namespace: dict[str, object] = {}
    exec(compile(python, "<record>", "exec"), namespace)
    fn = namespace[function_name]
    args = [parse_type(t) for t in signature]
    if signature_tree is not None:  # pytree arguments: the same leaves, grouped
        args = jax.tree_util.tree_map(parse_type, json.loads(signature_tree))
    return str(jax.make_jaxpr(fn)(*args))
