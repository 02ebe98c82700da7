"""``table --output F --media copy|paths`` from the command line: media cells of an image folder
(cells that record no digest) point at copies beside the file or at the cache's files, and a
damaged blob stops the export with one line, leaving nothing behind."""

from __future__ import annotations

import csv
import hashlib
import json
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

import desktopviz as dv
from desktopviz.store.cache import Cache
from tests.blob_support import damage_blob
from tests.cli_support import dv as run_dv
from tests.support import sample_image


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.fixture
def pets(tmp_path: Path) -> tuple[Path, dict[str, Path]]:
    """A cache holding ``zoo/pets:v0``, imported from a folder of images in class folders."""
    root, images = tmp_path / "pets", {}
    for i, label in enumerate(["cat", "cat", "dog"]):
        p = root / label / f"{i}.png"
        p.parent.mkdir(parents=True, exist_ok=True)
        pixels = np.random.default_rng(i).integers(0, 255, (10, 12, 3), dtype=np.uint8)
        Image.fromarray(pixels).save(p)
        images[f"{label}/{i}.png"] = p
    cache_dir = tmp_path / "cache"
    r = run_dv("import", str(root), "--project", "zoo", cache=cache_dir)
    assert r.returncode == 0, r.stderr
    return cache_dir, images


def csv_rows(path: Path) -> list[dict[str, str]]:
    with open(path, newline="") as f:
        return list(csv.DictReader(f))


def test_media_copy_of_an_image_folder_copies_the_images_beside_the_file(pets, tmp_path):
    cache_dir, images = pets
    out = tmp_path / "out" / "pets.csv"
    out.parent.mkdir()
    r = run_dv(
        "table",
        "zoo/pets:v0",
        *("--output", str(out), "--format", "csv", "--media", "copy"),
        cache=cache_dir,
    )
    assert r.returncode == 0, r.stderr
    rows = csv_rows(out)
    assert [row["path"] for row in rows] == list(images)
    for row in rows:
        cell = json.loads(row["image"])
        assert cell["path"] == f"pets_media/{row['path']}"  # relative to the file
        assert (out.parent / cell["path"]).read_bytes() == images[row["path"]].read_bytes()
    assert sorted(p.name for p in (out.parent / "pets_media").rglob("*.png")) == [
        "0.png",
        "1.png",
        "2.png",
    ]


def test_media_paths_of_an_image_folder_point_at_the_cache_files(pets, tmp_path):
    cache_dir, images = pets
    out = tmp_path / "pets.jsonl"
    r = run_dv("table", "zoo/pets:v0", "--output", str(out), "--media", "paths", cache=cache_dir)
    assert r.returncode == 0, r.stderr
    rows = [json.loads(line) for line in out.read_text().splitlines()]
    assert len(rows) == 3 and not (tmp_path / "pets_media").exists()
    for row in rows:
        local = Path(row["image"]["path"])
        assert local.is_absolute() and local.is_relative_to(cache_dir.resolve())
        assert local.name == sha256(images[row["path"]])  # the blob, named by its digest
        assert local.read_bytes() == images[row["path"]].read_bytes()


@pytest.fixture
def scenes(tmp_path: Path) -> Path:
    """A cache holding ``p/scenes:v0``: SDK images whose cells record their digests."""
    cache_dir = tmp_path / "cache"
    with dv.init(project="p", dir=cache_dir) as run:
        t = dv.Table(columns=["id", "image"], data=[[i, sample_image(i)] for i in range(3)])
        art = dv.Artifact("scenes", "dataset")
        art.add(t, "samples")
        run.log_artifact(art)
    return cache_dir


@pytest.mark.parametrize("which", ["pets", "scenes"])
def test_a_damaged_blob_stops_media_copy_with_one_line_and_no_output(which, request, tmp_path):
    cache_dir = request.getfixturevalue(which)
    cache_dir = cache_dir[0] if isinstance(cache_dir, tuple) else cache_dir
    ref = {"pets": "zoo/pets:v0", "scenes": "p/scenes:v0"}[which]
    with Cache(cache_dir) as cache:
        version = cache.resolve(ref)
        damaged = next(f for f in cache.files(version) if f.path.endswith(".png"))
        damage_blob(cache, damaged.sha256, lambda d: d[:40] + b"\xde\xad\xbe\xef" + d[44:])
    out = tmp_path / "export" / "out.csv"
    out.parent.mkdir()
    r = run_dv(
        "table", ref, "--output", str(out), "--format", "csv", "--media", "copy", cache=cache_dir
    )
    assert r.returncode == 2, (r.stdout, r.stderr)
    assert r.stderr.count("\n") == 1 and "Traceback" not in r.stderr
    line = r.stderr.strip()
    assert line.startswith("desktopviz: error: damaged file in the cache:")
    assert ref in line and damaged.path in line and damaged.sha256 in line
    assert "desktopviz verify" in line
    assert list(out.parent.iterdir()) == []  # no out.csv, no out_media/, no partial files
