"""Search everything (desktopviz.search) on real caches: a run and its artifact written by the
real wandb SDK and imported, versions made through the Cache API, and the index kept right by
its triggers through alias moves, deletes, other processes' writes and a sync."""

from __future__ import annotations

import re
import sqlite3
from pathlib import Path

import pytest

from desktopviz import search as search_mod
from desktopviz.errors import DesktopvizError
from desktopviz.importing import import_path
from desktopviz.search import Source, ensure_index, search
from desktopviz.store.cache import Cache, NewVersion, VersionHeader
from tests.cli_support import dv
from tests.wandb_support import run_script

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")


@pytest.fixture(scope="module")
def wandb_run(tmp_path_factory) -> Path:
    """An offline run ``kestrel`` (config ``name: kestrel``) that logged the artifact
    ``kestrel-preds`` (a table ``preds`` of columns ``id`` and ``score``), by the real SDK."""
    base = tmp_path_factory.mktemp("wandb-search")
    return Path(run_script("folder_run.py", "kestrel", base=base).strip())


@pytest.fixture
def imported(cache: Cache, wandb_run: Path) -> Cache:
    import_path(cache, wandb_run)
    return cache


def add(cache: Cache, name: str, n: int, **header) -> None:
    """``n`` versions of artifact ``name`` in project ``zoo`` (no files: the index is what is
    searched), the i-th with digest ``name-i``."""
    for i in range(n):
        cache.add_version(
            NewVersion(
                VersionHeader(project="zoo", name=name, type="model", **header),
                digest=f"{name}-{i}",
                files=[],
            )
        )


def found(cache_or_conn, text: str, **kw) -> list[tuple[str, str]]:
    return [(h.kind, h.label) for h in search(cache_or_conn, text, **kw)]


def test_a_wandb_run_and_what_it_logged_are_found_by_every_field(imported: Cache, wandb_run):
    run_id = wandb_run.name.rsplit("-", 1)[1]
    hits = search(imported, "kestrel")
    by_kind = {h.kind: h for h in hits}
    assert set(by_kind) == {"artifact", "version", "run", "table"}
    assert by_kind["artifact"].ref == "share/kestrel-preds"
    assert by_kind["version"].ref == "share/kestrel-preds:v0"
    assert by_kind["table"].label == "share/kestrel-preds:v0 preds.table.json"
    run = by_kind["run"]
    assert run.ref == f"share/runs/{run_id}"
    # it matched on its config value
    assert (run.field, run.snippet, run.marked()) == (
        "config",
        "name: kestrel",
        "name: [kestrel]",
    )
    # the artifact's own name ranks above the things that only mention it
    assert hits[0].kind == "artifact" and hits[0].field == "name"

    # a column name finds the table, with the columns as the snippet
    (table,) = search(imported, "score")
    assert (table.kind, table.field, table.marked()) == ("table", "columns", "id, [score]")
    # the run by its id and its job type, the project by its name
    (by_id,) = search(imported, run_id)
    assert (by_id.kind, by_id.key, by_id.label) == ("run", run_id, f"share/runs/{run_id}")
    assert "id" in by_id.fields
    assert ("run", run.label) in found(imported, "train")
    assert found(imported, "share", kinds=["project"]) == [("project", "share")]


def test_words_are_prefixes_all_required_across_fields_and_ranked(cache: Cache):
    add(cache, "detector", 2, description="wide resnet trained on night scenes")
    add(cache, "resnet-50", 1, metadata={"arch": "bottleneck", "top1": 0.76})
    add(cache, "segmenter", 1, metadata={"backbone": {"name": "resnet", "depth": 101}})
    # typing: each prefix answers
    assert [h.label for h in search(cache, "res", kinds=["version"])][0] == "zoo/resnet-50:v0"
    names = [h.label for h in search(cache, "resnet", kinds=["version"])]
    # the name first, then the description, then a metadata value (weights 10, 2, 1)
    assert names[0] == "zoo/resnet-50:v0" and names[-1] == "zoo/segmenter:v0"
    assert set(names[1:3]) == {"zoo/detector:v0", "zoo/detector:v1"}
    fields = {h.label: (h.field, h.marked()) for h in search(cache, "resnet")}
    assert fields["zoo/detector:v1"] == ("description", "wide [resnet] trained on night scenes")
    assert fields["zoo/segmenter:v0"] == (
        "metadata",
        "backbone.depth: 101; backbone.name: [resnet]",
    )
    # every word must match, in any field: name + version tag, description + alias
    assert found(cache, "detector v1") == [("version", "zoo/detector:v1")]
    assert found(cache, "night latest") == [("version", "zoo/detector:v1")]
    assert found(cache, "bottleneck 0.76") == [("version", "zoo/resnet-50:v0")]
    # punctuation is a word break, as in the index; no word: nothing searched
    assert found(cache, "resnet-5", kinds=["artifact"]) == [("artifact", "zoo/resnet-50")]
    assert search(cache, " -:/ ") == [] and search(cache, "resnet", limit=0) == []
    assert len(search(cache, "zoo", limit=3)) == 3
    with pytest.raises(DesktopvizError, match="no such kind 'model'"):
        search(cache, "resnet", kinds=["model"])


def test_the_index_follows_alias_moves_and_deletes(cache: Cache):
    add(cache, "detector", 3)
    v0, v1, v2 = cache.versions("zoo", "detector")
    cache.set_alias(v0, "production")
    assert found(cache, "production") == [("version", "zoo/detector:v0")]
    cache.set_alias(v1, "production")  # moves
    assert found(cache, "production") == [("version", "zoo/detector:v1")]
    (hit,) = search(cache, "prod")
    assert (hit.field, hit.marked()) == ("alias", "[production]")
    assert found(cache, "latest") == [("version", "zoo/detector:v2")]

    cache.delete_version(cache.resolve("zoo/detector:v2"))  # latest moves to v1
    assert found(cache, "latest") == [("version", "zoo/detector:v1")]
    assert found(cache, "detector v2") == []
    cache.remove_alias(cache.resolve("zoo/detector:v1"), "production")
    assert found(cache, "production") == []
    for v in cache.versions("zoo", "detector"):
        cache.delete_version(v)
    assert found(cache, "detector") == []  # the artifact went with its last version
    assert cache.conn.execute("SELECT COUNT(*) FROM search_docs").fetchone()[0] == 1  # zoo
    integrity(cache)


def integrity(cache: Cache) -> None:
    """The FTS index agrees with its rows, and the rows with a build from scratch."""
    conn = cache.conn
    conn.execute("INSERT INTO search_fts (search_fts, rank) VALUES ('integrity-check', 1)")
    rows = "SELECT kind, doc_key, ref, title, {} FROM search_docs ORDER BY kind, doc_key".format(
        ", ".join(search_mod.COLUMNS)
    )
    now = conn.execute(rows).fetchall()
    search_mod.rebuild(conn)
    assert conn.execute(rows).fetchall() == now


def test_writes_of_other_processes_show_at_once(imported: Cache, cache_dir: Path):
    assert found(imported, "champion") == []
    r = dv("alias", "share/kestrel-preds:v0", "champion", cache=cache_dir)
    assert r.returncode == 0, r.stderr
    assert found(imported, "champion") == [("version", "share/kestrel-preds:v0")]
    r = dv("alias", "share/kestrel-preds:v0", "champion", "--remove", cache=cache_dir)
    assert found(imported, "champion") == []
    integrity(imported)


def test_a_synced_cache_is_searchable(imported: Cache, tmp_path: Path, cache_dir: Path):
    imported.set_alias(imported.resolve("share/kestrel-preds:v0"), "staging")
    store, other = tmp_path / "store", tmp_path / "other"
    for args, where in (
        (("push", str(store)), cache_dir),
        (("sync", str(store), "--catalog-only"), other),
    ):
        r = dv(*args, cache=where)
        assert r.returncode == 0, r.stderr
    with Cache(other) as synced:
        assert found(synced, "kestrel staging") == [("version", "share/kestrel-preds:v0")]
        assert {h.kind for h in search(synced, "kestrel")} == {
            "artifact",
            "version",
            "run",
            "table",
        }
        integrity(synced)


def test_an_index_without_triggers_is_built_on_the_first_search(imported: Cache):
    conn = imported.conn
    # as the migration leaves an old cache: the tables, empty, no triggers, no signature
    with imported.write():
        for (name,) in conn.execute(
            "SELECT name FROM sqlite_master WHERE type = 'trigger' AND name LIKE 'search%'"
        ).fetchall():
            conn.execute(f'DROP TRIGGER "{name}"')
        conn.execute("DELETE FROM search_docs")
        conn.execute("INSERT INTO search_fts (search_fts) VALUES ('rebuild')")
        conn.execute("DELETE FROM search_meta")
    assert {h.kind for h in search(imported, "kestrel")} == {"artifact", "version", "run", "table"}
    assert not ensure_index(conn)  # made once
    triggers = conn.execute("SELECT COUNT(*) FROM sqlite_master WHERE type = 'trigger'")
    assert triggers.fetchone()[0] > 10


def test_a_new_source_is_one_function_and_the_index_rebuilds_for_it(cache: Cache, monkeypatch):
    """The extension point: saved views as a kind, added to SOURCES."""
    add(cache, "detector", 1)
    version = cache.resolve("zoo/detector")
    assert ensure_index(cache.conn) is True  # made on first use
    views = Source(
        kind="view",
        select="SELECT w.collection_id || '/' || w.table_path || '/' || w.name AS doc_key, "
        "w.name AS ref, w.name AS name FROM views w WHERE {where}",
        watch={
            "views": "w.collection_id = {row}.collection_id AND w.table_path = {row}.table_path "
            "AND w.name = {row}.name"
        },
    )
    cache.save_view(version, "t.table.json", "confident birds", {"filters": []})
    monkeypatch.setattr(search_mod, "SOURCES", (*search_mod.SOURCES, views))
    monkeypatch.setattr(search_mod, "KINDS", (*search_mod.KINDS, "view"))
    assert found(cache, "birds") == [("view", "confident birds")]  # rebuilt for it
    assert ensure_index(cache.conn) is False
    cache.save_view(version, "t.table.json", "noisy birds", {"filters": []})
    assert found(cache, "noisy") == [("view", "noisy birds")]  # and kept by its triggers


def test_every_source_runs_and_every_trigger_uses_an_index(cache: Cache):
    """Each trigger runs on every write to its table: none may scan a whole table."""
    ensure_index(cache.conn)
    conn = cache.conn
    assert [s.kind for s in search_mod.active_sources(conn)] == list(search_mod.KINDS)
    tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    triggers = conn.execute(
        "SELECT name, tbl_name, sql FROM sqlite_master WHERE type = 'trigger'"
    ).fetchall()
    assert triggers
    for name, table, sql in triggers:
        body = sql.split("BEGIN", 1)[1].rsplit("END", 1)[0]
        for statement in filter(str.strip, body.split(";\n")):
            bound = re.sub(r"\b(NEW|OLD)\.\w+", "?", statement)
            plan = conn.execute(f"EXPLAIN QUERY PLAN {bound}", [None] * bound.count("?"))
            scans = [d for *_, d in plan if d.startswith("SCAN ") and d.split()[1] in tables]
            assert not scans, f"{name} on {table}: {scans}"


def test_registry_collections_and_reports_are_found(cache: Cache):
    from desktopviz import registry, reports

    add(cache, "detector", 2)
    registry.link_version(
        cache,
        cache.resolve("zoo/detector:v1"),
        "pedestrian-detection",
        ["production"],
        description="finds people crossing",
    )
    hits = {h.kind: h for h in search(cache, "pedestrian")}
    assert hits["registry"].ref == "registry/pedestrian-detection"
    (hit,) = search(cache, "crossing production")
    assert (hit.kind, hit.fields) == ("registry", ("alias", "description"))
    assert search(cache, "detector:v1", kinds=["registry"])[0].field == "linked version"

    report = reports.create(cache, "zoo", "night review")
    reports.add_text(cache, report.id, "The detector misses cyclists at dusk.")
    (hit,) = search(cache, "cyclists")
    assert (hit.kind, hit.ref, hit.field) == ("report", "zoo/night review", "text")
    reports.delete(cache, report.id)
    assert search(cache, "cyclists") == []


def test_a_read_only_search_needs_no_write_lock(imported: Cache, cache_dir: Path):
    """A search answers while another connection holds the write lock (an import running)."""
    search(imported, "kestrel")  # the index is made
    writer = sqlite3.connect(cache_dir / "index.sqlite", isolation_level=None)
    writer.execute("BEGIN IMMEDIATE")
    try:
        reader = search_mod.open_index(cache_dir / "index.sqlite", timeout=0.1)
        assert found(reader, "kestrel", kinds=["artifact"]) == [("artifact", "share/kestrel-preds")]
        reader.close()
    finally:
        writer.execute("ROLLBACK")
        writer.close()


def test_metadata_that_sqlite_cannot_read_as_json_is_searched_as_text(cache: Cache):
    add(cache, "odd", 1, metadata={"loss": float("nan"), "note": "diverged"})
    (hit,) = search(cache, "diverged")
    assert hit.field == "metadata" and "NaN" in hit.snippet
