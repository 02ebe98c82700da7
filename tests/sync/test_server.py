"""``desktopviz serve``: the HTTP protocol of the sync contract, spoken byte for byte by a plain
HTTP client to a server started through the console script on 127.0.0.1."""

from __future__ import annotations

import hashlib
import http.client
import json
import os
import signal
import subprocess
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from urllib.parse import urlparse

import pytest

from tests.sync.serve_support import DESKTOPVIZ, TOKEN, Served, serving, start_server


def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def blob_url(digest: str) -> str:
    return f"/store/blobs/sha256/{digest[:2]}/{digest}"


def put_blob(server: Served, data: bytes) -> str:
    digest = sha(data)
    status, _, body = server.request("PUT", blob_url(digest), data)
    assert status == 201, body
    return digest


def entry(n: int, **fields) -> bytes:  # noqa: ANN003
    return json.dumps({"n": n, **fields}).encode()


def run_entry(n: int) -> bytes:
    return entry(n, type="run", project="p", run=f"r{n}", record="0" * 64)


@pytest.fixture
def server(tmp_path: Path):
    with serving(tmp_path / "store") as s:
        yield s


def test_health_needs_no_token_and_an_empty_folder_becomes_a_store(server: Served) -> None:
    status, _, body = server.request("GET", "/health", token=None)
    assert (status, json.loads(body)) == (200, {"ok": True, "format": 1})
    info = json.loads((server.store / "store.json").read_text())
    assert info == {"format": "desktopviz-store", "version": 1}
    status, _, body = server.request("GET", "/store/store.json")
    assert status == 200 and json.loads(body) == info


def test_a_folder_that_is_neither_empty_nor_a_store_is_refused(tmp_path: Path) -> None:
    folder = tmp_path / "photos"
    folder.mkdir()
    (folder / "cat.jpg").write_bytes(b"\xff\xd8")
    done = subprocess.run(
        [DESKTOPVIZ, "serve", str(folder), "--port", "0"], capture_output=True, text=True
    )
    assert done.returncode == 2
    assert "not a desktopviz store" in done.stderr and str(folder) in done.stderr
    assert done.stdout == ""


def test_etag_and_if_none_match(server: Served) -> None:
    digest = put_blob(server, b"hello blob")
    status, headers, body = server.request("GET", blob_url(digest))
    assert (status, body, headers["etag"]) == (200, b"hello blob", f'"{digest}"')
    status, headers, body = server.request(
        "GET", blob_url(digest), headers={"If-None-Match": f'"{digest}"'}
    )
    assert (status, body, headers["etag"]) == (304, b"", f'"{digest}"')
    status, _, _ = server.request("GET", blob_url(digest), headers={"If-None-Match": '"other"'})
    assert status == 200
    # store.json (not content-addressed): an ETag of its mtime and size, honoured the same way
    status, headers, _ = server.request("GET", "/store/store.json")
    etag = headers["etag"]
    status, _, _ = server.request("GET", "/store/store.json", headers={"If-None-Match": etag})
    assert status == 304
    status, headers, body = server.request("HEAD", blob_url(digest))
    assert (status, body, headers["content-length"]) == (200, b"", "10")


def test_range_requests_answer_206_with_the_slice(server: Served) -> None:
    data = bytes(range(256)) * 40
    digest = put_blob(server, data)
    status, headers, body = server.request("GET", blob_url(digest), headers={"Range": "bytes=100-"})
    assert status == 206 and body == data[100:]
    assert headers["content-range"] == f"bytes 100-{len(data) - 1}/{len(data)}"
    status, _, body = server.request("GET", blob_url(digest), headers={"Range": "bytes=5-9"})
    assert (status, body) == (206, data[5:10])
    status, _, _ = server.request("GET", blob_url(digest), headers={"Range": "bytes=99999-"})
    assert status == 416


def test_an_upload_whose_bytes_do_not_match_its_digest_is_not_kept(server: Served) -> None:
    claimed = sha(b"what the client says")
    status, _, body = server.request("PUT", blob_url(claimed), b"what it sends")
    assert status == 400
    assert claimed in json.loads(body)["error"]
    assert not (server.store / "blobs" / "sha256" / claimed[:2] / claimed).exists()
    assert list((server.store / "tmp").iterdir()) == []  # no temp file left behind
    # a manifest or run record is named by its digest as well
    status, _, body = server.request("PUT", f"/store/manifests/{claimed}.json", b"{}")
    assert status == 400 and claimed in json.loads(body)["error"]
    status, _, _ = server.request("PUT", f"/store/runs/{claimed}.json", b"{}")
    assert status == 400
    # the right bytes are kept, and a second upload of them changes nothing
    data = b"what the client says"
    assert put_blob(server, data) == claimed
    status, _, _ = server.request("PUT", blob_url(claimed), data)
    assert status == 200
    assert (server.store / "blobs" / "sha256" / claimed[:2] / claimed).read_bytes() == data


def test_writes_need_the_token_and_reads_too_unless_public_read(tmp_path: Path) -> None:
    data = b"secret weights"
    digest = sha(data)
    with serving(tmp_path / "store") as server:
        for token in (None, "wrong", TOKEN + "x", ""):
            status, headers, _ = server.request("PUT", blob_url(digest), data, token=token)
            assert status == 401 and headers["www-authenticate"] == "Bearer"
            status, _, _ = server.request("GET", "/store/store.json", token=token)
            assert status == 401
        status, _, _ = server.request(
            "PUT",
            "/store/journal/000000000000.json",
            run_entry(0),
            {"If-None-Match": "*"},
            token=None,
        )
        assert status == 401
        assert not (server.store / "journal").exists()
        put_blob(server, data)
    assert TOKEN not in server.log.read_text()  # the access log has no Authorization header
    assert '"PUT /store/blobs/sha256/' in server.log.read_text()  # ... but it is there

    with serving(tmp_path / "store", public_read=True) as server:
        status, _, body = server.request("GET", blob_url(digest), token=None)
        assert (status, body) == (200, data)
        status, _, _ = server.request("PUT", blob_url(sha(b"x")), b"x", token=None)
        assert status == 401

    with serving(tmp_path / "store", token=None) as server:  # no token at all: read-only
        status, _, body = server.request("GET", blob_url(digest), token=None)
        assert (status, body) == (200, data)
        status, _, body = server.request("PUT", blob_url(sha(b"x")), b"x", token=None)
        assert status == 403 and "takes no writes" in json.loads(body)["error"]


@pytest.mark.parametrize(
    "raw_path",
    [
        "/store/../store.token",
        "/store/blobs/../../store.token",
        "/store/%2e%2e%2fstore.token",
        "/store/%2E%2E/store.token",
        "/store/journal%2F..%2F..%2Fstore.token",
        "/store//etc/passwd",
        "/store/%2Fetc%2Fpasswd",
        "/store/blobs/./sha256",
        "/store/tmp/",
        "/store/.hidden",
        "/store/a\\..\\store.token",
    ],
)
def test_paths_that_would_leave_the_store_are_refused(server: Served, raw_path: str) -> None:
    for method in ("GET", "HEAD", "PUT"):
        status, _, body = server.request(method, raw_path, b"x" if method == "PUT" else None)
        assert status in (400, 404), (method, raw_path, status)
        assert TOKEN.encode() not in body and b"tok-" not in body


def test_a_symlink_out_of_the_store_is_not_followed(server: Served, tmp_path: Path) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "secret.txt").write_text("not for you")
    (server.store / "runs").mkdir()
    (server.store / "runs" / "link.json").symlink_to(outside / "secret.txt")
    (server.store / "leak").symlink_to(outside)
    for path in ("/store/runs/link.json", "/store/leak/secret.txt", "/store/leak/"):
        status, _, body = server.request("GET", path)
        assert status == 404 and b"not for you" not in body, path
    status, _, body = server.request("GET", "/store/runs/")
    assert (status, json.loads(body)["names"]) == (200, [])  # the link is not listed either


def test_journal_create_is_atomic_and_conflicts_answer_412(server: Served) -> None:
    path = "/store/journal/000000000000.json"
    status, _, _ = server.request("PUT", path, run_entry(0))
    assert status == 428  # without If-None-Match: * the server does not guess
    status, _, _ = server.request("PUT", path, run_entry(0), {"If-None-Match": "*"})
    assert status == 201
    status, _, body = server.request("PUT", path, run_entry(0), {"If-None-Match": "*"})
    assert status == 412 and "already exists" in json.loads(body)["error"]
    # a gap, a wrong number and a non-entry are refused
    status, _, body = server.request(
        "PUT", "/store/journal/000000000002.json", run_entry(2), {"If-None-Match": "*"}
    )
    assert status == 400 and "entry 1 is not in the journal" in json.loads(body)["error"]
    status, _, _ = server.request(
        "PUT", "/store/journal/000000000001.json", run_entry(5), {"If-None-Match": "*"}
    )
    assert status == 400
    status, _, _ = server.request(
        "PUT", "/store/journal/000000000001.json", b"[1]", {"If-None-Match": "*"}
    )
    assert status == 400


def test_twenty_writers_racing_for_one_entry_number_one_wins(server: Served) -> None:
    def create(i: int) -> int:
        body = entry(0, type="run", project="p", run=f"writer{i}", record="0" * 64)
        status, _, _ = server.request(
            "PUT", "/store/journal/000000000000.json", body, {"If-None-Match": "*"}
        )
        return status

    with ThreadPoolExecutor(20) as pool:
        statuses = list(pool.map(create, range(20)))
    assert sorted(statuses) == [201] + [412] * 19
    kept = json.loads((server.store / "journal" / "000000000000.json").read_text())
    assert kept["run"].startswith("writer")


def test_a_version_entry_waits_for_every_blob_its_manifest_names(server: Served) -> None:
    files = [b"file one", b"file two"]
    parquet = b"PAR1 fake parquet bytes PAR1"
    manifest = json.dumps(
        {
            "format": 1,
            "project": "p",
            "name": "a",
            "type": "dataset",
            "digest": "vdigest",
            "files": [
                {"path": f"f{i}.txt", "size": len(d), "sha256": sha(d)} for i, d in enumerate(files)
            ]
            + [{"path": "remote.bin", "size": 3, "sha256": None, "ref": "s3://x/remote.bin"}],
            "tables": [{"path": "t.table.json", "parquet_sha256": sha(parquet)}],
        }
    ).encode()
    m = sha(manifest)
    version = entry(
        0,
        type="version",
        project="p",
        name="a",
        artifact_type="dataset",
        manifest=m,
        digest="vdigest",
        at="2026-01-01T00:00:00Z",
    )
    journal = "/store/journal/000000000000.json"
    create = {"If-None-Match": "*"}

    status, _, body = server.request("PUT", journal, version, create)
    assert status == 400 and f"manifest {m} is not in the store" in json.loads(body)["error"]
    status, _, _ = server.request("PUT", f"/store/manifests/{m}.json", manifest)
    assert status == 201
    status, _, body = server.request("PUT", journal, version, create)
    assert status == 400 and f"blob {sha(files[0])} named by manifest" in json.loads(body)["error"]
    put_blob(server, files[0])
    put_blob(server, files[1])
    status, _, body = server.request("PUT", journal, version, create)
    assert status == 400 and sha(parquet) in json.loads(body)["error"]  # the table's Parquet
    put_blob(server, parquet)
    status, _, body = server.request("PUT", journal, version, create)
    assert status == 201, body


def test_listing_and_missing_blobs(server: Served) -> None:
    for n in range(3):
        status, _, _ = server.request(
            "PUT", f"/store/journal/{n:012d}.json", run_entry(n), {"If-None-Match": "*"}
        )
        assert status == 201
    status, _, body = server.request("GET", "/store/journal/")
    assert json.loads(body)["names"] == [f"{n:012d}.json" for n in range(3)]
    status, _, body = server.request("GET", "/store/journal/?after=000000000000.json")
    assert json.loads(body)["names"] == [f"{n:012d}.json" for n in (1, 2)]
    status, _, body = server.request("GET", "/store/manifests/")  # not made yet: empty
    assert (status, json.loads(body)["names"]) == (200, [])

    here = put_blob(server, b"here")
    absent = sha(b"absent")
    query = json.dumps({"digests": [here, absent]}).encode()
    status, _, body = server.request("POST", "/store/blobs/missing", query)
    assert (status, json.loads(body)) == (200, {"missing": [absent]})
    status, _, _ = server.request("POST", "/store/blobs/missing", b'{"digests": ["../x"]}')
    assert status == 400
    status, _, _ = server.request("POST", "/store/blobs/missing", query, token=None)
    assert status == 401


def test_uploads_over_the_size_limit_are_refused(tmp_path: Path) -> None:
    with serving(tmp_path / "store", max_upload=1000) as server:
        big = os.urandom(2000)
        status, _, body = server.request("PUT", blob_url(sha(big)), big)
        assert status == 413 and "1000" in json.loads(body)["error"]
        small = os.urandom(1000)
        status, _, _ = server.request("PUT", blob_url(sha(small)), small)
        assert status == 201
        status, _, _ = server.request(
            "PUT",
            "/store/journal/000000000000.json",
            b" " * (2 << 20),
            {"If-None-Match": "*"},
        )
        assert status == 413  # a journal entry is small whatever --max-upload says


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM])
def test_the_server_stops_cleanly_on_sigint_and_sigterm(tmp_path: Path, sig: int) -> None:
    server = start_server(tmp_path / "store")
    status, _, _ = server.request("GET", "/health")
    assert status == 200
    assert server.stop(sig) == 0
    assert "Traceback" not in server.log.read_text()


def test_one_keep_alive_connection_is_not_slowed_by_delayed_acks(server: Served) -> None:
    """100 small files one after the other on one connection: well under 2 s. (Before the
    listening socket named IPPROTO_TCP, asyncio left Nagle's algorithm on and every response
    waited ~40 ms for the client's delayed ACK: 4.5 s.)"""
    digest = put_blob(server, b"small")
    u = urlparse(server.url)
    conn = http.client.HTTPConnection(u.hostname, u.port, timeout=30)
    try:
        start = time.perf_counter()
        for _ in range(100):
            conn.request("GET", blob_url(digest), headers={"Authorization": f"Bearer {TOKEN}"})
            resp = conn.getresponse()
            assert (resp.status, resp.read()) == (200, b"small")
        elapsed = time.perf_counter() - start
    finally:
        conn.close()
    assert elapsed < 2.0, f"{elapsed:.2f} s for 100 requests"
