"""Every kind of input README's `import` lists, through the installed console script: the line it
prints, the version `ls` shows, the rows `table` prints (compared with what was written), and a
second import of the same thing that says "unchanged" and makes no new version."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from desktopviz.store.cache import Cache
from tests.cli_support import dv, png_bytes
from tests.wandb_support import build_wandb_artifacts


@pytest.fixture(scope="module")
def wb(tmp_path_factory) -> dict:
    """A dataset and a predictions artifact logged by a real (offline) wandb run, made once."""
    base = tmp_path_factory.mktemp("wandb")
    built = build_wandb_artifacts(base)
    built["artifacts"] = base / "artifacts"
    return built


def imported(cache: Path, target: Path, *lines: str, project: str | None = None) -> None:
    """Import ``target``: exit 0 and, after ``project: P``, exactly ``lines`` (each ``new``)."""
    extra = ["--project", project] if project else []
    r = dv("import", str(target), *extra, cache=cache)
    assert r.returncode == 0, r.stderr
    assert r.stdout.splitlines()[1:] == [f"  {line}" for line in lines], r.stdout
    assert r.stdout.startswith("project: ")
    assert all("new version" in line for line in lines if not line.startswith("run "))


def imported_again(cache: Path, target: Path, project: str | None = None) -> None:
    """The same input again: every version line says "unchanged"."""
    extra = ["--project", project] if project else []
    r = dv("import", str(target), *extra, cache=cache)
    assert r.returncode == 0, r.stderr
    versions = [line for line in r.stdout.splitlines()[1:] if not line.startswith("  run ")]
    assert versions and all(line.endswith(", unchanged)") for line in versions), r.stdout


def only_v0(cache: Path, project: str, name: str, files: int) -> None:
    """``ls PROJECT/NAME`` lists one version, v0, holding ``files`` files."""
    listing = dv("ls", f"{project}/{name}", cache=cache).stdout.splitlines()
    assert len(listing) == 1 and listing[0].startswith(f"v0\tlatest\t{files} files\t"), listing


def rows(cache: Path, ref: str, table: str | None = None) -> list[dict]:
    r = dv("table", ref, *([table] if table else []), cache=cache)
    assert r.returncode == 0, r.stderr
    return [json.loads(line) for line in r.stdout.splitlines()]


def written_rows(table_json: Path, skip: tuple[str, ...] = ()) -> list[dict]:
    """The rows of a W&B ``table.json`` as written, as dicts by column."""
    t = json.loads(table_json.read_text())
    return [
        {c: v for c, v in zip(t["columns"], row, strict=True) if c not in skip} for row in t["data"]
    ]


def without(got: list[dict], *skip: str) -> list[dict]:
    return [{c: v for c, v in row.items() if c not in skip} for row in got]


def assert_dataset_table(cache: Path, ref: str, root: Path) -> None:
    """Every cell of the wandb dataset table equals the file's (the .npz matrix: by shape)."""
    got = rows(cache, ref, "dataset_table")
    assert without(got, "matrix") == written_rows(root / "dataset_table.table.json", ("matrix",))
    assert all(np.asarray(r["matrix"]).shape == (2, 3) for r in got)
    assert got[0]["image"]["boxes"]["ground_truth"][0]["box_caption"] == "car"


def manifest_count(root: Path) -> int:
    return len(json.loads((root / "wandb_manifest.json").read_text())["contents"])


# --- W&B download folders -------------------------------------------------------------------


def test_download_folder_with_manifest(wb, tmp_path):
    cache, root = tmp_path / "cache", wb["artifacts"] / "demo-dataset:v0"
    n = manifest_count(root)
    imported(
        cache,
        root,
        f"kinds/demo-dataset:v0 [latest] (dataset, {n} files, new version)",
        project="kinds",
    )
    assert_dataset_table(cache, "kinds/demo-dataset:v0", root)
    imported_again(cache, root, project="kinds")
    only_v0(cache, "kinds", "demo-dataset", n)


def test_download_folder_without_manifest(wb, tmp_path):
    cache, root = tmp_path / "cache", tmp_path / "bare" / "demo-dataset:v0"
    shutil.copytree(wb["artifacts"] / "demo-dataset:v0", root)
    (root / "wandb_manifest.json").unlink()
    n = sum(1 for p in root.rglob("*") if p.is_file())
    imported(cache, root, f"bare/demo-dataset:v0 [latest] (dataset, {n} files, new version)")
    assert_dataset_table(cache, "bare/demo-dataset:v0", root)
    imported_again(cache, root)
    only_v0(cache, "bare", "demo-dataset", n)


def test_folder_holding_many_download_folders(wb, tmp_path):
    cache, arts = tmp_path / "cache", wb["artifacts"]
    ds, preds = arts / "demo-dataset:v0", arts / "demo-predictions:v0"
    imported(
        cache,
        arts,
        f"many/demo-dataset:v0 [latest] (dataset, {manifest_count(ds)} files, new version)",
        f"many/demo-predictions:v0 [latest] (predictions, {manifest_count(preds)} files, "
        "new version)",
        project="many",
    )
    assert_dataset_table(cache, "many/demo-dataset:v0", ds)
    got = rows(cache, "many/demo-predictions:latest", "predictions_table")
    assert got == written_rows(preds / "predictions_table.table.json")
    imported_again(cache, arts, project="many")
    only_v0(cache, "many", "demo-dataset", manifest_count(ds))
    only_v0(cache, "many", "demo-predictions", manifest_count(preds))


# --- W&B offline runs -----------------------------------------------------------------------


def run_wandb_file(wb) -> Path:
    (found,) = Path(wb["run_dir"]).glob("run-*.wandb")
    return found


@pytest.mark.parametrize("given", ["folder", "wandb-file"])
def test_offline_run(wb, tmp_path, given):
    """The run (config, metrics, summary) and the artifacts it logged, with their rows."""
    cache = tmp_path / "cache"
    target = Path(wb["run_dir"]) if given == "folder" else run_wandb_file(wb)
    run_id = run_wandb_file(wb).stem.removeprefix("run-")
    ds, preds = wb["artifacts"] / "demo-dataset:v0", wb["artifacts"] / "demo-predictions:v0"
    r = dv("import", str(target), cache=cache)
    assert r.returncode == 0, r.stderr  # before: "reading W&B offline runs needs `wandb`"
    assert r.stdout.splitlines() == [
        "project: compat",
        f"  compat/demo-dataset:v0 [latest] (dataset, {manifest_count(ds)} files, new version)",
        f"  compat/demo-predictions:v0 [latest] (predictions, {manifest_count(preds)} files, "
        "new version)",
        f"  run {run_id} (compat)",
    ], r.stdout
    assert_dataset_table(cache, "compat/demo-dataset:v0", ds)
    got = rows(cache, "compat/demo-predictions:v0", "predictions_table")
    assert got == written_rows(preds / "predictions_table.table.json")
    with Cache(cache, create=False) as c:
        (run,) = c.runs("compat")
        assert run.id == run_id and run.job_type == "build"
        assert run.config["lr"] == 0.01 and run.config["layers"] == [64, 32]
        assert run.summary["best_acc"] == 0.875
        assert [(h["loss"], h["acc"]) for _, h in c.history(run.id)] == [(0.5, 0.75), (0.25, 0.875)]
        assert c.producer(c.resolve("compat/demo-predictions:v0")) == run.id
    imported_again(cache, target)
    assert dv("ls", cache=cache).stdout == "compat\t2 artifacts\t1 runs\n"
    assert dv("ls", "compat", cache=cache).stdout == (
        "demo-dataset\tdataset\t1 versions\ndemo-predictions\tpredictions\t1 versions\n"
    )


# --- single files ---------------------------------------------------------------------------


def test_table_json_with_its_media(tmp_path):
    cache, proj = tmp_path / "cache", tmp_path / "proj"
    (proj / "media" / "images").mkdir(parents=True)
    data = []
    for i in range(3):
        (proj / "media" / "images" / f"{i}.png").write_bytes(png_bytes(8 + i, 8))
        image = {
            "_type": "image-file",
            "path": f"media/images/{i}.png",
            "width": 8 + i,
            "height": 8,
            "format": "png",
        }
        data.append([i, image, f"s{i}", {"k": [i, i + 1]}])
    table = {"_type": "table", "columns": ["id", "image", "label", "meta"], "data": data}
    (proj / "shots.table.json").write_text(json.dumps(table))
    imported(
        cache, proj / "shots.table.json", "proj/shots:v0 [latest] (dataset, 4 files, new version)"
    )
    got = rows(cache, "proj/shots:latest")
    assert [(r["id"], r["label"], r["meta"]) for r in got] == [
        (i, f"s{i}", {"k": [i, i + 1]}) for i in range(3)
    ]
    assert [(r["image"]["path"], r["image"]["width"]) for r in got] == [
        (f"media/images/{i}.png", 8 + i) for i in range(3)
    ]
    imported_again(cache, proj / "shots.table.json")
    only_v0(cache, "proj", "shots", 4)


EXPECTED = [
    {"id": 1, "name": "naïve café", "score": 0.5, "ok": True},
    {"id": 2, "name": "日本語", "score": -1.25, "ok": False},
    {"id": 3, "name": "plain", "score": 3.0, "ok": True},
]
NESTED = [
    {"id": 0, "meta": {"geo": {"lat": 1.5}, "tags": ["a", "b"]}, "v": [1, 2, 3]},
    {"id": 1, "meta": {"geo": {"lat": -2.0}, "tags": []}, "v": []},
]


def _delimited(path: Path, sep: str) -> None:
    lines = [sep.join(EXPECTED[0])] + [
        sep.join([str(r["id"]), r["name"], repr(r["score"]), str(r["ok"]).lower()])
        for r in EXPECTED
    ]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


def _jsonl(path: Path, rows: list[dict]) -> None:
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), "utf-8")


def test_csv_tsv_parquet_and_jsonl_files(tmp_path):
    """One import of the four files (one process start instead of four: the suite runs on 2 cores)."""
    cache, proj = tmp_path / "cache", tmp_path / "proj"
    proj.mkdir()
    _delimited(proj / "s_csv.csv", ",")
    _delimited(proj / "s_tsv.tsv", "\t")
    pq.write_table(pa.Table.from_pylist(EXPECTED), proj / "s_parquet.parquet")
    _jsonl(proj / "s_jsonl.jsonl", EXPECTED)
    _jsonl(proj / "nested.jsonl", NESTED)
    files = sorted(proj.iterdir())
    r = dv("import", *map(str, files), cache=cache)
    assert r.returncode == 0, r.stderr
    assert [line for line in r.stdout.splitlines() if not line.startswith("project:")] == [
        f"  proj/{p.stem}:v0 [latest] (dataset, 1 files, new version)" for p in files
    ], r.stdout
    for kind in ("csv", "tsv", "parquet", "jsonl"):
        assert rows(cache, f"proj/s_{kind}:v0") == EXPECTED, kind
    assert rows(cache, "proj/nested:v0") == NESTED
    again = dv("import", *map(str, files), cache=cache)
    assert again.returncode == 0 and again.stdout.count(", unchanged)") == 5, again.stdout
    assert dv("ls", "proj", cache=cache).stdout.splitlines() == sorted(
        f"{p.stem}\tdataset\t1 versions" for p in files
    )


# --- folders --------------------------------------------------------------------------------


def test_image_folder_with_class_subfolders(tmp_path):
    cache, root = tmp_path / "cache", tmp_path / "proj" / "pets"
    sizes = {"cat/a.png": (8, 6), "cat/b.png": (10, 6), "dog/c.png": (12, 7)}
    for rel, (w, h) in sizes.items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_bytes(png_bytes(w, h))
    # the images and the table made from them
    imported(cache, root, "proj/pets:v0 [latest] (dataset, 4 files, new version)")
    got = rows(cache, "proj/pets:v0")
    assert [(r["path"], r["label"]) for r in got] == [
        ("cat/a.png", "cat"),
        ("cat/b.png", "cat"),
        ("dog/c.png", "dog"),
    ]
    assert [(r["image"]["path"], r["image"]["width"], r["image"]["height"]) for r in got] == [
        (rel, w, h) for rel, (w, h) in sizes.items()
    ]
    imported_again(cache, root)
    only_v0(cache, "proj", "pets", 4)


def test_any_other_folder_is_an_artifact_of_its_files(tmp_path):
    cache, root = tmp_path / "cache", tmp_path / "proj" / "misc"
    (root / "sub").mkdir(parents=True)
    (root / "notes.txt").write_text("notes")
    (root / "sub" / "config.yaml").write_text("lr: 0.1\n")
    _delimited(root / "sub" / "scores.csv", ",")
    imported(cache, root, "proj/misc:v0 [latest] (dataset, 3 files, new version)")
    assert rows(cache, "proj/misc:v0", "sub/scores.csv") == EXPECTED
    imported_again(cache, root)
    only_v0(cache, "proj", "misc", 3)
