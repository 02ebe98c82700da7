"""An import trusts nothing it did not check: files against their manifest even when the manifest
was seen before, and a failed import leaves no file behind (issue 10, items 2, 5 and 9)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from desktopviz.errors import Cancelled, FormatError
from desktopviz.formats.manifest import ManifestEntry, file_digest, manifest_json
from desktopviz.importing import import_path
from tests.cli_support import dv, stored_files
from tests.importing.test_import import png, read, wandb_like_folder


def test_altered_file_under_a_known_manifest_is_not_called_unchanged(tmp_path):
    cache = tmp_path / "cache"
    root = wandb_like_folder(tmp_path / "team" / "artifacts" / "ds:v0", with_manifest=True)
    first = dv("import", str(root), cache=cache)
    assert first.returncode == 0 and "new version" in first.stdout, first.stderr
    again = dv("import", str(root), cache=cache)
    assert again.returncode == 0 and "unchanged" in again.stdout, again.stderr

    image = root / "media/images/a.png"
    data = bytearray(image.read_bytes())
    data[-20] ^= 0xFF  # same size, other bytes; the manifest still has the old digest
    image.write_bytes(bytes(data))
    altered = dv("import", str(root), cache=cache)
    assert altered.returncode == 2, altered.stdout
    assert "unchanged" not in altered.stdout
    (line,) = altered.stderr.splitlines()
    assert "media/images/a.png" in line and "does not match its manifest digest" in line
    assert dv("ls", "team/ds", cache=cache).stdout.startswith("v0\t")
    assert "v1" not in dv("ls", "team/ds", cache=cache).stdout


def test_failed_imports_leave_no_blob_or_table_behind(tmp_path, cache):
    good = wandb_like_folder(tmp_path / "good" / "ds:v0", with_manifest=False)
    import_path(cache, good)
    before = stored_files(cache.root)

    # new images and a table whose last cell points at a file that is not there
    bad = tmp_path / "bad" / "other:v0"
    for i in range(5):
        png(bad / f"media/images/{i}.png", 100 + i)
    rows = [[i, {"_type": "image-file", "path": f"media/images/{i}.png"}] for i in range(5)]
    rows.append([5, {"_type": "image-file", "path": "media/images/missing.png"}])
    (bad / "t.table.json").write_text(
        json.dumps({"_type": "table", "columns": ["id", "img"], "data": rows})
    )
    with pytest.raises(FormatError, match="missing.png"):
        import_path(cache, bad)
    assert stored_files(cache.root) == before

    # a manifest whose digest does not match: the blobs copied before the mismatch are gone too
    mismatch = tmp_path / "mm" / "third:v0"
    for i in range(5):
        png(mismatch / f"media/{i}.png", 200 + i)
    entries = {
        f"media/{i}.png": ManifestEntry(
            f"media/{i}.png", file_digest(mismatch / f"media/{i}.png"), 1
        )
        for i in range(5)
    }
    entries["media/4.png"] = ManifestEntry("media/4.png", file_digest(good / "ds.table.json"), 1)
    (mismatch / "wandb_manifest.json").write_text(json.dumps(manifest_json(entries)))
    with pytest.raises(FormatError, match="manifest digest"):
        import_path(cache, mismatch)
    assert stored_files(cache.root) == before

    # a cancelled import, after some blobs and a table were written
    calls = []

    def cancel() -> bool:
        calls.append(1)
        return len(calls) > 40

    big = tmp_path / "big" / "fourth:v0"
    for i in range(30):
        png(big / f"media/{i}.png", 300 + i)
    big_rows = [[i, {"_type": "image-file", "path": f"media/{i}.png"}] for i in range(30)]
    (big / "t.table.json").write_text(
        json.dumps({"_type": "table", "columns": ["id", "img"], "data": big_rows})
    )
    with pytest.raises(Cancelled):
        import_path(cache, big, cancel=cancel)
    assert stored_files(cache.root) == before
    assert [v.name for v in cache.versions()] == ["ds"]
    assert not list(cache.leases_dir.iterdir()), "the import's lease is given back"


def test_failed_import_keeps_blobs_that_a_version_uses(tmp_path, cache):
    good = wandb_like_folder(tmp_path / "good" / "ds:v0", with_manifest=False)
    import_path(cache, good)
    before = stored_files(cache.root)
    bad = tmp_path / "bad" / "copy:v0"
    shutil.copytree(good, bad)  # the same image bytes as ds:v0
    (bad / "ds.table.json").write_text(
        '{"_type": "table", "columns": ["a"], "data": [[1], [2, 3]]}'
    )
    with pytest.raises(FormatError):
        import_path(cache, bad)
    assert stored_files(cache.root) == before
    assert cache.check() == []


def joined_download_folders(tmp_path: Path) -> tuple[Path, Path]:
    """``ds:v0`` (a table with images) and ``preds:v0`` as the wandb SDK downloads them without
    manifests: a JoinedTable whose first table is a copy of ds's table, named ``t1_<id>``, and
    none of that table's images (they stay in ds)."""
    ds = tmp_path / "team" / "artifacts" / "ds:v0"
    cells = []
    for i in range(3):
        png(ds / f"media/images/{i:020x}.png", i)
        cells.append(
            [
                i,
                {
                    "_type": "image-file",
                    "path": f"media/images/{i:020x}.png",
                    "width": 12,
                    "height": 10,
                    "format": "png",
                },
            ]
        )
    table = json.dumps({"_type": "table", "columns": ["id", "image"], "data": cells})
    (ds / "samples.table.json").write_text(table)
    preds = tmp_path / "team" / "artifacts" / "preds:v0"
    preds.mkdir(parents=True)
    (preds / "t1_140716457236944.table.json").write_text(table)
    (preds / "t2_140716457236944.table.json").write_text(
        json.dumps(
            {"_type": "table", "columns": ["id", "pred"], "data": [[i, f"p{i}"] for i in range(3)]}
        )
    )
    (preds / "joined.joined-table.json").write_text(
        json.dumps(
            {
                "_type": "joined-table",
                "join_key": "id",
                "table1": "t1_140716457236944.table.json",
                "table2": "t2_140716457236944.table.json",
            }
        )
    )
    return ds, preds


def test_joined_table_from_another_artifact_imports_when_that_version_is_cached(tmp_path, cache):
    ds, preds = joined_download_folders(tmp_path)
    import_path(cache, ds)
    (r,) = import_path(cache, preds)
    joined = read(cache, "preds:v0", "joined.joined-table.json")
    assert joined.num_rows == 3
    assert sorted(joined.column("pred").to_pylist()) == ["p0", "p1", "p2"]


def test_joined_table_from_another_artifact_in_the_same_import(tmp_path):
    ds, preds = joined_download_folders(tmp_path)
    # the dataset sorts after the predictions, so preds comes first and must wait for it
    ds.rename(ds.parent / "zz-ds:v0")
    cache = tmp_path / "cache"
    r = dv("import", str(preds.parent), cache=cache)
    assert r.returncode == 0, r.stderr
    assert "preds:v0" in r.stdout and "zz-ds:v0" in r.stdout
    rows = dv("table", "preds:v0", "joined.joined-table.json", cache=cache)
    assert rows.returncode == 0, rows.stderr
    assert sorted(json.loads(x)["pred"] for x in rows.stdout.splitlines()) == ["p0", "p1", "p2"]


def test_joined_table_whose_table_is_nowhere_is_still_refused(tmp_path):
    _, preds = joined_download_folders(tmp_path)
    r = dv("import", str(preds), cache=tmp_path / "cache")
    assert r.returncode == 2
    (line,) = r.stderr.splitlines()
    assert "media/images/" in line
