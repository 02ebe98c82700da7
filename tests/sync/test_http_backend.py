"""HttpBackend against ``desktopviz serve`` (started through the console script on 127.0.0.1)
and against nginx serving a store folder read-only: the Backend protocol, tokens, errors,
concurrent clients, and push/sync end to end."""

from __future__ import annotations

import hashlib
import io
import json
import os
import signal
import socket
import subprocess
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

import desktopviz as dv
from desktopviz.errors import DesktopvizError
from desktopviz.sync.backend import AuthError, Conflict
from desktopviz.sync.folder import FolderBackend
from desktopviz.sync.http import HttpBackend
from desktopviz.sync.store import append_entry, init_store
from tests.sync.serve_support import TOKEN, Served, serving, start_nginx, start_server


def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def blob_path(digest: str) -> str:
    return f"blobs/sha256/{digest[:2]}/{digest}"


@pytest.fixture
def server(tmp_path: Path):
    with serving(tmp_path / "store") as s:
        yield s


@pytest.fixture
def client(server: Served):
    backend = HttpBackend(server.url, TOKEN)
    yield backend
    backend.close()


def test_the_backend_protocol_over_http(server: Served, client: HttpBackend) -> None:
    data = os.urandom(3 << 20)  # more than one upload chunk
    digest = sha(data)
    assert client.missing_blobs([digest]) == {digest}
    client.put_blob(digest, io.BytesIO(data), len(data))
    client.put_blob(digest, io.BytesIO(data), len(data))  # already there: nothing changes
    assert client.missing_blobs([digest, sha(b"no")]) == {sha(b"no")}
    assert client.read(blob_path(digest)) == data
    assert client.exists(blob_path(digest)) and not client.exists(blob_path(sha(b"no")))
    assert client.read(blob_path(sha(b"no"))) is None
    with client.open(blob_path(digest), offset=1000) as f:
        assert f.read() == data[1000:]
    with client.open(blob_path(digest)) as f:  # closed half-read: the pool still works after
        assert f.read(10) == data[:10]
    with pytest.raises(DesktopvizError, match="is not in the store"):
        client.open(blob_path(sha(b"no")))

    manifest = b'{"format": 1}'
    client.put(f"manifests/{sha(manifest)}.json", manifest)
    assert (server.store / "manifests" / f"{sha(manifest)}.json").read_bytes() == manifest
    with pytest.raises(DesktopvizError, match="do not hash"):
        client.put(f"runs/{sha(b'x')}.json", b"y")

    assert init_store(client)["format"] == "desktopviz-store"  # store.json is there already
    entries = [append_entry(client, {"type": "alias_removed", "project": "p"}) for _ in range(3)]
    assert entries == [0, 1, 2]
    assert list(client.list("journal/")) == [f"journal/{n:012d}.json" for n in range(3)]
    assert list(client.list("journal/", after="journal/000000000000.json")) == [
        "journal/000000000001.json",
        "journal/000000000002.json",
    ]
    with pytest.raises(Conflict):
        client.create("journal/000000000002.json", b'{"n": 2, "type": "alias_removed"}')
    with pytest.raises(DesktopvizError, match="not inside the store"):
        client.read("../store.token")


def test_an_altered_upload_is_refused_with_the_digest_named(client: HttpBackend) -> None:
    claimed = sha(b"the real bytes")
    with pytest.raises(DesktopvizError, match=claimed):
        client.put_blob(claimed, io.BytesIO(b"other bytes"), 11)
    assert client.missing_blobs([claimed]) == {claimed}


def test_a_wrong_or_missing_token_is_an_auth_error_naming_the_url(server: Served) -> None:
    for token in (None, "wrong"):
        backend = HttpBackend(server.url, token)
        message = f"authentication failed for {server.url}"
        with pytest.raises(AuthError) as e:
            backend.put_blob(sha(b"x"), io.BytesIO(b"x"), 1)
        assert str(e.value) == message
        with pytest.raises(AuthError, match=message):
            backend.read("store.json")
        with pytest.raises(AuthError, match=message):
            backend.missing_blobs([sha(b"x")])
        with pytest.raises(AuthError, match=message):
            list(backend.list("journal/"))
        with pytest.raises(AuthError, match=message):
            backend.create("journal/000000000000.json", b"{}")
        backend.close()


def test_a_server_that_is_gone_is_one_clear_line(tmp_path: Path) -> None:
    with socket.socket() as s:  # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        url = f"http://127.0.0.1:{s.getsockname()[1]}"
    backend = HttpBackend(url, TOKEN, connect_timeout=2)
    with pytest.raises(DesktopvizError) as e:
        backend.read("store.json")
    assert str(e.value) == f"cannot reach {url}: connection refused"


def test_a_server_stopped_mid_transfer_is_one_clear_line(tmp_path: Path) -> None:
    data = os.urandom(64 << 20)
    digest = sha(data)
    store = tmp_path / "store"
    init_store(FolderBackend(store))
    FolderBackend(store).put_blob(digest, io.BytesIO(data), len(data))
    server = start_server(store)
    backend = HttpBackend(server.url, TOKEN)
    stream = backend.open(blob_path(digest))
    assert stream.read(1 << 20) == data[: 1 << 20]
    server.stop(signal.SIGKILL)  # the server dies with most of the blob unsent
    with pytest.raises(DesktopvizError) as e:
        while stream.read(1 << 20):
            pass
    assert str(e.value).startswith(f"{backend.url}: {blob_path(digest)}: the transfer broke")
    assert "\n" not in str(e.value)
    stream.close()
    backend.close()


def test_twenty_concurrent_clients_download_every_file_intact(server: Served) -> None:
    folder = FolderBackend(server.store)
    blobs = {}
    for i in range(60):
        data = os.urandom(1000 + i * 997)
        blobs[sha(data)] = data
        folder.put_blob(sha(data), io.BytesIO(data), len(data))

    def client_downloads(i: int) -> int:
        backend = HttpBackend(server.url, TOKEN)
        try:
            got = 0
            for digest, data in blobs.items():
                assert backend.read(blob_path(digest)) == data
                got += 1
            assert backend.missing_blobs(list(blobs)) == set()
            return got
        finally:
            backend.close()

    start = time.perf_counter()
    with ThreadPoolExecutor(20) as pool:
        assert list(pool.map(client_downloads, range(20))) == [60] * 20
    assert time.perf_counter() - start < 60


# -- push and sync end to end ------------------------------------------------------------------


def build_cache(cache_dir: Path, *, versions: int = 2, name: str = "ds", seed: int = 0) -> None:
    """A cache with ``versions`` versions of a dataset of images and a table, logged by a run."""
    from tests.support import sample_image

    for v in range(versions):
        with dv.init(project="team", job_type="build", dir=cache_dir) as run:
            table = dv.Table(columns=["id", "image", "score"])
            for i in range(4):
                table.add_data(i, sample_image(seed + 10 * v + i), (v + i) / 10)
            art = dv.Artifact(name, "dataset", metadata={"v": v})
            art.add(table, "samples")
            run.log_artifact(art, aliases=["production"] if v == 0 else [])


def listing(cache_dir: Path) -> list[tuple]:
    """What a user sees of a cache: each version with its metadata, files, tables (their
    Parquet bytes' digest), aliases, producing run (config, summary, history) and consumers."""
    from desktopviz.store.cache import Cache

    with Cache(cache_dir, create=False) as c:
        out = []
        for v in sorted(c.versions(), key=lambda v: (v.project, v.name, v.index)):
            files = sorted((f.path, f.size, f.sha256, f.ref) for f in c.files(v))
            tables = sorted(
                (t.path, t.kind, t.num_rows, sha(c.parquet_path(t).read_bytes()))
                for t in c.tables(v)
            )
            producer = c.producer(v)
            run = c.run(producer) if producer else None
            run_seen = run and (run.config, run.summary, run.job_type, c.history(producer))
            out.append(
                (v.project, v.name, v.index, v.digest, v.description, v.metadata, v.state)
                + (sorted(v.aliases), files, tables, producer, run_seen, c.consumers(v))
            )
        return out


def _sync_module():
    try:
        from desktopviz.sync import pull as module
    except ImportError:
        pytest.skip("desktopviz.sync.pull (the core helper's sync) is not there yet")
    return module


def test_push_to_the_server_then_sync_from_it_gives_identical_caches(
    server: Served, tmp_path: Path
) -> None:
    from desktopviz.store.cache import Cache
    from desktopviz.sync.push import push

    pull_module = _sync_module()
    source = tmp_path / "source-cache"
    build_cache(source)
    backend = HttpBackend(server.url, TOKEN)
    with Cache(source, create=False) as c:
        report = push(c, backend)
    assert report.versions == 2 and report.blobs > 0
    target = tmp_path / "target-cache"
    with Cache(target) as c:
        pull_module.sync(c, backend, source="team-server")
    backend.close()
    assert listing(target) == listing(source)


def test_two_concurrent_pushes_of_one_artifact_land_as_consecutive_versions(
    server: Served, tmp_path: Path
) -> None:
    from desktopviz.store.cache import Cache
    from desktopviz.sync.push import push

    pull_module = _sync_module()
    sources = [tmp_path / "alice", tmp_path / "bob"]
    for i, folder in enumerate(sources):  # each machine made its own, different, v0
        build_cache(folder, versions=1, seed=100 * (i + 1))
    barrier = threading.Barrier(2)

    def push_from(folder: Path) -> int:
        backend = HttpBackend(server.url, TOKEN)
        try:
            with Cache(folder, create=False) as c:
                barrier.wait()
                return push(c, backend).versions
        finally:
            backend.close()

    with ThreadPoolExecutor(2) as pool:
        assert list(pool.map(push_from, sources)) == [1, 1]
    entries = [json.loads(p.read_text()) for p in sorted((server.store / "journal").glob("*.json"))]
    version_entries = [e for e in entries if e["type"] == "version"]
    assert len(version_entries) == 2
    assert [e["n"] for e in entries] == list(range(len(entries)))  # no gap, no overwrite

    target = tmp_path / "target"
    backend = HttpBackend(server.url, TOKEN)
    with Cache(target) as c:
        pull_module.sync(c, backend, source="team")
        got = {v.digest: v.index for v in c.versions(project="team", name="ds")}
    backend.close()
    assert sorted(got.values()) == [0, 1]
    assert [got[e["digest"]] for e in version_entries] == [0, 1]  # numbered in journal order
    pushed = {listing(f)[0][3] for f in sources}
    assert set(got) == pushed


def test_twenty_clients_syncing_at_once_end_with_identical_caches(
    server: Served, tmp_path: Path
) -> None:
    from desktopviz.store.cache import Cache
    from desktopviz.sync.push import push

    pull_module = _sync_module()
    source = tmp_path / "source"
    build_cache(source, versions=2)
    backend = HttpBackend(server.url, TOKEN)
    with Cache(source, create=False) as c:
        push(c, backend)
    backend.close()

    def sync_into(i: int) -> list[tuple]:
        client = HttpBackend(server.url, TOKEN)
        try:
            with Cache(tmp_path / f"client{i}") as c:
                pull_module.sync(c, client, source="team", parallel=4)
        finally:
            client.close()
        return listing(tmp_path / f"client{i}")

    with ThreadPoolExecutor(20) as pool:
        results = list(pool.map(sync_into, range(20)))
    expected = listing(source)
    assert all(r == expected for r in results)


# -- nginx serving a store folder read-only -------------------------------------------------------


@pytest.fixture
def nginx_store(tmp_path: Path):
    """nginx on 127.0.0.1 serving the folder ``store`` read-only at ``/store/`` (no listings, no
    uploads: a plain static host); yields (url, store folder, access log)."""
    store = tmp_path / "store"
    store.mkdir()
    run = tmp_path / "nginx"
    started = start_nginx(store, run)
    if isinstance(started, str):
        if "not installed" in started:
            pytest.skip(started)
        raise AssertionError(started)
    url, proc = started
    yield url, store, run / "access.log"
    proc.send_signal(signal.SIGQUIT)  # nginx's graceful stop
    try:
        proc.wait(timeout=20)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


def test_sync_from_nginx_serving_a_store_folder_read_only(nginx_store, tmp_path: Path) -> None:
    from desktopviz.store.cache import Cache
    from desktopviz.sync.push import push

    pull_module = _sync_module()
    url, store, access_log = nginx_store
    source = tmp_path / "source"
    build_cache(source, versions=2)
    with Cache(source, create=False) as c:
        push(c, FolderBackend(store))

    backend = HttpBackend(url)
    target = tmp_path / "target"
    with Cache(target) as c:
        pull_module.sync(c, backend, source="static")
    assert listing(target) == listing(source)
    # nginx lists no folders: the journal was probed entry by entry, up to the first 404
    last = max(int(p.stem) for p in (store / "journal").glob("*.json"))
    log = access_log.read_text()
    assert f'GET /store/journal/{last:012d}.json HTTP/1.1" 200' in log
    assert f'GET /store/journal/{last + 1:012d}.json HTTP/1.1" 404' in log

    # a second sync starts after its cursor and finds nothing new
    with Cache(target) as c:
        pull_module.sync(c, backend, source="static")
    assert listing(target) == listing(source)

    # missing_blobs falls back to HEAD requests; writes are refused with a clear error
    blob = next(p for p in (store / "blobs").rglob("*") if p.is_file())
    assert backend.missing_blobs([blob.name, sha(b"absent")]) == {sha(b"absent")}
    assert f"HEAD /store/blobs/sha256/{blob.name[:2]}/{blob.name}" in access_log.read_text()
    with pytest.raises(DesktopvizError, match="HTTP 405"):
        backend.put_blob(sha(b"x"), io.BytesIO(b"x"), 1)
    backend.close()
