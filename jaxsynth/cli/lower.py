"""``jaxsynth lower``: the IR texts of a function of your own."""

from __future__ import annotations

import contextlib
import importlib.util
import re
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import click

from jaxsynth.cli.support import DEFAULT_EMIT, BadInput, first_line, out_option


def import_module(path: str) -> Any:
    """Import the Python file ``path`` (this runs it) as a module; problems are bad input."""
    file = Path(path)
    if not path.endswith(".py"):
        raise BadInput(f"expected a .py file, got {path!r}")
    if not file.is_file():
        raise BadInput(f"no such file: {path!r}")
    module_name = "_jaxsynth_user_" + re.sub(r"\W", "_", file.stem)
    spec = importlib.util.spec_from_file_location(module_name, file)
    if spec is None or spec.loader is None:
        raise BadInput(f"cannot import {path!r} as a Python module")
    module = importlib.util.module_from_spec(spec)
    sys.modules[module_name] = module
    try:
        spec.loader.exec_module(module)
    except (Exception, SystemExit) as exc:
        raise BadInput(f"cannot import {path!r}: {first_line(exc)}") from None
    return module


def import_function(target: str) -> Callable[..., Any]:
    """The function named by ``FILE.py:FUNC`` (importing, i.e. running, FILE.py)."""
    path, sep, name = target.rpartition(":")
    if not sep or not path.endswith(".py") or not name.isidentifier():
        raise BadInput(f"expected FILE.py:FUNCTION, got {target!r}")
    module = import_module(path)
    fn = getattr(module, name, None)
    if fn is None:
        raise BadInput(f"{path!r} defines no {name!r}")
    if not callable(fn):
        raise BadInput(f"{path}:{name} is not callable")
    return fn


def parse_arg_options(args: Sequence[str]) -> list[Any]:
    """``--arg`` specs parsed (see :func:`jaxsynth.lowering.parse_arg`); a bad one is a usage error."""
    from jaxsynth.lowering import parse_arg

    try:
        return [parse_arg(a) for a in args]
    except ValueError as exc:
        raise click.BadParameter(str(exc), param_hint="'--arg'") from None


def _x64_scope(specs: Sequence[Any]) -> contextlib.AbstractContextManager[Any]:
    """JAX's x64 mode while lowering, when some argument is 64-bit."""
    import jax

    from jaxsynth.lowering.argtypes import Static

    leaves = jax.tree_util.tree_leaves([s for s in specs if not isinstance(s, Static)])
    return jax.enable_x64(True) if any(t.dtype.itemsize == 8 for t in leaves) else contextlib.nullcontext()


def _bind(fn: Callable[..., Any], args: Sequence[str]) -> tuple[Callable[..., Any], list[Any]]:
    """``fn`` with its static arguments bound, and the abstract types of the others (parsed inside the
    x64 scope, so 64-bit dtypes stay 64-bit)."""
    from jaxsynth.lowering import parse_arg
    from jaxsynth.lowering.argtypes import bind_static

    return bind_static(fn, [parse_arg(a) for a in args])


def lower_targets(
    targets: Sequence[tuple[str, Callable[..., Any], Sequence[str]]], emit: Sequence[str]
) -> list[tuple[str, Any]]:
    """``(name, LoweredTexts)`` of each ``(name, fn, --arg specs)``; a target that fails is skipped with a
    ``skipped NAME: reason`` line on stderr."""
    from jaxsynth.lowering import lower

    lowered = []
    for name, fn, args in targets:
        try:
            with _x64_scope(parse_arg_options(args)):
                bound, arg_types = _bind(fn, args)
                lowered.append((name, lower(bound, arg_types, emit=emit)))
        except Exception as exc:
            click.echo(f"skipped {name}: {first_line(exc)}", err=True)
    return lowered


@click.command("lower")
@click.argument("target", metavar="FILE.py:FUNC")
@click.option(
    "--arg", "args", multiple=True, metavar="SPEC",
    help="One argument, in order; repeat. A type such as f32[16,4], float32[] or bf16[8]; a pytree of types "
    """as a dict, list or tuple literal, e.g. '{"w": "f32[8,4]", "b": "f32[4]"}'; or static:LITERAL for a """
    "static (untraced) argument, e.g. static:3.",
)
@click.option(
    "--emit", default=DEFAULT_EMIT, show_default=True,
    help="Kinds to emit, comma separated: jaxpr, stablehlo, optimized_hlo, hlo, grad_jaxpr (jax.grad of the "
    "float32 sum of the float outputs w.r.t. the float arguments), vmap_jaxpr (jax.vmap over a new axis of 4).",
)
@click.option(
    "--grad", is_flag=True,
    help="Lower jax.grad(FUNC) (w.r.t. the first argument; FUNC must return a float scalar) instead of FUNC: "
    "applies to every emitted text, and each section is labelled (grad).",
)
@out_option(
    "Also write the texts as one record in the corpus schema to this .jsonl or .msgpack file, to mix with "
    "generated corpora.", directory=False,
)
def lower_command(target: str, args: tuple[str, ...], emit: str, grad: bool, out: str | None) -> int:
    """Lower a function of your own and print its IR texts (this imports, i.e. runs, FILE.py)."""

    from jaxsynth.lowering import LOWER_KINDS, lower, parse_emit

    try:
        kinds = parse_emit(emit, LOWER_KINDS)
    except ValueError as exc:
        raise click.BadParameter(str(exc), param_hint="'--emit'") from None
    if out is not None:
        from jaxsynth.corpus.record import CorpusError, format_for

        try:
            format_for(out)
        except CorpusError as exc:
            raise BadInput(f"-o: {exc}") from None
    specs = parse_arg_options(args)
    fn = import_function(target)
    with _x64_scope(specs):
        try:
            bound, arg_types = _bind(fn, args)
            if out is None:
                texts = lower(bound, arg_types, emit=kinds, grad=grad).present()
            else:
                from jaxsynth.corpus.lowered import function_record

                source = Path(target.rpartition(":")[0]).read_text()
                record = function_record(bound, arg_types, source, emit=kinds, grad=grad)
                texts = {k: getattr(record, k) for k in LOWER_KINDS if getattr(record, k) is not None}
        except Exception as exc:
            raise BadInput(f"cannot lower {target} at ({', '.join(args)}): {first_line(exc)}") from None
    label = " (grad)" if grad else ""
    for kind, text in texts.items():
        click.echo(f"== {kind}{label} ==")
        click.echo(text.rstrip("\n"))
    if out is not None:
        from jaxsynth.corpus.record import write

        write(out, [record])
        click.echo(f"wrote 1 record to {out}", err=True)
    return 0
