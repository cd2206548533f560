"""Pure text normalizers that make IR texts byte-identical across processes.

JAX and XLA attach debugging information to the IR they print: MLIR location
attributes (``loc(...)``, ``#loc`` aliases) in StableHLO, and in HLO text an
``op_name``/``source_file``/``source_line`` ``metadata={...}`` attribute on every
instruction plus, in compiled modules, ``FileNames``/``FunctionNames``/
``FileLocations``/``StackFrames`` tables that hold absolute file paths and line
numbers. XLA:CPU also records a runtime hint that depends on the host's CPU
count (``"outer_dimension_partitions"`` in ``backend_config``, chosen by the
parallel task assigner from the number of schedulable cores). None of this is
part of the program; all of it varies with the file, the line, the call site or
the machine. The functions here remove exactly that and leave the rest of the
text intact.

Everything here is a pure ``str -> str`` function with no JAX dependency.
"""

from __future__ import annotations

import re

__all__ = [
    "HLO_DEBUG_TABLES",
    "normalize_hlo",
    "normalize_jaxpr",
    "strip_hlo_attribute",
    "strip_hlo_debug_tables",
    "strip_mlir_locations",
    "strip_outer_dimension_partitions",
]

#: Section headers of the stack-frame tables printed after the ``HloModule`` line.
HLO_DEBUG_TABLES = ("FileNames", "FunctionNames", "FileLocations", "StackFrames")


_NP_SCALAR = re.compile(r"\bnp\.(?:u?int\d+|float\d+|bfloat16|complex\d+|bool_?)\(([^()]*)\)")
_NP_BOOL = re.compile(r"\bnp\.(True|False)_")


def normalize_jaxpr(text: str) -> str:
    """A JAXPR text with numpy scalar reprs as plain literals: ``np.int64(0)`` -> ``0``,
    ``np.True_`` -> ``True``. JAX prints equation parameters with ``repr``, so a parameter that a
    transformation computed with numpy (the padding of a transposed slice, in ``jax.grad``) shows
    numpy's repr, which depends on numpy's version and says nothing about the program."""
    return _NP_BOOL.sub(r"\1", _NP_SCALAR.sub(r"\1", text))


def _skip_string(text: str, i: int) -> int:
    """Given ``text[i] == '"'``, return the index just past the closing quote."""
    i += 1
    n = len(text)
    while i < n:
        c = text[i]
        if c == "\\":
            i += 2
            continue
        if c == '"':
            return i + 1
        i += 1
    return n


def _skip_balanced(text: str, i: int, open_ch: str, close_ch: str) -> int:
    """Given ``text[i] == open_ch``, return the index just past its matching close.

    Quoted strings are skipped, so brackets inside string literals do not count.
    """
    depth = 0
    n = len(text)
    while i < n:
        c = text[i]
        if c == '"':
            i = _skip_string(text, i)
            continue
        if c == open_ch:
            depth += 1
        elif c == close_ch:
            depth -= 1
            if depth == 0:
                return i + 1
        i += 1
    return n


def strip_mlir_locations(text: str) -> str:
    """Remove MLIR location info: ``loc(...)`` attributes and ``#loc`` alias lines.

    ``loc(...)`` is removed together with the one space before it; occurrences
    inside string literals are left alone. Lines that define location aliases
    (``#loc = loc(...)``, ``#loc1 = ...``) are dropped entirely.
    """
    lines = [ln for ln in text.split("\n") if not ln.lstrip().startswith("#loc")]
    text = "\n".join(lines)
    if "loc(" not in text:
        return text
    out: list[str] = []
    i, n = 0, len(text)
    while i < n:
        c = text[i]
        if c == '"':
            j = _skip_string(text, i)
            out.append(text[i:j])
            i = j
            continue
        if text.startswith("loc(", i) and (i == 0 or not (text[i - 1].isalnum() or text[i - 1] in "_.")):
            j = _skip_balanced(text, i + 3, "(", ")")
            if out and out[-1].endswith(" "):
                out[-1] = out[-1][:-1]
            i = j
            continue
        out.append(c)
        i += 1
    return "".join(out)


def strip_hlo_attribute(text: str, name: str) -> str:
    """Remove every ``, name={...}`` attribute (braces balanced, strings skipped)."""
    needle = f", {name}={{"
    if needle not in text:
        return text
    out: list[str] = []
    i = 0
    while True:
        j = text.find(needle, i)
        if j < 0:
            out.append(text[i:])
            break
        out.append(text[i:j])
        i = _skip_balanced(text, j + len(needle) - 1, "{", "}")
    return "".join(out)


def strip_hlo_debug_tables(text: str) -> str:
    """Remove the ``FileNames``/``FunctionNames``/``FileLocations``/``StackFrames`` tables.

    Each table is a header line followed by entries up to a blank line. After
    removal, runs of blank lines left behind are collapsed to one.
    """
    if not any(f"\n{h}\n" in text for h in HLO_DEBUG_TABLES):
        return text
    lines = text.split("\n")
    kept: list[str] = []
    skipping = False
    for ln in lines:
        if skipping:
            if ln == "":
                skipping = False
            continue
        if ln in HLO_DEBUG_TABLES and (not kept or kept[-1] == ""):
            skipping = True
            continue
        kept.append(ln)
    return re.sub(r"\n{3,}", "\n\n", "\n".join(kept))


_ODP_RE = re.compile(r'"outer_dimension_partitions":\[[^\]]*\],?')


def strip_outer_dimension_partitions(text: str) -> str:
    """Remove XLA:CPU's host-core-count-dependent ``outer_dimension_partitions`` hint.

    The key is deleted from ``backend_config`` JSON; every ``backend_config``
    that is empty (``{}``) is removed altogether, the one the hint left and one
    XLA wrote empty alike (a LAPACK custom call's): removing only the first kind
    made a module with the hint (an unpinned worker, more than one core) and
    the same module without it (a pinned one) differ in the second kind's.
    """
    if "outer_dimension_partitions" in text:
        text = _ODP_RE.sub("", text)
        text = text.replace(",}", "}")
    return text.replace(", backend_config={}", "")


def normalize_hlo(text: str) -> str:
    """Normalize HLO text (pre- or post-optimization) for cross-process identity.

    Removes ``metadata={...}`` attributes, the stack-frame tables, the
    ``outer_dimension_partitions`` runtime hint and every ``backend_config``
    left empty. Instruction names, fusion names, layouts, ``backend_config``
    otherwise, and ``frontend_attributes`` are kept (they are deterministic
    functions of the module).
    """
    text = strip_hlo_debug_tables(text)
    text = strip_hlo_attribute(text, "metadata")
    return strip_outer_dimension_partitions(text)
