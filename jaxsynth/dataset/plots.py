"""PNG figures of corpus statistics (matplotlib, the ``dataset`` extra; ``pip install 'jaxsynth[dataset]'``).

Figures are written with the non-interactive Agg backend and without the "Software" PNG metadata,
so the same statistics give the same files.
"""

from __future__ import annotations

import os
from collections import Counter
from pathlib import Path
from typing import Any

from jaxsynth.dataset.stats import DISTRIBUTIONS, HLO_SKELETON, CorpusStats

__all__ = ["MissingExtra", "plot_novelty", "plot_stats", "require_matplotlib"]

_PNG = {"Software": None}
_COLOR = "#3b6ea8"
_ACCENT = "#d9822b"


class MissingExtra(RuntimeError):
    """An optional dependency is not installed; the message says which extra to install."""


def require_matplotlib() -> Any:
    """``matplotlib.pyplot`` on the Agg backend, or :class:`MissingExtra`."""
    try:
        import matplotlib
    except ImportError:
        raise MissingExtra(
            "plots need matplotlib: pip install 'jaxsynth[dataset]' (or pip install matplotlib)"
        ) from None
    matplotlib.use("Agg", force=True)
    import matplotlib.pyplot as plt

    plt.rcParams.update(
        {
            "figure.dpi": 100,
            "font.size": 9,
            "axes.spines.top": False,
            "axes.spines.right": False,
            "svg.hashsalt": "jaxsynth",
        }
    )
    return plt


def _top(counter: Counter[str], top: int) -> list[tuple[str, int]]:
    return sorted(counter.items(), key=lambda kv: (-kv[1], kv[0]))[:top]


def _barh(ax: Any, items: list[tuple[str, float]], title: str, xlabel: str, color: str = _COLOR) -> None:
    labels = [k for k, _ in items][::-1]
    values = [v for _, v in items][::-1]
    ax.barh(labels, values, color=color)
    ax.set_title(title, loc="left", fontweight="bold")
    ax.set_xlabel(xlabel)
    ax.tick_params(axis="y", labelsize=8)
    ax.margins(y=0.01)


def _save(fig: Any, path: Path) -> None:
    fig.tight_layout()
    fig.savefig(path, metadata=_PNG)
    import matplotlib.pyplot as plt

    plt.close(fig)


def plot_stats(stats: CorpusStats, out_dir: str | os.PathLike[str], top: int = 30) -> dict[str, Path]:
    """Write the figures of ``stats`` to ``out_dir``; returns ``{figure name: path}`` in report order."""
    plt = require_matplotlib()
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    n = max(stats.records, 1)
    paths: dict[str, Path] = {}

    # 1. uniqueness
    fields = [
        f
        for f in ("graph_hash", "jaxpr", "stablehlo", "optimized_hlo", "grad_jaxpr", "vmap_jaxpr")
        if f == "graph_hash" or stats.present.get(f)
    ]
    fig, ax = plt.subplots(figsize=(7.5, 2.8))
    if stats.present.get("optimized_hlo"):
        fields.append(HLO_SKELETON)
    ratios = [stats.unique_ratio(f) for f in fields]
    labels = ["HLO skeleton" if f == HLO_SKELETON else f for f in fields]
    bars = ax.bar(labels, ratios, color=[_ACCENT if f == "graph_hash" else _COLOR for f in fields])
    for bar, ratio, f in zip(bars, ratios, fields, strict=True):
        ax.annotate(
            f"{100 * ratio:.1f}%\n{stats.unique[f]:,}",
            (bar.get_x() + bar.get_width() / 2, ratio),
            ha="center",
            va="bottom",
            fontsize=8,
        )
    ax.set_ylim(0, 1.25)
    ax.set_ylabel("distinct / records")
    ax.set_title(f"Uniqueness ({stats.records:,} records)", loc="left", fontweight="bold")
    paths["uniqueness"] = out / "uniqueness.png"
    _save(fig, paths["uniqueness"])

    # 2. categories and ops
    fig, (ax1, ax2) = plt.subplots(
        1, 2, figsize=(11, 0.22 * max(top, 12) + 1.2), gridspec_kw={"width_ratios": [1, 1.4]}
    )
    _barh(
        ax1,
        [(k, 100 * v / n) for k, v in _top(stats.categories, 50)],
        "Categories",
        "% of records using the category",
    )
    total_ops = max(sum(stats.ops.values()), 1)
    _barh(
        ax2,
        [(k, 100 * v / total_ops) for k, v in _top(stats.ops, top)],
        f"Top {min(top, len(stats.ops))} of {len(stats.ops)} ops",
        "% of op nodes",
    )
    paths["ops"] = out / "ops.png"
    _save(fig, paths["ops"])

    # 3. distributions
    names = [k for k in DISTRIBUTIONS if stats.distributions[k].values]
    cols = 3
    rows = (len(names) + cols - 1) // cols
    fig, axes = plt.subplots(rows, cols, figsize=(11, 2.4 * rows), squeeze=False)
    for ax, name in zip(axes.flat, names, strict=False):
        values = stats.distributions[name].values
        lo, hi = min(values), max(values)
        bins: Any = [b - 0.5 for b in range(lo, hi + 2)] if hi - lo <= 40 else 40
        ax.hist(values, bins=bins, color=_COLOR, edgecolor="white", linewidth=0.3)
        median = stats.distributions[name].quantile(0.5)
        ax.axvline(median, color=_ACCENT, linewidth=1.2)
        ax.set_title(f"{DISTRIBUTIONS[name]}  (median {median:g})", loc="left", fontsize=9)
        ax.set_ylabel("records")
    for ax in list(axes.flat)[len(names) :]:
        ax.axis("off")
    paths["distributions"] = out / "distributions.png"
    _save(fig, paths["distributions"])

    # 4. optimized HLO
    if stats.hlo_opcodes:
        # Fusions by kind *and* root opcode: on CPU nearly every fusion is kLoop, and a panel of
        # fusion kinds alone would be one bar; by root it carries information at every size.
        roots: Counter[str] = Counter(
            {f[12:]: n for f, n in stats.hlo_features.items() if f.startswith("fusion-root:")}
        )
        if roots:  # records containing each kind:root, as a share of all records
            kinds = [(k, 100 * v / n) for k, v in _top(roots, 8)]
        else:
            kinds = [(k, float(v)) for k, v in _top(stats.fusion_kinds, 8)]
        fig = plt.figure(figsize=(11, 0.22 * max(top, 12) + 1.2))
        grid = fig.add_gridspec(2, 2, width_ratios=[1.4, 1], height_ratios=[len(kinds) + 1.5, top])
        ax1 = fig.add_subplot(grid[:, 0])
        _barh(
            ax1,
            [(k, 100 * v / n) for k, v in _top(stats.hlo_opcode_records, top)],
            f"Optimized-HLO opcodes (top {min(top, len(stats.hlo_opcodes))} of {len(stats.hlo_opcodes)})",
            "% of records containing the opcode",
        )
        ax2 = fig.add_subplot(grid[0, 1])
        fusions = sum(stats.fusion_kinds.values())
        kind_names = ", ".join(f"{k} {v:,}" for k, v in _top(stats.fusion_kinds, 4))
        _barh(
            ax2, kinds, f"Fusion kind:root ({fusions:,}: {kind_names})",
            "% of records containing the fusion" if roots else "fusions", color=_ACCENT,
        )
        for y, (_, v) in enumerate(kinds[::-1]):
            ax2.annotate(f" {v:.0f}%" if roots else f" {v:,.0f}", (v, y), va="center", fontsize=8)
        ax3 = fig.add_subplot(grid[1, 1])
        fused = [(k, v) for k, v in _top(stats.fused_opcodes, top) if k not in ("parameter", "constant")]
        _barh(ax3, fused, "Instructions inside fusions", "instructions", color=_ACCENT)
        paths["hlo"] = out / "hlo.png"
        _save(fig, paths["hlo"])
    return paths


def plot_novelty(
    curves: dict[str, tuple[list[int], list[int]]], path: str | os.PathLike[str], title: str, note: str = ""
) -> Path:
    """Distinct HLO features vs records, one line per run: ``{label: (records, distinct)}``."""
    plt = require_matplotlib()
    fig, ax = plt.subplots(figsize=(6.5, 4))
    for (label, (xs, ys)), color in zip(curves.items(), (_COLOR, _ACCENT, "#5a9e4b", "#8e5ea2"), strict=False):
        ax.plot(xs, ys, label=f"{label} ({ys[-1]:,} at {xs[-1]:,})" if ys else label, color=color)
    ax.set_xlabel("records")
    ax.set_ylabel("distinct optimized-HLO features")
    ax.set_title(title, loc="left", fontweight="bold")
    ax.legend(loc="lower right")
    if note:
        ax.text(0.98, 0.36, note, transform=ax.transAxes, ha="right", va="bottom", fontsize=8)
    ax.grid(alpha=0.3)
    out = Path(path)
    out.parent.mkdir(parents=True, exist_ok=True)
    _save(fig, out)
    return out
