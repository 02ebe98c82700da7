"""Group (counts, shared-bin histograms, top values, galleries) and compare (hand-built versions
with known added, removed and changed rows)."""

from __future__ import annotations

import subprocess
import sys

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

import desktopviz as dv
from desktopviz.importing import import_path
from desktopviz.store.cache import Cache


def write(base, name, table):
    path = base / "proj" / f"{name}.parquet"
    path.parent.mkdir(exist_ok=True)
    pq.write_table(table, path)
    return path


@pytest.fixture(scope="module")
def versions(tmp_path_factory):
    """preds v0 and v1: v1 drops ids 3 and 7, adds 100 and 101, changes the score of 1 and 5 and the label of 2."""
    base = tmp_path_factory.mktemp("cmp")
    ids = list(range(10))
    v0 = pa.table(
        {
            "id": ids,
            "label": ["cat", "dog"] * 5,
            "score": [i / 10 for i in ids],
            "tags": [["a"]] * 10,
        }
    )
    rows = {r["id"]: r for r in v0.to_pylist()}
    del rows[3], rows[7]
    rows[1] = {**rows[1], "score": 0.95}
    rows[5] = {**rows[5], "score": 0.05}
    rows[2] = {**rows[2], "label": "bird"}
    rows[100] = {"id": 100, "label": "cat", "score": 0.5, "tags": []}
    rows[101] = {"id": 101, "label": "dog", "score": None, "tags": ["b"]}
    v1 = pa.Table.from_pylist(list(rows.values()), schema=v0.schema)
    cache_dir = base / "cache"
    with Cache(cache_dir) as cache:
        import_path(cache, write(base, "preds", v0))
        import_path(cache, write(base, "preds", v1))
    c = dv.open_cache(cache_dir)
    yield c, cache_dir
    c.close()


def test_diff_summary_counts_added_removed_changed(versions):
    c, _ = versions
    d = c.table("preds:v0").compare("preds:v1").diff()
    assert (d.rows_0, d.rows_1, d.added, d.removed, d.changed, d.unchanged) == (10, 10, 2, 2, 3, 5)
    assert d.columns == {"label": 1, "score": 2, "tags": 0}


def test_quick_filters_and_statuses(versions):
    c, _ = versions
    cmp = c.table("preds:v0").compare("preds:v1")
    status = dict(
        zip(*[cmp.to_arrow().column(n).to_pylist() for n in ("id", "__status")], strict=True)
    )
    assert (
        status[3] == status[7] == "only_0"
        and status[100] == status[101] == "only_1"
        and status[1] == "both"
    )
    assert sorted(cmp.only("changed").to_arrow().column("id").to_pylist()) == [1, 2, 5]
    assert sorted(cmp.only("only_1").to_arrow().column("id").to_pylist()) == [100, 101]
    assert cmp.only("both").num_rows == 8
    row = cmp.filter('row["id"] == 1').to_arrow().to_pylist()[0]
    assert (
        row["0.score"] == 0.1
        and row["1.score"] == 0.95
        and row["delta.score"] == pytest.approx(0.85)
    )
    assert row["changed.score"] and not row["changed.label"]


def test_filters_reach_both_sides(versions):
    c, _ = versions
    cmp = c.table("preds:v0").compare("preds:v1")
    up = cmp.filter("{$gt: ['$1.score', '$0.score']}").to_arrow().column("id").to_pylist()
    assert up == [1]
    assert cmp.filter('row0["label"] != row1["label"]').only("both").to_arrow().column(
        "id"
    ).to_pylist() == [2]


def test_row_position_key_and_concat(versions):
    c, _ = versions
    by_pos = c.table("preds:v0").compare("preds:v1", key="#").to_arrow()
    assert by_pos.num_rows == 10 and by_pos.column("0.id").to_pylist() == list(range(10))
    assert by_pos.column("1.id").to_pylist()[:4] == [0, 1, 2, 4]
    concat = c.table("preds:v0").compare("preds:v1", mode="concat")
    t = concat.to_arrow()
    assert t.num_rows == 20 and t.column("__side").to_pylist() == [0] * 10 + [1] * 10


def test_group_counts_histograms_and_top_values(versions):
    c, _ = versions
    g = c.table("preds:v0").group_by("label", bins=4).to_arrow().to_pylist()
    assert [(r["label"], r["count"]) for r in g] == [("cat", 5), ("dog", 5)]
    cat, dog = g
    assert cat["score"]["min"] == 0.0 and dog["score"]["max"] == 0.9
    # bins are shared: 0.0..0.9 in 4 bins of 0.225; cats are 0,.2,.4,.6,.8 and dogs .1,.3,.5,.7,.9
    assert cat["score"]["histogram"] == [2, 1, 1, 1] and dog["score"]["histogram"] == [1, 1, 1, 2]
    assert sum(cat["score"]["histogram"]) + sum(dog["score"]["histogram"]) == 10


def test_group_by_an_expression_and_compare_groups_per_side(versions):
    c, _ = versions
    g = c.table("preds:v0").group_by('row["score"] > 0.45').to_arrow().to_pylist()
    assert [r["count"] for r in g] == [5, 5]
    cmp = (
        c.table("preds:v0")
        .compare("preds:v1")
        .only("both")
        .group_by("0.label")
        .to_arrow()
        .to_pylist()
    )
    cat = next(r for r in cmp if r["0.label"] == "cat")
    assert sum(cat["0.score"]["histogram"]) == sum(cat["1.score"]["histogram"]) == cat["count"]


def test_cli_compare_and_diff(versions):
    _, cache_dir = versions
    base = [sys.executable, "-m", "desktopviz", "--cache", str(cache_dir)]
    r = subprocess.run(
        base + ["diff", "preds:v0", "preds:v1"], capture_output=True, text=True, timeout=60
    )
    assert r.returncode == 0 and "added: 2  removed: 2  changed: 3  unchanged: 5" in r.stdout
    assert "(12 rows compared)" in r.stdout.splitlines()[0]  # 8 in both, 2 only in each
    r = subprocess.run(
        base
        + ["table", "preds:v0", "--compare", "preds:v1", "--only", "changed", "--format", "csv"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert r.returncode == 0 and len(r.stdout.strip().splitlines()) == 4
    r = subprocess.run(
        base + ["table", "preds:v0", "--filter", "{$gtt: [1, 2]}"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert r.returncode == 2 and "position 1: unknown operator $gtt; did you mean $gt?" in r.stderr


@pytest.fixture(scope="module")
def big_versions(tmp_path_factory):
    """Two 3,000-row versions stored in many row groups: 2% removed, 2% added, 10% of scores and
    every 37th row's list of boxes changed (nested cells are compared by content)."""
    import numpy as np

    from desktopviz.formats import materialize

    base = tmp_path_factory.mktemp("bigcmp")
    rng = np.random.default_rng(11)
    n = 3000
    v0 = pa.table(
        {
            "id": np.arange(n),
            "label": pa.array(np.array(["a", "b", "c"])[rng.integers(0, 3, n)]),
            "score": rng.random(n).round(3),
            "boxes": [[{"k": int(i % 5)}] * int(i % 3) for i in range(n)],
        }
    )
    keep = rng.random(n) >= 0.02
    score = v0.column("score").to_numpy().copy()
    changed = rng.random(n) < 0.1
    score[changed] = rng.random(int(changed.sum())).round(3)
    boxes = [[{"k": 9}] if i % 37 == 0 else b for i, b in enumerate(v0.column("boxes").to_pylist())]
    v1 = v0.set_column(2, "score", pa.array(score))
    v1 = v1.set_column(3, "boxes", pa.array(boxes, type=v0.schema.field("boxes").type))
    v1 = v1.filter(pa.array(keep))
    added = v0.slice(0, 60).set_column(0, "id", pa.array(np.arange(n, n + 60)))
    v1 = pa.concat_tables([v1, added])
    cache_dir = base / "cache"
    with pytest.MonkeyPatch.context() as mp, Cache(cache_dir) as cache:
        mp.setattr(materialize, "BATCH_ROWS", 128)  # stored in row groups of 128 rows
        import_path(cache, write(base, "big", v0))
        import_path(cache, write(base, "big", v1))
    c = dv.open_cache(cache_dir)
    yield c
    c.close()


@pytest.mark.parametrize("only", [None, "both", "only_0", "only_1", "changed"])
def test_compare_pages_equal_the_full_join(big_versions, only):
    """Pages read through the narrow pairs table equal the same rows computed by the full join
    (a filter that always holds makes the engine take the join)."""
    q = big_versions.table("big:v0").compare("big:v1")
    if only:
        q = q.only(only)
    joined = q.filter("{$eq: [1, 1]}")
    assert q.num_rows == joined.num_rows > 0
    if only == "changed":
        rows = q.to_arrow().to_pylist()
        assert any(r["changed.boxes"] and not r["changed.score"] for r in rows)
        assert all(r["changed.boxes"] == (r["0.boxes"] != r["1.boxes"]) for r in rows)
    whole = joined.to_arrow().to_pylist()
    assert q.to_arrow().to_pylist() == whole
    for offset, count in [(0, 10), (q.num_rows // 2, 25), (q.num_rows - 7, 20)]:
        assert q.rows(offset, count).to_pylist() == whole[offset : offset + count]


def test_fingerprints_are_built_once_and_go_with_their_table(tmp_path):
    """Import writes each table's fingerprint (a comparison builds a missing one, atomically);
    comparisons reuse them; gc removes one once its table's version is deleted."""
    from desktopviz.query.fingerprint import fingerprint_path

    base = tmp_path
    t0 = pa.table({"id": [1, 2, 3], "label": ["a", "b", "c"], "score": [0.1, 0.2, 0.3]})
    t1 = pa.table({"id": [2, 3, 4], "label": ["b", "x", "d"], "score": [0.2, 0.3, 0.4]})
    with Cache(base / "cache") as cache:
        import_path(cache, write(base, "fp", t0))
        import_path(cache, write(base, "fp", t1))
        paths = [
            fingerprint_path(cache, cache.parquet_path(cache.table_info(cache.resolve(r))))
            for r in ("fp:v0", "fp:v1")
        ]
    assert all(p.is_file() for p in paths)  # made by the import
    paths[1].unlink()  # as in a cache from before fingerprints: the comparison makes it
    c = dv.open_cache(base / "cache")
    d = c.table("fp:v0").compare("fp:v1").diff()
    assert (d.added, d.removed, d.changed, d.columns["label"]) == (1, 1, 1, 1)
    assert all(p.is_file() for p in paths)
    assert not list(paths[0].parent.glob(".*.part"))
    built = [p.stat().st_mtime_ns for p in paths]
    c.close()
    c = dv.open_cache(base / "cache")
    assert c.table("fp:v1").compare("fp:v0").diff().changed == 1
    assert [p.stat().st_mtime_ns for p in paths] == built  # reused, not rebuilt
    c.close()
    with Cache(base / "cache") as cache:
        cache.delete_version(cache.resolve("fp:v0"))
        cache.gc()
    assert not paths[0].exists() and paths[1].exists()


def test_group_histograms_leave_nulls_out(versions):
    """A null score is in the group's count, not in its first bin (DuckDB's greatest() skips
    nulls, so an unguarded bin expression put every null in bin 0)."""
    c, _ = versions
    groups = c.table("preds:v1").group_by("label").to_arrow().to_pylist()
    rows = c.table("preds:v1").to_arrow().to_pylist()
    for g in groups:
        scored = [r for r in rows if r["label"] == g["label"] and r["score"] is not None]
        assert sum(g["score"]["histogram"]) == len(scored) <= g["count"]
    assert any(g["count"] > sum(g["score"]["histogram"]) for g in groups)  # id 101 has no score


def test_text_diff_marks_what_each_side_alone_has():
    from desktopviz.query.compare import text_diff

    pieces = text_diff("bicycle", "bicycles")
    assert pieces == [("equal", "bicycle"), ("insert", "s")]
    pieces = text_diff("tree", "sign")
    assert "".join(t for op, t in pieces if op != "delete") == "sign"
    assert "".join(t for op, t in pieces if op != "insert") == "tree"
    assert text_diff("same", "same") == [("equal", "same")]


@pytest.mark.parametrize("only", [None, "changed"])
def test_pages_past_the_first_screens_read_the_kept_order(big_versions, only, monkeypatch):
    """The first screens of a comparison are a top-N over its pairs; deeper pages read the pairs
    kept in result order. Both give the rows of the full join, in the same order."""
    from desktopviz.query import engine as engine_module

    monkeypatch.setattr(engine_module, "TOP_ROWS", 40)
    big_versions._engine().clear()
    q = big_versions.table("big:v0").compare("big:v1")
    if only:
        q = q.only(only)
    whole = q.filter("{$eq: [1, 1]}").to_arrow().to_pylist()
    for offset, count in [(0, 30), (30, 30), (q.num_rows // 2, 25), (5, 10)]:
        assert q.rows(offset, count).to_pylist() == whole[offset : offset + count]


def test_clearing_the_engine_drops_every_temp_table(big_versions):
    engine = big_versions._engine()
    q = big_versions.table("big:v0").compare("big:v1")
    q.rows(0, 10), q.only("changed").rows(0, 10), q.sort("1.score").rows(100, 10), q.diff()
    made = "SELECT table_name FROM duckdb_tables() WHERE table_name LIKE '__result_%'"
    assert len(engine.con.sql(made).fetchall()) >= 3  # pairs, pairs in order, a sort's order
    engine.clear()
    assert engine.con.sql(made).fetchall() == []
