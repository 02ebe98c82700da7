"""Cache.delete_version: one transaction; ``latest`` moves to the newest remaining version."""

from __future__ import annotations

import sqlite3

import pytest

from desktopviz.errors import NotFoundError
from desktopviz.model import Run
from desktopviz.store.cache import Cache, NewFile, NewVersion, VersionHeader
from tests.store.test_cache import new_version


def index_rows(cache: Cache) -> dict[str, list[tuple]]:
    return {
        t: sorted(cache.conn.execute(f"SELECT * FROM {t}").fetchall())
        for t in ("collections", "versions", "aliases", "files", "tables", "lineage")
    }


def test_deleting_the_newest_moves_latest_back(cache):
    new_version(cache, "ds", b"one")
    v1 = new_version(cache, "ds", b"two").version
    v2 = new_version(cache, "ds", b"three", aliases=("production",)).version
    cache.upsert_run(Run(id="r1", project="p"))
    cache.add_lineage("r1", v2.id, "output")

    latest = cache.delete_version(v2)

    assert latest is not None and latest.id == v1.id and latest.aliases == ("latest",)
    assert [v.tag for v in cache.versions("p", "ds")] == ["v0", "v1"]
    assert cache.resolve("ds:latest").id == v1.id
    with pytest.raises(NotFoundError):
        cache.resolve("ds:production")
    with pytest.raises(NotFoundError):
        cache.resolve("ds:v2")
    assert cache.lineage() == []
    assert cache.check() == []


def test_deleting_an_older_version_keeps_latest(cache):
    v0 = new_version(cache, "ds", b"one", aliases=("staging",)).version
    v1 = new_version(cache, "ds", b"two").version

    latest = cache.delete_version(v0)

    assert latest is not None and latest.id == v1.id
    assert [v.tag for v in cache.versions("p", "ds")] == ["v1"]
    assert cache.check() == []
    assert new_version(cache, "ds", b"three").version.tag == "v2"


def test_deleting_the_last_version_removes_the_collection(cache):
    v0 = new_version(cache, "ds", b"one").version
    new_version(cache, "other", b"x")

    assert cache.delete_version(v0) is None

    assert [c.name for c in cache.collections()] == ["other"]
    assert cache.check() == []


def test_referring_files_keep_their_bytes(cache):
    source = new_version(cache, "ds", b"image bytes").version
    blob = cache.blobs.put_bytes(b"image bytes")
    user = cache.add_version(
        NewVersion(
            VersionHeader("p", "preds", "predictions"),
            "preds-digest",
            [NewFile("a.txt", blob.size, blob.sha256, blob.md5_b64, "ref://x", source.id, "a.txt")],
        )
    ).version

    cache.delete_version(source)

    (entry,) = cache.files(user)
    assert entry.ref_version_id is None and entry.ref == "ref://x"
    assert cache.file_path(user, "a.txt").read_bytes() == b"image bytes"
    assert cache.check() == []


def test_a_failure_inside_the_transaction_changes_nothing(cache):
    new_version(cache, "ds", b"one")
    v1 = new_version(cache, "ds", b"two", aliases=("production",)).version
    before = index_rows(cache)
    for event in ("INSERT", "UPDATE"):
        cache.conn.execute(
            f"CREATE TEMP TRIGGER fail_{event.lower()} BEFORE {event} ON aliases "
            "BEGIN SELECT RAISE(ABORT, 'disk full'); END"
        )

    with pytest.raises(sqlite3.IntegrityError, match="disk full"):
        cache.delete_version(v1)

    assert index_rows(cache) == before


def test_deleting_twice_says_so(cache):
    v0 = new_version(cache, "ds", b"one").version
    new_version(cache, "ds", b"two")
    cache.delete_version(v0)
    with pytest.raises(NotFoundError, match="deleted already"):
        cache.delete_version(v0)
