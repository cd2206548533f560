"""The ``jaxsynth fuzz`` command.

    jaxsynth fuzz [--config NAME|PATH|LIST|all] [--seed S] [--budget 10m | -n N] [--out DIR] [--oracles LIST]
                  [--workers W] [--db FILE] [--exit-zero] [--resume]
    jaxsynth fuzz --rerun FINDING_DIR

Bad input ends with one ``error: ...`` line on stderr and exit status 2, never a traceback. A
campaign exits 1 when it has findings (with ``--db``: findings in buckets the database did not hold
yet) and 0 otherwise; ``--exit-zero`` makes it 0 whenever the campaign ran. ``--rerun`` runs one
finding's ``repro.py`` on the installed JAX: exit 1 while the bug is present, 0 once it is fixed.
An interrupt (Ctrl-C, SIGINT or SIGTERM) stops testing new programs, then reduces and writes the findings so far
(status ``stopped``); a second interrupt aborts. The same command with ``--resume`` continues a stopped (or
killed) campaign where it was. With several configs (a list, or ``all``), each has its campaign in OUT/<name>/ and
OUT/summary.json has the totals; an interrupt ends the run after the config in progress, and ``--resume`` skips the
configs that were done.
"""

from __future__ import annotations

import sys
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING

import click

from jaxsynth.cli.support import (
    BadInput,
    config_option,
    count_option,
    load_config_or_fail,
    out_option,
    prepare_output,
    seed_option,
    workers_option,
)

if TYPE_CHECKING:  # pragma: no cover
    from jaxsynth.fuzz.campaign import Settings
    from jaxsynth.grammar import GrammarConfig

__all__ = ["fuzz"]


@click.command()
@config_option(help="Built-in config name (see `jaxsynth configs`) or path to a .toml grammar config; a "
                    "comma-separated list, or `all` for every built-in config, runs one campaign per config in "
                    "OUT/<name>/ (-n programs of each; --budget split evenly) with the totals in OUT/summary.json.")
@seed_option()
@click.option("--budget", default=None, metavar="TIME", help="Test programs for this long: 30s, 10m, 2h.")
@count_option("Test programs 0..N-1 [default: 100 unless --budget is given].", default=None)
@out_option("Directory for summary.json and one folder per finding.", directory=True, default="fuzz-out")
@click.option("--oracles", default="all", show_default=True, metavar="LIST",
              help="Comma-separated oracles: reference, eager, passes, grad, vmap, lowprec, sharding, export, "
                   "jitvmap, unroll, rewrite, or all; -NAME leaves one out (all,-eager).")
@workers_option(1, "Isolated worker processes; use one per core for a campaign.")
@click.option("--db", "db", default=None, metavar="FILE",
              help="Persistent findings database (JSON): record every bucket, report and fail only on new ones.")
@click.option("--swarm/--no-swarm", default=True, show_default=True,
              help="Sample each program from a random subset of the config's ops, dtypes and shape classes.")
@click.option("--special", is_flag=True,
              help="Special-values mode: inputs with NaN, ±Inf, -0.0, subnormals and integer extremes, only ops "
                   "with defined special-value semantics (on for configs with types.special_values).")
@click.option("--exit-zero", is_flag=True, help="Exit 0 even when the campaign has findings.")
@click.option("--timeout", "timeout", default="120s", show_default=True, metavar="TIME",
              help="Per program, every oracle together: a worker still busy after it is a hang candidate, "
                   "confirmed only by a rerun with 4x as long. Raise it for large programs (models).")
@click.option("--resume", is_flag=True,
              help="Continue the campaign OUT holds (stopped by an interrupt, or killed) with the same command: "
                   "programs tested before are not tested again, and the finished output is the same as an "
                   "uninterrupted campaign's. A campaign of -n programs only.")
@click.option("--rerun", default=None, metavar="FINDING_DIR",
              help="Recheck one finding folder on the installed JAX (runs its repro.py) instead of a campaign.")
def fuzz(config_name: str, seed: int, budget: str | None, count: int | None, out: str, oracles: str,
         workers: int, swarm: bool, special: bool, db: str | None, exit_zero: bool, timeout: str, resume: bool,
         rerun: str | None) -> int:
    """Fuzz XLA and JAX with typed random programs: differential oracles, crash and hang isolation,
    typed reduction and triage. Writes OUT/summary.json and OUT/findings/<index>-<oracle>-<kind>/ with a
    standalone repro.py (exits 1 while the bug is present) per finding."""
    from jaxsynth.fuzz.campaign import Settings, parse_duration, run_campaign, run_campaigns
    from jaxsynth.fuzz.oracles import parse_oracles

    if rerun is not None:
        return _rerun(Path(rerun))
    db_path = None
    if db is not None:
        from jaxsynth.fuzz.findings import load_db

        db_path = Path(db)
        try:
            load_db(db_path)
        except ValueError as exc:
            raise BadInput(f"--db: {exc}") from None
    configs = _configs(config_name)
    seconds = None
    if budget is not None:
        if count is not None:
            raise BadInput("give either --budget or -n, not both")
        try:
            seconds = parse_duration(budget)
        except ValueError as exc:
            raise BadInput(f"--budget: {exc}") from None
    elif count is None:
        count = 100
    try:
        timeout_seconds = parse_duration(timeout)
    except ValueError as exc:
        raise BadInput(f"--timeout: {exc}") from None
    try:
        names = parse_oracles(oracles)
    except ValueError as exc:
        raise BadInput(f"--oracles: {exc}") from None
    several = len(configs) > 1
    if special:
        _check_special(configs)
    configs = _judged(configs, names, oracles, special)
    out_dir = Path(out)
    if out_dir.exists() and not out_dir.is_dir():
        raise BadInput(f"--out {out!r} is not a directory")
    settings = Settings(
        config=configs[0],
        out=out_dir,
        seed=seed,
        count=count,
        budget=seconds,
        oracles=names,
        workers=workers,
        db=db_path,
        swarm=swarm,
        special=special,
        timeout=timeout_seconds,
        progress=sys.stderr.isatty(),
        resume=resume,
        log=lambda message: click.echo(message, err=True),
    )
    for config in configs:
        _check_out(replace(settings, config=config, out=out_dir / config.name if several else out_dir))
    prepare_output(out_dir, "--out", directory=True)
    summary = run_campaigns(settings, configs) if several else run_campaign(settings)
    click.echo(
        f"tested {summary['programs_tested']} programs ({summary.get('programs_judged', '?')} judged by an oracle) "
        f"in {summary['testing_seconds']:.0f}s "
        f"({summary['programs_per_second_per_worker']:.2f} programs/s per worker); "
        f"{summary['findings']} findings ({summary['crashes']} crashes, {summary['hangs']} hangs) in "
        f"{len(summary['buckets'])} buckets; {summary['skipped_discontinuous']} discontinuous comparisons skipped; "
        f"{summary['skipped_unsupported']} checks skipped for constructs or inputs an oracle cannot judge"
        f"{_over_budget(summary)}; "
        f"wrote {out_dir / 'summary.json'}",
        err=True,
    )
    failing = summary["findings"]
    if db_path is not None:
        failing = len(summary.get("new_buckets", []))
        click.echo(f"{failing} new buckets (not in {db_path})", err=True)
    return 1 if failing and not exit_zero else 0


def _over_budget(summary: dict) -> str:
    """Where the reference budget left checks out, how many of the unsupported ones it was."""
    n = summary.get("over_budget", 0)
    return f" ({n} of them: the program's reference analysis would take too long)" if n else ""


def _check_out(settings: Settings) -> None:
    """Bad input, before any work: ``--resume`` of a folder that holds another campaign (or of a --budget one), or
    a new campaign in a folder that holds one with findings or an interrupted one, which it would replace."""
    from jaxsynth.fuzz.campaign import JOURNAL, resumable

    folder = str(settings.out)
    if settings.resume:
        try:
            resumable(settings)
        except ValueError as exc:
            raise BadInput(str(exc)) from None
    elif (settings.out / JOURNAL).exists():
        raise BadInput(f"--out {folder!r} holds an unfinished campaign: continue it with --resume, or choose an "
                       f"empty directory")
    elif (settings.out / "findings").is_dir() and any((settings.out / "findings").iterdir()):
        raise BadInput(f"--out {folder!r} already holds findings of another campaign; choose an empty directory")


def _check_special(configs: list[GrammarConfig]) -> None:
    """``--special``: each config as if it set ``types.special_values`` must pass the config checks."""
    import msgspec

    from jaxsynth.grammar.config import ConfigError, validate

    for config in configs:
        try:
            validate(msgspec.structs.replace(config, types=msgspec.structs.replace(config.types, special_values=True)))
        except ConfigError as exc:
            raise BadInput(f"--config {config.name} --special: {exc}") from None


def _judged(configs: list[GrammarConfig], names: tuple[str, ...], spec: str, special: bool) -> list[GrammarConfig]:
    """The configs whose programs one of the oracles ``names`` can judge: special-value inputs (``--special``,
    or a config with ``types.special_values``) only some oracles judge. The others are left out with a line
    saying so; if that leaves none, it is bad input."""
    from jaxsynth.fuzz.special import SPECIAL_ORACLES

    if SPECIAL_ORACLES & set(names):
        return configs
    unjudged = [c for c in configs if special or c.types.special_values]
    if not unjudged:
        return configs
    why = (f"special-value inputs are judged only by {', '.join(sorted(SPECIAL_ORACLES))}, none of them in "
           f"--oracles {spec!r}")
    if len(unjudged) == len(configs):
        raise BadInput(f"--config {', '.join(c.name for c in unjudged)}: {why}")
    for config in unjudged:
        click.echo(f"left out {config.name}: {why}", err=True)
    return [c for c in configs if c not in unjudged]


def _configs(spec: str) -> list[GrammarConfig]:
    """The configs ``--config`` names: one, a comma-separated list, or ``all`` (every built-in config)."""
    from jaxsynth.grammar import builtin_names

    names = builtin_names() if spec == "all" else [name.strip() for name in spec.split(",")]
    if "" in names:
        raise BadInput(f"--config {spec!r}: an empty name in the list")
    twice = sorted({name for name in names if names.count(name) > 1})
    if twice:
        raise BadInput(f"--config {spec!r}: {', '.join(twice)} given twice")
    configs = [load_config_or_fail(name) for name in names]
    same = sorted({c.name for c in configs if [d.name for d in configs].count(c.name) > 1})
    if same:
        raise BadInput(f"--config {spec!r}: two configs named {', '.join(same)} (each gets OUT/<name>/)")
    return configs


def _rerun(folder: Path) -> int:
    """Run a finding's repro.py: 1 while the bug is present, 0 once it is fixed."""
    import json

    from jaxsynth.fuzz.campaign import repro_shows, run_repro
    from jaxsynth.workers.process import crash_site

    repro, meta = folder / "repro.py", folder / "finding.json"
    if not repro.is_file() or not meta.is_file():
        raise BadInput(f"--rerun {str(folder)!r} is not a finding folder (needs repro.py and finding.json)")
    try:
        finding = json.loads(meta.read_text())
        kind, signature = finding["kind"], finding.get("signature", "")
    except (ValueError, KeyError, TypeError) as exc:
        raise BadInput(f"--rerun: cannot read {str(meta)!r}: {exc}") from None
    status, output = run_repro(repro.resolve(), timeout=600.0)
    expected = finding.get("repro_expected", 1)
    last = output.strip().splitlines()[-1] if output.strip() else ""
    if status is None or repro_shows(kind, status, output, expected, finding.get("site") or ""):  # None: a hang
        verdict, code = "still present", 1
    elif status == expected:  # the same signal, but XLA now aborts elsewhere: another bug, this one may be fixed
        verdict, code = f"crashes at another site: {crash_site(output) or 'none named'}", 1
    elif status == 0:
        verdict, code = "fixed", 0
    else:  # 3: the script itself failed; 2: the finding had no standalone repro
        raise BadInput(f"--rerun {str(folder)!r}: repro.py exited {status}, neither 'present' ({expected}) nor "
                       f"'fixed' (0): {last or 'no output'}")
    click.echo(f"{signature}: {verdict} (repro.py exit {status}; {kind}) {last}".rstrip(), err=True)
    return code

