"""Saved views in the cache index: per collection and table (so every version gets them),
saved, replaced, listed, the last used one remembered, deleted (and gone with the collection);
specs survive the trip through JSON."""

from __future__ import annotations

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from desktopviz.errors import DesktopvizError, NotFoundError
from desktopviz.importing import import_path
from desktopviz.query.spec import (
    CompareSpec,
    GroupSpec,
    QuerySpec,
    SortKey,
    spec_from_dict,
    spec_to_dict,
)
from desktopviz.store.cache import Cache


@pytest.fixture
def cache(tmp_path):
    src = tmp_path / "p" / "preds.parquet"
    src.parent.mkdir()
    with Cache(tmp_path / "cache") as c:
        for n in (3, 4):
            pq.write_table(pa.table({"id": list(range(n))}), src)
            import_path(c, src)
        yield c


def test_views_belong_to_the_collection_and_every_version_sees_them(cache):
    v0, v1 = cache.resolve("preds:v0"), cache.resolve("preds:v1")
    table = cache.tables(v0)[0].path
    cache.save_view(
        v0, table, "big ids", {"filters": ['row["id"] > 1']}, {"columns": {"id": {"width": 80}}}
    )
    cache.save_view(v1, table, "all", {})
    assert [v.name for v in cache.views(v1, table)] == ["all", "big ids"]
    assert cache.view(v1, table, "big ids").layout == {"columns": {"id": {"width": 80}}}
    assert cache.last_view(v0, table).name == "all"  # saved last
    cache.use_view(v0, table, "big ids")
    assert cache.last_view(v1, table).name == "big ids"
    cache.use_view(v0, table, None)
    assert cache.last_view(v0, table) is None
    cache.save_view(v0, table, "all", {"sort": [["id", True]]})  # replaced, not doubled
    assert cache.view(v0, table, "all").spec == {"sort": [["id", True]]}
    cache.delete_view(v0, table, "all")
    with pytest.raises(NotFoundError, match="views: big ids"):
        cache.view(v0, table, "all")
    assert cache.views(v0, "other.table.json") == []


def test_a_view_needs_a_name(cache):
    v0 = cache.resolve("preds:v0")
    with pytest.raises(DesktopvizError, match="needs a name"):
        cache.save_view(v0, "t", "  ", {})


def test_views_go_with_their_collection(cache):
    v0 = cache.resolve("preds:v0")
    table = cache.tables(v0)[0].path
    cache.save_view(v0, table, "keep", {})
    cache.delete_version(cache.resolve("preds:v1"))
    assert [v.name for v in cache.views(v0, table)] == ["keep"]
    cache.delete_version(cache.resolve("preds:v0"))
    assert cache.conn.execute("SELECT count(*) FROM views").fetchone()[0] == 0


@pytest.mark.parametrize(
    "spec",
    [
        QuerySpec(),
        QuerySpec(
            filters=('row["a"] > 1', "{$gt: ['$0.b', 2]}"), sort=(SortKey("a", True), SortKey("b"))
        ),
        QuerySpec(group=GroupSpec(("label", "pred"), bins=10), limit=5, select=("a",)),
        QuerySpec(compare=CompareSpec("p/x:v0", "t.table.json", ("id", "uid"), only="changed")),
    ],
)
def test_specs_survive_json(spec):
    import json

    assert spec_from_dict(json.loads(json.dumps(spec_to_dict(spec)))) == spec
