"""The lineage graph around a version (Qt-free): which runs and versions are within reach, their
left-to-right layers (inputs before the run, outputs after), and job types grouped."""

from __future__ import annotations

import pytest

from desktopviz.demo import build_demo
from desktopviz.lineage import lineage_graph
from desktopviz.store.cache import Cache


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
