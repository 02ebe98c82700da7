"""Caches and stores for the sync tests: real caches written by the desktopviz SDK, folder stores."""

from __future__ import annotations

from pathlib import Path

import pytest

import desktopviz as dv
from desktopviz.store.cache import Cache
from desktopviz.sync.folder import FolderBackend
from tests.support import sample_image


def log_project(cache_dir: Path, project: str = "p") -> None:
    """Two versions of a dataset (images, classes; alias ``production`` on the first), a run
    with metric history that used the second and logged predictions referring to its images."""
    with dv.init(project=project, job_type="build", dir=cache_dir, config={"lr": 0.1}) as run:
        for version in range(2):
            t = dv.Table(columns=["id", "image", "score"])
            for i in range(3 + version):
                t.add_data(i, sample_image(i + 10 * version), i / 3)
            art = dv.Artifact("ds", "dataset", description=f"v{version}", metadata={"n": version})
            art.add(t, "samples")
            art.add(dv.Classes([{"id": 1, "name": "car"}]), "classes")
            run.log_artifact(art, aliases=["production"] if version == 0 else None)
            run.log({"loss": 1.0 / (version + 1)})
    with dv.init(project=project, job_type="eval", dir=cache_dir) as run:
        ds = run.use_artifact("ds:latest")
        samples = ds.get("samples")
        preds = dv.Table(columns=["id", "image", "score"])
        for _, row in samples.iterrows():
            preds.add_data(row[0], row[1], 0.5)
        art = dv.Artifact("preds", "predictions")
        art.add(preds, "preds")
        run.log_artifact(art, aliases=["staging"])
        run.log({"acc": 0.9})


@pytest.fixture
def source_dir(tmp_path: Path) -> Path:
    """A cache folder with :func:`log_project`'s versions."""
    path = tmp_path / "a"
    log_project(path)
    return path


@pytest.fixture
def store(tmp_path: Path) -> FolderBackend:
    """An empty folder to push to."""
    return FolderBackend(tmp_path / "store")


@pytest.fixture
def cache_b(tmp_path: Path):
    """An empty cache to sync into."""
    c = Cache(tmp_path / "b")
    yield c
    c.close()
