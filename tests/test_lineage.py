"""The lineage graph around a version (Qt-free): which runs and versions are within reach, their
left-to-right layers (inputs before the run, outputs after), and job types grouped."""

from __future__ import annotations

import random

import pytest

from desktopviz.demo import build_demo
from desktopviz.lineage import lineage_graph
from desktopviz.model import Run, Version
from desktopviz.store.cache import Cache, NewFile, NewVersion, VersionHeader

BIG_DEPTH = 20
"""Enough run hops to reach every node of :func:`write_big_lineage` from its focus."""


def write_big_lineage(cache: Cache, nodes: int = 1000, seed: int = 0) -> Version:
    """A seeded lineage of about ``nodes`` runs and versions in project ``big``: a chain of
    dataset versions (each made by a prep run from the one before), each fanned out to train
    runs (a model version each) and eval runs (a predictions version each, from one or two
    models). Returns the chain's middle version (every node within :data:`BIG_DEPTH` hops)."""
    rng = random.Random(seed)
    chain = max(2, round(nodes**0.5 / 3))
    blob = cache.blobs.put_bytes(b"lineage")
    made = 0

    def version(name: str, kind: str, run: str | None) -> Version:
        nonlocal made
        made += 1
        header = VersionHeader("big", name, kind, produced_by=run)
        files = [NewFile("a.txt", blob.size, blob.sha256, blob.md5_b64)]
        return cache.add_version(NewVersion(header, f"{name}-{made}", files)).version

    def run(run_id: str, job: str, inputs: list[Version]) -> str:
        cache.upsert_run(Run(run_id, "big", run_id, job, "finished"))
        for v in inputs:
            cache.add_lineage(run_id, v.id, "input")
        return run_id

    datasets = [version("raw-scenes", "dataset", None)]
    for i in range(chain):
        datasets.append(version("raw-scenes", "dataset", run(f"prep-{i}", "prep", datasets[-1:])))
    fans = [0] * len(datasets)
    for _ in range(max(0, nodes - 2 * chain - 1) // 4):  # 4 nodes: train, model, eval, preds
        fans[rng.randrange(len(datasets))] += 1
    for d, (data, fan) in enumerate(zip(datasets, fans, strict=True)):
        models = []
        for k in range(fan):
            trained = run(f"train-{d}-{k}", "train", [data])
            models.append(version(f"detector-{k % 5}", "model", trained))
        for k, model in enumerate(models):
            used = [data, model] + ([rng.choice(models)] if rng.random() < 0.3 else [])
            kind = "embeddings" if k % 7 == 3 else "predictions"
            version(f"{kind}-{k % 4}", kind, run(f"eval-{d}-{k}", "eval", used))
    return datasets[len(datasets) // 2]


@pytest.fixture(scope="module")
def cache(tmp_path_factory):
    with Cache(tmp_path_factory.mktemp("lineage") / "cache") as c:
        build_demo(c, n_images=12)
        yield c


def labels(graph) -> set[str]:
    return {n.label for n in graph.nodes.values()}


def test_one_hop_is_the_producing_run_and_its_inputs(cache):
    graph = lineage_graph(cache, cache.resolve("scene-predictions:v1"), depth=1)
    assert labels(graph) == {
        "scene-predictions:v1",
        "eval-wide-resnet",
        "street-scenes-dataset:v0",
        "scene-detector:v1",
    }
    layer = {graph.nodes[k].label: v for k, v in graph.layer.items()}
    assert (
        layer["street-scenes-dataset:v0"]
        < layer["eval-wide-resnet"]
        < layer["scene-predictions:v1"]
    )
    assert layer["scene-detector:v1"] < layer["eval-wide-resnet"]
    assert graph.nodes[graph.focus].label == "scene-predictions:v1"
    for a, b in graph.edges:  # every edge points right
        assert graph.layer[a] < graph.layer[b]


def test_depth_reaches_further_and_rows_do_not_collide(cache):
    near = lineage_graph(cache, cache.resolve("scene-predictions:v1"), depth=1)
    far = lineage_graph(cache, cache.resolve("scene-predictions:v1"), depth=3)
    assert labels(near) < labels(far)
    assert {"build-dataset", "train-baseline", "scene-predictions:v0"} <= labels(far)
    spots = [(far.layer[k], far.row[k]) for k in far.nodes]
    assert len(spots) == len(set(spots))


def test_unexploded_runs_are_grouped_by_job_type(cache):
    graph = lineage_graph(cache, cache.resolve("scene-predictions:v1"), depth=3, explode=False)
    jobs = {n.label: n for n in graph.nodes.values() if n.kind == "job"}
    assert set(jobs) == {"dataset", "train", "eval"}
    assert jobs["train"].members == ("train-baseline", "train-wide-resnet")
    assert jobs["train"].detail == "2 runs"


def test_a_version_nothing_touched_is_alone(cache, tmp_path):
    import pyarrow as pa
    import pyarrow.parquet as pq

    from desktopviz.importing import import_path

    src = tmp_path / "lonely.parquet"
    pq.write_table(pa.table({"x": [1]}), src)
    import_path(cache, src)
    graph = lineage_graph(cache, cache.resolve("lonely:v0"))
    assert labels(graph) == {"lonely:v0"} and not graph.edges


def test_a_thousand_node_lineage_is_laid_out_without_collisions(tmp_path):
    with Cache(tmp_path / "cache") as big:
        focus = write_big_lineage(big)
        graph = lineage_graph(big, focus, depth=BIG_DEPTH)
        assert 950 <= len(graph.nodes) <= 1000
        assert len(graph.nodes) == len(big.runs("big")) + len(big.versions("big"))
        assert all(graph.layer[a] < graph.layer[b] for a, b in graph.edges)
        spots = [(graph.layer[k], graph.row[k]) for k in graph.nodes]
        assert len(spots) == len(set(spots))
        grouped = lineage_graph(big, focus, depth=BIG_DEPTH, explode=False)
        assert {n.label for n in grouped.nodes.values() if n.kind == "job"} == {
            "prep",
            "train",
            "eval",
        }
