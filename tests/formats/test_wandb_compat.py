"""Compatibility with the real wandb SDK, both ways: what wandb writes imports with every cell
equal; what desktopviz writes loads in wandb with equal cells."""

from __future__ import annotations

import json
import math
import shutil
from pathlib import Path

import numpy as np
import pyarrow.parquet as pq
import pytest

import desktopviz as dv
from desktopviz.formats.cells import table_rows
from desktopviz.importing import import_path
from desktopviz.store.cache import Cache
from tests.support import sample_image
from tests.wandb_support import build_wandb_artifacts, load_with_wandb

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")


@pytest.fixture(scope="module")
def wb(tmp_path_factory) -> Path:
    base = tmp_path_factory.mktemp("wandb")
    built = build_wandb_artifacts(base)
    built["base"] = base
    return built


def our_rows(cache: Cache, ref: str, table: str) -> tuple[list[str], list[list]]:
    info = cache.table_info(cache.resolve(ref), table)
    descs = json.loads(info.schema)["columns"]
    return [d["name"] for d in descs], table_rows(pq.read_table(cache.parquet_path(info)), descs)


def same(a, b) -> bool:
    if isinstance(a, float) and isinstance(b, float) and math.isnan(a) and math.isnan(b):
        return True
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(same(a[k], b[k]) for k in a)
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(same(x, y) for x, y in zip(a, b, strict=True))
    return a == b


def test_every_cell_of_a_wandb_table_imports_equal(wb, cache):
    root = wb["base"] / "artifacts" / "demo-dataset:v0"
    (r,) = import_path(cache, root, project="compat")
    written = json.loads((root / "dataset_table.table.json").read_text())
    columns, rows = our_rows(cache, "compat/demo-dataset:v0", "dataset_table.table.json")
    assert columns == written["columns"]
    m = columns.index("matrix")
    for want, got in zip(written["data"], rows, strict=True):
        for c, (w, g) in enumerate(zip(want, got, strict=True)):
            if c == m:
                assert w is None and np.asarray(g).shape == (2, 3)  # the cell lives in the .npz
            else:
                assert same(w, g), (columns[c], w, g)
    assert {"audio", "video", "html", "object3d", "molecule"} <= set(wb["media"])


def test_npz_column_matches_the_serialised_array(wb, cache):
    root = wb["base"] / "artifacts" / "demo-dataset:v0"
    import_path(cache, root, project="compat")
    written = json.loads((root / "dataset_table.table.json").read_text())
    ser = next(
        t
        for t in written["column_types"]["params"]["type_map"]["matrix"]["params"]["allowed_types"]
        if t["wb_type"] == "ndarray"
    )["params"]["serialization_path"]
    expected = np.load(root / ser["path"])[ser["key"]]
    columns, rows = our_rows(cache, "compat/demo-dataset:v0", "dataset_table.table.json")
    got = np.array([row[columns.index("matrix")] for row in rows])
    assert np.allclose(got, expected)


def test_media_structs_expose_boxes_masks_and_labels(wb, cache):
    import_path(cache, wb["base"] / "artifacts" / "demo-dataset:v0", project="compat")
    info = cache.table_info(cache.resolve("compat/demo-dataset:v0"), "dataset_table")
    img = pq.read_table(cache.parquet_path(info)).column("image")[0].as_py()
    ((layer, boxes),) = img["boxes"]
    assert layer == "ground_truth" and [b["label"] for b in boxes] == ["car", "building"]
    assert boxes[0]["min_x"] == 5 and boxes[0]["domain"] == "pixel"
    assert boxes[1]["min_x"] == pytest.approx(0.3) and boxes[1]["domain"] is None
    assert img["masks"][0][0] == "ground_truth" and img["width"] == 32


def test_partitioned_and_joined_tables_are_single_tables(wb, cache):
    root = wb["base"] / "artifacts" / "demo-dataset:v0"
    import_path(cache, root, project="compat")
    v = cache.resolve("compat/demo-dataset:v0")
    part = cache.table_info(v, "partitioned")
    assert part.kind == "partitioned-table" and part.num_rows == 12
    _, rows = our_rows(cache, v.ref, "partitioned.partitioned-table.json")
    assert [r[0] for r in rows] == list(range(4)) + list(range(10, 14)) + list(range(20, 24))
    joined = cache.table_info(v, "joined")
    assert joined.num_rows == 12
    columns, rows = our_rows(cache, v.ref, "joined.joined-table.json")
    assert columns[-1] == "weight" and rows[3][columns.index("weight")] == 4.5


def test_predictions_references_resolve_to_the_dataset(wb, cache):
    import_path(cache, wb["base"] / "artifacts", project="compat")
    preds, ds = cache.resolve("compat/demo-predictions:v0"), cache.resolve("compat/demo-dataset:v0")
    refs = [f for f in cache.files(preds) if f.ref]
    assert refs and all(f.ref.startswith("wandb-artifact://") for f in refs)
    assert all(f.ref_version_id == ds.id for f in refs)
    ds_blobs = {f.sha256 for f in cache.files(ds)}
    assert all(f.sha256 in ds_blobs for f in refs)  # same bytes, stored once
    columns, rows = our_rows(cache, preds.ref, "joined.joined-table.json")
    assert len(rows) == 12 and "prediction" in columns


def test_download_folder_without_manifest(wb, cache, tmp_path):
    bare = tmp_path / "demo-dataset:v0"
    shutil.copytree(wb["base"] / "artifacts" / "demo-dataset:v0", bare)
    (bare / "wandb_manifest.json").unlink()
    (r,) = import_path(cache, bare, project="bare")
    assert r.result.version.name == "demo-dataset"
    assert cache.table_info(r.result.version, "dataset_table").num_rows == 12


def test_offline_run_imports_run_artifacts_and_lineage(wb, cache):
    run_dir = Path(wb["run_dir"])
    results = import_path(cache, run_dir)
    runs = cache.runs("compat")
    assert len(runs) == 1
    run = runs[0]
    assert run.config["lr"] == 0.01 and run.summary["best_acc"] == 0.875 and run.job_type == "build"
    assert [h["loss"] for _, h in cache.history(run.id)] == [0.5, 0.25]
    refs = [r.result.version.ref for r in results if r.result]
    assert refs == ["compat/demo-dataset:v0", "compat/demo-predictions:v0"]
    preds, ds = cache.resolve("compat/demo-predictions:v0"), cache.resolve("compat/demo-dataset:v0")
    assert cache.producer(preds) == run.id and cache.producer(ds) == run.id
    assert cache.table_info(preds, "predictions_table").num_rows == 12
    # the same content imported from the download folders is not a new version
    again = import_path(cache, wb["base"] / "artifacts", project="compat")
    assert not any(r.result.created for r in again)


def test_wandb_table_survives_desktopviz_and_loads_back_in_wandb(wb, cache, tmp_path):
    root = wb["base"] / "artifacts" / "demo-dataset:v0"
    import_path(cache, root, project="compat")
    with dv.open_cache(cache.root) as c:
        out = c.artifact("compat/demo-dataset:v0").download(tmp_path / "out" / "demo-dataset:v0")
    original = load_with_wandb(root, "dataset_table.table.json", tmp_path / "a")
    again = load_with_wandb(out, "dataset_table.table.json", tmp_path / "b")
    assert again["columns"] == original["columns"]
    assert same(again["data"], original["data"])


def test_table_written_by_desktopviz_loads_in_wandb_with_equal_cells(tmp_path):
    table = dv.Table(columns=["id", "image", "score", "meta", "tags", "flag", "text", "none"])
    for i in range(5):
        table.add_data(
            i,
            sample_image(i),
            i / 3,
            {"geo": {"lat": 1.5, "lon": -2.0}, "n": i},
            ["a", str(i)],
            i % 2 == 0,
            "naïve 日本 🎉",
            None,
        )
    with dv.init(project="p", dir=tmp_path / "cache") as run:
        art = dv.Artifact("ds", "dataset")
        art.add(table, "samples")
        run.log_artifact(art)
        root = art.download(tmp_path / "artifacts" / "ds:v0")
    written = json.loads((root / "samples.table.json").read_text())["data"]
    loaded = load_with_wandb(root, "samples.table.json", tmp_path / "w")
    assert loaded["columns"] == table.columns
    for i, (want, got) in enumerate(zip(table.data, loaded["data"], strict=True)):
        img = got[1]
        assert img["sha256"] == want[1].sha256 and img["caption"] == f"sample {i}"
        assert (img["width"], img["height"]) == (24, 20)
        assert img["boxes"]["ground_truth"] == want[1].boxes["ground_truth"]["box_data"]
        assert img["masks"]["ground_truth"] == written[i][1]["masks"]["ground_truth"]["sha256"]
        assert img["classes"] == [[0, "background"], [1, "car"], [2, "road"]]
        assert want[0] == got[0] and want[2:] == got[2:]


def test_wandb_table_rewritten_by_the_sdk_loads_in_wandb_equal(wb, cache, tmp_path):
    """wandb -> desktopviz import -> dv get() -> dv add() to a new artifact -> wandb loads it equal."""
    root = wb["base"] / "artifacts" / "demo-dataset:v0"
    import_path(cache, root, project="compat")
    with dv.init(project="compat", dir=cache.root) as run:
        source = run.use_artifact("demo-dataset:v0")
        samples = source.get("dataset_table")
        copy = dv.Artifact("dataset-copy", "dataset")
        copy.add(samples, "dataset_table")
        run.log_artifact(copy)
        out = copy.download(tmp_path / "out" / "dataset-copy:v0")
        assert not [f for f in copy.files() if f.startswith("media/images/")] or all(
            f.ref
            for f in cache.files(cache.resolve("compat/dataset-copy:v0"))
            if f.path.startswith("media/images/")
        )
    original = load_with_wandb(root, "dataset_table.table.json", tmp_path / "a")
    again = load_with_wandb(out, "dataset_table.table.json", tmp_path / "b")
    assert again["columns"] == original["columns"]
    for want, got in zip(original["data"], again["data"], strict=True):
        for c, (w, g) in enumerate(zip(want, got, strict=True)):
            assert same(w, g), (original["columns"][c], w, g)


def test_offline_run_without_wandb_installed_says_what_to_install(wb, tmp_path):
    import subprocess
    import sys

    code = (
        "import sys\n"
        "class Hide:\n"
        "    def find_spec(self, name, path=None, target=None):\n"
        "        if name == 'wandb' or name.startswith('wandb.'): raise ModuleNotFoundError(name)\n"
        "sys.meta_path.insert(0, Hide())\n"
        "from desktopviz.cli.main import main\n"
        f"raise SystemExit(main(['--cache', {str(tmp_path / 'c')!r}, 'import', {wb['run_dir']!r}]))\n"
    )
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert r.returncode == 2 and "pip install wandb" in r.stderr and r.stderr.count("\n") == 1
