"""The ``jaxsynth`` command line: ``generate | lower | replay | stats | configs``.

Bad input (unknown config key, bad type string, missing file, corrupt corpus, usage errors) ends
with exit status 2 and exactly one ``error: ...`` line on stderr, never a traceback. ``replay`` exits
1 when a record does not reproduce. Set ``JAXSYNTH_TRACEBACK=1`` to see tracebacks of internal
errors. JAX is imported only by the commands that need it.
"""

from __future__ import annotations

import contextlib
import importlib.util
import os
import re
import statistics
import sys
from collections import Counter
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, NoReturn

import click

from jaxsynth.corpus.record import FORMATS, CorpusError, Record, encode_payload, format_for, iter_raw
from jaxsynth.grammar import ConfigError, GrammarConfig, builtin_names, load_config

__all__ = ["cli", "main", "run"]

_DEFAULT_EMIT = "jaxpr,stablehlo,optimized_hlo"
_SUFFIX_FORMATS = {".jsonl": "jsonl", ".msgpack": "msgpack"}


class BadInput(click.ClickException):
    """A problem with the user's input: one line on stderr, exit status 2."""

    exit_code = 2


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return f"{type(exc).__name__}: {text.splitlines()[0] if text else ''}".rstrip(": ")


def _one_line(message: str) -> str:
    return " ".join(part.strip() for part in message.strip().splitlines() if part.strip())


def _load_config(name_or_path: str) -> GrammarConfig:
    try:
        return load_config(name_or_path)
    except ConfigError as exc:
        raise BadInput(str(exc)) from None


def _prepare_jax() -> None:
    """Pin JAX to CPU and one XLA thread, as generation workers are, if JAX is not loaded yet."""
    if "jax" not in sys.modules:
        from jaxsynth.lowering import configure_jax_for_workers

        configure_jax_for_workers(1)


def _parse_emit(spec: str) -> tuple[str, ...]:
    from jaxsynth.lowering import parse_emit

    try:
        return parse_emit(spec)
    except ValueError as exc:
        raise click.BadParameter(str(exc), param_hint="'--emit'") from None


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
def cli() -> None:
    """Typed-grammar random program synthesizer for JAX."""


# ---------------------------------------------------------------- generate
@cli.command()
@click.option(
    "--config",
    "config_name",
    default="default",
    show_default=True,
    help="Built-in config name or path to a .toml grammar config.",
)
@click.option("--seed", type=click.IntRange(0, 2**63 - 1), default=0, show_default=True)
@click.option(
    "-n",
    "--count",
    "n",
    type=click.IntRange(min=0),
    default=100,
    show_default=True,
    help="Number of records (indices 0..n-1).",
)
@click.option(
    "-o",
    "--out",
    "out",
    type=click.Path(dir_okay=False),
    default=None,
    help="Output file [default: corpus.jsonl or corpus.msgpack].",
)
@click.option(
    "--workers", type=click.IntRange(min=1), default=None, help="Worker processes [default: CPU count]."
)
@click.option("--emit", default=_DEFAULT_EMIT, show_default=True, help="IR kinds to emit, comma separated.")
@click.option(
    "--format",
    "fmt",
    type=click.Choice(FORMATS),
    default=None,
    help="Output format [default: from the -o suffix, else jsonl].",
)
@click.option(
    "--progress/--no-progress", default=True, show_default=True, help="Progress bar (on a terminal)."
)
def generate(
    config_name: str,
    seed: int,
    n: int,
    out: str | None,
    workers: int | None,
    emit: str,
    fmt: str | None,
    progress: bool,
) -> int:
    """Generate a corpus of records 0..n-1 of (config, seed)."""
    from jaxsynth.corpus.run import generate as run_generate

    config = _load_config(config_name)
    suffix_format = _SUFFIX_FORMATS.get(Path(out).suffix) if out else None
    if fmt and suffix_format and fmt != suffix_format:
        raise BadInput(f"--format {fmt} does not match the suffix of {out!r} (a {suffix_format} file)")
    fmt = fmt or suffix_format or "jsonl"
    out = out or f"corpus.{fmt}"
    workers = workers or os.cpu_count() or 1
    _prepare_jax()  # in-process runs pin JAX as the workers do, so output never depends on --workers
    kinds = _parse_emit(emit)
    summary = run_generate(config, seed, n, out, workers=workers, emit=kinds, fmt=fmt, progress=progress)
    click.echo(f"wrote {summary}", err=True)
    return 0


# ---------------------------------------------------------------- lower
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
        raise BadInput(f"cannot import {path!r}: {_first_line(exc)}") from None
    fn = getattr(module, name, None)
    if fn is None:
        raise BadInput(f"{path!r} defines no {name!r}")
    if not callable(fn):
        raise BadInput(f"{path}:{name} is not callable")
    return fn


@cli.command("lower")
@click.argument("target", metavar="FILE.py:FUNC")
@click.option(
    "--arg", "args", multiple=True, metavar="TYPE", help="Argument type such as f32[16,4] or f32[]; repeat."
)
@click.option("--emit", default=_DEFAULT_EMIT, show_default=True, help="IR kinds to emit, comma separated.")
@click.option("--grad", is_flag=True, help="Emit the JAXPR of jax.grad(FUNC) (w.r.t. the first argument).")
def lower_command(target: str, args: tuple[str, ...], emit: str, grad: bool) -> int:
    """Lower a function of your own and print its IR texts (this imports, i.e. runs, FILE.py)."""
    import jax

    from jaxsynth.lowering import lower, parse_type

    kinds = _parse_emit(emit)
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
            raise BadInput(f"cannot lower {target} at ({', '.join(args)}): {_first_line(exc)}") from None
    for kind, text in texts.present().items():
        click.echo(f"== {kind} ==")
        click.echo(text.rstrip("\n"))
    return 0


# ---------------------------------------------------------------- replay
def _find(corpus: str, index: int) -> tuple[Record, bytes, str]:
    from jaxsynth.corpus.record import decode_record

    fmt = format_for(corpus)
    for number, payload in iter_raw(corpus, fmt):
        try:
            record = decode_record(payload, fmt)
        except Exception as exc:
            where = "line" if fmt == "jsonl" else "record"
            raise CorpusError(f"{corpus} {where} {number}: {exc}") from None
        if record.index == index:
            return record, payload, fmt
    raise BadInput(f"{corpus}: no record with index {index}")


def _builtin_with_digest(digest: str) -> GrammarConfig | None:
    for name in builtin_names():
        config = load_config(name)
        if config.digest == digest:
            return config
    return None


def _diff(a: Any, b: Any, prefix: str = "") -> list[str]:
    """Dotted names of the fields where two records (or nested Structs) differ."""
    fields: list[str] = []
    for name in a.__struct_fields__:
        x, y = getattr(a, name), getattr(b, name)
        if x != y:
            if hasattr(x, "__struct_fields__") and type(x) is type(y):
                fields.extend(_diff(x, y, f"{prefix}{name}."))
            else:
                fields.append(prefix + name)
    return fields


@cli.command()
@click.argument("corpus", type=click.Path(dir_okay=False))
@click.option("--index", type=click.IntRange(min=0), required=True, help="The record's index field.")
@click.option(
    "--config",
    "config_name",
    default=None,
    help="Config name or path [default: the built-in config with the record's digest].",
)
def replay(corpus: str, index: int, config_name: str | None) -> int:
    """Rebuild one record from its seed, index and config and prove it is byte-identical."""
    from jaxsynth.lowering import IR_KINDS

    stored, payload, fmt = _find(corpus, index)
    if config_name is not None:
        config = _load_config(config_name)
    else:
        found = _builtin_with_digest(stored.config_digest)
        if found is None:
            raise BadInput(
                f"no built-in config has digest {stored.config_digest} (record {index} names config "
                f"{stored.config_name!r}); pass --config"
            )
        config = found
    kinds = [k for k in IR_KINDS if getattr(stored, k) is not None] or ["jaxpr"]
    _prepare_jax()
    from jaxsynth.corpus.generate import make_record

    rebuilt = make_record(config, stored.seed, stored.index, kinds)
    if encode_payload(rebuilt, fmt) == payload:
        click.echo(f"record {index}: identical")
        return 0
    fields = _diff(stored, rebuilt)
    if fields:
        click.echo(f"record {index}: differs in {', '.join(fields)}")
    else:
        click.echo(f"record {index}: fields are equal but the stored bytes differ (re-encoded?)")
    if stored.toolchain != rebuilt.toolchain:
        now = rebuilt.toolchain
        click.echo(f"note: recorded with {stored.toolchain}, replayed with {now}")
    return 1


# ---------------------------------------------------------------- stats
def _distribution(values: list[int]) -> str:
    return f"min {min(values)}  median {statistics.median(values):g}  max {max(values)}"


def _histogram(counter: Counter[str], total: int, top: int | None = None) -> list[str]:
    items = sorted(counter.items(), key=lambda kv: (-kv[1], kv[0]))[:top]
    width = max((len(k) for k, _ in items), default=0)
    return [f"  {key:<{width}}  {count:>7}  {100 * count / total:5.1f}%" for key, count in items]


@cli.command()
@click.argument("corpus", type=click.Path(dir_okay=False))
@click.option("--top", type=click.IntRange(min=1), default=20, show_default=True, help="Ops to list.")
def stats(corpus: str, top: int) -> int:
    """Counts and distributions of a corpus file (plain text)."""
    from jaxsynth.corpus.record import iter_records

    records = list(iter_records(corpus))
    n = len(records)
    click.echo(f"{corpus}: {n} records")
    if not n:
        return 0
    configs = Counter(f"{r.config_name} {r.config_digest}" for r in records)
    click.echo("configs: " + ", ".join(f"{k} ({v})" for k, v in sorted(configs.items())))
    irs = {
        k: sum(getattr(r, k) is not None for r in records)
        for k in ("jaxpr", "stablehlo", "optimized_hlo", "hlo")
    }
    click.echo("IR texts: " + ", ".join(f"{k} {v}" for k, v in irs.items()))
    unique = len({r.graph_hash for r in records})
    click.echo(f"unique graph_hash: {unique}/{n} ({100 * unique / n:.1f}%)")
    for label, values in (
        ("nodes", [r.features.node_count for r in records]),
        ("depth", [r.features.depth for r in records]),
        ("lines", [r.features.lines for r in records]),
        ("inputs", [r.features.inputs for r in records]),
        ("outputs", [r.features.outputs for r in records]),
    ):
        click.echo(f"{label + ':':<9}{_distribution(values)}")
    categories = Counter(c for r in records for c in r.features.categories)
    click.echo(f"categories ({len(categories)}; records using each):")
    click.echo("\n".join(_histogram(categories, n)))
    ops = Counter(op for r in records for op in r.features.ops)
    total_ops = sum(ops.values())
    click.echo(f"ops (top {min(top, len(ops))} of {len(ops)} distinct; share of {total_ops} op nodes):")
    click.echo("\n".join(_histogram(ops, total_ops, top)))
    dtypes = Counter(t.split("[", 1)[0] for r in records for t in r.signature)
    click.echo("input dtypes:")
    click.echo("\n".join(_histogram(dtypes, sum(dtypes.values()))))
    return 0


# ---------------------------------------------------------------- configs
@cli.command()
def configs() -> int:
    """List the built-in grammar configs with their digests."""
    names = builtin_names()
    width = max((len(n) for n in names), default=0)
    for name in names:
        click.echo(f"{name:<{width}}  {_load_config(name).digest}")
    return 0


# ---------------------------------------------------------------- entry points
def _error(message: str) -> None:
    click.echo(f"error: {_one_line(message)}", err=True)


def run(argv: Sequence[str] | None = None) -> int:
    """Run the CLI on ``argv`` (default ``sys.argv[1:]``) and return the exit status."""
    try:
        result = cli.main(
            args=list(argv) if argv is not None else None, prog_name="jaxsynth", standalone_mode=False
        )
    except click.exceptions.NoArgsIsHelpError as exc:  # bare ``jaxsynth``: same as ``--help``
        click.echo(exc.ctx.get_help() if exc.ctx else "")
        return 0
    except click.ClickException as exc:
        _error(exc.format_message())
        return exc.exit_code
    except BrokenPipeError:  # e.g. ``jaxsynth stats c.jsonl | head``
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0
    except (click.exceptions.Abort, KeyboardInterrupt):
        _error("interrupted")
        return 130
    except (ConfigError, CorpusError) as exc:
        _error(str(exc))
        return 2
    except Exception as exc:
        if os.environ.get("JAXSYNTH_TRACEBACK"):
            raise
        _error(f"internal error: {_first_line(exc)} (set JAXSYNTH_TRACEBACK=1 for a traceback)")
        return 1
    return result if isinstance(result, int) else 0


def main(argv: Sequence[str] | None = None) -> NoReturn:
    """Console entry point: ``jaxsynth ...``."""
    sys.exit(run(argv))


if __name__ == "__main__":
    main()
