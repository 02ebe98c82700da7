"""The Python query API as a W&B user would use it, and the query engine's settings."""

from __future__ import annotations

import pytest

import desktopviz as dv
from desktopviz.errors import DesktopvizError
from desktopviz.query.expr import ExprError


@pytest.fixture(scope="module")
def cache(tmp_path_factory):
    cache_dir = tmp_path_factory.mktemp("api") / "cache"
    with dv.init(project="p", dir=cache_dir) as run:
        t = dv.Table(
            columns=["id", "label", "score"],
            data=[[i, ["a", "b", "c"][i % 3], i / 10] for i in range(30)],
        )
        art = dv.Artifact("preds", "predictions")
        art.add(t, "predictions")
        run.log_artifact(art)
    c = dv.open_cache(cache_dir)
    yield c
    c.close()


def test_table_by_path_or_added_name(cache):
    assert cache.table("preds:v0", "predictions.table.json").num_rows == 30
    assert cache.table("preds:latest", "predictions").num_rows == 30
    assert cache.table("preds:latest").num_rows == 30
    with pytest.raises(DesktopvizError, match="no table 'nope'"):
        cache.table("preds:v0", "nope")


def test_lazy_chain_to_arrow_pandas_and_explain(cache):
    q = cache.table("preds:v0", "predictions")
    view = (
        q.filter('row["label"] == "b"')
        .sort("score", descending=True)
        .select(["id", "score"])
        .limit(3)
    )
    assert q.spec.filters == ()  # the original query is unchanged
    assert view.to_arrow().column("id").to_pylist() == [28, 25, 22]
    df = view.to_pandas()
    assert list(df.columns) == ["id", "score"] and len(df) == 3
    assert "ORDER BY" in view.explain() and "-- parameters: ['b']" in view.explain()
    assert view.rows(1, 1).column("id").to_pylist() == [25]


def test_bad_filter_fails_where_it_is_written(cache):
    with pytest.raises(ExprError, match="position"):
        cache.table("preds:v0").filter("{$and: [}")


def test_results_are_cached_per_spec(cache):
    q = cache.table("preds:v0").filter('row["score"] > 1')
    assert q.result is q.result
    assert q.result is not q.sort("id").result


def test_duckdb_spills_into_the_cache(cache):
    engine = cache._engine()
    limit, temp = engine.con.execute(
        "SELECT current_setting('memory_limit'), current_setting('temp_directory')"
    ).fetchall()[0]
    assert str(cache.root) in temp and limit
    number, unit = limit.split()
    assert unit in ("MiB", "GiB") and float(number) * (1024 if unit == "GiB" else 1) <= 2048


def test_memory_limit_settings_are_read_as_written():
    from desktopviz.query.engine import _memory_limit

    assert _memory_limit("3GB") == "3GB"
    assert _memory_limit("min(1GB, 512MB)") == "512MB"
    assert _memory_limit("min(100%, 1GB)") == "1024MB"
    with pytest.raises(DesktopvizError, match="cannot read the size"):
        _memory_limit("min(1 parsec, 1GB)")
