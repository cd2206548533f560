"""What a JAXPR or StableHLO *text* contains: its primitives and ops, read line by line.

Readers of a corpus only have the texts (a record is never executed), so coverage, features of
user records and statistics read the texts with these functions; they are not parsers.

A JAXPR equation is ``OUT:TYPE [OUT:TYPE ...] = primitive[params] operands``, on a line of its own or,
in a short JAXPR printed on one line, after ``let`` or ``;``; nested JAXPRs
(``scan``, ``cond``, ``pjit``, ``custom_jvp_call`` bodies) print their equations the same way, so
they are found too. A StableHLO op is ``%x = stablehlo.add ...``, ``"stablehlo.while"(...)`` or an op
at the start of a line (``stablehlo.return``, ``func.func``).
"""

from __future__ import annotations

import re

__all__ = ["jaxpr_equations", "stablehlo_ops"]

_EQUATION = re.compile(
    r"(?:^\s*|\blet\s+|;\s+)((?:[A-Za-z_]\w*:[^\s;]+\s+)+)=\s+([A-Za-z_][\w\-]*)(?=[\[\s;]|$)", re.M
)
_DTYPE = re.compile(r"^[A-Za-z_]\w*:([^\[\s{]+)")
_STABLEHLO_OP = re.compile(r"(?:^\s*|=\s*)\"?([a-z_]+\.[a-z_][\w.]*)\"?(?=[\s(<{]|$)", re.M)


def jaxpr_equations(text: str) -> list[tuple[str, str]]:
    """``(primitive, dtype of its first result)`` of every equation of a JAXPR text, nested ones
    included, in text order: ``[("sin", "f32"), ("reduce_sum", "f32"), ...]``."""
    found = []
    for match in _EQUATION.finditer(text):
        outs = match.group(1).split()
        dtype = _DTYPE.match(outs[0])
        found.append((match.group(2), dtype.group(1) if dtype else "?"))
    return found


def stablehlo_ops(text: str) -> list[str]:
    """Names of the ops of a StableHLO (MLIR) text, in text order: ``["func.func", "stablehlo.sine", ...]``."""
    return _STABLEHLO_OP.findall(text)
