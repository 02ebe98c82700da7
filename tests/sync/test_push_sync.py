"""Push from one real cache to a folder store, sync into another: the same versions (numbers,
digests, aliases, files, tables), runs with their history and lineage; verified, resumable,
catalog-only, and refusing an altered store."""

from __future__ import annotations

import json
import threading
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq
import pytest

import desktopviz as dv
from desktopviz.errors import DesktopvizError
from desktopviz.progress import Progress
from desktopviz.store.cache import Cache, NotDownloadedError
from desktopviz.store.verify import verify
from desktopviz.sync.folder import FolderBackend, blob_path
from desktopviz.sync.pull import fetch_version, sync
from desktopviz.sync.push import push
from desktopviz.sync.store import append_entry, digest_of, encode, read_entries
from tests.support import sample_image


def snapshot(cache: Cache) -> dict[str, Any]:
    """Everything a user sees of a cache's versions and runs, without local ids and paths."""
    refs = {v.id: v.ref for v in cache.versions()}
    out: dict[str, Any] = {}
    for v in cache.versions():
        tables = {}
        for t in cache.tables(v):
            if v.downloaded:
                tables[t.path] = pq.read_table(cache.parquet_path(t)).to_pylist()
            else:
                tables[t.path] = t.num_rows
        out[v.ref] = {
            "type": v.type,
            "digest": v.digest,
            "aliases": sorted(v.aliases),
            "description": v.description,
            "metadata": v.metadata,
            "created_at": v.created_at,
            "state": v.state,
            "files": [
                (f.path, f.size, f.sha256, f.wandb_digest, f.ref, refs.get(f.ref_version_id))
                for f in cache.files(v)
            ],
            "tables": tables,
            "producer": cache.producer(v),
            "consumers": cache.consumers(v),
        }
    for r in cache.runs():
        out[f"run {r.id}"] = (r.name, r.job_type, r.config, r.summary, cache.history(r.id))
    return out


def test_push_then_sync_gives_the_same_cache(source_dir: Path, store, cache_b: Cache):
    with Cache(source_dir) as a:
        report = push(a, store)
        assert (report.versions, report.runs, report.aliases) == (3, 2, 2)
        expected = snapshot(a)
    got = sync(cache_b, store, source="team")
    assert (got.versions, got.cursor) == (3, 6)
    assert snapshot(cache_b) == expected
    assert cache_b.check() == [] and verify(cache_b).damaged == []
    # tables open through the SDK as they were logged
    with dv.open_cache(cache_b.root) as c:
        samples = c.artifact("p/ds:production").get("samples")
        assert samples.get_column("image")[2].to_numpy().shape == (20, 24, 3)
    assert cache_b.resolve("p/preds:staging").ref == "p/preds:v0"

    # nothing new: nothing sent, nothing fetched, no journal entry
    with Cache(source_dir) as a:
        again = push(a, store)
    assert (again.versions, again.blobs, again.entries) == (0, 0, [])
    assert sync(cache_b, store, source="team").entries == 0
    assert snapshot(cache_b) == expected
    assert cache_b.sources()[0]["versions"] == 3


def test_versions_of_one_artifact_pushed_from_two_caches_are_consecutive(tmp_path, store):
    def log(cache_dir: Path, seed: int) -> None:
        with dv.init(project="p", job_type="build", dir=cache_dir) as run:
            t = dv.Table(columns=["id", "image"])
            t.add_data(seed, sample_image(seed))
            art = dv.Artifact("shared", "dataset")
            art.add(t, "samples")
            run.log_artifact(art)

    caches = []
    for seed in (1, 2, 3):
        log(tmp_path / f"c{seed}", seed)
        caches.append(Cache(tmp_path / f"c{seed}"))
    push(caches[0], store)
    done: list[Any] = []
    # two machines at once: each sees v0 alone in the store and takes the next number
    threads = [
        threading.Thread(target=lambda c=c: done.append(push(c, FolderBackend(store.root))))
        for c in caches[1:]
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(done) == 2
    push(caches[1], store)  # identical content again: not a new version
    digests = {c.resolve("p/shared").digest for c in caches}
    with Cache(tmp_path / "b") as b:
        sync(b, store, source="s")
        got = [v.digest for v in b.versions("p", "shared")]
        assert [v.index for v in b.versions("p", "shared")] == [0, 1, 2]
        assert got[0] == caches[0].resolve("p/shared").digest and set(got) == digests
        assert b.resolve("p/shared:latest").digest == got[2]
    # the first machine syncs back: its own v0 stays, the others become v1 and v2
    sync(caches[0], store, source="s")
    assert [v.digest for v in caches[0].versions("p", "shared")] == got
    for c in caches:
        c.close()


def test_catalog_only_then_fetch_version(source_dir: Path, store, cache_b: Cache):
    with Cache(source_dir) as a:
        push(a, store)
        expected = snapshot(a)
    report = sync(cache_b, store, source="team", catalog_only=True)
    assert (report.versions, report.catalog, report.blobs) == (0, 3, 0)
    v = cache_b.resolve("p/ds:production")
    assert v.state == "catalog" and not v.downloaded and v.file_count > 0
    assert not list((cache_b.root / "blobs").rglob("*.pack"))
    with pytest.raises(NotDownloadedError, match="not downloaded: run desktopviz pull p/ds:v0"):
        cache_b.file_path(v, cache_b.files(v)[0].path)
    with pytest.raises(NotDownloadedError, match="desktopviz pull p/ds:v0"):
        cache_b.parquet_path(cache_b.table_info(v, "samples"))
    assert cache_b.check() == []  # a catalog version is not a damaged one
    assert verify(cache_b).damaged == []  # nor are its blobs missing: they are not here yet
    assert cache_b.lineage() and len(cache_b.runs()) == 2

    seen: list[Progress] = []
    fetched = fetch_version(cache_b, v, progress=seen.append)
    assert fetched.downloaded and seen and seen[-1].done == seen[-1].total
    # the predictions' images are the dataset's: fetching them fetches ds:v1 too
    assert fetch_version(cache_b, cache_b.resolve("p/preds:v0")).downloaded
    assert cache_b.resolve("p/ds:v1").downloaded
    assert all(v.downloaded for v in cache_b.versions())
    assert snapshot(cache_b) == expected
    assert verify(cache_b).damaged == []


@pytest.mark.parametrize("which", ["file", "table"])
def test_an_altered_blob_is_refused_and_its_version_not_added(
    source_dir: Path, store, cache_b: Cache, which: str
):
    with Cache(source_dir) as a:
        push(a, store)
        v0 = a.resolve("p/ds:v0")
        if which == "file":
            f = next(f for f in a.files(v0) if f.path.endswith(".png"))
            sha, name = f.sha256, f.path
        else:
            sha = next(
                json.loads(store.read(f"manifests/{e['manifest']}.json"))["tables"][0]
                for e in read_entries(store)
                if e["type"] == "version" and e["digest"] == v0.digest
            )["parquet_sha256"]
            name = "samples.table.json"
    blob = store.root / blob_path(sha)
    data = bytearray(blob.read_bytes())
    data[len(data) // 2] ^= 0xFF
    blob.write_bytes(bytes(data))
    with pytest.raises(DesktopvizError) as err:
        sync(cache_b, store, source="team")
    assert name in str(err.value) and blob_path(sha) in str(err.value)
    assert "does not match its digest" in str(err.value)
    assert cache_b.versions() == []  # ds:v0 is the first version entry: nothing after it either
    assert cache_b.source_cursor("team") < 2
    assert not cache_b.blobs.all_digests()  # what the failed sync fetched is gone again
    assert cache_b.check() == []


@pytest.mark.parametrize("bad", ["../x", "/etc/x", "a/../../x"])
def test_a_manifest_naming_a_path_out_of_the_artifact_is_refused(store, cache_b, bad):
    from desktopviz.formats.manifest import artifact_digest
    from desktopviz.sync.store import init_store

    init_store(store)
    digest = artifact_digest({bad: "x"})
    manifest = {
        "format": 1, "project": "p", "name": "evil", "type": "dataset", "digest": digest,
        "description": None, "metadata": {}, "created_at": "2024-01-01T00:00:00+00:00",
        "aliases": [], "tables": [], "produced_by": None, "used_by": [],
        "files": [{"path": bad, "size": 1, "sha256": None, "wandb_digest": "x", "ref": None,
                   "ref_version": None, "ref_path": None}],
    }  # fmt: skip
    data = encode(manifest)
    store.put(f"manifests/{digest_of(data)}.json", data)
    append_entry(
        store,
        {"type": "version", "project": "p", "name": "evil", "artifact_type": "dataset",
         "manifest": digest_of(data), "digest": digest, "at": "2024-01-01T00:00:00+00:00"},
    )  # fmt: skip
    with pytest.raises(DesktopvizError, match=f"names {bad!r}: refused"):
        sync(cache_b, store, source="s")
    assert cache_b.versions() == []


class Interrupt(Exception):
    """Stands in for a kill in the middle of a sync."""


@pytest.mark.parametrize("at", [1, 4, 9, 15, 21])
def test_an_interrupted_sync_resumes_to_the_same_cache(source_dir, store, tmp_path, at):
    with Cache(source_dir) as a:
        push(a, store)
    with Cache(tmp_path / "whole") as whole:
        sync(whole, store, source="s")
        expected = snapshot(whole)
    calls = 0

    def progress(p: Progress) -> None:
        nonlocal calls
        calls += 1
        if calls == at:
            raise Interrupt(p.stage)

    with Cache(tmp_path / "b") as b:
        with pytest.raises(Interrupt):
            sync(b, store, source="s", progress=progress, parallel=2)
        # only whole versions are visible, and each is complete (aliases and consumers may
        # come with later entries)
        assert b.check() == [] and verify(b).damaged == []
        part = snapshot(b)
        for v in b.versions():
            for key in ("digest", "files", "tables", "state", "metadata", "producer"):
                assert part[v.ref][key] == expected[v.ref][key]
        assert b.sources()[0]["state"].startswith("error")
        sync(b, store, source="s")
        assert snapshot(b) == expected
        assert b.sources()[0]["state"] == "ok"


def test_offline_runs_written_by_wandb_sync_with_references_and_lineage(tmp_path, store):
    from tests.wandb_support import run_script

    base = tmp_path / "wandb"
    runs = json.loads(run_script("lineage_runs.py", str(base), base=base))
    from desktopviz.importing import import_path

    with Cache(tmp_path / "a") as a:
        for d in runs.values():
            import_path(a, Path(d))
        assert any(f.ref_version_id for v in a.versions() for f in a.files(v))
        push(a, store)
        expected = snapshot(a)
    with Cache(tmp_path / "b") as b:
        sync(b, store, source="s")
        assert snapshot(b) == expected
        assert verify(b).damaged == []


def test_deleted_versions_and_moved_aliases_follow_the_journal(source_dir, store, cache_b):
    with Cache(source_dir) as a:
        push(a, store)
        v0, v1 = a.versions("p", "ds")
    sync(cache_b, store, source="s")
    append_entry(store, {"type": "alias", "project": "p", "name": "ds", "alias": "production",
                         "digest": v1.digest})  # fmt: skip
    append_entry(store, {"type": "alias_removed", "project": "p", "name": "preds",
                         "alias": "staging"})  # fmt: skip
    append_entry(store, {"type": "version_deleted", "project": "p", "name": "ds",
                         "digest": v0.digest})  # fmt: skip
    report = sync(cache_b, store, source="s")
    assert (report.entries, report.deleted) == (3, 1)
    assert [v.index for v in cache_b.versions("p", "ds")] == [1]
    assert cache_b.resolve("p/ds:production").index == 1
    assert "staging" not in cache_b.resolve("p/preds:v0").aliases


def test_a_local_version_at_the_stores_number_is_refused(tmp_path, source_dir, store):
    with Cache(source_dir) as a:
        push(a, store)
    other = tmp_path / "other"
    with dv.init(project="p", job_type="x", dir=other) as run:
        art = dv.Artifact("ds", "dataset")
        art.add(dv.Table(columns=["x"], data=[[1]]), "samples")
        run.log_artifact(art)  # p/ds:v0 here is another version than the store's v0
    with Cache(other) as c:
        with pytest.raises(DesktopvizError, match=r"p/ds:v0 in this cache is another version"):
            sync(c, store, source="s")
        assert [v.digest for v in c.versions("p", "ds")] == [c.resolve("p/ds:v0").digest]
        assert c.source_cursor("s") < 6
