"""Test grammar configs: a ``[weights.categories]`` table that turns off every category but the named ones."""

from __future__ import annotations

from jaxsynth.grammar.opspec import CATEGORIES


def only_categories(**weights: object) -> str:
    """``[weights.categories]`` with ``weights`` as given and every other category at 0 (an unset one weighs 1)."""
    lines = [f"{name} = {weights[name]}" for name in weights]
    lines += [f"{name} = 0.0" for name in CATEGORIES if name not in weights]
    return "[weights.categories]\n" + "\n".join(lines) + "\n"
