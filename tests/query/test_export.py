"""Exporting a query's rows: every format reads back equal to the rows shown, the file appears
whole or not at all, and a cancelled export keeps what was there."""

from __future__ import annotations

import csv
import hashlib
import json
from pathlib import Path

import pyarrow.parquet as pq
import pytest

import desktopviz as dv
from desktopviz.errors import Cancelled, DesktopvizError
from desktopviz.query.export import export_result


@pytest.fixture(scope="module")
def query(tmp_path_factory):
    cache_dir = tmp_path_factory.mktemp("export") / "cache"
    with dv.init(project="p", dir=cache_dir) as run:
        t = dv.Table(
            columns=["id", "label", "score", "tags"],
            data=[[i, ["a", "b"][i % 2], i / 4, ["x"] * (i % 3)] for i in range(5000)],
        )
        art = dv.Artifact("preds", "predictions")
        art.add(t, "predictions")
        run.log_artifact(art)
    c = dv.open_cache(cache_dir)
    yield c.table("preds:v0").filter('row["label"] == "b"').sort("score", descending=True)
    c.close()


def test_every_format_reads_back_as_the_rows_shown(query, tmp_path):
    want = query.to_arrow().to_pylist()
    assert len(want) == 2500
    seen = []
    n = export_result(query.result, tmp_path / "v.parquet", progress=seen.append)
    assert n == 2500 and seen[-1].done == 2500 and seen[-1].total == 2500
    assert pq.read_table(tmp_path / "v.parquet").to_pylist() == want
    export_result(query.result, tmp_path / "v.jsonl")
    lines = (tmp_path / "v.jsonl").read_text().splitlines()
    assert [json.loads(x) for x in lines] == want
    export_result(query.result, tmp_path / "v.csv")
    with open(tmp_path / "v.csv", newline="") as f:
        rows = list(csv.DictReader(f))
    assert [int(r["id"]) for r in rows] == [r["id"] for r in want]
    assert json.loads(rows[0]["tags"]) == want[0]["tags"]
    assert list(tmp_path.glob(".*.part")) == []


def test_a_cancelled_export_keeps_the_old_file(query, tmp_path):
    target = tmp_path / "v.csv"
    target.write_text("old\n")
    with pytest.raises(Cancelled):
        export_result(query.result, target, cancel=lambda: True)
    assert target.read_text() == "old\n"
    assert list(tmp_path.glob(".*.part")) == []


def test_an_unknown_suffix_is_refused_by_name(query, tmp_path):
    with pytest.raises(DesktopvizError, match=r"v\.xlsx.*\.parquet, \.csv, \.jsonl"):
        export_result(query.result, tmp_path / "v.xlsx")


@pytest.fixture(scope="module")
def images(tmp_path_factory):
    from tests.support import sample_image

    cache_dir = tmp_path_factory.mktemp("export-media") / "cache"
    with dv.init(project="p", dir=cache_dir) as run:
        t = dv.Table(columns=["id", "image"], data=[[i, sample_image(i)] for i in range(6)])
        art = dv.Artifact("scenes", "dataset")
        art.add(t, "samples")
        run.log_artifact(art)
    c = dv.open_cache(cache_dir)
    yield c.table("scenes:v0").filter('row["id"] >= 2')
    c.close()


def _sha(path):
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_media_copied_beside_the_export_are_the_images_shown(images, tmp_path):
    n = export_result(images.result, tmp_path / "scenes.jsonl", media="copy")
    assert n == 4
    rows = [json.loads(x) for x in (tmp_path / "scenes.jsonl").read_text().splitlines()]
    for row in rows:
        image = tmp_path / row["image"]["path"]
        assert row["image"]["path"].startswith("scenes_media/media/")
        assert image.is_file() and _sha(image) == row["image"]["sha256"]
        mask = tmp_path / row["image"]["masks"]["ground_truth"]["path"]
        assert _sha(mask) == row["image"]["masks"]["ground_truth"]["sha256"]
    assert len(list((tmp_path / "scenes_media").rglob("*.png"))) == 8  # 4 images, 4 masks
    assert list(tmp_path.glob(".*")) == []  # no partial file or folder left


def test_media_as_paths_point_at_the_files_in_the_cache(images, tmp_path):
    export_result(images.result, tmp_path / "scenes.csv", media="paths")
    with open(tmp_path / "scenes.csv", newline="") as f:
        rows = list(csv.DictReader(f))
    for row in rows:
        cell = json.loads(row["image"])
        assert Path(cell["path"]).is_absolute() and _sha(Path(cell["path"])) == cell["sha256"]
    assert not (tmp_path / "scenes_media").exists()


def test_parquet_media_structs_point_at_the_copies(images, tmp_path):
    export_result(images.result, tmp_path / "scenes.parquet", media="copy")
    table = pq.read_table(tmp_path / "scenes.parquet")
    for cell in table.column("image").to_pylist():
        assert _sha(tmp_path / cell["path"]) == cell["sha256"]
        assert json.loads(cell["json"])["path"] == cell["path"]
        assert dict(cell["masks"])["ground_truth"]["path"].startswith("scenes_media/")


def test_a_cancelled_media_export_leaves_no_folder(images, tmp_path):
    with pytest.raises(Cancelled):
        export_result(images.result, tmp_path / "scenes.jsonl", media="copy", cancel=lambda: True)
    assert list(tmp_path.iterdir()) == []
