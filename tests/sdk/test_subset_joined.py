"""Saving rows of a joined table whose side is another artifact's table: the images, masks and
classes of that side live in the other artifact, and the new version refers to them there."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest

import desktopviz as dv
from tests.cli_support import dv as run_dv
from tests.support import sample_image
from tests.wandb_support import build_wandb_artifacts, load_with_wandb

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")
ROWS = 6


@pytest.fixture
def cache_dir(tmp_path: Path) -> Path:
    """``scenes`` (images with masks) and ``preds``, whose joined table's first side is scenes'
    table: none of the media files are files of ``preds``."""
    root = tmp_path / "cache"
    with dv.init(project="p", job_type="label", dir=root) as run:
        t = dv.Table(columns=["id", "label", "image"])
        for i in range(ROWS):
            t.add_data(i, ["car", "road"][i % 2], sample_image(i))
        art = dv.Artifact("scenes", "dataset")
        art.add(t, "samples")
        run.log_artifact(art)
    with dv.init(project="p", job_type="eval", dir=root) as run:
        samples = run.use_artifact("scenes:v0").get("samples")
        preds = dv.Table(columns=["id", "score"], data=[[i, i / ROWS] for i in range(ROWS)])
        art = dv.Artifact("preds", "predictions")
        art.add(preds, "preds")
        art.add(dv.JoinedTable(samples, preds, "id"), "joined")
        run.log_artifact(art)
    return root


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_saved_rows_of_a_joined_table_refer_to_the_other_artifacts_media(cache_dir, tmp_path):
    with dv.open_cache(cache_dir) as c:
        cache = c.cache
        scenes, preds = cache.resolve("scenes:v0"), cache.resolve("preds:v0")
        assert not [f for f in cache.files(preds) if f.path.startswith("media/")]
        q = c.table("preds:v0", "joined.joined-table.json").filter('row["score"] > 0.3')
        version = q.save_as("subset")
        files = {f.path: f for f in cache.files(version)}
        source = {f.path: f.sha256 for f in cache.files(scenes)}
        media = {p: f for p, f in files.items() if p.startswith("media/")}
        masks = [p for p in media if "/mask/" in p]
        assert len(masks) == 4 and any("/classes/" in p for p in media)  # 4 rows: ids 2..5
        for p, f in media.items():  # references to scenes' files, not copies
            assert f.sha256 == source[p] and f.ref_version_id == scenes.id
            assert sha256(cache.file_path(version, p)) == f.sha256
        saved = c.artifact("subset:v0").get("joined")
        assert saved.columns == ["id", "label", "image", "score"]
        originals = {row[0]: row[2] for _, row in c.artifact("scenes:v0").get("samples").iterrows()}
        assert [row[0] for _, row in saved.iterrows()] == [2, 3, 4, 5]
        for _, row in saved.iterrows():
            assert row[2] == originals[row[0]]  # pixels, boxes and masks
        out = c.artifact("subset:v0").download(tmp_path / "out" / "subset:v0")
    written = json.loads((out / "joined.table.json").read_text())["data"]
    loaded = load_with_wandb(out, "joined.table.json", tmp_path / "wb")
    assert [r[0] for r in loaded["data"]] == [2, 3, 4, 5]
    for want, got in zip(written, loaded["data"], strict=True):
        assert got[2]["masks"]["ground_truth"] == want[2]["masks"]["ground_truth"]["sha256"]
        assert got[2]["sha256"] == want[2]["sha256"]


def test_a_wandb_joined_table_saves_from_the_command_line(tmp_path):
    """The SDK's JoinedTable of a predictions table and the dataset's table it was built from."""
    base = tmp_path / "wandb"
    build_wandb_artifacts(base)
    cache_dir = tmp_path / "cache"
    assert (
        run_dv("import", str(base / "artifacts"), "--project", "compat", cache=cache_dir).returncode
        == 0
    )
    r = run_dv(
        "table",
        "compat/demo-predictions:v0",
        "joined.joined-table.json",
        "--filter",
        'row["id"] < 4',
        "--save-as",
        "relabel",
        cache=cache_dir,
    )
    assert r.returncode == 0, r.stderr
    assert r.stdout.strip() == "compat/relabel:v0"
    with dv.open_cache(cache_dir) as c:
        cache = c.cache
        version = cache.resolve("compat/relabel:v0")
        dataset = cache.resolve("compat/demo-dataset:v0")
        files = [f for f in cache.files(version) if f.path.startswith("media/")]
        preds = {f.path for f in cache.files(cache.resolve("compat/demo-predictions:v0"))}
        elsewhere = [f for f in files if f.path not in preds]  # the dataset side's classes
        assert elsewhere and all(f.ref_version_id == dataset.id for f in elsewhere)
        for f in files:
            assert sha256(cache.file_path(version, f.path)) == f.sha256
        out = c.artifact("compat/relabel:v0").download(tmp_path / "out" / "relabel:v0")
    loaded = load_with_wandb(out, "joined.table.json", tmp_path / "wb")
    image_2 = loaded["columns"].index("image_2")
    assert [r[0] for r in loaded["data"]] == [0, 1, 2, 3]
    assert all(r[image_2]["masks"] and r[image_2]["classes"] for r in loaded["data"])
