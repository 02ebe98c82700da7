"""The query engine's cache of results is bounded: after many distinct filters, sorts and
comparisons it holds at most :data:`RESULTS_KEPT` results (and :data:`RELATIONS_KEPT`
comparisons), and the DuckDB temp tables of those it let go are dropped, except for results
someone still holds (a table on screen), which keep working until they are let go too."""

from __future__ import annotations

import gc

import pytest

import desktopviz as dv
from desktopviz.query.engine import RELATIONS_KEPT, RESULTS_KEPT, TEMP_PREFIX, TOP_ROWS
from desktopviz.query.spec import CompareSpec, QuerySpec, SortKey

ROWS = TOP_ROWS + 2_000
"""Enough rows that a page past TOP_ROWS keeps the result's order in a temp table."""


@pytest.fixture(scope="module")
def cache_dir(tmp_path_factory):
    cache_dir = tmp_path_factory.mktemp("results") / "cache"
    with dv.init(project="p", dir=cache_dir) as run:
        for v in range(RELATIONS_KEPT + 2):
            t = dv.Table(
                columns=["id", "score"],
                data=[[i, ((i * 7919 + v) % ROWS) / ROWS] for i in range(ROWS)],
            )
            art = dv.Artifact("preds", "predictions")
            art.add(t, "preds")
            run.log_artifact(art)
    return cache_dir


def temp_tables(engine) -> set[str]:
    return {
        row["table_name"]
        for row in engine.arrow(
            "SELECT table_name FROM duckdb_tables() WHERE starts_with(table_name, ?)",
            [TEMP_PREFIX],
        ).to_pylist()
    }


def sorted_filter(i: int) -> QuerySpec:
    return QuerySpec(filters=(f'row["id"] >= {i}',), sort=(SortKey("score", descending=True),))


def test_many_filters_keep_at_most_the_bound(cache_dir):
    with dv.open_cache(cache_dir) as c:
        engine, v0 = c._engine(), c.version("p/preds:v0")
        n = 3 * RESULTS_KEPT
        for i in range(n):
            # a live count (no temp table) and a sorted result paged deep (a temp table)
            _ = engine.result(v0, None, QuerySpec(filters=(f'row["score"] > {i / n}',))).num_rows
            r = engine.result(v0, None, sorted_filter(i))
            assert r.rows(TOP_ROWS + 10, 3).num_rows == 3
        del r
        engine.result(v0, None, QuerySpec())  # drops what was let go since
        assert len(engine._results) <= RESULTS_KEPT
        kept = {res._table for res in engine._results.held.values() if res._table}
        assert temp_tables(engine) == kept
        assert 0 < len(kept) <= RESULTS_KEPT // 2 + 1


def test_a_result_still_held_is_never_dropped(cache_dir):
    """A result a table shows keeps its order while many others come and go; asked for again it
    is the same result; let go, its temp table is dropped."""
    with dv.open_cache(cache_dir) as c:
        engine, v0 = c._engine(), c.version("p/preds:v0")
        shown = engine.result(v0, None, sorted_filter(1))
        page = shown.rows(TOP_ROWS + 100, 50)
        table = shown._table
        assert table in temp_tables(engine)
        for i in range(2, 3 * RESULTS_KEPT):
            engine.result(v0, None, sorted_filter(i)).rows(TOP_ROWS + 10, 3)
        assert shown not in engine._results.held.values()  # let go by the engine ...
        assert table in temp_tables(engine)  # ... but not dropped: the table shows it
        assert shown.rows(TOP_ROWS + 100, 50).equals(page)
        assert engine.result(v0, None, sorted_filter(1)) is shown  # found again, not redone
        for i in range(3 * RESULTS_KEPT, 5 * RESULTS_KEPT):
            engine.result(v0, None, sorted_filter(i)).rows(TOP_ROWS + 10, 3)
        del shown
        gc.collect()
        engine.result(v0, None, QuerySpec())
        assert table not in temp_tables(engine)


def test_comparisons_are_bounded_too(cache_dir):
    """Each comparison keeps a pairs table; only the last RELATIONS_KEPT stay once their
    results are let go."""
    with dv.open_cache(cache_dir) as c:
        engine, v0 = c._engine(), c.version("p/preds:v0")
        for v in range(1, RELATIONS_KEPT + 2):
            spec = QuerySpec(compare=CompareSpec(f"p/preds:v{v}"))
            assert engine.result(v0, None, spec).rows(ROWS - 5, 5).num_rows == 5
        for i in range(2 * RESULTS_KEPT):  # other work pushes the comparisons' results out
            _ = engine.result(v0, None, QuerySpec(filters=(f'row["id"] > {i}',))).num_rows
        assert len(engine._relations) <= RELATIONS_KEPT
        pairs = {
            name
            for relation in engine._relations.held.values()
            for name in (relation.pairs.table, relation.pairs.ordered)
            if name
        }
        assert temp_tables(engine) == pairs


def test_closing_a_result_then_paging_makes_its_order_again(cache_dir):
    with dv.open_cache(cache_dir) as c:
        engine, v0 = c._engine(), c.version("p/preds:v0")
        r = engine.result(v0, None, sorted_filter(3))
        page = r.rows(TOP_ROWS + 1, 5)
        r.close()
        assert r._table is None
        assert r.rows(TOP_ROWS + 1, 5).equals(page)
        assert r._table in temp_tables(engine)
