"""Saving a filtered, sorted table as a new artifact version: the rows read back as shown, the
images are the source's files (no copy), lineage links the two, and wandb loads the table."""

from __future__ import annotations

import pytest

import desktopviz as dv
from desktopviz.errors import Cancelled, DesktopvizError
from desktopviz.sdk.subset import SUBSET_JOB_TYPE, save_as_version
from tests.support import sample_image
from tests.wandb_support import load_with_wandb

ROWS = 40


@pytest.fixture
def cache_dir(tmp_path):
    root = tmp_path / "cache"
    with dv.init(project="p", job_type="label", dir=root) as run:
        t = dv.Table(columns=["id", "label", "score", "image"])
        for i in range(ROWS):
            t.add_data(i, ["car", "road"][i % 2], i / ROWS, sample_image(i))
        art = dv.Artifact("scenes", "dataset")
        art.add(t, "samples")
        run.log_artifact(art)
    return root


def _subset(c):
    return c.table("scenes:v0").filter('row["label"] == "car"').sort("score", descending=True)


def test_the_subset_reads_back_as_shown_with_the_source_images(cache_dir):
    with dv.open_cache(cache_dir) as c:
        q = _subset(c)
        shown = q.select(["id", "label", "score"]).to_arrow().to_pylist()
        version = q.save_as("car-scenes", description="cars, most confident first")
        assert version.ref == "p/car-scenes:v0" and version.type == "dataset"
        back = c.table("car-scenes:v0")
        assert back.num_rows == ROWS // 2
        assert back.select(["id", "label", "score"]).to_arrow().to_pylist() == shown
        source_images = c.artifact("scenes:v0").get("samples")
        saved = c.artifact("car-scenes:v0").get("samples")
        assert saved.columns == ["id", "label", "score", "image"]
        by_id = {row[0]: row[3] for _, row in source_images.iterrows()}
        for _, row in saved.iterrows():
            assert row[3] == by_id[row[0]]  # pixels, boxes and masks
        # the image files are the source's blobs, referred to rather than copied
        cache = c.cache
        src = {f.path: f.sha256 for f in cache.files(cache.resolve("scenes:v0"))}
        new = {f.path: f.sha256 for f in cache.files(version) if f.path.startswith("media/")}
        assert new and all(src[p] == sha for p, sha in new.items())
        assert version.metadata["filters"] == ['row["label"] == "car"']
        assert version.metadata["sort"] == ["score:desc"]


def test_lineage_links_the_source_to_the_new_version(cache_dir):
    with dv.open_cache(cache_dir) as c:
        version = _subset(c).save_as("scenes")  # a new version of the same artifact
        cache = c.cache
        assert version.tag == "v1" and "latest" in version.aliases
        run = cache.run(cache.producer(version))
        assert run.job_type == SUBSET_JOB_TYPE and run.state == "finished"
        assert run.config["source"] == "p/scenes:v0"
        edges = {
            (e.direction, cache.version_by_id(e.version_id).ref)
            for e in cache.lineage()
            if e.run_id == run.id
        }
        assert edges == {("input", "p/scenes:v0"), ("output", "p/scenes:v1")}


def test_grouped_or_compared_rows_are_refused_with_a_reason(cache_dir):
    with dv.open_cache(cache_dir) as c:
        with pytest.raises(DesktopvizError, match="grouped table cannot be saved"):
            c.table("scenes:v0").group_by("label").save_as("x")
        with pytest.raises(DesktopvizError, match="comparison cannot be saved"):
            c.table("scenes:v0").compare("scenes:v0").save_as("x")


def test_a_cancelled_save_leaves_the_cache_as_it_was(cache_dir):
    with dv.open_cache(cache_dir) as c:
        cache = c.cache
        before = (len(cache.versions()), len(cache.runs()), len(cache.lineage()))
        q = _subset(c)
        version = cache.resolve("scenes:v0")
        with pytest.raises(Cancelled):
            save_as_version(q.result, version, "samples.table.json", "x", cancel=lambda: True)
        assert (len(cache.versions()), len(cache.runs()), len(cache.lineage())) == before


def test_wandb_loads_the_saved_table(cache_dir, tmp_path):
    with dv.open_cache(cache_dir) as c:
        _subset(c).save_as("car-scenes", table_name="cars")
        out = c.artifact("car-scenes:v0").download(tmp_path / "out" / "car-scenes:v0")
    loaded = load_with_wandb(out, "cars.table.json", tmp_path / "wb")
    assert loaded["columns"] == ["id", "label", "score", "image"]
    assert [r[0] for r in loaded["data"]] == list(range(ROWS - 2, -1, -2))
    assert all(r[3]["_type"] == "image-file" and r[3]["masks"] for r in loaded["data"])
