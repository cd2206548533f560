"""The fuzzing campaign: test programs 0, 1, 2, ... of (config, seed) until a count or a time budget
is reached, then reduce, triage and write every finding.

Program ``i`` and its inputs depend only on (config, seed, i), so a finding's folder name (its index)
and contents do not depend on the number of workers; only timing does. Each of ``workers`` threads
owns one isolated worker process (:mod:`jaxsynth.fuzz.isolate`); the campaign process itself never
imports JAX.

No false alarms from the harness itself: a ``hang`` (no result within ``timeout``) becomes a finding
only once a rerun of the original program in a fresh worker, given ``HANG_CONFIRM_FACTOR`` times the
timeout, still gives none; a program that finishes then was slow, not hung, and counts as an internal
error. Each written ``repro.py`` is run standalone (``verify``); a finding whose repro does not exit
with the status of its kind (1; a crash's own signal or status, and the crash's site where it named one) is
marked ``verified: false`` in ``finding.json`` and listed under ``unverified`` in ``summary.json``. A failure
with a site (a crash's XLA CHECK line, a RET_CHECK error) is bucketed by it; of several failures of one oracle
at one site only the first program's is reduced.
"""

from __future__ import annotations

import json
import os
import pickle
import re
import shutil
import subprocess
import sys
import threading
import time
from collections import Counter, defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np

from jaxsynth.fuzz.findings import (
    PRESENT,
    Finding,
    bucket_of,
    error_site,
    normalize_error,
    program_record,
    repro_source,
    update_db,
    write_finding,
    write_json,
)
from jaxsynth.fuzz.isolate import Outcome, Worker, WorkerStartError, memory_share
from jaxsynth.fuzz.oracles import DEFAULT_PASSES, ORACLES, OWN_STEP, Verdict, reference_budget
from jaxsynth.fuzz.reduce import Reduced, Subject, op_count, reduce
from jaxsynth.fuzz.reference import OVER_BUDGET
from jaxsynth.fuzz.special import special_config, special_inputs
from jaxsynth.fuzz.swarm import program_for
from jaxsynth.fuzz.worker import Task
from jaxsynth.grammar import GrammarConfig, unavailable_ops
from jaxsynth.synth import random_inputs
from jaxsynth.synth.program import Program
from jaxsynth.workers.faults import INJECT_ENV
from jaxsynth.workers.process import crash_site, steady_text

__all__ = ["HANG_CONFIRM_FACTOR", "JOURNAL", "Settings", "inputs_for", "parse_duration", "resumable", "run_campaign",
           "run_campaigns", "run_repro"]

#: A hang is confirmed by a rerun of the original program with this many times ``Settings.timeout``.
HANG_CONFIRM_FACTOR = 4.0
CRASH_RUNS = 3  #: runs a crash's repro.py gets to crash as the worker did, and any repro.py that a signal cut short
RECHECKED = ("wrong", "error")  #: finding kinds whose program runs again in a fresh worker before it is one
RECHECK_RUNS = 5  #: runs that program gets to fail as it did (a wrong value can be intermittent)

@dataclass
class Settings:
    config: GrammarConfig
    out: Path
    seed: int = 0
    count: int | None = None  #: programs to test (indices 0..count-1)
    budget: float | None = None  #: seconds of testing
    oracles: tuple[str, ...] = tuple(ORACLES)
    workers: int = 1
    timeout: float = 120.0  #: per program (all oracles); a worker still busy after it is a hang
    reduce: bool = True
    max_reductions: int = 50  #: findings reduced (the rest are written unreduced)
    max_reduce_tests: int = 300
    max_reduce_seconds: float = 300.0
    triage: bool = True
    verify: bool = True  #: run each written repro.py standalone and record its exit status
    progress: bool = False
    env: dict[str, str] | None = None  #: worker environment (default: this process's)
    special: bool = False  #: special-values mode (jaxsynth.fuzz.special); on when the config asks for it
    swarm: bool = False  #: sample each program from its own random sub-grammar (jaxsynth.fuzz.swarm)
    db: Path | None = None  #: persistent findings database: ``new_buckets`` lists the buckets it did not hold
    resume: bool = False  #: continue the campaign ``out`` holds (:func:`resumable`) instead of replacing it
    log: Callable[[str], None] = field(default=lambda message: None)


def inputs_for(program: Program, seed: int, index: int, special: bool = False) -> list[np.ndarray]:
    """The concrete inputs of program ``index``: drawn from its declared ranges, seeded by (seed, index);
    in special-values mode, a quarter of their elements then made special (jaxsynth.fuzz.special)."""
    inputs = random_inputs(program, np.random.default_rng([seed, index, 0xF022]))
    if special:
        inputs = special_inputs(program, inputs, np.random.default_rng([seed, index, 0x5BEC]))
    return inputs


@dataclass
class RawFinding:
    index: int
    oracle: str
    kind: str
    program: Program
    inputs: list[np.ndarray]
    verdict: Verdict | None = None
    outcome: Outcome | None = None
    swarm: dict[str, Any] | None = None
    confirmed: bool = False  #: a hang that a rerun with HANG_CONFIRM_FACTOR times the timeout confirmed


class NotAFinding(Exception):
    """A raw finding that the harness itself explains (a slow program taken for a hang): an internal error."""


@dataclass
class _State:
    settings: Settings
    next_index: int = 0
    tested: int = 0
    judged: int = 0  #: programs that some oracle gave a verdict on (passed, failed, crashed...), not only skips
    crashed_programs: int = 0
    internal: int = 0
    stop: bool = False
    counts: dict[str, Counter] = field(default_factory=lambda: defaultdict(Counter))
    closest: dict[str, tuple[float, int]] = field(default_factory=dict)  #: max error/tolerance of a pass
    seconds: Counter = field(default_factory=Counter)  #: oracle -> its own time in the workers
    shared_seconds: float = 0.0  #: the programs' jit and reference, which every oracle shares
    raw: list[RawFinding] = field(default_factory=list)
    internal_messages: list[tuple[int, bool, str]] = field(default_factory=list)  #: (index, capped, message)
    shape_classes: Counter = field(default_factory=Counter)  #: swarm shape class -> programs
    fatal: BaseException | None = None  #: a worker that cannot start stops the campaign
    done: set[int] = field(default_factory=set)  #: programs an earlier run of this campaign tested (--resume)
    db_recorded: set[str] = field(default_factory=set)  #: buckets an earlier run already added to ``--db``
    db_new: set[str] = field(default_factory=set)  #: of those, the ones the database did not hold then
    #: ``testing_seconds``, ``reduction_seconds`` and ``duration`` of the earlier runs of this campaign (--resume)
    earlier: dict[str, float] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)


def _limitation(oracle: str, verdict: Verdict, program: Program) -> str | None:
    """A known limitation of JAX (documented behaviour, not a bug) that explains a verdict."""
    from jaxsynth.fuzz.oracles import KNOWN_LIMITATIONS

    for limitation in KNOWN_LIMITATIONS:
        if limitation.oracle == oracle and limitation.matches(program, verdict):
            return limitation.description
    return None


def _note_raw(state: _State, raw: RawFinding) -> None:
    """Append one line per raw finding to ``raw-findings.jsonl`` (visible while the campaign runs)."""
    state.raw.append(raw)
    evidence = raw.verdict.detail if raw.verdict is not None else (raw.outcome.describe if raw.outcome else "")
    line = {"index": raw.index, "oracle": raw.oracle, "kind": raw.kind, "detail": evidence[:300]}
    with open(state.settings.out / "raw-findings.jsonl", "a") as f:
        f.write(json.dumps(line) + "\n")


def _order_raw_journal(out: Path) -> None:
    """Rewrite ``raw-findings.jsonl`` in program order once the campaign is over: lines are appended as workers
    find them (and dismissals as reductions end), an order that depends on the number of workers. A program's
    own lines keep their order (its oracles ran in order in one worker); its dismissals follow them by oracle."""
    path = out / "raw-findings.jsonl"
    if not path.exists():
        return
    lines = [json.loads(line) for line in path.read_text().splitlines() if line.strip()]
    lines.sort(key=lambda line: (line["index"], "dismissed" in line, line["oracle"] if "dismissed" in line else ""))
    path.write_text("".join(json.dumps(line) + "\n" for line in lines))


#: A campaign's journal in its output folder: the campaign's identity (:func:`_identity`), then a line per tested
#: program, with what it added to the campaign (:func:`_tally`) and, for a program with raw findings, ``evidence``
#: (their verdicts are in :data:`EVIDENCE`); a stopped run adds the buckets it recorded in ``--db``. ``--resume``
#: continues from it; a campaign that is done removes it. (A journal of jaxsynth before the evidence folder marks
#: a program with raw findings ``retest``: a resumed run tests it again.)
JOURNAL = "progress.jsonl"

#: The folder, beside the journal, of the raw findings' evidence (the verdict or crash outcome of each, pickled
#: per program: ``<index>.pickle``). ``--resume`` reduces an earlier run's findings from it, as the uninterrupted
#: run would have, instead of testing those programs again, where an intermittent crash could fail to recur and be
#: lost; the program and its inputs are drawn again from the seed. A campaign that is done removes it.
EVIDENCE = "evidence"

#: The timings of ``summary.json`` that add up over a campaign's runs: a resumed campaign's are its own plus the
#: earlier runs' (read from the summary they left; a killed run's is at most 30 s old), as its counts are; so does
#: ``testing_worker_seconds`` (:func:`_worker_seconds`).
EARLIER_TIMINGS = ("testing_seconds", "reduction_seconds", "duration")


def _worker_seconds(summary: dict[str, Any]) -> float:
    """``summary``'s testing time times workers, summed over its runs (which may have had different worker counts):
    what ``programs_per_second_per_worker`` divides by (worked out for a summary written before it was recorded)."""
    return float(summary.get("testing_worker_seconds", summary["testing_seconds"] * summary["workers"]))


def _per_second(count: int, seconds: float) -> float:
    """A rate for ``summary.json``: ``count`` over ``seconds`` (0 when no time was spent)."""
    return round(count / seconds if seconds > 0 else 0.0, 3)


def _journal(out: Path, line: dict[str, Any]) -> None:
    """Append one line to the journal: one ``write``, so a kill leaves at most a torn last line."""
    with open(out / JOURNAL, "a") as f:
        f.write(json.dumps(line, sort_keys=True) + "\n")


def _identity(settings: Settings) -> dict[str, Any]:
    """What makes two runs one campaign, under the names ``summary.json`` gives it: a resumed run must match it."""
    env = os.environ if settings.env is None else settings.env
    return {"config": settings.config.name, "config_digest": settings.config.digest, "seed": settings.seed,
            "count": settings.count, "oracles": list(settings.oracles), "swarm": settings.swarm,
            "special_values": settings.special, "timeout_seconds": settings.timeout,
            "injected_fault": env.get(INJECT_ENV) or None}


def _prepared(settings: Settings) -> Settings:
    """``settings`` as the campaign runs them: special-values mode on where the config asks for it, and then the
    config restricted to the ops with defined special-value semantics."""
    if not (settings.special or settings.config.types.special_values):
        return settings
    return replace(settings, special=True, config=special_config(settings.config))


def _read_journal(path: Path) -> list[dict[str, Any]]:
    """The journal's lines; a torn last line (a run killed while writing it) is cut off the file."""
    data = path.read_bytes()
    lines = data.split(b"\n")
    tail = lines.pop()  # after the last newline: b"" unless the last line is torn
    try:
        parsed = [json.loads(line) for line in lines]
    except ValueError:
        raise ValueError(f"{str(path)!r} is not a jaxsynth fuzz journal (an unreadable line)") from None
    if tail:
        with open(path, "r+b") as f:
            f.truncate(len(data) - len(tail))
    if not parsed or not isinstance(parsed[0], dict) or "campaign" not in parsed[0]:
        raise ValueError(f"{str(path)!r} is not a jaxsynth fuzz journal (no campaign line)")
    return parsed


def resumable(settings: Settings) -> str:
    """What ``settings.out`` holds of the campaign ``settings`` describe, for ``--resume``: ``"done"`` (its summary
    says so), ``"partial"`` (the journal of a run that stopped or was killed) or ``"none"`` (nothing: start it).

    Raises ValueError with a one-line message when the folder holds another campaign (by :func:`_identity`), one
    it cannot continue, or when ``settings`` has a time budget instead of a program count."""
    settings = _prepared(settings)
    if settings.count is None:
        raise ValueError("--resume continues a campaign of -n programs; a --budget campaign cannot be resumed")
    where = str(settings.out)
    summary: dict[str, Any] | None = None
    if (settings.out / "summary.json").exists():
        try:
            summary = json.loads((settings.out / "summary.json").read_text())
            held = {key: summary[key] for key in _identity(settings) if key != "oracles"}
            held["oracles"] = list(summary["oracles"])
        except (OSError, ValueError, KeyError, TypeError) as exc:
            raise ValueError(f"cannot resume {where!r}: its summary.json is not a campaign's ({exc})") from None
    if summary is not None and summary.get("status") == "done":
        state = "done"
    elif (settings.out / JOURNAL).exists():
        held, state = _read_journal(settings.out / JOURNAL)[0]["campaign"], "partial"
    elif summary is not None or (settings.out / "findings").is_dir():
        raise ValueError(f"cannot resume {where!r}: it holds a campaign without its journal ({JOURNAL})")
    else:
        return "none"
    for key, value in _identity(settings).items():
        if held.get(key) != value:
            raise ValueError(f"cannot resume {where!r}: it holds a campaign with {key} {held.get(key)!r}, not "
                             f"{value!r}")
    return state


def _drawn(settings: Settings, index: int) -> tuple[Program, list[np.ndarray], dict[str, Any] | None]:
    """Program ``index`` of the campaign, its inputs and its swarm draw: what testing it and ``--resume``
    (:func:`_kept_evidence`) both take from the seed."""
    program, swarm = program_for(settings.config, settings.seed, index, settings.swarm)
    return program, inputs_for(program, settings.seed, index, settings.special), swarm


def _keep_evidence(out: Path, index: int, raws: list[RawFinding]) -> None:
    """Write the evidence of program ``index``'s raw findings to :data:`EVIDENCE` (whole or not at all: a kill
    while writing leaves a temporary file that nothing reads)."""
    folder = out / EVIDENCE
    folder.mkdir(exist_ok=True)
    part = folder / f"{index}.pickle.part"
    part.write_bytes(pickle.dumps([(r.oracle, r.kind, r.verdict, r.outcome) for r in raws],
                                  protocol=pickle.HIGHEST_PROTOCOL))
    os.replace(part, folder / f"{index}.pickle")


def _kept_evidence(settings: Settings, index: int) -> list[RawFinding] | None:
    """Program ``index``'s raw findings as an earlier run of the campaign found them (:func:`_keep_evidence`),
    with the program, inputs and swarm draw made again from the seed; None where its evidence is missing or
    unreadable (written by another jaxsynth, say): the program is then tested again."""
    try:
        kept = pickle.loads((settings.out / EVIDENCE / f"{index}.pickle").read_bytes())
        program, inputs, swarm = _drawn(settings, index)
        return [RawFinding(index, oracle, kind, program, inputs, verdict=verdict, outcome=outcome, swarm=swarm)
                for oracle, kind, verdict, outcome in kept]
    except Exception:  # noqa: BLE001 - any unreadable evidence means: test the program again
        return None


def _start_journal(state: _State) -> None:
    """A new campaign's files (replacing an earlier campaign's journal and evidence), or, with ``--resume``, the
    state of the programs an earlier run tested, their raw findings read back from :data:`EVIDENCE` (a program
    whose evidence cannot be read is tested again); that run's raw-findings journal and finding folders are
    removed (the run writes them again, as an uninterrupted one would)."""
    settings = state.settings
    journal = settings.out / JOURNAL
    if not settings.resume or not journal.exists():
        journal.unlink(missing_ok=True)
        (settings.out / "raw-findings.jsonl").unlink(missing_ok=True)
        shutil.rmtree(settings.out / EVIDENCE, ignore_errors=True)
        _journal(settings.out, {"campaign": _identity(settings)})
        return
    last: dict[int, dict[str, Any]] = {}  # a program tested again has a later line
    for line in _read_journal(journal)[1:]:
        if "index" in line:
            last[line["index"]] = line
        state.db_recorded.update(line.get("db_recorded", ()))
        state.db_new.update(line.get("db_new", ()))
    (settings.out / "raw-findings.jsonl").unlink(missing_ok=True)
    shutil.rmtree(settings.out / "findings", ignore_errors=True)
    restored = 0
    for index in sorted(last):
        if "tally" not in last[index]:
            continue
        raws = _kept_evidence(settings, index) if last[index].get("evidence") else []
        if raws is None:
            continue
        _fold(state, index, last[index]["tally"])
        for raw in raws:
            _note_raw(state, raw)
        restored += bool(raws)
        state.done.add(index)
    try:
        before = json.loads((settings.out / "summary.json").read_text())
        state.earlier = {key: float(before[key]) for key in EARLIER_TIMINGS}
        state.earlier["testing_worker_seconds"] = _worker_seconds(before)
    except (OSError, ValueError, KeyError, TypeError):
        pass
    retest = len(last) - len(state.done)
    settings.log(f"resuming: {len(state.done)} programs tested before ({restored} with findings, read back from "
                 f"{EVIDENCE}/), {retest} with findings to test again")


def _note_internal(state: _State, index: int, message: str, always: bool = False) -> None:
    """Count an internal error of program ``index``; the summary lists the messages of the first 20 programs, and
    every message noted ``always``, in program order."""
    state.internal += 1
    state.internal_messages.append((index, not always, message))


def _listed(messages: list[tuple[int, bool, str]], first: int = 20) -> list[str]:
    """The internal-error messages a summary lists: those of the ``first`` programs that had one, and every one
    noted ``always`` (a dismissed finding), in program order."""
    listed = sorted({index for index, capped, _ in messages if capped})[:first]
    return [message for index, capped, message in sorted(messages) if not capped or index in listed]


def _record(state: _State, index: int, program: Program, inputs: list[np.ndarray], outcome: Outcome,
            swarm: dict[str, Any] | None = None) -> list[RawFinding]:
    """Fold one tested program into the campaign's state and journal it (:data:`JOURNAL`); returns its raw
    findings."""
    tally, raws = _tally(state.settings, index, program, inputs, outcome, swarm)
    if raws:
        _keep_evidence(state.settings.out, index, raws)  # before the journal line that points to it
    with state.lock:
        _fold(state, index, tally)
        for raw in raws:
            _note_raw(state, raw)
        _journal(state.settings.out, {"index": index, "tally": tally, "evidence": True} if raws
                 else {"index": index, "tally": tally})
    return raws


def _tally(settings: Settings, index: int, program: Program, inputs: list[np.ndarray], outcome: Outcome,
           swarm: dict[str, Any] | None) -> tuple[dict[str, Any], list[RawFinding]]:
    """What one tested program adds to a campaign (JSON, so a resumed campaign can add it again without
    testing the program) and its raw findings."""
    counts: dict[str, Counter] = defaultdict(Counter)
    tally: dict[str, Any] = {"shape": swarm["shape"] if swarm is not None else None, "internal": [],
                             "counts": counts}
    raws: list[RawFinding] = []
    if outcome.kind == "internal":
        tally["internal"].append(f"program {index}: {outcome.message.strip()[-400:]}")
    elif outcome.kind in ("crash", "hang") and outcome.step == OWN_STEP:  # jaxsynth's reference, not XLA
        tally["internal"].append(f"program {index}: {outcome.describe}: jaxsynth's own work, not JAX or XLA")
    elif outcome.kind in ("crash", "hang"):
        tally["crashed"] = 1
        counts[outcome.oracle or "?"][outcome.kind] += 1
        raws.append(RawFinding(index, outcome.oracle or settings.oracles[0], outcome.kind, program, inputs,
                               outcome=outcome, swarm=swarm))
    else:
        assert outcome.result is not None
        tally["seconds"] = dict(outcome.result.oracle_seconds)
        tally["shared"] = outcome.result.shared_seconds
        closest = tally["closest"] = {}
        for name, verdict in outcome.result.verdicts.items():
            c = counts[name]
            c["applied"] += 1
            if verdict.ok and not verdict.skipped:
                c["passed"] += 1
                if verdict.kind == "known":  # decided without compiling: the variant is a module already run
                    c["passed_known"] += 1
                closest[name] = verdict.ratio
            elif verdict.skipped and verdict.kind == "internal":
                c["internal"] += 1
                tally["internal"].append(f"program {index} ({name}): {verdict.detail[-400:]}")
            elif verdict.skipped and verdict.kind == "unsupported":
                c["skipped_unsupported"] += 1
                if verdict.detail.startswith(OVER_BUDGET):  # the program's reference would take too long
                    c["over_budget"] += 1
            elif verdict.skipped:
                c["skipped_discontinuous" if "discontinu" in verdict.detail or "kink" in verdict.detail
                  else "skipped_other"] += 1
            elif _limitation(name, verdict, program) is not None:
                c["known_limitation"] += 1
            else:
                c["failed" if verdict.kind == "wrong" else "errors"] += 1
                raws.append(RawFinding(index, name, verdict.kind, program, inputs, verdict=verdict, swarm=swarm))
    return tally, raws


#: Counts of a verdict, not a skip: a program with one of them was judged.
_JUDGED = ("passed", "failed", "errors", "known_limitation", "crash", "hang")


def _fold(state: _State, index: int, tally: dict[str, Any]) -> None:
    """Add one program's :func:`_tally` to the state (the caller holds ``state.lock``)."""
    state.tested += 1
    if tally.get("shape") is not None:
        state.shape_classes[tally["shape"]] += 1
    for message in tally.get("internal", ()):
        _note_internal(state, index, message)
    state.crashed_programs += tally.get("crashed", 0)
    if any(counts.get(key) for counts in tally.get("counts", {}).values() for key in _JUDGED):
        state.judged += 1
    for name, counts in tally.get("counts", {}).items():
        state.counts[name].update(counts)
    state.seconds.update(tally.get("seconds", {}))
    state.shared_seconds += tally.get("shared", 0.0)
    for name, ratio in tally.get("closest", {}).items():
        best, at = state.closest.get(name, (0.0, 0))
        if (ratio, -index) > (best, -at):  # of equal ratios the first program's, whatever order programs end in
            state.closest[name] = (ratio, index)


def _take_index(state: _State, deadline: float | None) -> int | None:
    settings = state.settings
    with state.lock:
        if state.stop:
            return None
        while state.next_index in state.done:  # tested by an earlier run of this campaign (--resume)
            state.next_index += 1
        if settings.count is not None and state.next_index >= settings.count:
            return None
        if deadline is not None and time.monotonic() >= deadline:
            return None
        index = state.next_index
        state.next_index += 1
        return index


def _tester(state: _State, worker: Worker, deadline: float | None, bar: Any) -> None:
    settings = state.settings
    while True:
        index = _take_index(state, deadline)
        if index is None:
            return
        try:
            program, inputs, swarm = _drawn(settings, index)
        except Exception as exc:  # jaxsynth's own sampler: an internal error, never the end of this worker's run
            with state.lock:
                tally = {"internal": [f"program {index}: sampling failed: {type(exc).__name__}: {exc}"]}
                _fold(state, index, tally)
                _journal(settings.out, {"index": index, "tally": tally})
            continue
        task = _task(settings, program, inputs, settings.oracles, index)
        try:
            outcome = worker.run(task, settings.timeout)
        except WorkerStartError as exc:
            with state.lock:
                state.stop = True
                state.fatal = exc
            return
        raws = _record(state, index, program, inputs, outcome, swarm)
        if any(raw.kind in RECHECKED for raw in raws):
            # a failed run can leave the process in a state that the next program would inherit: on jaxlib
            # 0.4.35, after the FFT thunk's RET_CHECK failed at run time, every later computation of that
            # process failed with "Buffer Definition Event: Error dispatching computation" (seed 1024,
            # numerics: 16 programs, down to `f(x0) = x0`); a crash or hang has ended the process already
            worker.recycle()
        if bar is not None:
            bar.update(1)


def _oracle_seed(seed: int, index: int) -> int:
    return (seed * 1_000_003 + index) % (2**63)


def _task(settings: Settings, program: Program, inputs: list[np.ndarray], oracles: tuple[str, ...], index: int,
          **kwargs: Any) -> Task:
    """A worker's task for program ``index`` of the campaign, or for a reduction candidate of it: its oracles' seed,
    the special-values and 64-bit modes and the reference budget, all from ``settings``."""
    return Task(program, inputs, oracles, seed=_oracle_seed(settings.seed, index), special=settings.special,
                reference_budget=reference_budget(settings.timeout), x64=settings.config.types.x64, **kwargs)


# ---------------------------------------------------------------- findings


def _evidence_text(evidence: Verdict | Outcome | None) -> str:
    if isinstance(evidence, Verdict):
        return evidence.detail
    return evidence.describe if evidence is not None else ""


class _Reducer:
    """Reduce, triage and write one finding, using one worker."""

    def __init__(self, settings: Settings, worker: Worker, toolchain: dict[str, str]) -> None:
        self.settings = settings
        self.worker = worker
        self.toolchain = toolchain

    def task(self, subject: Subject, raw: RawFinding, **kwargs: Any) -> Task:
        if raw.oracle == "passes":
            kwargs.setdefault("passes_off", self.passes_of(raw))
        return _task(self.settings, subject.program, subject.input_list(), (raw.oracle,), raw.index, **kwargs)

    @staticmethod
    def passes_of(raw: RawFinding) -> tuple[str, ...]:
        data = raw.verdict.data if raw.verdict is not None else (raw.outcome.plan if raw.outcome else {})
        return tuple(data.get("passes_off") or DEFAULT_PASSES)

    def same_failure(self, raw: RawFinding, outcome: Outcome) -> Verdict | Outcome | None:
        """The new verdict (or crash outcome) if ``outcome`` shows the same failure as ``raw``."""
        if raw.kind in ("crash", "hang"):
            original = raw.outcome
            assert original is not None
            if outcome.kind != raw.kind or outcome.oracle != original.oracle:
                return None
            if raw.kind == "crash" and not same_crash(outcome, original):
                return None
            return outcome
        if outcome.kind != "ok" or outcome.result is None:
            return None
        verdict = outcome.result.verdicts.get(raw.oracle)
        if verdict is None or not verdict.failed or verdict.kind != raw.kind:
            return None
        if raw.kind == "error" and raw.verdict is not None:
            if normalize_error(verdict.detail) != normalize_error(raw.verdict.detail):
                return None
        if raw.kind == "wrong" and raw.verdict is not None:
            # the same mismatching output: the same kind of difference (NaN lost, sign, value...), and for
            # the grad oracle the same comparison (float64 vs finite differences, or float32 vs float64)
            for key in ("mismatch", "mode"):
                if verdict.data.get(key) != raw.verdict.data.get(key):
                    return None
        return verdict

    def fails_alike(self, candidate: Subject, raw: RawFinding) -> Verdict | Outcome | None:
        """Run ``raw``'s oracle on a reduction candidate: the evidence if it fails as ``raw`` did, else None.

        An internal outcome (a worker killed from outside, say) tells nothing about the candidate: it runs once
        more (a killed worker is replaced first) before it counts as a candidate that no longer fails."""
        task = self.task(candidate, raw)
        outcome = self.worker.run(task, self.settings.timeout)
        if outcome.kind == "internal":
            outcome = self.worker.run(task, self.settings.timeout)
        return self.same_failure(raw, outcome)

    def fresh_worker(self) -> Worker:
        return Worker(env=self.worker.env)

    def confirm_hang(self, raw: RawFinding, original: Subject) -> None:
        """Rerun a hang's original program in a fresh worker with HANG_CONFIRM_FACTOR times the timeout;
        raise NotAFinding unless it again gives no result."""
        if raw.confirmed:
            return
        timeout = self.settings.timeout
        longer = HANG_CONFIRM_FACTOR * timeout
        with self.fresh_worker() as worker:
            outcome = worker.run(self.task(original, raw), longer)
        if self.same_failure(raw, outcome) is not None:
            raw.confirmed = True
            return
        where = f"program {raw.index} ({raw.oracle})"
        if outcome.kind == "ok":
            raise NotAFinding(f"{where}: no result within {timeout:g} s but finished in {outcome.seconds:.0f} s "
                              f"with {longer:g} s: slow, not a hang")
        what = outcome.describe if outcome.kind in ("crash", "hang") else f"{outcome.kind}: {outcome.message}"
        raise NotAFinding(f"{where}: no result within {timeout:g} s, but a rerun with {longer:g} s gave "
                          f"{what.strip()[-300:]}: not a confirmed hang")

    def recurs(self, raw: RawFinding, original: Subject, runs: int = CRASH_RUNS) -> bool:
        """Whether a failure recurs: the original program, run up to ``runs`` times, fails as it did.
        An intermittent crash can fail to (models seed 1007, program 244, a YNN SIGSEGV: none of 79 reduction
        candidates crashed, and its triage read "needs several passes disabled together")."""
        self.worker.spare = raw.kind == "crash"  # a crash ends the worker: have the next one ready
        try:
            return any(self.fails_alike(original, raw) is not None for _ in range(runs))
        finally:
            self.worker.spare = False

    def recheck(self, raw: RawFinding, original: Subject) -> None:
        """Run a wrong value's or an error's original program again in a fresh worker, up to
        :data:`RECHECK_RUNS` times; raise NotAFinding unless it fails as it did. One that fails only after
        other programs ran in the same process is the harness's arrangement, not a finding about the program
        (jaxlib 0.4.35: after one program's FFT error at run time, `f(x0) = x0` failed with the same error in
        that worker, and passed in a fresh one). Its reduction runs in that fresh worker too."""
        self.worker.recycle()
        if self.recurs(raw, original, RECHECK_RUNS):
            return
        raise NotAFinding(f"program {raw.index} ({raw.oracle}, {raw.kind}): did not fail again in a fresh worker "
                          f"in {RECHECK_RUNS} runs: it depended on what its worker ran before, or is intermittent")

    def process(self, raw: RawFinding, do_reduce: bool, note: str | None = None, do_triage: bool = True
                ) -> Finding:
        settings = self.settings
        original = Subject(raw.program, dict(zip(raw.program.body.params, raw.inputs, strict=True)))
        if raw.kind == "hang":
            self.confirm_hang(raw, original)  # slowness under load is not a hang
        if raw.kind in RECHECKED:
            self.recheck(raw, original)
        do_triage = do_triage and settings.triage and (raw.kind in ("wrong", "error") or raw.oracle == "passes")
        if raw.kind == "crash" and (do_reduce or do_triage) and not self.recurs(raw, original):
            # every candidate, and every pass the triage disables, would look like a fix
            do_reduce = do_triage = False
            note = note or (f"not reduced or triaged: the original program did not crash again in {CRASH_RUNS} "
                            "runs (intermittent)")
        latest: dict[str, Any] = {"evidence": raw.verdict if raw.verdict is not None else raw.outcome}

        def interesting(candidate: Subject) -> bool:
            evidence = self.fails_alike(candidate, raw)
            if evidence is not None:
                latest["evidence"] = evidence
            return evidence is not None

        hint = [raw.verdict.output] if raw.verdict is not None and raw.verdict.output is not None else []
        worst = raw.verdict.index if raw.verdict is not None else None
        if do_reduce:
            self.worker.spare = raw.kind in ("crash", "hang")
            reduced = reduce(original, interesting, max_tests=settings.max_reduce_tests,
                             max_seconds=settings.max_reduce_seconds, outputs_hint=hint, worst=worst,
                             special=settings.special, x64=settings.config.types.x64)
            self.worker.spare = False
        else:
            reduced = Reduced(original, 0, 0.0, (), False)
        subject = reduced.subject
        hlo = None
        if raw.kind in ("wrong", "error"):
            # one more run of the reduced program: fresh evidence and its optimized HLO
            outcome = self.worker.run(self.task(subject, raw, want_hlo=True), settings.timeout)
            evidence = self.same_failure(raw, outcome)
            if evidence is not None:
                latest["evidence"] = evidence
            if outcome.result is not None:
                hlo = outcome.result.hlo
        evidence = latest["evidence"]
        culprit: tuple[str, ...] = ()
        triage = None
        if do_triage:
            if self.toolchain.get("per_compile_pass_options", "true") == "true":
                self.worker.spare = raw.kind in ("crash", "hang")
                culprit, triage = self.culprit_passes(subject, raw)
                self.worker.spare = False
            else:
                triage = "unavailable: this jaxlib cannot disable HLO passes per compile"
        return self.write(raw, reduced, evidence, hlo, culprit, note or triage)

    def culprit_passes(self, subject: Subject, raw: RawFinding) -> tuple[tuple[str, ...], str]:
        """The HLO passes whose disabling removes the discrepancy (for ``passes``: whose disabling creates it),
        and the triage's one-line account. One pass where one suffices; otherwise a set that needs all of its
        passes (:func:`one_minimal`), or none. A crash can be intermittent (the YNN SIGSEGV of models seed 5004,
        program 1: nine passes "needed together" from runs that happened not to crash), so a crash's candidate
        counts as one without it only after ``CRASH_RUNS`` runs without one."""
        timeout = self.settings.timeout
        runs = CRASH_RUNS if raw.kind == "crash" else 1

        def fails(**kwargs: Any) -> bool:
            return any(self.same_failure(raw, self.worker.run(self.task(subject, raw, **kwargs), timeout)) is not None
                       for _ in range(runs))

        if raw.oracle == "passes":
            off = self.passes_of(raw)
            for name in off:
                if fails(passes_off=(name,)):
                    return (name,), f"disabling {name!r} alone reproduces it"
            if len(off) == 1:  # the set the campaign saw it with, tried again: it did not show
                return (), f"not shown again with {off[0]!r} disabled, the one pass the oracle disabled (intermittent)"
            needed = one_minimal(off, lambda names: fails(passes_off=names))
            return needed, f"disabling {_and(needed)} together reproduces it; no single pass does"
        if fails(disabled=DEFAULT_PASSES):
            return (), "still present with all listed HLO passes disabled (not pass-dependent)"
        for name in DEFAULT_PASSES:
            if not fails(disabled=(name,)):
                return (name,), f"disabling {name!r} removes it"
        needed = one_minimal(DEFAULT_PASSES, lambda names: not fails(disabled=names))
        return needed, f"disabling {_and(needed)} together removes it; no single pass does"

    def write(self, raw: RawFinding, reduced: Reduced, evidence: Any, hlo: str | None, culprit: tuple[str, ...],
              triage: str | None) -> Finding:
        settings = self.settings
        subject = reduced.subject
        program = subject.program
        signal_name = None
        if raw.kind == "crash" and raw.outcome is not None:
            o = raw.outcome
            import signal as _signal

            signal_name = _signal.Signals(o.signal).name if o.signal else f"exit{o.exitcode}"
        site = _site(raw)
        bucket, signature = bucket_of(raw.oracle, raw.kind, program, signal_name, site)
        if isinstance(evidence, Verdict):
            detail, error, tol, output = evidence.detail, evidence.error, evidence.tolerance, evidence.output
            data = evidence.data
        else:
            assert isinstance(evidence, Outcome)
            detail, error, tol, output = evidence.describe, None, None, None
            data = evidence.plan
        folder_name = f"{raw.index:06d}-{raw.oracle}-{raw.kind}"
        folder = settings.out / "findings" / folder_name
        finding = Finding(
            index=raw.index,
            repro_expected=expected_status(raw),
            oracle=raw.oracle,
            kind=raw.kind,
            detail=detail,
            error=error,
            tolerance=tol,
            output=output,
            bucket=bucket,
            signature=signature,
            signal=signal_name,
            site=site or None,
            stage=f"{evidence.oracle}/{evidence.step}" if isinstance(evidence, Outcome) else None,
            culprit_passes=list(culprit),
            triage=triage,
            original_ops=op_count(raw.program),
            reduced_ops=op_count(program),
            reduction_tests=reduced.tests,
            reduction_steps=list(reduced.steps),
            reduction_complete=reduced.complete,
            stderr_tail=steady_text(evidence.stderr_tail, 2000) if isinstance(evidence, Outcome) else "",
            toolchain=self.toolchain,
            config=settings.config.name,
            config_digest=settings.config.digest,
            seed=settings.seed,
            folder=f"findings/{folder_name}",
            original_detail=_evidence_text(raw.verdict if raw.verdict is not None else raw.outcome),
            normalized_error=normalize_error(detail) if raw.kind == "error" else None,
            mismatch=raw.verdict.data.get("mismatch") if raw.kind == "wrong" and raw.verdict is not None else None,
            swarm=raw.swarm,
        )
        from jaxsynth.synth import render

        title = f"jaxsynth fuzz finding {bucket}: {signature}"
        try:
            repro = repro_source(oracle=raw.oracle, kind=raw.kind, title=title, detail=detail,
                                 source=render(program.plain()), inputs=subject.input_list(), data=data or {},
                                 hang_timeout=self.hang_timeout(), xla_flags=self.toolchain.get("xla_flags", ""),
                                 x64=settings.config.types.x64)
        except ValueError as exc:  # an oracle that left no recipe for a standalone script: keep the finding
            repro = (f'"""{title}\n\n{detail}\n\nNo standalone repro: {exc}. See finding.json and record.json."""\n'
                     "import sys\n\nsys.exit(2)\n")
        record = program_record(program, raw.program, config=settings.config.name, digest=settings.config.digest,
                                seed=settings.seed, index=raw.index)
        write_finding(folder, finding, record, repro, hlo)
        if settings.verify:
            finding.repro_status, finding.repro_output = verify_repro(
                lambda: self.verify(folder / "repro.py", raw.kind), raw.kind, finding.repro_expected, site)
            finding.verified = repro_shows(raw.kind, finding.repro_status, finding.repro_output, finding.repro_expected,
                                           site)
            write_finding(folder, finding, record, repro, hlo)
        return finding

    def hang_timeout(self) -> float:
        """The watchdog of a hang's repro.py."""
        return max(10.0, 2 * self.settings.timeout)

    def verify(self, repro: Path, kind: str) -> tuple[int | None, str]:
        # a hang's repro exits 1 from its watchdog: give it that long and the start-up besides
        watchdog = self.hang_timeout() if kind == "hang" else max(30.0, self.settings.timeout)
        return run_repro(repro, dict(self.worker.env), watchdog + 120.0)


def one_minimal(names: Sequence[str], holds: Callable[[tuple[str, ...]], bool]) -> tuple[str, ...]:
    """A subset of ``names`` (for which ``holds`` is true) that ``holds`` for and needs every member of: each name
    in turn is left out while ``holds`` stays true without it (``len(names)`` tests at most; the order of
    ``names`` decides which subset where several would do, so the same inputs give the same answer)."""
    kept = list(names)
    for name in names:
        rest = tuple(n for n in kept if n != name)
        if rest and holds(rest):
            kept = list(rest)
    return tuple(kept)


def _and(names: Sequence[str]) -> str:
    quoted = [repr(n) for n in names]
    return quoted[0] if len(quoted) == 1 else ", ".join(quoted[:-1]) + " and " + quoted[-1]


def same_crash(outcome: Outcome, original: Outcome) -> bool:
    """Whether ``outcome`` is the crash ``original`` was: the same signal or exit status and, where the
    original named its site (an XLA CHECK line), the same normalized site. A reduction that slides to
    another assertion has found another bug, not this one."""
    if (outcome.signal, outcome.exitcode) != (original.signal, original.exitcode):
        return False
    return not original.site or normalize_error(outcome.site) == normalize_error(original.site)


def repro_shows(kind: str, status: int | None, output: str, expected: int, site: str = "") -> bool:
    """Whether a repro.py run (:func:`run_repro`) of a finding of ``kind`` showed it: the expected exit status
    and, for a crash with a site, that same site in its output (a RET_CHECK error's repro checks the
    exception type it raises, not its output)."""
    if status != expected:
        return False
    return kind != "crash" or not site or normalize_error(crash_site(output)) == normalize_error(site)


def verify_repro(run: Callable[[], tuple[int | None, str]], kind: str, expected: int, site: str = ""
                 ) -> tuple[int | None, str]:
    """``run()`` (a repro.py) until it shows the finding (:func:`repro_shows`), at most :data:`CRASH_RUNS`
    times: crashes can be intermittent (models seed 92, program 39: a passes-disabled softmax segfaults in
    about two runs of three). Another kind's repro runs again only when a signal killed it before it could
    compare (models seed 1019, program 55: a YNN fusion whose bug gave a wrong value in some processes and
    a SIGSEGV in others); a run that finished without the finding did not show it."""
    for _ in range(CRASH_RUNS):
        status, output = run()
        if repro_shows(kind, status, output, expected, site):
            break
        if kind != "crash" and (status is None or status >= 0):  # it finished (or timed out) without it
            break
    return status, output


def expected_status(raw: RawFinding) -> int:
    """The exit status of a repro.py that shows the finding: 1, or a crash's own signal (negative) or status."""
    if raw.kind == "crash" and raw.outcome is not None:
        if raw.outcome.exitcode is not None:
            return raw.outcome.exitcode
        if raw.outcome.signal:
            return -raw.outcome.signal
    return PRESENT


def run_repro(repro: Path, env: dict[str, str] | None = None, timeout: float = 300.0) -> tuple[int | None, str]:
    """Run a finding's standalone ``repro.py`` from its folder: (exit status or None on timeout, output tail)."""
    env = dict(os.environ if env is None else env)
    env.setdefault("JAX_PLATFORMS", "cpu")
    cmd = [sys.executable, repro.name]  # run from its folder, so a relative --out works too
    from jaxsynth.fuzz import inject

    if inject.active(env):  # test-only faults (JAXSYNTH_INJECT): install them around the script
        cmd = [sys.executable, "-m", "jaxsynth.fuzz.inject", repro.name]
    try:
        done = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, env=env, cwd=repro.parent)
    except subprocess.TimeoutExpired:
        return None, "repro.py did not finish"
    text = steady_text((done.stdout + done.stderr).strip(), 1500)  # the same text from run to run
    site = crash_site(done.stderr)
    if site and site not in text:  # a CHECK line comes before its C++ and Python stacks: keep it in view
        line = next(line for line in done.stderr.splitlines() if site in line)
        text = f"{steady_text(line.strip())}\n...\n{text}"
    return done.returncode, text


# ---------------------------------------------------------------- the campaign


def _summary(state: _State, settings: Settings, findings: list[Finding], timing: dict[str, float],
             toolchain: dict[str, str], status: str) -> dict[str, Any]:
    buckets: dict[str, dict[str, Any]] = {}
    for f in findings:
        b = buckets.setdefault(f.bucket, {"bucket": f.bucket, "signature": f.signature, "oracle": f.oracle,
                                          "kind": f.kind, "count": 0, "findings": [],
                                          "culprit_passes": f.culprit_passes})
        b["count"] += 1
        b["findings"].append(f.folder)
    per_oracle: dict[str, dict[str, Any]] = {}
    for name in settings.oracles:
        per_oracle[name] = dict(sorted(state.counts.get(name, Counter()).items()))
        if name in state.closest:  # how close a passing comparison came to its tolerance (noise margin)
            ratio, where = state.closest[name]
            per_oracle[name]["max_error_over_tolerance"] = round(ratio, 4)
            per_oracle[name]["max_error_over_tolerance_at"] = where
        per_oracle[name]["seconds"] = round(state.seconds.get(name, 0.0), 1)
    skipped = sum(c.get("skipped_discontinuous", 0) for c in state.counts.values())
    earlier = state.earlier  # the earlier runs' of this campaign, added to this run's
    testing = timing.get("testing_seconds", 0.0) + earlier.get("testing_seconds", 0.0)
    worker_seconds = timing.get("testing_seconds", 0.0) * settings.workers + earlier.get("testing_worker_seconds", 0.0)
    duration = timing.get("total_seconds", 0.0) + earlier.get("duration", 0.0)
    reduction = timing.get("reduction_seconds", 0.0) + earlier.get("reduction_seconds", 0.0)
    return {
        "status": status,
        "programs_tested": state.tested,
        "programs_judged": state.judged,  #: tested programs that some oracle judged (not only skipped)
        "oracles": per_oracle,
        "findings": len(findings) if status in ("done", "stopped") else len(state.raw),
        "unverified": [f.folder for f in findings if f.verified is False],  #: repro.py did not show it
        "crashes": sum(1 for r in state.raw if r.kind == "crash"),
        "hangs": sum(1 for r in state.raw if r.kind == "hang"),
        "skipped_discontinuous": skipped,
        "skipped_unsupported": sum(c.get("skipped_unsupported", 0) for c in state.counts.values()),
        "over_budget": sum(c.get("over_budget", 0) for c in state.counts.values()),  #: of skipped_unsupported
        "internal_errors": state.internal,
        "swarm": settings.swarm,
        "special_values": settings.special,
        "swarm_shape_classes": dict(sorted(state.shape_classes.items())),
        "internal_messages": _listed(state.internal_messages),
        "buckets": sorted(buckets.values(), key=lambda b: (-b["count"], b["signature"])),
        "finding_folders": [f.folder for f in findings],
        "duration": round(duration, 2),
        "testing_seconds": round(testing, 2),
        "testing_worker_seconds": round(worker_seconds, 2),
        "reduction_seconds": round(reduction, 2),
        "shared_seconds": round(state.shared_seconds, 1),
        "programs_per_second": _per_second(state.tested, testing),
        "programs_per_second_per_worker": _per_second(state.tested, worker_seconds),
        "workers": settings.workers,
        "config": settings.config.name,
        "config_digest": settings.config.digest,
        "seed": settings.seed,
        "count": settings.count,
        "budget_seconds": settings.budget,
        "timeout_seconds": settings.timeout,
        "toolchain": toolchain,
        "unavailable_ops": unavailable_ops(),  #: left out: their rendering needs a newer JAX
        "injected_fault": (os.environ if settings.env is None else settings.env).get(INJECT_ENV) or None,
    }


def run_campaign(settings: Settings) -> dict[str, Any]:
    """Run a campaign and write ``summary.json`` and the finding folders under ``settings.out``."""
    settings = _prepared(settings)
    settings.out.mkdir(parents=True, exist_ok=True)
    if settings.resume and resumable(settings) == "done":
        settings.log("done before: nothing to resume")
        (settings.out / JOURNAL).unlink(missing_ok=True)
        return json.loads((settings.out / "summary.json").read_text())
    start = time.monotonic()
    state = _State(settings)
    _start_journal(state)
    workers = [Worker(env=settings.env, max_rss=memory_share(settings.workers)) for _ in range(settings.workers)]
    toolchain: dict[str, str] = {}
    findings: list[Finding] = []
    timing: dict[str, float] = {}
    status = "running"
    try:
        toolchain = workers[0].start()
        for name, release in unavailable_ops().items():
            settings.log(f"left out: {name} (its rendering needs JAX {release} or later)")
        deadline = start + settings.budget if settings.budget is not None else None
        bar = None
        if settings.progress:
            from tqdm import tqdm

            bar = tqdm(total=settings.count, initial=len(state.done), unit="prog", desc="fuzz", file=sys.stderr,
                       smoothing=0.05)
        test_start = time.monotonic()
        threads = [threading.Thread(target=_tester, args=(state, w, deadline, bar), daemon=True) for w in workers]
        for t in threads:
            t.start()
        last_write = time.monotonic()
        stopped = False
        restore = _terminate_as_interrupt()
        while any(t.is_alive() for t in threads):
            try:
                for t in threads:
                    t.join(timeout=1.0)
            except KeyboardInterrupt:
                if stopped:
                    raise
                stopped = True
                state.stop = True  # graceful: finish the programs in flight, then reduce and write findings
                settings.log("stopping: finishing the programs in flight, then writing findings "
                             "(interrupt again to abort)")
            if time.monotonic() - last_write > 30:
                timing = {"testing_seconds": time.monotonic() - test_start, "total_seconds": time.monotonic() - start}
                write_json(settings.out / "summary.json", _summary(state, settings, [], timing, toolchain, "running"))
                last_write = time.monotonic()
        restore()
        if bar is not None:
            bar.close()
        if state.fatal is not None:
            raise state.fatal
        timing["testing_seconds"] = time.monotonic() - test_start
        settings.log(f"tested {state.tested} programs in {timing['testing_seconds']:.1f}s; "
                     f"{len(state.raw)} raw findings")
        reduce_start = time.monotonic()
        findings = _process_findings(state, settings, workers, toolchain)
        timing["reduction_seconds"] = time.monotonic() - reduce_start
        unfinished = settings.count is not None and state.tested < settings.count
        status = "stopped" if stopped or unfinished else "done"
    except KeyboardInterrupt:
        state.stop = True
        status = "interrupted"
        raise
    finally:
        for w in workers:
            w.close()
        timing["total_seconds"] = time.monotonic() - start
        timing.setdefault("testing_seconds", timing["total_seconds"])
        summary = _summary(state, settings, findings, timing, toolchain, status)
        if status in ("done", "stopped"):
            _order_raw_journal(settings.out)
        if settings.db is not None and status in ("done", "stopped"):
            _record_in_db(state, summary)
        write_json(settings.out / "summary.json", summary)
        if status == "done":
            (settings.out / JOURNAL).unlink(missing_ok=True)
            shutil.rmtree(settings.out / EVIDENCE, ignore_errors=True)
    return summary


def _record_in_db(state: _State, summary: dict[str, Any]) -> None:
    """Add the campaign's buckets to ``--db`` and list in ``summary["new_buckets"]`` those it did not hold. A
    resumed campaign adds only the buckets its earlier runs did not (and the ones new to the database then stay
    new); a stopped one journals what it added, for the run that resumes it."""
    settings = state.settings
    provenance = {"config": settings.config.name, "config_digest": settings.config.digest, "seed": settings.seed}
    assert settings.db is not None
    unrecorded = [b for b in summary["buckets"] if b["bucket"] not in state.db_recorded]
    new = state.db_new | set(update_db(settings.db, unrecorded, provenance))
    summary["new_buckets"] = [b["bucket"] for b in summary["buckets"] if b["bucket"] in new]
    if summary["status"] == "stopped":
        recorded = state.db_recorded | {b["bucket"] for b in unrecorded}
        _journal(settings.out, {"db_recorded": sorted(recorded), "db_new": sorted(new)})


#: Totals of a multi-config campaign: the per-config summary counts that add up.
_ADDED = ("programs_tested", "programs_judged", "findings", "crashes", "hangs", "skipped_discontinuous",
          "skipped_unsupported", "over_budget", "internal_errors")


def run_campaigns(settings: Settings, configs: Sequence[GrammarConfig]) -> dict[str, Any]:
    """One campaign per config, in the given order, each in ``settings.out / <config name>`` as
    :func:`run_campaign` writes it, and the totals in ``settings.out / "summary.json"``.

    ``settings.count`` programs of each config, or ``settings.budget`` split evenly between them (testing
    time; each config's reduction comes on top). A shared ``--db`` makes a bucket that one config
    reported old for the next. A campaign stopped by an interrupt ends the whole run (later configs are
    listed as ``not run``); a second interrupt aborts it, and the totals of what ran are still written."""
    names = [c.name for c in configs]
    if len(set(names)) != len(names):
        raise ValueError(f"two configs with one name: {', '.join(sorted({n for n in names if names.count(n) > 1}))}")
    settings.out.mkdir(parents=True, exist_ok=True)
    budget = settings.budget / len(configs) if settings.budget is not None else None
    summaries: dict[str, dict[str, Any]] = {}
    status = "running"
    running: Path | None = None  # the output folder of the campaign in progress
    log = settings.log
    try:
        for config in configs:
            one = replace(settings, config=config, out=settings.out / config.name, budget=budget,
                          log=lambda message, name=config.name: log(f"{name}: {message}"))
            running = one.out
            if not settings.resume:
                (running / "summary.json").unlink(missing_ok=True)  # an earlier run's, about to be replaced
            summaries[config.name] = summary = run_campaign(one)
            running = None
            if summary["status"] != "done":
                break
        status = "done" if len(summaries) == len(configs) and all(
            s["status"] == "done" for s in summaries.values()) else "stopped"
    except KeyboardInterrupt:
        status = "interrupted"
        if running is not None:  # run_campaign writes its summary whatever stops it
            try:
                summaries[running.name] = json.loads((running / "summary.json").read_text())
            except (OSError, ValueError):
                pass
        raise
    finally:
        summary = _combined(settings, configs, summaries, status)
        write_json(settings.out / "summary.json", summary)
    return summary


def _combined(settings: Settings, configs: Sequence[GrammarConfig], summaries: dict[str, dict[str, Any]],
              status: str) -> dict[str, Any]:
    """The totals of a multi-config campaign; paths to finding folders are relative to ``settings.out``."""
    # a key that a config's summary lacks (written by an older jaxsynth, resumed as done) has no total
    totals = {key: sum(s[key] for s in summaries.values()) for key in _ADDED
              if all(key in s for s in summaries.values())}
    oracles: dict[str, dict[str, Any]] = {}
    buckets: dict[str, dict[str, Any]] = {}
    for name, s in summaries.items():
        for oracle, counts in s["oracles"].items():
            into = oracles.setdefault(oracle, {})
            for key, value in counts.items():
                if key == "max_error_over_tolerance":
                    if value >= into.get(key, -1.0):
                        into[key] = value
                        into["max_error_over_tolerance_at"] = f"{name}/{counts['max_error_over_tolerance_at']}"
                elif key == "seconds":
                    into[key] = round(into.get(key, 0.0) + value, 1)
                elif key != "max_error_over_tolerance_at":
                    into[key] = into.get(key, 0) + value
        for b in s["buckets"]:  # a bucket is the same bug whichever config found it
            into = buckets.setdefault(b["bucket"], dict(b, count=0, findings=[], configs=[]))
            into["count"] += b["count"]
            into["findings"] += [f"{name}/{folder}" for folder in b["findings"]]
            into["configs"].append(name)
    testing = sum(s["testing_seconds"] for s in summaries.values())
    worker_seconds = sum(_worker_seconds(s) for s in summaries.values())
    first = next(iter(summaries.values()), {})
    combined: dict[str, Any] = {
        "status": status,
        **totals,
        "oracles": oracles,
        "unverified": [f"{n}/{folder}" for n, s in summaries.items() for folder in s["unverified"]],
        "buckets": sorted(buckets.values(), key=lambda b: (-b["count"], b["signature"])),
        "finding_folders": [f"{n}/{folder}" for n, s in summaries.items() for folder in s["finding_folders"]],
        "duration": round(sum(s["duration"] for s in summaries.values()), 2),
        "testing_seconds": round(testing, 2),
        "testing_worker_seconds": round(worker_seconds, 2),
        "reduction_seconds": round(sum(s["reduction_seconds"] for s in summaries.values()), 2),
        "shared_seconds": round(sum(s["shared_seconds"] for s in summaries.values()), 1),
        "programs_per_second": _per_second(totals["programs_tested"], testing),
        "programs_per_second_per_worker": _per_second(totals["programs_tested"], worker_seconds),
        "workers": settings.workers,
        "configs": [
            {"config": c.name, "config_digest": c.digest, "status": "not run", "summary": None}
            if c.name not in summaries else
            {"config": c.name, "config_digest": c.digest, "status": summaries[c.name]["status"],
             "summary": f"{c.name}/summary.json",
             **{key: summaries[c.name][key] for key in (*_ADDED, "testing_seconds", "programs_per_second")
                if key in summaries[c.name]}}
            for c in configs
        ],
        "seed": settings.seed,
        "count": settings.count,
        "budget_seconds": settings.budget,
        "timeout_seconds": settings.timeout,
        "swarm": settings.swarm,
        "toolchain": first.get("toolchain", {}),
        "injected_fault": first.get("injected_fault"),
    }
    if settings.db is not None:
        combined["new_buckets"] = sorted({b for s in summaries.values() for b in s.get("new_buckets", [])})
    return combined


def _terminate_as_interrupt() -> Callable[[], None]:
    """While testing, SIGTERM (and SIGINT, unless ignored) stop the campaign gracefully."""
    import signal

    if threading.current_thread() is not threading.main_thread():
        return lambda: None

    def interrupt(signum: int, frame: Any) -> None:
        raise KeyboardInterrupt

    previous = {sig: signal.getsignal(sig) for sig in (signal.SIGTERM, signal.SIGINT)}
    signal.signal(signal.SIGTERM, interrupt)
    if previous[signal.SIGINT] is not signal.SIG_IGN:
        signal.signal(signal.SIGINT, interrupt)

    def restore() -> None:
        for sig, handler in previous.items():
            signal.signal(sig, handler)

    return restore


def _process_findings(state: _State, settings: Settings, workers: list[Worker], toolchain: dict[str, str]
                      ) -> list[Finding]:
    raws = sorted(state.raw, key=lambda r: (r.index, list(ORACLES).index(r.oracle) if r.oracle in ORACLES else 99))
    queue = list(enumerate(raws))
    results: dict[int, Finding] = {}
    lock = threading.Lock()
    repeats = _repeated_sites(raws)

    def run(worker: Worker) -> None:
        reducer = _Reducer(settings, worker, toolchain)
        while True:
            with lock:
                if not queue:
                    return
                position, raw = queue.pop(0)
            first = repeats.get(position)
            do_reduce = settings.reduce and position < settings.max_reductions and first is None
            repeat_note = None if first is None else f"not reduced: program {first} failed at the same site first"
            try:
                try:
                    finding = reducer.process(raw, do_reduce=do_reduce, note=repeat_note, do_triage=first is None)
                except (WorkerStartError, NotAFinding):
                    raise
                except Exception as exc:  # never lose a finding to a reducer bug: write it unreduced
                    settings.log(f"reduction of program {raw.index} ({raw.oracle}) failed: "
                                 f"{type(exc).__name__}: {exc}")
                    note = f"reduction failed: {type(exc).__name__}: {exc}"[:300]
                    finding = reducer.process(raw, do_reduce=False, note=note)
            except NotAFinding as exc:
                _dismiss(state, raw, str(exc))
                settings.log(f"not a finding: {exc}")
                continue
            if finding.verified is False:
                settings.log(f"finding {finding.folder}: {finding.signature} UNVERIFIED: repro.py exit "
                             f"{finding.repro_status}, expected {finding.repro_expected}")
            else:
                settings.log(f"finding {finding.folder}: {finding.signature} (repro exit {finding.repro_status})")
            with lock:
                results[position] = finding

    threads = [threading.Thread(target=run, args=(w,), daemon=True) for w in workers[: max(1, len(raws))]]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return [results[k] for k in sorted(results)]


def _site(raw: RawFinding) -> str:
    """Where XLA's assertion failed, if it said: a crash's CHECK line or a RET_CHECK error's; else ""."""
    if raw.kind == "crash" and raw.outcome is not None:
        return raw.outcome.site
    if raw.kind == "error" and raw.verdict is not None:
        return error_site(raw.verdict.detail)
    return ""


def _repeated_sites(raws: Sequence[RawFinding]) -> dict[int, int]:
    """Position in ``raws`` -> index of the program that failed first with the same oracle, kind, signal or
    status and :func:`_site`, for every such failure after that first: its bucket is known before any
    reduction (a site's bucket has no ops), so only the first is reduced and triaged. Decided from ``raws``
    alone, in program order, so the findings do not depend on the number of workers."""
    first: dict[tuple[Any, ...], int] = {}
    repeats: dict[int, int] = {}
    for position, raw in enumerate(raws):
        site = _site(raw)
        if not site:
            continue
        outcome = raw.outcome
        how = (outcome.signal, outcome.exitcode) if outcome is not None else (None, None)
        key = (raw.oracle, raw.kind, *how, normalize_error(site))
        if key in first:
            repeats[position] = first[key]
        else:
            first[key] = raw.index
    return repeats


def _dismiss(state: _State, raw: RawFinding, message: str) -> None:
    """Take a raw finding back (the harness explains it) and count it as an internal error instead."""
    with state.lock:
        state.raw = [r for r in state.raw if r is not raw]  # this one (by identity, not ==)
        if raw.outcome is not None and raw.kind in ("crash", "hang"):
            counts = state.counts[raw.outcome.oracle or "?"]
            counts[raw.kind] -= 1
            if counts[raw.kind] <= 0:
                del counts[raw.kind]
            counts["internal"] += 1
            state.crashed_programs -= 1
            state.judged -= 1  # the crash was the program's one verdict (its worker died)
        _note_internal(state, raw.index, message, always=True)
        with open(state.settings.out / "raw-findings.jsonl", "a") as f:
            f.write(json.dumps({"index": raw.index, "oracle": raw.oracle, "kind": raw.kind,
                                "dismissed": message[:300]}) + "\n")


_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([smh])\s*$")


def parse_duration(text: str) -> float:
    """``"30s"``, ``"10m"``, ``"2h"`` -> seconds; ValueError otherwise."""
    match = _DURATION.match(text)
    if not match:
        raise ValueError(f"bad duration {text!r}: expected a number with a unit, like 30s, 10m or 2h")
    value = float(match.group(1)) * {"s": 1, "m": 60, "h": 3600}[match.group(2)]
    if value <= 0:
        raise ValueError(f"bad duration {text!r}: must be positive")
    return value
