"""A store in S3 (``s3://bucket/prefix``, :class:`desktopviz.sync.s3.S3Backend`), issue 13 item 7.

moto's server mode (``ThreadedMotoServer``, a real HTTP server speaking the S3 REST protocol on
127.0.0.1 with a free port, started and stopped by these tests) stands in for the real S3 service:
the backend reaches it through fsspec/s3fs/aiobotocore exactly as it would reach AWS, configured
the standard AWS way only (``AWS_ENDPOINT_URL``, ``AWS_ACCESS_KEY_ID``, ... in the environment;
the user's ``~/.aws`` is hidden). Nothing leaves loopback.

What moto does and does not prove: moto implements ``If-None-Match: *`` on PutObject and
CompleteMultipartUpload (412 when the key exists), which is what ``create`` relies on. Real S3
makes that check atomic; moto checks then writes without a lock, so under its threaded server two
truly simultaneous creates of one key could in principle both succeed. Measured here: 0 double
wins in 150 rounds of 4 racing creates; the concurrent tests below are about the protocol
(Conflict, retry with the next number), which holds on the real service by its guarantee.
"""

from __future__ import annotations

import hashlib
import io
import logging
import os
import threading
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

pytest.importorskip("s3fs")
moto_server = pytest.importorskip("moto.server")

from desktopviz.errors import DesktopvizError  # noqa: E402
from desktopviz.sync.backend import AuthError, Conflict  # noqa: E402
from desktopviz.sync.s3 import LIST_THRESHOLD, SMALL_BLOB, S3Backend  # noqa: E402
from desktopviz.sync.store import append_entry, read_entries  # noqa: E402

AWS_ENV = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_DEFAULT_REGION": "us-east-1",
    "AWS_EC2_METADATA_DISABLED": "true",
}


@pytest.fixture(scope="module")
def moto_endpoint():
    """A moto S3 server on 127.0.0.1 (free port) for this module; its URL."""
    logging.getLogger("werkzeug").setLevel(logging.WARNING)
    server = moto_server.ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    yield f"http://{host}:{port}"
    server.stop()


@pytest.fixture
def aws(monkeypatch, tmp_path, moto_endpoint):
    """The standard AWS environment pointing at the moto server (and nowhere else)."""
    for name in list(os.environ):
        if name.startswith("AWS_"):
            monkeypatch.delenv(name)
    for name, value in AWS_ENV.items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "no-aws-config"))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "no-aws-credentials"))
    monkeypatch.setenv("AWS_ENDPOINT_URL", moto_endpoint)
    return moto_endpoint


_buckets = iter(range(10**6))


@pytest.fixture
def s3(aws):
    """A boto3 client of the moto server (test set-up and inspection only)."""
    import boto3

    return boto3.client("s3")


@pytest.fixture
def bucket(s3) -> str:
    """A new, empty bucket."""
    name = f"store-{os.getpid()}-{next(_buckets)}"
    s3.create_bucket(Bucket=name)
    return name


@pytest.fixture
def backend(bucket):
    b = S3Backend(f"s3://{bucket}/team/store")
    yield b
    b.close()


def _sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _blob_key(digest: str) -> str:
    return f"team/store/blobs/sha256/{digest[:2]}/{digest}"


def test_put_read_exists_list_and_ranged_open(backend, s3, bucket):
    backend.put("store.json", b'{"format": "desktopviz-store", "version": 1}')
    manifest = b'{"format": 1}'
    backend.put(f"manifests/{_sha(manifest)}.json", manifest)
    small = b"a small blob"
    large = os.urandom(SMALL_BLOB + 3 * 2**20)  # multipart: 3 parts
    for data in (small, large):
        backend.put_blob(_sha(data), io.BytesIO(data), len(data))

    assert backend.read("store.json") == b'{"format": "desktopviz-store", "version": 1}'
    assert backend.read("manifests/" + "0" * 64 + ".json") is None
    assert backend.exists(f"manifests/{_sha(manifest)}.json")
    assert not backend.exists("journal/000000000000.json")
    # the objects are where the layout says, under the URL's prefix
    assert s3.head_object(Bucket=bucket, Key=_blob_key(_sha(large)))["ContentLength"] == len(large)
    assert s3.get_object(Bucket=bucket, Key=_blob_key(_sha(small)))["Body"].read() == small

    assert list(backend.list("blobs/")) == sorted(
        f"blobs/sha256/{d[:2]}/{d}" for d in (_sha(small), _sha(large))
    )
    assert list(backend.list("")) == sorted(
        [*backend.list("blobs/"), "store.json", f"manifests/{_sha(manifest)}.json"]
    )

    path = f"blobs/sha256/{_sha(large)[:2]}/{_sha(large)}"
    with backend.open(path) as f:
        assert f.read(100) == large[:100]
    offset = len(large) - 5 * 2**20 - 17
    with backend.open(path, offset=offset) as f:
        assert f.read() == large[offset:]
    with pytest.raises(DesktopvizError, match="blobs/sha256/00/0+: not in the store"):
        backend.open("blobs/sha256/00/" + "0" * 64)

    # a blob already there is left as it is (no second upload of different bytes)
    backend.put_blob(_sha(small), io.BytesIO(small), len(small))
    assert s3.get_object(Bucket=bucket, Key=_blob_key(_sha(small)))["Body"].read() == small


def test_list_after_pages_through_several_listings(backend, s3, bucket):
    backend.page_size = 7  # S3 pages by 1000 at most; the same continuation, with fewer keys
    names = [f"journal/{n:012d}.json" for n in range(30)]
    for name in names:
        s3.put_object(Bucket=bucket, Key=f"team/store/{name}", Body=b"{}")
    s3.put_object(Bucket=bucket, Key="team/store/runs/x.json", Body=b"{}")
    s3.put_object(Bucket=bucket, Key="team/other/journal/000000000000.json", Body=b"{}")
    assert list(backend.list("journal/")) == names
    assert list(backend.list("journal/", after=names[4])) == names[5:]
    assert list(backend.list("journal/", after=names[-1])) == []
    assert list(backend.list("manifests/")) == []
    assert len(list(backend.list(""))) == 31


def test_missing_blobs_by_head_and_by_listing(backend):
    present = [os.urandom(10) for _ in range(5)]
    for data in present:
        backend.put_blob(_sha(data), io.BytesIO(data), len(data))
    absent = [_sha(str(i).encode()) for i in range(3)]
    assert backend.missing_blobs([_sha(d) for d in present] + absent) == set(absent)
    assert backend.missing_blobs([]) == set()
    many = [_sha(f"absent {i}".encode()) for i in range(LIST_THRESHOLD + 1)]
    assert backend.missing_blobs([_sha(d) for d in present] + many) == set(many)
    with pytest.raises(DesktopvizError, match="not a sha256 digest"):
        backend.missing_blobs(["../../x"])


def test_create_twice_is_a_conflict_and_keeps_the_first(backend):
    backend.create("journal/000000000000.json", b'{"n": 0, "first": true}')
    with pytest.raises(Conflict, match="journal/000000000000.json already exists"):
        backend.create("journal/000000000000.json", b'{"n": 0, "first": false}')
    assert backend.read("journal/000000000000.json") == b'{"n": 0, "first": true}'


def test_concurrent_appenders_lose_no_journal_entry(bucket):
    """Four writers, each with its own connection, append 10 entries each at once: 40 entries
    numbered 0..39, every one of them there (the losers of a race retried the next number)."""
    backends = [S3Backend(f"s3://{bucket}/team/store") for _ in range(4)]
    start = threading.Barrier(4)

    def writer(i: int) -> list[int]:
        start.wait()
        return [
            append_entry(
                backends[i],
                {"type": "alias_removed", "project": "p", "name": f"w{i}", "alias": str(k)},
            )
            for k in range(10)
        ]

    with ThreadPoolExecutor(4) as pool:
        numbers = [n for got in pool.map(writer, range(4)) for n in got]
    assert sorted(numbers) == list(range(40))
    entries = list(read_entries(backends[0]))
    assert [e["n"] for e in entries] == list(range(40))
    assert sorted((e["name"], e["alias"]) for e in entries) == sorted(
        (f"w{i}", str(k)) for i in range(4) for k in range(10)
    )
    for b in backends:
        b.close()


@pytest.mark.parametrize("size", [1000, SMALL_BLOB + 2**20], ids=["small", "multipart"])
def test_a_blob_whose_bytes_do_not_match_is_refused_and_never_stored(backend, s3, bucket, size):
    data = os.urandom(size)
    wrong = _sha(data[:-1] + b"x")
    with pytest.raises(DesktopvizError, match=f"blob {wrong}: bytes do not match"):
        backend.put_blob(wrong, io.BytesIO(data), len(data))
    digest = _sha(data)
    with pytest.raises(DesktopvizError, match=f"blob {digest}: bytes do not match"):
        backend.put_blob(digest, io.BytesIO(data[:-10]), len(data))  # a short stream
    assert not backend.exists(f"blobs/sha256/{wrong[:2]}/{wrong}")
    assert not backend.exists(f"blobs/sha256/{digest[:2]}/{digest}")
    assert list(backend.list("")) == []
    assert not s3.list_multipart_uploads(Bucket=bucket).get("Uploads")  # aborted, not left


def test_a_manifest_not_named_by_its_digest_is_refused(backend):
    with pytest.raises(DesktopvizError, match="does not match its sha256 name"):
        backend.put("manifests/" + "a" * 64 + ".json", b"{}")
    assert not backend.exists("manifests/" + "a" * 64 + ".json")


@pytest.mark.parametrize("path", ["../x", "/etc/passwd", "journal/../../x", "", "a//b", "a\\b"])
def test_paths_outside_the_store_are_refused(backend, path):
    for call in (
        lambda: backend.read(path),
        lambda: backend.exists(path),
        lambda: backend.put(path, b"x"),
        lambda: backend.create(path, b"x"),
        lambda: backend.open(path),
    ):
        with pytest.raises(DesktopvizError, match="refused store path"):
            call()
    assert list(backend.list("")) == []


def test_a_url_prefix_outside_the_bucket_is_refused(aws):
    with pytest.raises(DesktopvizError, match="refused store path"):
        S3Backend("s3://bucket/../other")
    with pytest.raises(DesktopvizError, match="not an s3:// store URL"):
        S3Backend("s3:///no-bucket")


def test_a_missing_bucket_is_named(aws):
    b = S3Backend("s3://no-such-bucket-here/store")
    for call in (lambda: b.read("store.json"), lambda: b.put("store.json", b"{}")):
        with pytest.raises(DesktopvizError, match="no such bucket 'no-such-bucket-here'"):
            call()


def test_wrong_credentials_are_an_auth_error(backend, aws, monkeypatch):
    """moto checks access keys once told to (its /moto-api/reset-auth): an unknown key is
    refused as AWS refuses it, and the backend says ``authentication failed for <url>``."""
    import urllib.request

    def auth_after(count: str) -> None:
        request = urllib.request.Request(
            f"{aws}/moto-api/reset-auth",
            data=count.encode(),
            headers={"Content-Type": "text/plain"},
        )
        urllib.request.urlopen(request).close()

    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "AKIAWRONGWRONGWRONG1")
    wrong = S3Backend(backend.url)
    auth_after("0")
    try:
        with pytest.raises(AuthError, match=f"authentication failed for {backend.url}$"):
            wrong.read("store.json")
        with pytest.raises(AuthError, match="authentication failed for"):
            wrong.create("journal/000000000000.json", b"{}")
    finally:
        auth_after("inf")
        wrong.close()


@pytest.fixture
def endpoint_ignoring_conditions(aws):
    """A second moto server on 127.0.0.1 that drops ``If-None-Match`` from every request: an
    S3-compatible server without conditional writes (some older ones behave so)."""
    from moto.moto_server.werkzeug_app import (
        DomainDispatcherApplication,
        MotoRequestHandler,
        create_backend_app,
    )
    from werkzeug.serving import make_server

    app = DomainDispatcherApplication(create_backend_app)

    def without_conditions(environ, start_response):
        environ.pop("HTTP_IF_NONE_MATCH", None)
        return app(environ, start_response)

    server = make_server(
        "127.0.0.1", 0, without_conditions, threaded=True, request_handler=MotoRequestHandler
    )
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    thread.join()


def test_a_server_ignoring_conditional_writes_is_refused_for_the_journal(
    backend, endpoint_ignoring_conditions, monkeypatch
):
    monkeypatch.setenv("AWS_ENDPOINT_URL", endpoint_ignoring_conditions)
    careless = S3Backend(backend.url)
    with pytest.raises(DesktopvizError, match="ignores conditional writes"):
        careless.create("journal/000000000000.json", b'{"n": 0}')
    assert list(careless.list("")) == []  # neither the entry nor the probe is left
    careless.close()


# -- push to S3, sync from it ------------------------------------------------------------------


def _log_versions(cache_dir: Path, seeds: list[int], *, name: str = "ds") -> None:
    """Log one version of ``team/<name>`` per seed (a table of images and scores, and a plain
    file), each by its own run, with the real SDK into the cache at ``cache_dir``."""
    import desktopviz as dv
    from tests.support import sample_image

    for seed in seeds:
        with dv.init(project="team", job_type="build", dir=cache_dir) as run:
            table = dv.Table(columns=["id", "image", "score"])
            for i in range(3):
                table.add_data(i, sample_image(10 * seed + i), (seed + i) / 10)
            art = dv.Artifact(name, "dataset", metadata={"seed": seed})
            art.add(table, "samples")
            notes = cache_dir.parent / f"notes-{seed}.txt"
            notes.write_text(f"seed {seed}\n")
            art.add_file(notes, "notes.txt")
            run.log_artifact(art, aliases=["production"] if seed == seeds[0] else [])


def _seen(cache_dir: Path) -> list[tuple]:
    """What a user sees of a cache: each version's ref, digest, aliases, files and tables."""
    from desktopviz.store.cache import Cache

    with Cache(cache_dir, create=False) as c:
        return [
            (
                v.ref,
                v.digest,
                v.state,
                sorted(v.aliases),
                sorted((f.path, f.size, f.sha256) for f in c.files(v)),
                sorted((t.path, t.kind, t.num_rows, t.schema) for t in c.tables(v)),
            )
            for v in sorted(c.versions(), key=lambda v: (v.project, v.name, v.index))
        ]


def test_push_to_s3_then_sync_from_it_gives_identical_versions(bucket, tmp_path):
    from desktopviz.store.cache import Cache
    from desktopviz.sync.backends import open_backend
    from desktopviz.sync.pull import sync
    from desktopviz.sync.push import push

    _log_versions(tmp_path / "a", [1, 2])
    url = f"s3://{bucket}/store"
    backend = open_backend(url)
    assert isinstance(backend, S3Backend)
    with Cache(tmp_path / "a", create=False) as c:
        report = push(c, backend)
    assert report.versions == 2 and report.blobs > 0
    with Cache(tmp_path / "a", create=False) as c:
        again = push(c, backend)  # nothing new: no blob, no version sent twice
    assert (again.versions, again.blobs) == (0, 0)
    with Cache(tmp_path / "b") as c:
        got = sync(c, backend, source="team-s3")
    assert got.versions == 2
    assert _seen(tmp_path / "b") == _seen(tmp_path / "a")
    with Cache(tmp_path / "b", create=False) as c:
        assert sync(c, backend, source="team-s3").versions == 0  # the same store twice: no-op
    assert _seen(tmp_path / "b") == _seen(tmp_path / "a")
    backend.close()


def test_two_concurrent_pushers_of_one_artifact_land_as_consecutive_versions(bucket, tmp_path):
    from desktopviz.store.cache import Cache
    from desktopviz.sync.pull import sync
    from desktopviz.sync.push import push

    _log_versions(tmp_path / "a", [1])
    _log_versions(tmp_path / "b", [2])
    url = f"s3://{bucket}/store"
    start = threading.Barrier(2)

    def pusher(cache_dir: Path):
        backend = S3Backend(url)  # a machine of its own: its own connections
        try:
            with Cache(cache_dir, create=False) as c:
                start.wait()
                return push(c, backend)
        finally:
            backend.close()

    with ThreadPoolExecutor(2) as pool:
        reports = list(pool.map(pusher, [tmp_path / "a", tmp_path / "b"]))
    assert [r.versions for r in reports] == [1, 1]
    backend = S3Backend(url)
    with Cache(tmp_path / "c") as c:
        sync(c, backend, source="team-s3")
        versions = c.versions("team", "ds")
        pushed = {}
        for cache_dir in (tmp_path / "a", tmp_path / "b"):
            with Cache(cache_dir, create=False) as src:
                (v,) = src.versions("team", "ds")
                pushed[v.digest] = sorted((f.path, f.sha256) for f in src.files(v))
        assert [v.index for v in versions] == [0, 1]
        assert {v.digest for v in versions} == set(pushed)
        for v in versions:
            assert sorted((f.path, f.sha256) for f in c.files(v)) == pushed[v.digest]
    backend.close()


def test_duckdb_reads_a_pushed_table_in_place(bucket, tmp_path):
    """The module docstring's recipe: DuckDB reads a table's Parquet blob straight from S3."""
    import json

    import duckdb
    import s3fs

    from desktopviz.store.cache import Cache
    from desktopviz.sync.push import push

    _log_versions(tmp_path / "a", [3])
    backend = S3Backend(f"s3://{bucket}/store")
    with Cache(tmp_path / "a", create=False) as c:
        push(c, backend)
    (entry,) = [e for e in read_entries(backend) if e["type"] == "version"]
    (table,) = json.loads(backend.read(f"manifests/{entry['manifest']}.json"))["tables"]
    sha = table["parquet_sha256"]
    con = duckdb.connect()
    con.register_filesystem(s3fs.S3FileSystem(skip_instance_cache=True))
    rows = con.sql(
        f"SELECT id, score FROM read_parquet('s3://{bucket}/store/blobs/sha256/{sha[:2]}/{sha}') "
        "ORDER BY id"
    ).fetchall()
    assert rows == [(0, 0.3), (1, 0.4), (2, 0.5)]
    backend.close()


def test_an_unreachable_endpoint_is_one_clear_line(aws, monkeypatch):
    import socket

    with socket.socket() as s:  # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    monkeypatch.setenv("AWS_ENDPOINT_URL", f"http://127.0.0.1:{port}")
    monkeypatch.setenv("AWS_MAX_ATTEMPTS", "1")  # botocore's own retries, the standard setting
    b = S3Backend("s3://bucket/store")
    with pytest.raises(DesktopvizError) as err:
        b.read("store.json")
    assert str(err.value).startswith("s3://bucket/store/store.json: Could not connect")
    assert "\n" not in str(err.value)
    b.close()
