"""Sort (several keys, descending, nulls last, stable) and paged access by position."""

from __future__ import annotations

import math

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

import desktopviz as dv
from desktopviz.importing import import_path


@pytest.fixture(scope="module")
def query(tmp_path_factory):
    base = tmp_path_factory.mktemp("s")
    n = 5000
    table = pa.table(
        {
            "id": list(range(n)),
            "group": [["b", "a", "c", None][i % 4] for i in range(n)],
            "score": [
                None if i % 13 == 0 else round((i * 7919) % 1000 / 1000, 3) for i in range(n)
            ],
            "tie": [i % 3 for i in range(n)],
        }
    )
    src = base / "proj" / "data.parquet"
    src.parent.mkdir()
    pq.write_table(table, src, row_group_size=700)
    from desktopviz.store.cache import Cache

    with Cache(base / "cache") as cache:
        import_path(cache, src)
    c = dv.open_cache(base / "cache")
    yield c.table("data:latest"), table.to_pylist()
    c.close()


def _key(value, descending):
    missing = value is None or (isinstance(value, float) and math.isnan(value))
    if missing:
        return (1, 0)
    return (0, -value if descending and not isinstance(value, str) else value)


def test_multi_key_sort_with_nulls_last_and_stable_ties(query):
    q, rows = query
    got = q.sort("group").sort("score", descending=True).to_arrow().to_pylist()
    # the reference: stable sorts, applied from the last key to the first
    expected = sorted(rows, key=lambda r: (r["score"] is None, -(r["score"] or 0)))
    expected = sorted(expected, key=lambda r: (r["group"] is None, r["group"] or ""))
    assert [r["id"] for r in got] == [r["id"] for r in expected]


def test_ties_keep_the_original_order(query):
    q, rows = query
    got = [r["id"] for r in q.sort("tie").to_arrow().to_pylist()]
    assert got == [r["id"] for r in sorted(rows, key=lambda r: r["tie"])]


def test_descending_keeps_nulls_last(query):
    q, _ = query
    scores = q.sort("score", descending=True).to_arrow().column("score").to_pylist()
    assert scores[-1] is None and scores[0] == max(s for s in scores if s is not None)
    assert all(s is None for s in scores[scores.index(None) :])


@pytest.mark.parametrize("top_rows", [10_000, 100])
@pytest.mark.parametrize("offset,count", [(0, 10), (4990, 50), (1234, 1), (2500, 700)])
def test_pages_are_windows_of_the_result(query, offset, count, top_rows, monkeypatch):
    from desktopviz.query import engine

    monkeypatch.setattr(engine, "TOP_ROWS", top_rows)  # 100: pages come from the materialised order
    q, rows = query
    for view in (
        q,
        q.sort("score"),
        q.filter('row["tie"] == 1'),
        q.filter('row["tie"] == 1').sort("group", True),
    ):
        whole = view.to_arrow().to_pylist()
        page = view.rows(offset, count).to_pylist()
        assert page == whole[offset : offset + count]


def test_limit_and_select(query):
    q, _ = query
    v = q.sort("id", descending=True).select(["id", "score"]).limit(7)
    assert v.num_rows == 7 and v.to_arrow().column_names == ["id", "score"]
    assert v.to_arrow().column("id").to_pylist() == list(range(4999, 4992, -1))


def test_a_stored_table_is_paged_from_its_parquet_file(query):
    """Pages of a stored table (plain, sorted or filtered) fetch rows by position from its Parquet
    file rather than through a scan (a page at row 9,999,000 then costs what row 0 costs)."""
    q, _ = query
    for view in (q, q.sort("score"), q.filter('row["tie"] == 1')):
        parquet = view.result.relation.parquet
        assert parquet is not None and parquet.suffix == ".parquet" and parquet.is_file()
