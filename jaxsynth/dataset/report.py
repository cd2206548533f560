"""Human-readable reports of :class:`~jaxsynth.dataset.stats.CorpusStats`: plain text and Markdown."""

from __future__ import annotations

import json
import math
import os
from collections import Counter
from pathlib import Path

from jaxsynth.dataset.hlo import FEATURE_FAMILIES
from jaxsynth.dataset.stats import DISTRIBUTIONS, HLO_SKELETON, CorpusStats, Distribution

__all__ = ["markdown_report", "text_report", "write_report"]


def _top(counter: Counter[str], top: int | None = None) -> list[tuple[str, int]]:
    return sorted(counter.items(), key=lambda kv: (-kv[1], kv[0]))[:top]


def _histogram(counter: Counter[str], total: int, top: int | None = None) -> list[str]:
    items = _top(counter, top)
    width = max((len(k) for k, _ in items), default=0)
    return [f"  {key:<{width}}  {count:>7}  {100 * count / total:5.1f}%" for key, count in items]


def _distribution(d: Distribution) -> str:
    s = d.summary()
    return f"min {s['min']}  median {s['median']:g}  mean {s['mean']:.1f}  p90 {s['p90']:g}  max {s['max']}"


def _pct(x: float) -> str:
    return "n/a" if math.isnan(x) else f"{100 * x:.1f}%"


def _families(stats: CorpusStats) -> str:
    counts = Counter(f.split(":", 1)[0] for f in stats.hlo_features)
    return ", ".join(f"{fam} {counts[fam]}" for fam in FEATURE_FAMILIES if counts[fam])


def text_report(stats: CorpusStats, top: int = 20) -> str:
    """The plain-text report ``jaxsynth stats`` prints."""
    n = stats.records
    lines = [f"{stats.path}: {n} records"]
    if not n:
        return "\n".join(lines) + "\n"
    lines.append("configs: " + ", ".join(f"{k} ({v})" for k, v in sorted(stats.configs.items())))
    lines.append("seeds: " + ", ".join(f"{k} ({v})" for k, v in sorted(stats.seeds.items())))
    lines.append("toolchains: " + "; ".join(f"{k} ({v})" for k, v in sorted(stats.toolchains.items())))
    lines.append("IR texts: " + ", ".join(f"{k} {v}" for k, v in stats.present.items()))
    lines.append(
        f"unique graph_hash: {stats.unique['graph_hash']}/{n} ({_pct(stats.unique_ratio('graph_hash'))}); "
        f"structural duplicate rate {_pct(stats.structural_duplicate_rate)}"
    )
    for field, have in stats.present.items():
        if have:
            lines.append(f"unique {field}: {stats.unique[field]}/{have} ({_pct(stats.unique_ratio(field))})")
    if stats.present.get("optimized_hlo"):
        lines.append(
            f"unique optimized-HLO opcode skeletons: {stats.unique[HLO_SKELETON]}/{stats.present['optimized_hlo']} "
            f"({_pct(stats.unique_ratio(HLO_SKELETON))})"
        )
    for name in DISTRIBUTIONS:
        d = stats.distributions[name]
        if d.values:
            lines.append(f"{name + ':':<22}{_distribution(d)}")
    lines.append("dead code (records containing each): " + ", ".join(
        f"{k} {stats.dead_code[k]} ({_pct(r)})" for k, r in stats.dead_code_rates().items()))
    lines.append(f"categories ({len(stats.categories)}; records using each):")
    lines.extend(_histogram(stats.categories, n))
    total_ops = sum(stats.ops.values())
    lines.append(f"ops (top {min(top, len(stats.ops))} of {len(stats.ops)} distinct; share of {total_ops} op nodes):")
    lines.extend(_histogram(stats.ops, total_ops, top))
    lines.append("input dtypes:")
    lines.extend(_histogram(stats.dtypes, sum(stats.dtypes.values())))
    if stats.hlo_opcodes:
        have = stats.present["optimized_hlo"]
        lines.append(
            f"optimized-HLO opcodes (top {min(top, len(stats.hlo_opcodes))} of "
            f"{len(stats.hlo_opcodes)}; records containing each):"
        )
        lines.extend(_histogram(stats.hlo_opcode_records, have, top))
        fusions = sum(stats.fusion_kinds.values())
        lines.append(f"fusion kinds ({fusions} fusions):")
        lines.extend(_histogram(stats.fusion_kinds, fusions))
        lines.append(f"distinct optimized-HLO features: {len(stats.hlo_features)} ({_families(stats)})")
    return "\n".join(lines) + "\n"


# ---------------------------------------------------------------- Markdown
def _table(header: list[str], rows: list[list[str]], align: str = "") -> list[str]:
    align = align or "l" + "r" * (len(header) - 1)
    rule = ["---:" if a == "r" else ":---" for a in align]
    return ["| " + " | ".join(header) + " |", "| " + " | ".join(rule) + " |"] + [
        "| " + " | ".join(row) + " |" for row in rows
    ]


def _bar(fraction: float, width: int = 20) -> str:
    filled = round(max(0.0, min(1.0, fraction)) * width)
    return "█" * filled + "░" * (width - filled)


def markdown_report(stats: CorpusStats, figures: dict[str, Path] | None = None, top: int = 20) -> str:
    """A Markdown report: headline numbers first, then figures (paths relative to the report)."""
    figures = figures or {}
    n = stats.records
    name = Path(stats.path).name or "corpus"
    out = [f"# Corpus report: `{name}`", ""]
    if not n:
        return "\n".join(out + ["The corpus is empty.", ""])
    unique_hlo = stats.unique_ratio("optimized_hlo")
    headline = [
        ["records", f"{n:,}"],
        ["structural duplicate rate (repeated `graph_hash`)", _pct(stats.structural_duplicate_rate)],
        ["JAXPR duplicate rate", _pct(stats.jaxpr_duplicate_rate)],
        *[[f"dead code: {k}", _pct(r)] for k, r in stats.dead_code_rates().items()],
        ["unique optimized-HLO ratio", _pct(unique_hlo)],
        ["unique optimized-HLO opcode-skeleton ratio", _pct(stats.unique_ratio(HLO_SKELETON))],
        ["distinct ops / categories", f"{len(stats.ops)} / {len(stats.categories)}"],
        [
            "distinct optimized-HLO opcodes / features",
            f"{len(stats.hlo_opcodes)} / {len(stats.hlo_features)}",
        ],
        ["configs", "<br>".join(f"`{k}` ({v:,})" for k, v in sorted(stats.configs.items()))],
        ["seeds", ", ".join(f"{k} ({v:,})" for k, v in sorted(stats.seeds.items()))],
        ["toolchain", "<br>".join(f"{k} ({v:,})" for k, v in sorted(stats.toolchains.items()))],
    ]
    out += _table(["", ""], headline, "lr") + [""]

    def figure(key: str, caption: str) -> None:
        if key in figures:
            out.extend([f"![{caption}]({figures[key].name})", ""])

    out += ["## Uniqueness", ""]
    out += [
        "The opcode skeleton is the optimized HLO's opcode sequence without names, shapes, layouts,",
        "constants or attributes: programs that differ only in those share a skeleton.",
        "",
    ]
    figure("uniqueness", "Distinct values per field")
    rows = [
        [
            "`graph_hash` (structure)",
            f"{n:,}",
            f"{stats.unique['graph_hash']:,}",
            _pct(stats.unique_ratio("graph_hash")),
        ]
    ]
    rows += [
        [f"`{f}`", f"{have:,}", f"{stats.unique[f]:,}", _pct(stats.unique_ratio(f))]
        for f, have in stats.present.items()
        if have
    ]
    if stats.present.get("optimized_hlo"):
        have = stats.present["optimized_hlo"]
        rows.append(
            [
                "optimized-HLO opcode skeleton",
                f"{have:,}",
                f"{stats.unique[HLO_SKELETON]:,}",
                _pct(stats.unique_ratio(HLO_SKELETON)),
            ]
        )
    out += _table(["field", "records with it", "distinct", "unique ratio"], rows) + [""]

    out += ["## What the programs contain", ""]
    figure("ops", "Categories and ops")
    out += _table(
        ["category", "records", "share", ""],
        [[k, f"{v:,}", _pct(v / n), _bar(v / n)] for k, v in _top(stats.categories)],
        "lrrl",
    )
    out.append("")
    total_ops = max(sum(stats.ops.values()), 1)
    out += [f"Top {min(top, len(stats.ops))} of {len(stats.ops)} ops (share of {total_ops:,} op nodes):", ""]
    out += _table(
        ["op", "nodes", "share", "records using it"],
        [[f"`{k}`", f"{v:,}", _pct(v / total_ops), f"{stats.op_records[k]:,}"] for k, v in _top(stats.ops, top)],
    )
    out += ["", "## Sizes", ""]
    figure("distributions", "Distributions")
    out += [
        "Token counts use `jaxsynth.dataset.stats.tokenize`: identifiers, numbers and single punctuation characters.",
        "",
    ]
    rows = []
    for key, label in DISTRIBUTIONS.items():
        d = stats.distributions[key]
        if d.values:
            s = d.summary()
            rows.append(
                [
                    label,
                    *(f"{s[q]:g}" for q in ("min", "p10", "median")),
                    f"{s['mean']:.1f}",
                    *(f"{s[q]:g}" for q in ("p90", "max")),
                ]
            )
    out += _table(["", "min", "p10", "median", "mean", "p90", "max"], rows) + [""]
    if stats.hlo_opcodes:
        have = stats.present["optimized_hlo"]
        out += ["## Optimized HLO", ""]
        figure("hlo", "Optimized-HLO opcodes and fusions")
        out += _table(
            ["opcode", "instructions", "records containing it", ""],
            [
                [f"`{k}`", f"{stats.hlo_opcodes[k]:,}", f"{v:,}", _bar(v / have)]
                for k, v in _top(stats.hlo_opcode_records, top)
            ],
            "lrrl",
        )
        fusions = max(sum(stats.fusion_kinds.values()), 1)
        out += ["", f"Fusion kinds ({sum(stats.fusion_kinds.values()):,} fusion instructions):", ""]
        out += _table(
            ["kind", "fusions", "share"],
            [[f"`{k}`", f"{v:,}", _pct(v / fusions)] for k, v in _top(stats.fusion_kinds)],
        )
        out += [
            "",
            f"Distinct optimized-HLO features (see `jaxsynth.dataset.hlo`): "
            f"{len(stats.hlo_features):,} ({_families(stats)}).",
            "",
        ]
    return "\n".join(out)


def write_report(
    stats: CorpusStats, out_dir: str | os.PathLike[str], plots: bool = True, top: int = 20
) -> dict[str, Path]:
    """Write ``report.md``, ``stats.json`` and (if ``plots``) the PNG figures to ``out_dir``."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    figures: dict[str, Path] = {}
    if plots:
        from jaxsynth.dataset.plots import plot_stats

        figures = plot_stats(stats, out, top=max(top, 30))
    (out / "report.md").write_text(markdown_report(stats, figures, top))
    (out / "stats.json").write_text(json.dumps(stats.to_json(), indent=1) + "\n")
    return {"report": out / "report.md", "stats": out / "stats.json", **figures}
