"""The cache index: versions, dedupe, aliases, references, runs, lineage, gc."""

from __future__ import annotations

import sqlite3

import pytest

from desktopviz.errors import DesktopvizError, NotFoundError
from desktopviz.model import Run
from desktopviz.store.cache import Cache, NewFile, NewVersion, VersionHeader
from desktopviz.store.schema import SCHEMA_VERSION


def new_version(
    cache: Cache, name: str, content: bytes, *, digest: str | None = None, aliases=(), project="p"
):
    info = cache.blobs.put_bytes(content)
    return cache.add_version(
        NewVersion(
            VersionHeader(project, name, "dataset", aliases=aliases),
            digest or info.sha256,
            [NewFile("a.txt", info.size, info.sha256, info.md5_b64)],
        )
    )


def test_index_is_wal_with_schema_version(cache):
    assert cache.conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert cache.conn.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION


def test_reopening_keeps_data_and_refuses_newer_schema(cache_dir):
    with Cache(cache_dir) as c:
        new_version(c, "ds", b"one")
    with Cache(cache_dir) as c:
        assert [v.ref for v in c.versions()] == ["p/ds:v0"]
    conn = sqlite3.connect(cache_dir / "index.sqlite")
    conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
    conn.close()
    with pytest.raises(DesktopvizError, match="newer"):
        Cache(cache_dir)


def test_versions_only_when_content_differs_and_latest_moves(cache):
    a = new_version(cache, "ds", b"one")
    again = new_version(cache, "ds", b"one")
    b = new_version(cache, "ds", b"two")
    assert a.created and not again.created and again.version.id == a.version.id
    assert b.created and b.version.index == 1
    assert cache.resolve("ds:latest").index == 1
    assert cache.resolve("p/ds:v0").aliases == ()
    assert cache.check() == []


def test_user_aliases_are_unique_within_a_collection(cache):
    v0 = new_version(cache, "ds", b"one", aliases=("production",)).version
    v1 = new_version(cache, "ds", b"two").version
    cache.set_alias(v1, "production")
    assert cache.resolve("ds:production").id == v1.id
    assert "production" not in cache.version_by_id(v0.id).aliases
    with pytest.raises(DesktopvizError):
        cache.set_alias(v0, "latest")
    with pytest.raises(DesktopvizError):
        cache.set_alias(v0, "v3")


def test_resolve_errors_name_what_is_missing(cache):
    new_version(cache, "ds", b"one")
    new_version(cache, "ds", b"x", project="q")
    with pytest.raises(NotFoundError, match="no artifact named 'nope'"):
        cache.resolve("nope:v0")
    with pytest.raises(NotFoundError, match="no version or alias 'v7'"):
        cache.resolve("p/ds:v7")
    with pytest.raises(NotFoundError, match="several projects"):
        cache.resolve("ds:latest")


def test_type_of_a_collection_is_fixed(cache):
    new_version(cache, "ds", b"one")
    info = cache.blobs.put_bytes(b"m")
    with pytest.raises(DesktopvizError, match="has type 'dataset'"):
        cache.add_version(
            NewVersion(VersionHeader("p", "ds", "model"), "d", [NewFile("m", 1, info.sha256)])
        )


def test_runs_history_and_lineage(cache):
    v = new_version(cache, "ds", b"one").version
    cache.upsert_run(
        Run(
            id="r1",
            project="p",
            name="train",
            job_type="train",
            config={"lr": 0.1},
            created_at="2026",
        )
    )
    cache.log_history("r1", [(0, {"loss": 1.0}), (1, {"loss": 0.5})])
    cache.add_lineage("r1", v.id, "input")
    assert cache.run("r1").config == {"lr": 0.1}
    assert cache.history("r1") == [(0, {"loss": 1.0}), (1, {"loss": 0.5})]
    assert cache.consumers(v) == ["r1"] and cache.producer(v) is None


def test_gc_removes_only_unreferenced_blobs(cache):
    new_version(cache, "ds", b"kept")
    orphan = cache.blobs.put_bytes(b"orphan")
    report = cache.gc()
    assert report.blobs_removed == 1 and not cache.blobs.has(orphan.sha256)
    assert cache.check() == []


def test_missing_blob_is_refused_before_commit(cache):
    with pytest.raises(DesktopvizError, match="missing"):
        cache.add_version(
            NewVersion(VersionHeader("p", "ds", "dataset"), "d", [NewFile("a", 1, "0" * 64)])
        )
    assert cache.versions() == []
