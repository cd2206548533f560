"""Export a corpus (or a split directory) as Parquet with a HuggingFace dataset card.

Layout written to ``out_dir``::

    README.md                              dataset card: YAML header (configs, splits, features) + prose
    data/<split>-00000-of-0000N.parquet    one or more files per split

``datasets.load_dataset(out_dir)`` loads it as-is (the YAML ``configs`` section names the files of
each split). Columns follow :class:`~jaxsynth.corpus.record.Record` field by field, with explicit
Arrow types (so an all-null column such as ``hlo`` is still typed ``string``); ``features`` and
``toolchain`` are struct columns. Needs ``pyarrow`` (the ``dataset`` extra).
"""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import msgspec

from jaxsynth.corpus.record import SCHEMA_VERSION, CorpusError, Record, iter_raw, iter_records
from jaxsynth.dataset.split import MANIFEST, read_manifest
from jaxsynth.dataset.stats import StatsAccumulator

__all__ = ["ExportSummary", "arrow_schema", "export_parquet", "features_yaml"]

#: Rows per Parquet file (about 100 MB of full-emit records).
ROWS_PER_FILE = 10_000

_FIELD_DOCS: dict[str, str] = {
    "schema_version": "layout version of the record",
    "id": "`{config_digest}-{seed}-{index}`, unique per record",
    "index": "record index within the generated corpus",
    "seed": "corpus seed; with the config and index it determines the record",
    "config_digest": "content hash of the grammar config",
    "config_name": "name of the grammar config",
    "function_name": "name of the generated Python function",
    "python": "the generated Python module (imports + one function)",
    "signature": "input types, JAXPR style (`f32[16,4]`)",
    "output_types": "output types, JAXPR style",
    "input_ranges": "`[lo, hi]` value range per input on which the program is finite",
    "jaxpr": "`jax.make_jaxpr` text",
    "stablehlo": "StableHLO MLIR text of the jitted function",
    "optimized_hlo": "HLO after XLA's optimization passes (CPU backend)",
    "hlo": "HLO before optimization",
    "features": "structural features: ops, categories, node_count, depth, inputs, outputs, lines",
    "graph_hash": "structural (Weisfeiler-Lehman) hash of the program DAG, invariant under renaming",
    "toolchain": "jax, jaxlib, backend and jaxsynth versions",
    "grad_jaxpr": "JAXPR of `jax.grad` of the float32 sum of the floating-point outputs (if configured)",
    "vmap_jaxpr": "JAXPR of `jax.vmap` over a leading batch axis (if configured)",
    "signature_tree": "JSON of pytree arguments with leaf types in `signature` order (null: plain arrays)",
    "output_tree": "JSON of pytree results with leaf types in `output_types` order (null: plain arrays)",
}


def _pyarrow() -> Any:
    try:
        import pyarrow
        import pyarrow.parquet  # noqa: F401
    except ImportError:
        from jaxsynth.dataset.plots import MissingExtra

        raise MissingExtra(
            "Parquet export needs pyarrow: pip install 'jaxsynth[dataset]' (or pip install pyarrow)"
        ) from None
    return pyarrow


# ---------------------------------------------------------------- schema, from the Record Struct
def _arrow_type(pa: Any, tp: Any) -> Any:
    """Arrow type of a msgspec type-info node."""
    from msgspec import inspect as mi

    if isinstance(tp, mi.UnionType):
        others = [t for t in tp.types if not isinstance(t, mi.NoneType)]
        if len(others) != 1:
            raise TypeError(f"cannot map union {tp} to Arrow")
        return _arrow_type(pa, others[0])
    if isinstance(tp, mi.StrType):
        return pa.string()
    if isinstance(tp, mi.IntType):
        return pa.int64()
    if isinstance(tp, mi.FloatType):
        return pa.float64()
    if isinstance(tp, mi.BoolType):
        return pa.bool_()
    if isinstance(tp, mi.ListType):
        return pa.list_(_arrow_type(pa, tp.item_type))
    if isinstance(tp, mi.StructType):
        return pa.struct([pa.field(f.encode_name, _arrow_type(pa, f.type)) for f in tp.fields])
    raise TypeError(f"cannot map {tp} to Arrow")


def arrow_schema() -> Any:
    """The Arrow schema of a :class:`Record` table (one column per field, in declared order)."""
    from msgspec import inspect as mi

    pa = _pyarrow()
    info = mi.type_info(Record)
    return pa.schema([pa.field(f.encode_name, _arrow_type(pa, f.type)) for f in info.fields])


def _yaml_type(pa: Any, t: Any, indent: str) -> list[str]:
    """The HuggingFace ``dataset_info.features`` YAML of one Arrow type (``sequence`` style)."""
    if pa.types.is_list(t):
        item = t.value_type
        if pa.types.is_list(item) or pa.types.is_struct(item):
            return [f"{indent}sequence:"] + _yaml_type(pa, item, indent + "  ")
        return [f"{indent}sequence: {_dtype(pa, item)}"]
    if pa.types.is_struct(t):
        lines = [f"{indent}struct:"]
        for field in t:
            lines.append(f"{indent}- name: {field.name}")
            lines += _yaml_type(pa, field.type, indent + "  ")
        return lines
    return [f"{indent}dtype: {_dtype(pa, t)}"]


def _dtype(pa: Any, t: Any) -> str:
    if pa.types.is_string(t):
        return "string"
    if pa.types.is_int64(t):
        return "int64"
    if pa.types.is_float64(t):
        return "float64"
    if pa.types.is_boolean(t):
        return "bool"
    raise TypeError(f"no HuggingFace dtype for {t}")


def features_yaml(indent: str = "  ") -> list[str]:
    """YAML lines of ``dataset_info.features`` for the record schema."""
    pa = _pyarrow()
    lines: list[str] = []
    for field in arrow_schema():
        lines.append(f"{indent}- name: {field.name}")
        lines += _yaml_type(pa, field.type, indent + "  ")
    return lines


# ---------------------------------------------------------------- export
class ExportSummary(msgspec.Struct, kw_only=True):
    out_dir: str
    splits: dict[str, int]  #: split -> records
    files: dict[str, list[str]]  #: split -> Parquet files (relative to out_dir)
    bytes: dict[str, int]  #: split -> Parquet bytes

    def __str__(self) -> str:
        parts = ", ".join(f"{k} {v}" for k, v in self.splits.items())
        return f"{sum(self.splits.values())} records ({parts}) -> {self.out_dir}"


def _sources(corpus: Path) -> dict[str, Path]:
    """Split name -> corpus file: a split directory's files, or one file as the ``train`` split."""
    if corpus.is_dir():
        if not (corpus / MANIFEST).is_file():
            raise CorpusError(f"{corpus}: a directory to export must hold a {MANIFEST} (from jaxsynth split)")
        manifest = read_manifest(corpus)
        return {name: corpus / manifest.files[name] for name in manifest.names}
    if not corpus.is_file():
        raise CorpusError(f"cannot read corpus {os.fspath(corpus)!r}: No such file or directory")
    return {"train": corpus}


def _batches(path: Path, rows: int) -> Iterator[list[Record]]:
    batch: list[Record] = []
    for record in iter_records(path):
        batch.append(record)
        if len(batch) == rows:
            yield batch
            batch = []
    if batch:
        yield batch


def _table(pa: Any, schema: Any, records: list[Record]) -> Any:
    rows = msgspec.to_builtins(records)
    return pa.Table.from_pylist(rows, schema=schema)


def export_parquet(
    corpus: str | os.PathLike[str],
    out_dir: str | os.PathLike[str],
    rows_per_file: int = ROWS_PER_FILE,
    pretty_name: str | None = None,
) -> ExportSummary:
    """Write ``corpus`` (a file, or a ``jaxsynth split`` directory) as Parquet + dataset card."""
    pa = _pyarrow()
    import pyarrow.parquet as pq

    if rows_per_file < 1:
        raise ValueError(f"rows_per_file must be >= 1, got {rows_per_file}")
    sources = _sources(Path(corpus))
    out = Path(out_dir)
    data = out / "data"
    if data.exists():
        shutil.rmtree(data)  # a re-export must not leave stale shards behind
    data.mkdir(parents=True)
    schema = arrow_schema()
    counts: dict[str, int] = {}
    files: dict[str, list[str]] = {}
    sizes: dict[str, int] = {}
    arrow_bytes: dict[str, int] = {}
    stats = StatsAccumulator(os.fspath(corpus))
    for split, path in sources.items():
        total = sum(1 for _ in iter_raw(path))
        shards = max(1, -(-total // rows_per_file))
        counts[split], files[split], sizes[split] = 0, [], 0
        batches = _batches(path, rows_per_file)
        for shard in range(shards):
            batch = next(batches, [])
            for record in batch:
                stats.add(record)
            name = f"data/{split}-{shard:05d}-of-{shards:05d}.parquet"
            table = _table(pa, schema, batch)
            arrow_bytes[split] = arrow_bytes.get(split, 0) + table.nbytes
            pq.write_table(table, out / name, compression="zstd")
            counts[split] += len(batch)
            files[split].append(name)
            sizes[split] += (out / name).stat().st_size
    card = dataset_card(stats.finish(), counts, sizes, arrow_bytes, sources, pretty_name)
    (out / "README.md").write_text(card)
    return ExportSummary(out_dir=os.fspath(out), splits=counts, files=files, bytes=sizes)


# ---------------------------------------------------------------- the dataset card
def _yaml_str(text: str) -> str:
    return json.dumps(text)  # a JSON string is a valid YAML scalar


def _size_category(n: int) -> str:
    for limit, label in (
        (1_000, "n<1K"),
        (10_000, "1K<n<10K"),
        (100_000, "10K<n<100K"),
        (1_000_000, "100K<n<1M"),
        (10_000_000, "1M<n<10M"),
    ):
        if n < limit:
            return label
    return "10M<n<100M"


def _config_toml(digest: str) -> tuple[str, str] | None:
    """(name, TOML text) of the built-in config with this digest, if any."""
    from jaxsynth.grammar import builtin_names, load_config
    from jaxsynth.grammar.config import builtin_dir

    for name in builtin_names():
        if load_config(name).digest == digest:
            return name, (builtin_dir() / f"{name}.toml").read_text()
    return None


def dataset_card(
    stats: Any,
    counts: dict[str, int],
    sizes: dict[str, int],
    arrow_bytes: dict[str, int],
    sources: dict[str, Path],
    pretty_name: str | None = None,
) -> str:
    """README.md with the HuggingFace YAML header and a description of the corpus."""
    n = sum(counts.values())
    configs = sorted(stats.configs)
    seeds = sorted(stats.seeds)
    name = pretty_name or (
        f"jaxsynth corpus ({', '.join(c.split()[0] for c in configs) or 'empty'}, "
        f"seed {', '.join(map(str, seeds)) or '-'})"
    )
    header = [
        "---",
        f"pretty_name: {_yaml_str(name)}",
        "tags:",
        "- code",
        "- compilers",
        "- jax",
        "- xla",
        "- synthetic",
        "task_categories:",
        "- text-generation",
        "size_categories:",
        f"- {_size_category(n)}",
        "configs:",
        "- config_name: default",
        "  data_files:",
    ]
    for split in counts:
        header += [f"  - split: {split}", f"    path: data/{split}-*.parquet"]
    header += ["dataset_info:", "  config_name: default", "  features:"]
    header += features_yaml("  ")
    header += ["  splits:"]
    for split, count in counts.items():
        header += [
            f"  - name: {split}",
            f"    num_bytes: {arrow_bytes.get(split, 0)}",
            f"    num_examples: {count}",
        ]
    header += [
        f"  download_size: {sum(sizes.values())}",
        f"  dataset_size: {sum(arrow_bytes.values())}",
        "---",
        "",
    ]

    body = [
        f"# {name}",
        "",
        "Random JAX programs generated by jaxsynth from a typed grammar, each with its",
        "Python source and the IR texts JAX and XLA produce for it (JAXPR, StableHLO, optimized HLO). Every",
        "program is finite on its declared input ranges by construction. Records are deterministic:",
        "`record = F(config, seed, index, toolchain)`, and `jaxsynth replay` rebuilds any one of them.",
        "",
        "```python",
        "import datasets",
        'ds = datasets.load_dataset("path/to/this/directory")',
        "```",
        "",
        "## Splits",
        "",
        "| split | records |",
        "| :--- | ---: |",
        *[f"| {split} | {count:,} |" for split, count in counts.items()],
        "",
    ]
    if len(counts) > 1:
        body += [
            "Splits are leakage-safe: all records with the same `graph_hash` (program structure) are in the",
            "same split (`jaxsynth split`).",
            "",
        ]
    body += ["## Generation", "", "| | |", "| :--- | :--- |"]
    body += [f"| config | {', '.join(f'`{c}` ({stats.configs[c]:,})' for c in configs)} |"]
    body += [f"| seed | {', '.join(f'{s} ({stats.seeds[s]:,})' for s in seeds)} |"]
    body += [f"| toolchain | {'; '.join(f'{t} ({v:,})' for t, v in sorted(stats.toolchains.items()))} |"]
    body += [f"| record schema | version {SCHEMA_VERSION} |", ""]
    for config in configs:
        found = _config_toml(config.split()[-1])
        if found:
            body += [
                f"Grammar config `{found[0]}` (digest `{config.split()[-1]}`):",
                "",
                "```toml",
                found[1].rstrip(),
                "```",
                "",
            ]
        else:
            body += [f"Grammar config `{config}` is not a built-in config of this jaxsynth version.", ""]
    body += ["## Fields", "", "| field | meaning |", "| :--- | :--- |"]
    body += [f"| `{field}` | {doc} |" for field, doc in _FIELD_DOCS.items()]
    body += ["", "## Statistics", ""]
    if n:
        hlo = stats.unique_ratio("optimized_hlo")
        body += [
            f"- records: {n:,}; distinct structures (`graph_hash`): {stats.unique['graph_hash']:,} "
            f"(structural duplicate rate {100 * stats.structural_duplicate_rate:.2f}%)",
            f"- unique optimized-HLO ratio: {'n/a' if hlo != hlo else f'{100 * hlo:.2f}%'}",
            f"- distinct ops: {len(stats.ops)}; categories: {', '.join(sorted(stats.categories))}",
            "",
            "`jaxsynth stats CORPUS --plots DIR` writes a full report with figures.",
            "",
        ]
    body += [f"Source files: {', '.join(f'`{p.name}`' for p in sources.values())}.", ""]
    return "\n".join(header + body)
