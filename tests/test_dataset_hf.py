"""HuggingFace loading: the JSONL corpus and the Parquet export load with ``datasets.load_dataset``.

``datasets`` is in the ``test`` extra, so these run by default; without it they are skipped (and
say so). Loading is offline (``HF_DATASETS_OFFLINE``/``HF_HUB_OFFLINE``) into a temporary cache.
"""

from __future__ import annotations

import os

os.environ.setdefault("HF_DATASETS_OFFLINE", "1")
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("HF_DATASETS_DISABLE_PROGRESS_BARS", "1")

import json  # noqa: E402
from pathlib import Path  # noqa: E402

import pytest  # noqa: E402
from records import CORPUS_N  # noqa: E402

from jaxsynth.cli import run  # noqa: E402
from jaxsynth.corpus import Record, iter_records  # noqa: E402

datasets = pytest.importorskip("datasets", reason="datasets is not installed (pip install 'jaxsynth[test]')")
pytest.importorskip("pyarrow", reason="pyarrow is not installed (pip install 'jaxsynth[dataset]')")


@pytest.fixture(scope="module")
def cache(tmp_path_factory: pytest.TempPathFactory) -> str:
    return str(tmp_path_factory.mktemp("hf_cache"))


@pytest.fixture(scope="module")
def split_dir(shared_corpus: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("split")
    assert run(["split", str(shared_corpus), "--ratios", "0.8,0.1,0.1", "--out", str(out)]) == 0
    return out


def _as_rows(records: list[Record]) -> list[dict]:
    import msgspec

    return msgspec.to_builtins(records)


def test_jsonl_loads_with_datasets_json(shared_corpus, split_dir, cache):
    files = {name: str(split_dir / f"{name}.jsonl") for name in ("train", "validation", "test")}
    ds = datasets.load_dataset("json", data_files=files, cache_dir=cache)
    manifest = json.loads((split_dir / "splits.json").read_text())
    assert {name: ds[name].num_rows for name in files} == manifest["counts"]
    first = next(iter_records(files["train"]))
    row = ds["train"][0]
    assert row["id"] == first.id and row["python"] == first.python and row["optimized_hlo"] == first.optimized_hlo
    assert row["features"]["ops"] == first.features.ops and row["input_ranges"] == first.input_ranges


def test_parquet_export_loads_as_is(shared_corpus, split_dir, tmp_path, cache, capsys):
    out = tmp_path / "hf"
    assert run(["export", str(split_dir), "--parquet", str(out), "--rows-per-file", "16"]) == 0
    assert f"{CORPUS_N} records (train " in capsys.readouterr().out
    card = (out / "README.md").read_text()
    header = card.split("---\n")[1]
    for needle in (
        "configs:\n- config_name: default\n  data_files:\n  - split: train\n    path: data/train-*.parquet",
        "dataset_info:",
        "  - name: features\n    struct:",
        "  - name: grad_jaxpr\n    dtype: string",
        "    num_examples: ",
    ):
        assert needle in header, needle
    assert "Grammar config `default`" in card and "```toml\n# The default grammar" in card
    assert "## Generation" in card and "toolchain" in card and "jax 0." in card and f"| seed | 0 ({CORPUS_N}) |" in card
    assert len(list((out / "data").glob("train-*-of-*.parquet"))) >= 2  # sharded by --rows-per-file

    ds = datasets.load_dataset(str(out), cache_dir=cache)
    manifest = json.loads((split_dir / "splits.json").read_text())
    assert {name: ds[name].num_rows for name in ds} == manifest["counts"]
    expected = _as_rows(list(iter_records(split_dir / "test.jsonl")))
    assert ds["test"].to_list() == expected  # every field, nested structs and all-null columns included
    assert ds["train"].features["hlo"].dtype == "string"


def test_export_a_single_file_is_one_train_split(shared_corpus, tmp_path, cache):
    from jaxsynth.dataset.export import export_parquet

    summary = export_parquet(shared_corpus, tmp_path)
    assert summary.splits == {"train": CORPUS_N}
    ds = datasets.load_dataset(str(tmp_path), cache_dir=cache)
    assert list(ds) == ["train"] and ds["train"].num_rows == CORPUS_N


def test_export_bad_input(tmp_path, capsys):
    assert run(["export", str(tmp_path / "missing.jsonl"), "--parquet", str(tmp_path / "o")]) == 2
    # a folder that is neither a split (splits.json) nor holds corpus files
    assert run(["export", str(tmp_path), "--parquet", str(tmp_path / "o")]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 2 and "No such file" in err and "holds no corpus files" in err
