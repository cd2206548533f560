"""A small reader for optimized-HLO text: instruction opcodes, fusions and feature sets.

It reads only what the statistics and novelty guidance need, line by line, with regular
expressions; it is not an HLO parser. An instruction line looks like::

    [ROOT] %name = TYPE opcode(%operand, ...), attr=..., kind=kLoop, calls=%fused_computation

and a computation starts with ``[ENTRY] %name (params) -> type {`` and ends with ``}``.

HLO *features* (:func:`hlo_features`) are short strings naming what a compiled program contains:

- ``op:<opcode>`` — an instruction kind anywhere in the module (``op:fusion``, ``op:reduce-window``);
- ``op:<opcode>:<element type>`` — the kind with its result element type (``op:dot:bf16``);
- ``fusion:<kind>`` — a fusion kind (``fusion:kLoop``; ``kInput``/``kOutput`` appear on other backends);
- ``fusion:<kind>:<root opcode>`` — a fusion by the opcode at the root of the computation it calls;
- ``edge:<producer>><consumer>`` — an operand edge between two opcodes in the same computation.

Parameters, constants, tuples and get-tuple-element are left out of the ``op:<opcode>:<type>`` and
``edge:`` families (they are plumbing).
"""

from __future__ import annotations

import dataclasses
import re
from collections import Counter

__all__ = ["HloSummary", "hlo_features", "parse_hlo", "FEATURE_FAMILIES"]

#: Feature families, in the order reports list them (the prefix before the first ``:``).
FEATURE_FAMILIES: tuple[str, ...] = ("op", "op-type", "fusion", "fusion-root", "edge")

_INSTRUCTION = re.compile(
    r"^\s*(?P<root>ROOT\s+)?%?(?P<name>[\w.\-]+)\s*=\s*(?P<type>.+?)\s+(?P<op>[a-z][\w\-]*)\((?P<args>[^)]*)\)"
)
_COMPUTATION = re.compile(r"^(?:ENTRY\s+)?%?(?P<name>[\w.\-]+)\s.*\{\s*$")
_ELEMENT_TYPE = re.compile(r"^\(*\s*([a-z][a-z0-9]*)\[")
_OPERAND = re.compile(r"%([\w.\-]+)")
_KIND = re.compile(r"\bkind=(k\w+)")
_CALLS = re.compile(r"\bcalls=%?([\w.\-]+)")
_PLUMBING = frozenset({"parameter", "constant", "tuple", "get-tuple-element"})


@dataclasses.dataclass(frozen=True)
class HloSummary:
    """What one optimized-HLO module contains (counts are instructions over all computations)."""

    opcodes: Counter[str]  #: opcode -> instructions with it
    fusion_kinds: Counter[str]  #: fusion kind (``kLoop`` ...) -> fusion instructions
    fused_opcodes: Counter[str]  #: opcode -> instructions inside fused computations
    computations: int
    instructions: int
    features: frozenset[str]
    #: opcodes in text order, computations separated by ``|``: the module with names, shapes,
    #: layouts, constants and attributes abstracted away
    skeleton: str

    @property
    def fusions(self) -> int:
        return sum(self.fusion_kinds.values())


def parse_hlo(text: str) -> HloSummary:
    """Summarize an optimized-HLO module text (see the module docstring for what is read)."""
    # computation name -> list of (name, opcode, element type, operands, line)
    computations: dict[str, list[tuple[str, str, str, list[str], str]]] = {}
    roots: dict[str, str] = {}
    current: list[tuple[str, str, str, list[str], str]] | None = None
    current_name = ""
    for line in text.splitlines():
        if current is None:
            head = _COMPUTATION.match(line)
            if head and not line.startswith("HloModule"):
                current_name = head.group("name")
                current = computations.setdefault(current_name, [])
            continue
        if line.strip() == "}":
            current = None
            continue
        match = _INSTRUCTION.match(line)
        if match is None:
            continue
        etype = _ELEMENT_TYPE.match(match.group("type"))
        op = match.group("op")
        current.append(
            (
                match.group("name"),
                op,
                etype.group(1) if etype else "?",
                _OPERAND.findall(match.group("args")),
                line,
            )
        )
        if match.group("root"):
            roots[current_name] = op

    opcodes: Counter[str] = Counter()
    kinds: Counter[str] = Counter()
    fused: Counter[str] = Counter()
    features: set[str] = set()
    fused_names: set[str] = set()
    for body in computations.values():
        for _, op, _, _, line in body:
            if op == "fusion" and (calls := _CALLS.search(line)):
                fused_names.add(calls.group(1))
    for cname, body in computations.items():
        opcode_of = {name: op for name, op, _, _, _ in body}
        for _, op, etype, operands, line in body:
            opcodes[op] += 1
            features.add(f"op:{op}")
            if cname in fused_names:
                fused[op] += 1
            if op not in _PLUMBING:
                features.add(f"op-type:{op}:{etype}")
                for operand in operands:
                    producer = opcode_of.get(operand)
                    if producer is not None and producer not in _PLUMBING:
                        features.add(f"edge:{producer}>{op}")
            if op == "fusion":
                kind_match = _KIND.search(line)
                kind = kind_match.group(1) if kind_match else "k?"
                kinds[kind] += 1
                features.add(f"fusion:{kind}")
                calls = _CALLS.search(line)
                root = roots.get(calls.group(1), "?") if calls else "?"
                features.add(f"fusion-root:{kind}:{root}")
    return HloSummary(
        opcodes=opcodes,
        fusion_kinds=kinds,
        fused_opcodes=fused,
        computations=len(computations),
        instructions=sum(opcodes.values()),
        features=frozenset(features),
        skeleton="|".join(" ".join(op for _, op, _, _, _ in body) for body in computations.values()),
    )


def hlo_features(text: str) -> frozenset[str]:
    """The feature set of an optimized-HLO module (see the module docstring)."""
    return parse_hlo(text).features
