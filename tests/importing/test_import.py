"""Import from every kind of input into a real cache, then read it back."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from PIL import Image

from desktopviz.errors import FormatError
from desktopviz.formats.manifest import ManifestEntry, artifact_digest, file_digest, manifest_json
from desktopviz.importing import import_path
from desktopviz.importing.detect import default_project


def read(cache, ref, table=None) -> pa.Table:
    info = cache.table_info(cache.resolve(ref), table)
    return pq.read_table(cache.parquet_path(info))


def png(path: Path, seed: int, size=(12, 10)) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    Image.fromarray(rng.integers(0, 255, (size[1], size[0], 3), dtype=np.uint8)).save(path)
    return path


def test_csv_parquet_jsonl_become_one_table_each(tmp_path, cache):
    src = tmp_path / "proj"
    src.mkdir()
    (src / "scores.csv").write_text("id,score,label\n1,0.5,car\n2,0.25,bus\n")
    pq.write_table(
        pa.table({"id": [1, 2, 3], "tags": [["a"], [], ["b", "c"]]}), src / "items.parquet"
    )
    (src / "events.jsonl").write_text('{"id": 1, "meta": {"a": 1}}\n\n{"id": 2, "extra": "x"}\n')
    for name in ("scores.csv", "items.parquet", "events.jsonl"):
        (r,) = import_path(cache, src / name)
        assert r.project == "proj" and r.result.created
    assert read(cache, "scores:latest").to_pylist() == [
        {"id": 1, "score": 0.5, "label": "car"},
        {"id": 2, "score": 0.25, "label": "bus"},
    ]
    assert read(cache, "items:v0").column("tags").to_pylist() == [["a"], [], ["b", "c"]]
    events = read(cache, "events:v0").to_pylist()
    assert events[0]["meta"] == {"a": 1} and events[1]["extra"] == "x" and events[1]["meta"] is None
    v = cache.resolve("scores:v0")
    assert [f.path for f in cache.files(v)] == ["scores.csv"] and v.type == "dataset"


def test_unchanged_content_makes_no_version_and_changed_makes_the_next(tmp_path, cache):
    f = tmp_path / "p" / "t.csv"
    f.parent.mkdir()
    f.write_text("a\n1\n")
    assert import_path(cache, f)[0].result.created
    assert not import_path(cache, f)[0].result.created
    f.write_text("a\n2\n")
    r = import_path(cache, f)[0]
    assert r.result.created and r.result.version.index == 1
    assert [v.tag for v in cache.versions("p", "t")] == ["v0", "v1"]


def test_image_folder_is_one_table_with_labels_from_subfolders(tmp_path, cache):
    root = tmp_path / "pets"
    for i, label in enumerate(["cat", "cat", "dog"]):
        png(root / label / f"{i}.png", i)
    (r,) = import_path(cache, root, project="zoo")
    assert r.result.version.ref == "zoo/pets:v0"
    rows = read(cache, "zoo/pets:v0").to_pylist()
    assert [(row["path"], row["label"]) for row in rows] == [
        ("cat/0.png", "cat"),
        ("cat/1.png", "cat"),
        ("dog/2.png", "dog"),
    ]
    assert rows[0]["image"]["width"] == 12 and rows[0]["image"]["height"] == 10


def wandb_like_folder(root: Path, with_manifest: bool) -> Path:
    png(root / "media/images/a.png", 1)
    cell = {
        "_type": "image-file",
        "path": "media/images/a.png",
        "width": 12,
        "height": 10,
        "format": "png",
        "boxes": {
            "gt": [{"position": {"middle": [0.5, 0.5], "width": 0.2, "height": 0.4}, "class_id": 1}]
        },
        "classes": {"type": "classes-file", "path": "media/classes/c_cls.classes.json"},
    }
    (root / "media/classes").mkdir(parents=True)
    (root / "media/classes/c_cls.classes.json").write_text(
        json.dumps({"_type": "classes", "class_set": [{"id": 1, "name": "car"}]})
    )
    (root / "ds.table.json").write_text(
        json.dumps(
            {"_type": "table", "columns": ["id", "img"], "data": [[0, cell], [1, None]]},
            sort_keys=True,
        )
    )
    if with_manifest:
        entries = {
            rel: ManifestEntry(rel, file_digest(root / rel), (root / rel).stat().st_size)
            for rel in ("ds.table.json", "media/images/a.png", "media/classes/c_cls.classes.json")
        }
        (root / "wandb_manifest.json").write_text(json.dumps(manifest_json(entries)))
    return root


@pytest.mark.parametrize("with_manifest", [True, False])
def test_wandb_download_folder(tmp_path, cache, with_manifest):
    root = wandb_like_folder(tmp_path / "team" / "artifacts" / "ds:v3", with_manifest)
    (r,) = import_path(cache, root)
    v = r.result.version
    assert (v.project, v.name, v.index) == ("team", "ds", 0)
    expected = {
        p: file_digest(root / p)
        for p in ("ds.table.json", "media/images/a.png", "media/classes/c_cls.classes.json")
    }
    assert v.digest == artifact_digest(expected)
    img = read(cache, "ds:v0").column("img").to_pylist()[0]
    assert img["boxes"] == [
        (
            "gt",
            [
                {
                    "class_id": 1,
                    "label": "car",
                    "caption": None,
                    "domain": None,
                    "min_x": 0.4,
                    "min_y": 0.3,
                    "max_x": 0.6,
                    "max_y": 0.7,
                    "scores": None,
                }
            ],
        )
    ]


def test_artifacts_folder_imports_every_version_in_order(tmp_path, cache):
    arts = tmp_path / "proj" / "artifacts"
    wandb_like_folder(arts / "ds:v0", True)
    shutil.copytree(arts / "ds:v0", arts / "ds:v1")
    (arts / "ds:v1" / "wandb_manifest.json").unlink()
    (arts / "ds:v1" / "notes.txt").write_text("second version")
    results = import_path(cache, arts)
    assert [r.result.version.ref for r in results] == ["proj/ds:v0", "proj/ds:v1"]


def test_manifest_digest_mismatch_is_refused(tmp_path, cache):
    root = wandb_like_folder(tmp_path / "ds:v0", True)
    (root / "media/images/a.png").write_bytes((root / "media/images/a.png").read_bytes() + b"x")
    with pytest.raises(FormatError, match="manifest digest"):
        import_path(cache, root)
    assert cache.versions() == []


def test_single_table_json_brings_its_media(tmp_path, cache):
    root = wandb_like_folder(tmp_path / "loose", False)
    (r,) = import_path(cache, root / "ds.table.json", project="x")
    assert r.result.version.name == "ds"
    assert {f.path for f in cache.files(r.result.version)} >= {
        "ds.table.json",
        "media/images/a.png",
    }


def test_default_project_skips_wandb_folders(tmp_path):
    assert default_project(tmp_path / "myproj" / "artifacts" / "ds:v0") == "myproj"
    assert default_project(tmp_path / "myproj" / "data.csv") == "myproj"


def test_xxh128_manifest(tmp_path, cache):
    import base64

    import xxhash

    root = tmp_path / "p" / "fast:v0"
    root.mkdir(parents=True)
    (root / "a.csv").write_text("x\n1\n")
    digest = base64.b64encode(xxhash.xxh128((root / "a.csv").read_bytes()).digest()).decode()
    (root / "wandb_manifest.json").write_text(
        json.dumps(
            {
                "version": 1,
                "contents": {"a.csv": {"digest": digest, "size": 4, "extra": {"alg": "XXH128"}}},
            }
        )
    )
    (r,) = import_path(cache, root)
    assert r.result.version.digest == artifact_digest({"a.csv": digest})
    assert cache.files(r.result.version)[0].wandb_digest == digest
    (root / "a.csv").write_text("x\n2\n")
    with pytest.raises(FormatError, match="xxh128"):
        import_path(cache, root, project="other")


def test_client_artifact_reference_resolves_by_client_id(tmp_path, cache):
    src = wandb_like_folder(tmp_path / "p" / "ds:v0", True)
    (r,) = import_path(cache, src)
    cache.conn.execute(
        "UPDATE versions SET client_id = 'abc123' WHERE id = ?", (r.result.version.id,)
    )
    preds = tmp_path / "p" / "preds:v0"
    preds.mkdir()
    shutil.copyfile(src / "media/images/a.png", preds / "a.png")
    (preds / "wandb_manifest.json").write_text(
        json.dumps(
            {
                "version": 1,
                "contents": {
                    "a.png": {
                        "digest": file_digest(src / "media/images/a.png"),
                        "size": 0,
                        "ref": "wandb-client-artifact://abc123:latest/media/images/a.png",
                    }
                },
            }
        )
    )
    (p,) = import_path(cache, preds)
    (f,) = cache.files(p.result.version)
    assert f.ref_version_id == r.result.version.id and f.ref_path == "media/images/a.png"
