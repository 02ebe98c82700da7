"""Where lineage nodes go (Qt-free): a run that used what it logged does not stretch the layers,
inputs sit next to their consumer, a long chain wraps into bands shaped like the view, and no
two nodes overlap."""

from __future__ import annotations

import itertools
from pathlib import Path

import pytest

from desktopviz.lineage import lineage_graph
from desktopviz.lineage_layout import COMFORTABLE, layer_rows, place, route
from desktopviz.model import Version
from desktopviz.sdk.artifact import Artifact
from desktopviz.sdk.run import Run
from desktopviz.store.cache import Cache

NODE, GAP = (180.0, 44.0), (44.0, 18.0)
CHECKPOINT_RUNS = (3, 3, 2)
"""Checkpoints logged by each training run: 8 versions of one artifact, 3 runs."""


def write_checkpoints(cache: Cache, files: Path) -> Version:
    """Project ``ckpt`` as a training script writes it with the SDK, run three times: each run
    resumes from ``checkpoint:latest`` (from the run before), logs its checkpoints and evaluates
    the last one, i.e. uses a version it logged itself. Returns ``checkpoint:latest`` (v7)."""
    files.mkdir(parents=True, exist_ok=True)
    made = itertools.count()
    for r, logged in enumerate(CHECKPOINT_RUNS):
        run = Run(project="ckpt", job_type="train", dir=cache, name=f"train-{r}")
        if r:
            run.use_artifact("checkpoint:latest")
        for _ in range(logged):
            weights = files / f"weights-{next(made)}.txt"
            weights.write_text(weights.name)
            artifact = Artifact("checkpoint", "model")
            artifact.add_file(weights, "weights.txt")
            run.log_artifact(artifact)
        run.use_artifact("checkpoint:latest")
        run.finish()
    return cache.resolve("ckpt/checkpoint:latest")


@pytest.fixture(scope="module")
def checkpoints(tmp_path_factory):
    root = tmp_path_factory.mktemp("ckpt")
    with Cache(root / "cache") as cache:
        yield cache, write_checkpoints(cache, root / "files")


def overlapping(placement, node=NODE) -> list:
    (w, h), boxes = node, placement.pos.items()
    return [
        (a, b)
        for (a, (ax, ay)), (b, (bx, by)) in itertools.combinations(boxes, 2)
        if abs(ax - bx) < w and abs(ay - by) < h
    ]


def test_a_run_that_used_its_own_output_does_not_stretch_the_layers(checkpoints):
    cache, latest = checkpoints
    graph = lineage_graph(cache, latest, depth=5)
    assert len(graph.nodes) == 11 and len(graph.edges) == 13
    # the longest chain: train-0 -> v2 -> train-1 -> v5 -> train-2 -> v7
    assert max(graph.layer.values()) == 5
    label = {k: graph.nodes[k].label for k in graph.nodes}
    layer = {label[k]: v for k, v in graph.layer.items()}
    assert layer["train-0"] < layer["checkpoint:v2"] < layer["train-1"] < layer["checkpoint:v5"]
    runs_first = {k: (n.kind != "run", n.label) for k, n in graph.nodes.items()}
    _, _, back = layer_rows(graph.nodes, graph.edges, runs_first)
    # set aside: each run's use of its own last checkpoint; every output edge points right
    assert {(label[a], label[b]) for a, b in back} == {
        ("checkpoint:v2", "train-0"),
        ("checkpoint:v5", "train-1"),
        ("checkpoint:v7", "train-2"),
    }
    assert all(graph.layer[a] < graph.layer[b] for a, b in graph.edges - back)


def test_eight_versions_and_three_runs_are_placed_compactly(checkpoints):
    cache, latest = checkpoints
    graph = lineage_graph(cache, latest, depth=5)
    placement = place(graph.layer, graph.row, NODE, GAP, view=(1000, 640))
    assert not overlapping(placement)
    assert 0.5 <= placement.width / placement.height <= 3
    assert min(1000 / placement.width, 640 / placement.height) >= COMFORTABLE
    for a, b in graph.edges:
        way = route(placement, a, b)
        assert way.kind in {"curve", "wrap", "loop"}
        assert way.points[0] != way.points[-1]


def test_an_input_sits_next_to_its_consumer():
    edges = {("a", "r1"), ("r1", "b"), ("b", "r2"), ("r2", "c"), ("c", "r3"), ("late", "r3")}
    layer, _, back = layer_rows({n for e in edges for n in e}, edges)
    assert not back
    assert layer["late"] == layer["r3"] - 1 == layer["c"]


def test_a_long_chain_wraps_into_bands_that_fit_the_view():
    chain = [f"v{i}" if i % 2 == 0 else f"run-{i}" for i in range(40)]
    edges = set(itertools.pairwise(chain))
    layer, row, _ = layer_rows(chain, edges)
    assert max(layer.values()) == 39
    wide = place(layer, row, NODE, GAP, view=(1e9, 640))
    assert len(wide.bands) == 1 and wide.width == 40 * (NODE[0] + GAP[0]) - GAP[0]
    placement = place(layer, row, NODE, GAP, view=(1000, 640))
    assert len(placement.bands) > 1
    assert not overlapping(placement)
    scale = min(1000 / placement.width, 640 / placement.height)
    assert scale >= 0.7 > 5 * min(1000 / wide.width, 640 / wide.height)
    kinds = {route(placement, a, b).kind for a, b in edges}
    assert kinds == {"curve", "wrap"}
    # in reading order: band by band, left to right
    spots = [(placement.pos[n][1], placement.pos[n][0]) for n in chain]
    assert [placement.band[n] for n in chain] == sorted(placement.band[n] for n in chain)
    assert all(
        a < b for a, b, n in zip(spots, spots[1:], chain, strict=False) if placement.band[n] == 0
    )


def test_a_small_graph_is_not_wrapped_and_an_empty_one_is_empty():
    layer, row, _ = layer_rows(["a", "r", "b"], {("a", "r"), ("r", "b")})
    placement = place(layer, row, NODE, GAP)
    assert len(placement.bands) == 1 and placement.pos["b"][0] == 2 * (NODE[0] + GAP[0])
    assert place({}, {}, NODE, GAP).pos == {}
