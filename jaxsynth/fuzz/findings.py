"""Findings on disk: one folder per finding, a standalone ``repro.py``, buckets and ``summary.json``.

Folder ``<out>/findings/<NNNNNN>-<oracle>-<kind>/`` (NNNNNN is the program index):

- ``repro.py`` — imports only jax, numpy and the standard library; holds the reduced program (bound
  to ``f`` whatever its own name), its concrete inputs and the expected values with their tolerance;
  prints what differs. Exit status 1 means the finding is present and nothing else: 1 while the
  discrepancy is observed (for kind ``error``: JAX raises the recorded exception type, the first
  token of the finding's ``detail``), 0 once it is fixed, 3 when the script itself fails (any other
  exception, NameError or ImportError included: it prints the traceback). For a crash it just runs
  the program (the crash kills it with the crash's signal or status); for a hang it exits 1 after a
  watchdog timeout (``faulthandler``). A ``passes`` repro on a jaxlib without per-compile pass
  options reruns itself with ``XLA_FLAGS`` (os, subprocess). Every repro first adds the ``XLA_FLAGS`` the
  fuzz worker ran with (``toolchain["xla_flags"]``: the virtual devices, one Eigen thread), so it runs
  XLA as the worker did (a crash of the passes-disabled softmax in models seed 92, program 39, needs them).
- ``program.json`` — the program record: provenance (config, seed, index), the original and reduced
  Python sources, signature, input ranges, ops.
- ``finding.json`` — oracle, kind, error vs tolerance, toolchain, bucket, triage.
- ``optimized_hlo.txt`` — XLA's optimized HLO of the reduced program (when it compiles).

A bucket is the signature ``oracle/kind/sorted reduced op multiset`` (plus the signal of a crash). A failure
with a site is bucketed by that site instead, normalized as errors are, whatever its program: a crash that
said where it aborted (an XLA ``CHECK`` line, a glibc heap abort), an error that an XLA ``RET_CHECK`` raised
(it names its source line). One compiler assertion reached by many programs is one bucket.
"""

from __future__ import annotations

import ast
import base64
import hashlib
import json
import math
import re
import zlib
from collections import Counter
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import msgspec
import numpy as np

from jaxsynth.synth import render, structural_hash
from jaxsynth.synth.program import Program

__all__ = ["FIXED", "PRESENT", "SCRIPT_FAILED", "Finding", "bucket_of", "error_site", "expected_error",
           "function_name", "normalize_error", "program_record", "repro_source", "write_finding", "write_json"]


class Finding(msgspec.Struct, kw_only=True):
    """What ``finding.json`` holds (every field present, ``null`` when not applicable)."""

    index: int
    oracle: str
    kind: str  #: wrong | error | crash | hang
    detail: str
    error: float | None = None
    tolerance: float | None = None
    output: int | None = None
    bucket: str = ""
    signature: str = ""
    signal: str | None = None
    #: where XLA's assertion failed: a crash's line (jaxsynth.workers.process.crash_site) or a RET_CHECK error's
    #: (error_site); normalized, it is the finding's bucket
    site: str | None = None
    stage: str | None = None
    #: the HLO passes the triage found the failure needs disabled (``passes``) or enabled (every other oracle):
    #: one where one suffices, else a set that needs each of its members; empty where none was found or it
    #: was not triaged (``triage`` says which)
    culprit_passes: list[str] = msgspec.field(default_factory=list)
    triage: str | None = None
    original_ops: int = 0
    reduced_ops: int = 0
    reduction_tests: int = 0
    reduction_steps: list[str] = msgspec.field(default_factory=list)
    reduction_complete: bool = False
    repro_status: int | None = None  #: exit status of repro.py, run standalone after writing it
    repro_output: str = ""
    stderr_tail: str = ""
    toolchain: dict[str, str] = msgspec.field(default_factory=dict)
    config: str = ""
    config_digest: str = ""
    seed: int = 0
    folder: str = ""
    original_detail: str = ""  #: what the unreduced program showed (``detail`` is the reduced program's)
    normalized_error: str | None = None  #: the error both must share (kind ``error``): see normalize_error
    #: the kind of difference both must share (kind ``wrong``): see jaxsynth.fuzz.tolerance.mismatch_class
    mismatch: str | None = None
    swarm: dict[str, Any] | None = None  #: the swarm sub-grammar the program was sampled from (jaxsynth.fuzz.swarm)
    #: the exit status repro.py has while the finding is present: 1, or a crash's own signal (negative) or status
    repro_expected: int | None = None
    #: repro_status == repro_expected: repro.py showed the finding (None: not run); false is flagged in summary.json
    verified: bool | None = None


_QUOTED = re.compile(r"'[^']*'|\"[^\"]*\"|`[^`]*`")
_NAME_NUMBER = re.compile(r"\b[A-Za-z_]*\d[\w.]*")


def normalize_error(detail: str) -> str:
    """The first line of an error with quoted text, numbers and numbered names masked.

    A reduced program must fail with the same normalized error as the original: shapes, values and
    variable names may change under reduction, the message may not."""
    first = detail.strip().splitlines()[0] if detail.strip() else ""
    first = _QUOTED.sub("'_'", first)
    return _NAME_NUMBER.sub("#", first)


def _finite(x: float | None) -> float | None:
    if x is None:
        return None
    return float(x) if math.isfinite(x) else None


def ops_of(program: Program) -> list[str]:
    return sorted(n.op for n in program.op_nodes())


def error_site(detail: str) -> str:
    """The first line of an error that an XLA ``RET_CHECK`` raised (``INTERNAL: RET_CHECK failure
    (xla/backends/cpu/runtime/fft_thunk.cc:168) ...``: it names its source line), or "" for any other error."""
    first = detail.strip().splitlines()[0] if detail.strip() else ""
    return first if "RET_CHECK failure (" in first else ""


def bucket_of(oracle: str, kind: str, program: Program, signal: str | None = None, site: str = ""
              ) -> tuple[str, str]:
    """(bucket id, signature) of a finding: its oracle, kind and reduced op multiset, or for a failure with
    a ``site`` (a crash's CHECK line, a RET_CHECK error), the normalized site in place of the ops."""
    if site:
        what = normalize_error(site)
    else:
        counts = Counter(ops_of(program))
        what = ",".join(f"{op}*{n}" if n > 1 else op for op, n in sorted(counts.items())) or "(no ops)"
    signature = f"{oracle}/{kind}{'/' + signal if signal else ''}/{what}"
    return hashlib.sha256(signature.encode()).hexdigest()[:10], signature


def program_record(program: Program, original: Program, *, config: str, digest: str, seed: int, index: int
                   ) -> dict[str, Any]:
    return {
        "config": config,
        "config_digest": digest,
        "seed": seed,
        "index": index,
        "function_name": program.name,
        "python": render(program),
        "signature": [str(t) for t in program.input_types],
        "output_types": [str(t) for t in program.output_types],
        "input_ranges": [[float(r.lo), float(r.hi)] for r in program.input_ranges],
        "ops": ops_of(program),
        "graph_hash": structural_hash(program),
        "original_python": render(original),
        "original_signature": [str(t) for t in original.input_types],
        "original_ops": ops_of(original),
        "original_graph_hash": structural_hash(original),
    }


# ---------------------------------------------------------------- repro.py

def _dtype_expr(dtype: np.dtype) -> str:
    name = np.dtype(dtype).name
    if name == "bfloat16":
        return "jnp.bfloat16"
    if name == "bool":
        return "np.bool_"
    return f"np.{name}"


def _scalar(v: Any) -> str:
    if isinstance(v, bool | np.bool_):
        return "True" if v else "False"
    if isinstance(v, int | np.integer):
        return str(int(v))
    if isinstance(v, complex | np.complexfloating):
        return f"complex({_scalar(v.real)}, {_scalar(v.imag)})"
    f = float(v)
    if math.isnan(f):
        return "float('nan')"
    if math.isinf(f):
        return "float('inf')" if f > 0 else "-float('inf')"
    return repr(f)


def _nested(a: np.ndarray) -> str:
    if a.ndim == 0:
        return _scalar(a.item() if a.dtype.kind in "biuc" else float(a))
    return "[" + ", ".join(_nested(x) for x in a) + "]"


#: Arrays with more elements than this are written as their bytes (zlib, base64), not as a nested list: the
#: unreduced inputs of a ``models`` program under the ``sharding`` oracle (its batch of 8 besides) are tens of
#: millions of numbers, and compiling that repro.py's literals to check it took the campaign's process to 19 GB
#: (models seed 1005, program 124), where the out-of-memory killer ended it.
LITERAL_ELEMENTS = 4096


def array_literal(a: Any) -> str:
    """Source text that rebuilds ``a`` exactly (dtype and shape included): a nested list, or, past
    ``LITERAL_ELEMENTS``, an expression that decodes its bytes (still numpy and the standard library only)."""
    a = np.asarray(a)
    if a.size > LITERAL_ELEMENTS:
        packed = base64.b64encode(zlib.compress(np.ascontiguousarray(a).tobytes(), 6)).decode("ascii")
        return (f"np.frombuffer(__import__('zlib').decompress(__import__('base64').b64decode('{packed}')), "
                f"dtype={_dtype_expr(a.dtype)}).reshape({a.shape!r}).copy()")
    values = a.astype(np.float64) if a.dtype.kind == "f" or a.dtype.name == "bfloat16" else a
    return f"np.array({_nested(values)}, dtype={_dtype_expr(a.dtype)})"


def _list_literal(arrays: Sequence[Any]) -> str:
    if not arrays:
        return "[]"
    return "[\n" + "".join(f"    {array_literal(a)},\n" for a in arrays) + "]"


_CHECK = '''

def check(name, got, expected, tol, flushed=None, accepted=(), exempt=None):
    """Print how ``got`` compares with ``expected``; True when every element is within ``tol`` of it. Special
    values, as the oracle judged them: ``flushed``, the reference with subnormals flushed to zero (as XLA:CPU
    flushes them), is right too; ``accepted`` (two runs compared: the references, IEEE and flushed), an element
    where ``got`` and ``expected`` each match one of them is right; ``exempt``, elements XLA may compute in
    another grouping of a product chain that over- or underflows, are right whatever they hold."""
    got, expected = np.asarray(got), np.asarray(expected)
    wide = np.complex128 if np.iscomplexobj(got) or np.iscomplexobj(expected) else np.float64
    got, expected = got.astype(wide), expected.astype(wide)
    tol = np.broadcast_to(np.asarray(tol, dtype=np.float64), expected.shape)
    if got.shape != expected.shape:
        print(f"{name}: shape {got.shape}, expected {expected.shape}")
        return False

    def differs(value, other):
        other = np.asarray(other).astype(wide)
        return (~(np.abs(value - other) <= tol) & ~(np.isnan(value) & np.isnan(other))
                & ~(np.isinf(value) & (value == other)))

    with np.errstate(all="ignore"):
        err = np.abs(got - expected)
        bad = differs(got, expected)
        if flushed is not None:
            bad &= differs(got, flushed)
        if len(accepted):
            bad &= ~(~np.all([differs(got, a) for a in accepted], axis=0)
                     & ~np.all([differs(expected, a) for a in accepted], axis=0))
        if exempt is not None:
            bad &= ~np.asarray(exempt)
    if not bad.any():
        print(f"{name}: OK (max |difference| {err.max() if err.size else 0.0:.3g})")
        return True
    ratio = np.nan_to_num(err / np.where(tol > 0, tol, 1e-300), nan=np.inf)
    worst = np.unravel_index(int(np.argmax(np.where(bad, ratio, -1.0))), expected.shape)
    print(f"{name}: {int(bad.sum())} of {bad.size} elements differ; at {list(map(int, worst))}: "
          f"got {got[worst].item()!r}, expected {expected[worst].item()!r}, "
          f"|difference| {float(err[worst]):.6g} > tolerance {float(tol[worst]):.3g}")
    return False


def outputs(result):
    return tuple(result) if isinstance(result, (tuple, list)) else (result,)
'''


_DISABLED = '''

def disabled_outputs(args):
    """Outputs with PASSES disabled: per compile, or (older jaxlibs) through XLA_FLAGS in a child process."""
    try:
        return outputs(jax.jit(f).lower(*args).compile({"xla_disable_hlo_passes": PASSES})(*args))
    except RuntimeError:
        if "--disabled-outputs" in sys.argv:
            raise
    import io
    import os
    import subprocess

    flags = os.environ.get("XLA_FLAGS", "") + " --xla_disable_hlo_passes=" + PASSES
    child = subprocess.run([sys.executable, __file__, "--disabled-outputs"], capture_output=True,
                           env=dict(os.environ, XLA_FLAGS=flags.strip()))
    if child.returncode == 4:  # JAX raised with PASSES disabled: the same error here, under its own name
        name, _, message = child.stderr.decode().rpartition("DISABLED-ERROR ")[2].partition(": ")
        raise type(name, (Exception,), {})(message.strip())
    child.check_returncode()
    saved = np.load(io.BytesIO(child.stdout))
    return tuple(saved[f"arr_{k}"] for k in range(len(saved.files)))


if "--disabled-outputs" in sys.argv:  # the child: XLA_FLAGS already disable PASSES
    import io

    try:
        _result = jax.jit(f)(*[jnp.asarray(x) for x in INPUTS])
    except Exception as _exc:  # JAX's error with PASSES disabled: the parent raises it (exit 4 says so)
        print(f"DISABLED-ERROR {type(_exc).__name__}: {_exc}", file=sys.stderr)
        sys.exit(4)
    _arrays = [np.asarray(o) for o in (_result if isinstance(_result, (tuple, list)) else (_result,))]
    _buffer = io.BytesIO()  # np.load cannot read bfloat16 back (a user-defined dtype): float32 holds it exactly
    np.savez(_buffer, *[a.astype(np.float32) if a.dtype.isbuiltin == 2 else a for a in _arrays])
    sys.stdout.buffer.write(_buffer.getvalue())
    sys.exit(0)
'''


#: Exit statuses of repro.py (see the module docstring).
PRESENT, FIXED, SCRIPT_FAILED = 1, 0, 3

_STATUS_LINE = ("Standalone: needs only jax and numpy. Exits 1 while the discrepancy is present, 0 once it is "
                "fixed,\n3 if this script itself fails (not evidence of the finding).")

# Installed first: an exception that nothing in the script expects is the script's failure, never the
# finding (an uncaught exception would exit 1). os._exit: an excepthook cannot change the exit status.
_SCRIPT_FAILED = '''

def script_failed(kind, exc, tb):
    """An unexpected exception: print it and exit 3 (this script failed; the finding was not observed)."""
    if not issubclass(kind, Exception):
        return sys.__excepthook__(kind, exc, tb)
    import os
    import traceback

    traceback.print_exception(kind, exc, tb)
    print("repro.py itself failed (exit 3): this is not evidence of the finding", file=sys.stderr)
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(3)


if __name__ == "__main__":
    sys.excepthook = script_failed
'''


def function_name(source: str) -> str:
    """The name of the one top-level function of a rendered program."""
    try:
        tree = ast.parse(source)
    except SyntaxError as exc:
        raise ValueError(f"the program source does not compile: {exc}") from None
    names = [node.name for node in tree.body if isinstance(node, ast.FunctionDef)]
    if len(names) != 1:
        raise ValueError(f"the program source defines {len(names)} top-level functions, expected one")
    return names[0]


def _program_body(source: str) -> str:
    """The rendered program without its imports, bound to ``f`` (what the repro calls) whatever its name."""
    lines = source.splitlines()
    body = [ln for ln in lines if not ln.startswith("import ")]
    text = "\n".join(body).strip("\n") + "\n"
    name = function_name(source)
    if name != "f":
        text += f"\n\nf = {name}\n"
    return text


#: A repro's line for a program sampled under ``types.x64``: its dtypes and its ops' result types assume the mode.
X64_LINE = 'jax.config.update("jax_enable_x64", True)  # the program was sampled under types.x64'


def _header(title: str, detail: str, xla_flags: str = "") -> list[str]:
    """The docstring, ``import sys`` and the exit-3 hook every repro.py starts with, then ``xla_flags``
    added to ``XLA_FLAGS`` (before jax is imported)."""
    header = [f'"""{title}', "", *detail.splitlines(), "", _STATUS_LINE, '"""', "import sys", _SCRIPT_FAILED]
    if xla_flags.split():
        header += ["import os", "", f"WORKER_XLA_FLAGS = {' '.join(xla_flags.split())!r}  # as the fuzz worker ran",
                   "os.environ['XLA_FLAGS'] = (os.environ.get('XLA_FLAGS', '') + ' ' + WORKER_XLA_FLAGS).strip()", ""]
    return header


def expected_error(detail: str) -> str | None:
    """The exception type name a kind ``error`` finding records (``TypeName: message``), if any."""
    match = re.match(r"\s*([A-Za-z_][\w.]*)\s*:", detail)
    return match.group(1).rsplit(".", 1)[-1] if match else None


def _checked(script: str) -> str:
    """``script`` if it compiles; ValueError otherwise (a SyntaxError would exit 1 before any hook runs)."""
    try:
        compile(script, "repro.py", "exec")
    except SyntaxError as exc:
        raise ValueError(f"repro.py does not compile: {exc}") from None
    return script


def _special_values(data: dict[str, Any]) -> tuple[list[str], str]:
    """A special-value finding's constants for repro.py, and the arguments that pass them to ``check``: what
    the oracle accepted besides ``expected`` (see ``check``), per output."""
    parts, args = [], ""
    if "flushed" in data:
        parts += ["# special values: the reference with subnormals flushed (as XLA:CPU flushes them) is right too",
                  f"FLUSHED = {_list_literal(data['flushed'])}"]
        args += ", FLUSHED[k]"
    if "references" in data:
        parts += ["# special values: an element where each run matches one of the references (IEEE, flushed) is right",
                  "REFERENCES = [\n" + "".join(f"    {_list_literal(r)},\n" for r in data["references"]) + "]"]
        args += ", accepted=REFERENCES[k]"
    if "regroupable" in data:
        parts += ["# special values: elements XLA may compute in another grouping of an over- or underflowing product",
                  f"REGROUPABLE = {_list_literal(data['regroupable'])}"]
        args += ", exempt=REGROUPABLE[k]"
    return parts, args


def _variant_repro(*, kind: str, title: str, detail: str, source: str, inputs: Sequence[np.ndarray],
                   data: dict[str, Any], xla_flags: str, x64: bool = False) -> str:
    """repro.py of a metamorphic oracle: ``variant(args)`` (and ``baseline(args)``, default ``jax.jit(f)``)
    are Python snippets the oracle wrote; it compares them elementwise within TOLERANCE."""
    device_flag = f"--xla_force_host_platform_device_count={int(data['devices'])}" if data.get("devices") else ""
    if device_flag and device_flag not in xla_flags.split():
        xla_flags = f"{xla_flags} {device_flag}"
    header = _header(title, detail, xla_flags)
    header += ["import jax", "import jax.numpy as jnp", "import jax.lax as lax", "import numpy as np", ""]
    if x64:
        header += [X64_LINE, ""]
    parts = ["\n".join(header), "", _program_body(source), "", f"INPUTS = {_list_literal(inputs)}", ""]
    if "batched" in data:
        parts += [f"BATCHED = {_list_literal(data['batched'])}", ""]
    compare = kind == "wrong"
    special, also = _special_values(data) if compare else ([], "")
    if compare:
        tolerance = data.get("tolerance")
        parts += [f"TOLERANCE = {_list_literal(tolerance) if tolerance is not None else 'None'}",
                  f"CHECKED = {list(data.get('failing', [0]))}", *special, ""]
    parts += [data["variant"].rstrip(), ""]
    body = ["args = [jnp.asarray(x) for x in INPUTS]",
            "other = variant(args)",
            "base = baseline(args) if 'baseline' in globals() else outputs(jax.jit(f)(*args))"]
    if compare:
        body += ["ok = all([check(f'output {k}, variant vs baseline', other[k], base[k],",
                 f"                TOLERANCE[k] if TOLERANCE is not None else 1e-4 * (1 + np.abs(base[k])){also})",
                 "          for k in CHECKED])"]
    parts.append(_CHECK)
    return _checked("\n".join(parts) + _main(kind, body, detail))


def repro_source(
    *,
    oracle: str,
    kind: str,
    title: str,
    detail: str,
    source: str,
    inputs: Sequence[np.ndarray],
    data: dict[str, Any],
    hang_timeout: float = 60.0,
    xla_flags: str = "",
    x64: bool = False,
) -> str:
    """A standalone script reproducing one finding (see the module docstring); ``xla_flags``: the flags the
    fuzz worker added to ``XLA_FLAGS``, which the script adds too; ``x64``: the program was sampled under
    ``types.x64`` and runs with ``jax_enable_x64``, as the worker ran it."""
    if "variant" in data:
        return _variant_repro(kind=kind, title=title, detail=detail, source=source, inputs=inputs, data=data,
                              xla_flags=xla_flags, x64=x64)
    twin = oracle == "grad" and data.get("mode") == "f64"
    # the grad oracle's float64 twin is its own (plain) program; its float32 source is the program itself,
    # possibly with pytree arguments: ``source`` is that program with the flat arguments INPUTS holds
    program_source = data.get("source", source) if twin else source
    header = _header(title, detail, xla_flags)
    if kind == "hang":
        header += ["import faulthandler", "", f"faulthandler.dump_traceback_later({hang_timeout:g}, exit=True)  "
                   "# still running then: the hang is present, exit 1", ""]
    header += ["import jax", "import jax.numpy as jnp", "import jax.lax as lax", "import numpy as np", ""]
    if twin:
        header += ['jax.config.update("jax_enable_x64", True)  # integer results are cast back to 32 bits in f', ""]
    elif x64:
        header += [X64_LINE, ""]
    parts = ["\n".join(header), "", _program_body(program_source), "", f"INPUTS = {_list_literal(inputs)}", ""]
    compare = kind == "wrong"
    special, also = _special_values(data) if compare else ([], "")
    body: list[str] = []
    if oracle in ("reference", "lowprec"):
        if compare:
            parts += [f"EXPECTED = {_list_literal(data['expected'])}",
                      f"TOLERANCE = {_list_literal(data['tolerance'])}", f"CHECKED = {list(data.get('failing', []))}",
                      *special]
        body += ["args = [jnp.asarray(x) for x in INPUTS]", "got = outputs(jax.jit(f)(*args))"]
        if compare:
            body += [f"ok = all([check(f'jit output {{k}} vs reference', got[k], EXPECTED[k], TOLERANCE[k]{also})",
                     "          for k in CHECKED])"]
    elif oracle == "eager":
        if compare:
            parts += [f"TOLERANCE = {_list_literal(data['tolerance'])}", f"CHECKED = {list(data.get('failing', []))}",
                      *special]
        body += ["args = [jnp.asarray(x) for x in INPUTS]", "jitted = outputs(jax.jit(f)(*args))",
                 "with jax.disable_jit():", "    eager = outputs(f(*args))"]
        if compare:
            body += [f"ok = all([check(f'jit output {{k}} vs eager', jitted[k], eager[k], TOLERANCE[k]{also})",
                     "          for k in CHECKED])"]
    elif oracle == "passes":
        passes = ",".join(data.get("passes_off", []))
        parts += [f"PASSES = {passes!r}"]
        if compare:
            parts += [f"TOLERANCE = {_list_literal(data['tolerance'])}", f"CHECKED = {list(data.get('failing', []))}",
                      *special]
        parts += [_DISABLED]
        body += ["args = [jnp.asarray(x) for x in INPUTS]",
                 "default = outputs(jax.jit(f).lower(*args).compile({})(*args))",
                 "disabled = disabled_outputs(args)"]
        if compare:
            body += ["ok = all([check(f'output {k}, default vs passes disabled', default[k], disabled[k],",
                     f"                TOLERANCE[k]{also}) for k in CHECKED])"]
    elif oracle == "vmap":
        batched = data.get("batched", list(inputs))
        parts += [f"BATCHED = {_list_literal(batched)}", f"IN_AXES = {tuple(data.get('in_axes', [0] * len(inputs)))!r}"]
        if compare:
            parts += [f"TOLERANCE = {_list_literal(data['tolerance'])}", f"CHECKED = {list(data.get('failing', []))}",
                      *special]
        body += [
            "args = [jnp.asarray(x) for x in BATCHED]",
            "vmapped = outputs(jax.jit(jax.vmap(f, in_axes=IN_AXES))(*args))",
            "size = next(x.shape[0] for x, a in zip(BATCHED, IN_AXES) if a == 0)",
            "single = jax.jit(f)",
            "examples = [outputs(single(*[x[b] if a == 0 else x for x, a in zip(args, IN_AXES)]))",
            "            for b in range(size)]",
            "looped = [np.stack([np.asarray(e[k]) for e in examples]) for k in range(len(vmapped))]",
        ]
        if compare:
            body += [f"ok = all([check(f'output {{k}}, vmap vs per-example jit', vmapped[k], looped[k], "
                     f"TOLERANCE[k]{also}) for k in CHECKED])"]
    elif oracle == "grad":
        dtype = "np.float64" if twin else "np.float32"
        parts += [
            f"WEIGHTS = {_list_literal(data.get('weights', []))}",
            f"DIRECTIONS = {_list_literal(data.get('directions', []))}",
            f"FLOAT_IN = {tuple(data.get('float_in', []))!r}",
            f"FLOAT_OUT = {tuple(data.get('float_out', []))!r}",
        ]
        if compare:
            parts += [f"EXPECTED = {_scalar(data['expected'])}  # directional derivative: "
                      + ("finite differences of the float64 reference" if twin else "float64 jax.grad"),
                      f"TOLERANCE = {_scalar(data['tol'])}"]
        body += [
            f"args = [jnp.asarray(x, dtype={dtype}) if i in FLOAT_IN else jnp.asarray(x)",
            "        for i, x in enumerate(INPUTS)]",
            "",
            "def loss(*xs):",
            "    outs = outputs(f(*xs))",
            f"    return sum(jnp.sum(outs[k] * jnp.asarray(w, dtype={dtype})) for k, w in zip(FLOAT_OUT, WEIGHTS))",
            "",
            "grads = jax.jit(jax.grad(loss, argnums=FLOAT_IN))(*args)",
            "derivative = sum(float(np.sum(np.asarray(g, dtype=np.float64) * v)) for g, v in zip(grads, DIRECTIONS))",
        ]
        if compare:
            body += [
                "ok = abs(derivative - EXPECTED) <= TOLERANCE",
                "print(f'directional derivative of jax.grad: {derivative!r}, expected {EXPECTED!r}, '",
                "      f'|difference| {abs(derivative - EXPECTED):.6g} (tolerance {TOLERANCE:.3g})')",
            ]
    else:  # pragma: no cover
        raise ValueError(f"unknown oracle {oracle!r}")
    parts.append(_CHECK)
    return _checked("\n".join(parts) + _main(kind, body, detail))


def _main(kind: str, body: Sequence[str], detail: str) -> str:
    """``def main()`` around ``body`` (which sets ``ok`` for kind ``wrong``), and the exit-status footer.

    Only the observed discrepancy returns 1; any exception ``main`` does not expect reaches the
    script's hook and exits 3."""
    main = ["", "", "def main():"]
    if kind in ("error", "crash", "hang"):
        # JAX dispatches asynchronously: an error (or crash) of the execution surfaces only when the results
        # are waited for, after the statements that launched them have returned
        body = [*body, "jax.block_until_ready([v for k, v in sorted(locals().items())])  # wait for every result"]
    if kind == "error":
        main = ["", "", f"EXPECTED_ERROR = {expected_error(detail)!r}  # the exception type JAX raised",
                "SCRIPT_ERRORS = (NameError, SyntaxError, ImportError)  # never the finding: this script is broken",
                "RENAMED = {'XlaRuntimeError': 'JaxRuntimeError'}  # one JAX error, under its old and new name",
                *main]
        main += ["    try:"] + [f"        {ln}" if ln else "" for ln in body]
        main += ["    except Exception as exc:",
                 "        name = RENAMED.get(type(exc).__name__, type(exc).__name__)",
                 "        if name != RENAMED.get(EXPECTED_ERROR, EXPECTED_ERROR) or isinstance(exc, SCRIPT_ERRORS):",
                 "            raise  # not the recorded error: this script failed (exit 3)",
                 "        print(f'{type(exc).__name__}: {exc}'.splitlines()[0])  # the finding: JAX raised it",
                 "        return 1",
                 "    print('no exception: fixed')", "    return 0"]
    elif kind in ("crash", "hang"):
        main += [f"    {ln}" if ln else "" for ln in body]
        main += ["    print('completed without crashing or hanging: fixed')", "    return 0"]
    else:
        main += [f"    {ln}" if ln else "" for ln in body]
        main += ["    if ok:", "        print('no discrepancy: fixed')", "    return 0 if ok else 1"]
    main += ["", "", 'if __name__ == "__main__":', "    sys.exit(main())", ""]
    return "\n" + "\n".join(main)


# ---------------------------------------------------------------- folders


def write_json(path: Path, payload: Any) -> None:
    path.write_text(json.dumps(payload, indent=2, sort_keys=False, default=_json_default) + "\n")


def _json_default(o: Any) -> Any:
    if isinstance(o, np.integer):
        return int(o)
    if isinstance(o, np.floating):
        return float(o)
    if isinstance(o, np.ndarray):
        return o.tolist()
    if isinstance(o, msgspec.Struct):
        return msgspec.to_builtins(o)
    raise TypeError(f"not JSON serializable: {type(o).__name__}")


def write_finding(folder: Path, finding: Finding, record: dict[str, Any], repro: str, hlo: str | None) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "repro.py").write_text(repro)
    write_json(folder / "program.json", record)
    finding.error = _finite(finding.error)
    finding.tolerance = _finite(finding.tolerance)
    write_json(folder / "finding.json", msgspec.to_builtins(finding))
    if hlo:
        (folder / "optimized_hlo.txt").write_text(hlo)


# ---------------------------------------------------------------- the findings database

DB_VERSION = 1


def load_db(path: Path) -> dict[str, Any]:
    """The persistent findings database (``--db``): every bucket any campaign reported, by id.

    Raises ValueError with a one-line message for a file that is not such a database."""
    if not path.exists():
        return {"version": DB_VERSION, "buckets": {}}
    try:
        data = json.loads(path.read_text())
    except (OSError, ValueError) as exc:
        raise ValueError(f"cannot read findings database {str(path)!r}: {exc}") from None
    if not isinstance(data, dict) or data.get("version") != DB_VERSION or not isinstance(data.get("buckets"), dict):
        raise ValueError(f"{str(path)!r} is not a jaxsynth findings database (version {DB_VERSION})")
    return data


def update_db(path: Path, buckets: Sequence[dict[str, Any]], provenance: dict[str, Any]) -> list[str]:
    """Add a campaign's buckets to the database at ``path``; returns the ids that were new.

    Each entry keeps where the bucket was first seen (config, seed, finding folder) and how many
    campaigns reported it since. Written sorted, so the file depends only on its campaigns."""
    db = load_db(path)
    known = db["buckets"]
    new = []
    for b in buckets:
        entry = known.get(b["bucket"])
        if entry is None:
            new.append(b["bucket"])
            known[b["bucket"]] = {"signature": b["signature"], "oracle": b["oracle"], "kind": b["kind"],
                                  "first_seen": dict(provenance, finding=b["findings"][0]), "campaigns": 1}
        else:
            entry["campaigns"] += 1
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(json.dumps({"version": DB_VERSION, "buckets": dict(sorted(known.items()))}, indent=1,
                              sort_keys=True) + "\n")
    tmp.replace(path)
    return new
