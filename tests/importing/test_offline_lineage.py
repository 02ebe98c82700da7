"""Lineage inferred from the references of W&B offline runs written by the real SDK: a run that
refers to what it logged itself does not use it; another run that refers to it does."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from desktopviz.store.cache import Cache
from tests.cli_support import dv
from tests.wandb_support import run_script

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")


@pytest.fixture(scope="module")
def runs(tmp_path_factory) -> dict[str, Path]:
    """A training run (logs ``preds``, then a review artifact and a ``run.log`` table referring
    to it) and an evaluation run whose joined table refers to ``preds``."""
    base = tmp_path_factory.mktemp("lineage")
    return {
        k: Path(v)
        for k, v in json.loads(run_script("lineage_runs.py", str(base), base=base)).items()
    }


def run_id(run_dir: Path) -> str:
    return run_dir.name.rsplit("-", 1)[1]


def imported(cache_dir: Path, *run_dirs: Path) -> Cache:
    for d in run_dirs:
        r = dv("import", str(d), cache=cache_dir)
        assert r.returncode == 0, r.stderr
    return Cache(cache_dir)


def test_a_run_that_refers_to_its_own_output_only_produced_it(runs, cache_dir):
    train = run_id(runs["train"])
    with imported(cache_dir, runs["train"]) as cache:
        preds = cache.resolve("lin/preds:v0")
        review = cache.resolve("lin/review:v0")
        logged = cache.resolve(f"lin/run-{train}-t:v0")
        # the references are there (the review's joined table is preds' table) ...
        assert any(f.ref_version_id == preds.id for f in cache.files(review))
        assert any(f.ref_version_id == review.id for f in cache.files(logged))
        # ... but the run produced those versions, it did not use them
        for v in (preds, review, logged):
            assert cache.producer(v) == train
            assert cache.consumers(v) == []
        assert all(e.direction == "output" for e in cache.lineage() if e.run_id == train)


def test_another_run_that_refers_to_it_is_a_consumer(runs, cache_dir):
    train, ev = run_id(runs["train"]), run_id(runs["eval"])
    with imported(cache_dir, runs["train"], runs["eval"], runs["train"]) as cache:
        preds = cache.resolve("lin/preds:v0")
        assert cache.producer(preds) == train
        assert cache.consumers(preds) == [ev]
        assert cache.producer(cache.resolve("lin/eval:v0")) == ev
        edges = {
            (e.run_id, cache.version_by_id(e.version_id).name, e.direction) for e in cache.lineage()
        }
        assert (ev, "preds", "input") in edges
        assert not {(r, n) for r, n, d in edges if d == "input"} & {
            (r, n) for r, n, d in edges if d == "output"
        }
