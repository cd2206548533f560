"""``jaxsynth lower``: the IR texts of a function of your own."""

from __future__ import annotations

import contextlib
import importlib.util
import re
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import click

from jaxsynth.cli.support import DEFAULT_EMIT, BadInput, first_line, parse_emit_option


def _import_function(target: str) -> Callable[..., Any]:
    path, sep, name = target.rpartition(":")
    if not sep or not path.endswith(".py") or not name.isidentifier():
        raise BadInput(f"expected FILE.py:FUNCTION, got {target!r}")
    file = Path(path)
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
    fn = getattr(module, name, None)
    if fn is None:
        raise BadInput(f"{path!r} defines no {name!r}")
    if not callable(fn):
        raise BadInput(f"{path}:{name} is not callable")
    return fn


@click.command("lower")
@click.argument("target", metavar="FILE.py:FUNC")
@click.option(
    "--arg", "args", multiple=True, metavar="TYPE", help="Argument type such as f32[16,4] or f32[]; repeat."
)
@click.option("--emit", default=DEFAULT_EMIT, show_default=True, help="IR kinds to emit, comma separated.")
@click.option("--grad", is_flag=True, help="Emit the JAXPR of jax.grad(FUNC) (w.r.t. the first argument).")
def lower_command(target: str, args: tuple[str, ...], emit: str, grad: bool) -> int:
    """Lower a function of your own and print its IR texts (this imports, i.e. runs, FILE.py)."""
    import jax

    from jaxsynth.lowering import lower, parse_type

    kinds = parse_emit_option(emit)
    try:
        types = [parse_type(a) for a in args]
    except ValueError as exc:
        raise click.BadParameter(str(exc), param_hint="'--arg'") from None
    fn = _import_function(target)
    x64 = any(t.dtype.itemsize == 8 for t in types)
    with jax.enable_x64(True) if x64 else contextlib.nullcontext():
        try:
            types = [parse_type(a) for a in args]
            texts = lower(fn, types, emit=kinds, grad=grad)
        except Exception as exc:
            raise BadInput(f"cannot lower {target} at ({', '.join(args)}): {first_line(exc)}") from None
    for kind, text in texts.present().items():
        click.echo(f"== {kind} ==")
        click.echo(text.rstrip("\n"))
    return 0
