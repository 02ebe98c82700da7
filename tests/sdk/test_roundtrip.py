"""SDK write -> cache -> read gives back equal objects; references instead of copies."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import desktopviz as dv
from tests.support import sample_image


def test_artifact_get_returns_equal_objects(cache_dir):
    table = dv.Table(columns=["id", "image", "score", "meta", "tags", "flag", "text"])
    for i in range(6):
        table.add_data(
            i,
            sample_image(i),
            i / 7,
            {"geo": {"lat": 1.5 * i, "lon": -2.0}, "n": i},
            ["t", str(i)],
            i % 2 == 0,
            "naïve café 日本語",
        )
    with dv.init(project="p", job_type="build", dir=cache_dir) as run:
        art = dv.Artifact("ds", "dataset", description="d", metadata={"k": 1})
        art.add(table, "samples")
        art.add(dv.Classes([{"id": 1, "name": "car"}]), "classes")
        run.log_artifact(art, aliases=["production"])
    with dv.open_cache(cache_dir) as c:
        back = c.artifact("ds:production")
        got = back.get("samples")
        assert got == table
        assert got.get_column("image")[3].to_numpy().shape == (20, 24, 3)
        assert back.get("classes") == dv.Classes([{"id": 1, "name": "car"}])
        assert back.metadata == {"k": 1} and back.description == "d"


def test_predictions_from_dataset_images_store_references(cache_dir):
    with dv.init(project="p", job_type="build", dir=cache_dir) as run:
        t = dv.Table(columns=["id", "image"])
        for i in range(3):
            t.add_data(i, sample_image(i))
        art = dv.Artifact("ds", "dataset")
        art.add(t, "samples")
        run.log_artifact(art)
    with dv.init(project="p", job_type="eval", dir=cache_dir) as run:
        ds = run.use_artifact("ds:latest")
        samples = ds.get("samples")
        preds = dv.Table(columns=["id", "image", "score"])
        for _, row in samples.iterrows():
            preds.add_data(
                row[0],
                dv.Image(
                    row[1],
                    boxes={
                        "pred": {
                            "box_data": [
                                {
                                    "position": {"minX": 1, "maxX": 4, "minY": 1, "maxY": 4},
                                    "domain": "pixel",
                                    "class_id": 1,
                                    "scores": {"score": 0.5},
                                }
                            ]
                        }
                    },
                ),
                0.5,
            )
        p = dv.Artifact("preds", "predictions")
        p.add(preds, "predictions")
        p.add(dv.JoinedTable(preds, samples, "id"), "joined")
        run.log_artifact(p)
        eval_id = run.id
    with dv.open_cache(cache_dir) as c:
        files = {f.path: f for f in c.files("preds:latest")}
        ds_files = {f.path: f for f in c.files("ds:latest")}
        images = [
            p
            for p in files
            if p.startswith("media/images/") and p.endswith(".png") and "/mask/" not in p
        ]
        assert images and all(
            files[p].ref and files[p].ref_version_id == c.version("ds:latest").id for p in images
        )
        assert all(files[p].sha256 == ds_files[p].sha256 for p in images)
        joined = c.read_table("preds:latest", "joined")
        assert joined.num_rows == 3 and "image_2" in joined.column_names
        edges = {(e.run_id, e.direction) for e in c.lineage("p")}
        assert (eval_id, "input") in edges and (eval_id, "output") in edges


def test_run_history_summary_and_config(cache_dir):
    run = dv.init(project="p", job_type="train", config={"lr": 0.1}, dir=cache_dir)
    for step in range(5):
        run.log({"loss": 1 / (step + 1), "acc": np.float32(step / 5)})
    run.finish()
    with dv.open_cache(cache_dir) as c:
        r = c.runs("p")[0]
        assert (
            r.state == "finished"
            and r.config == {"lr": 0.1}
            and r.summary["loss"] == pytest.approx(0.2)
        )
        assert [s for s, _ in c.history(r.id)] == [0, 1, 2, 3, 4]


def test_failed_run_is_marked_failed(cache_dir):
    with pytest.raises(RuntimeError), dv.init(project="p", dir=cache_dir):
        raise RuntimeError("boom")
    with dv.open_cache(cache_dir) as c:
        assert c.runs()[0].state == "failed"


cells = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-(2**53), 2**53)
    | st.floats(allow_nan=True, allow_infinity=True)
    | st.text(max_size=12),
    lambda inner: (
        st.lists(inner, max_size=4)
        | st.dictionaries(st.text(min_size=1, max_size=6), inner, max_size=4)
    ),
    max_leaves=8,
)


def _same(a, b) -> bool:
    if isinstance(a, float) and isinstance(b, float):
        return (math.isnan(a) and math.isnan(b)) or a == b
    if (
        isinstance(a, int | float)
        and isinstance(b, int | float)
        and not isinstance(a, bool)
        and not isinstance(b, bool)
    ):
        return float(a) == float(b)
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(_same(x, y) for x, y in zip(a, b, strict=True))
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(_same(a[k], b[k]) for k in a)
    return a == b and type(a) is type(b)


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(st.lists(st.tuples(cells, cells, st.integers(0, 10**6)), min_size=1, max_size=6))
def test_property_write_import_read_equals_input(tmp_path_factory, rows):
    cache_dir = tmp_path_factory.mktemp("c")
    table = dv.Table(columns=["a", "b", "id"], data=[list(r) for r in rows])
    with dv.init(project="p", dir=cache_dir) as run:
        art = dv.Artifact("t", "dataset")
        art.add(table, "t")
        run.log_artifact(art)
    with dv.open_cache(cache_dir) as c:
        got = c.artifact("t:latest").get("t")
    assert got.columns == table.columns
    for want_row, got_row in zip(table.data, got.data, strict=True):
        for want, have in zip(want_row, got_row, strict=True):
            assert _same(want, have), (want, have)


def test_joined_table_refers_to_an_unchanged_source_table_and_copies_an_edited_one(cache_dir):
    with dv.init(project="p", dir=cache_dir) as run:
        t = dv.Table(columns=["id", "meta"], data=[[i, {"n": i}] for i in range(3)])
        art = dv.Artifact("ds", "dataset")
        art.add(t, "samples")
        run.log_artifact(art)
    with dv.init(project="p", dir=cache_dir) as run:
        samples = run.use_artifact("ds:latest").get("samples")
        preds = dv.Table(columns=["id", "score"], data=[[i, 0.5] for i in range(3)])
        a = dv.Artifact("preds", "predictions")
        a.add(dv.JoinedTable(preds, samples, "id"), "joined")
        run.log_artifact(a)
        samples.data[1][1]["n"] = 99  # an edit deep inside a cell
        b = dv.Artifact("preds2", "predictions")
        b.add(dv.JoinedTable(preds, samples, "id"), "joined")
        run.log_artifact(b)
    with dv.open_cache(cache_dir) as c:
        files = {f.path: f for f in c.files("preds:latest")}
        assert (
            files["samples.table.json"].ref
            and files["samples.table.json"].ref_version_id == c.version("ds:v0").id
        )
        assert c.artifact("preds2:latest").get("joined").table2.data[1][1] == {"n": 99}
        assert c.artifact("preds:latest").get("joined").table2.data[1][1] == {"n": 1}
