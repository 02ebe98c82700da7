"""The folder backend and the store's files: atomic create, digest-checked blobs, no path out of
the store (``..``, absolute, symlinks), the journal's compare-and-set under concurrent writers."""

from __future__ import annotations

import hashlib
import io
import json
import os
import threading
from pathlib import Path

import pytest

from desktopviz.errors import DesktopvizError
from desktopviz.sync.backend import Conflict
from desktopviz.sync.backends import open_backend
from desktopviz.sync.folder import FolderBackend, blob_path
from desktopviz.sync.store import (
    FORMAT_VERSION,
    append_entry,
    init_store,
    read_entries,
    read_store_info,
)


def test_create_is_exclusive_and_whole(store: FolderBackend):
    store.create("journal/000000000000.json", b'{"n": 0}')
    with pytest.raises(Conflict):
        store.create("journal/000000000000.json", b'{"n": 0, "other": 1}')
    assert store.read("journal/000000000000.json") == b'{"n": 0}'
    assert not list((store.root / "tmp").iterdir())  # no temp file left behind


def test_one_of_many_racing_creators_wins(store: FolderBackend):
    wins, conflicts = [], []
    barrier = threading.Barrier(8)

    def writer(i: int) -> None:
        barrier.wait()
        try:
            store.create("journal/000000000007.json", str(i).encode() * 1000)
            wins.append(i)
        except Conflict:
            conflicts.append(i)

    threads = [threading.Thread(target=writer, args=(i,)) for i in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(wins) == 1 and len(conflicts) == 7
    assert store.read("journal/000000000007.json") == str(wins[0]).encode() * 1000


def test_put_blob_keeps_only_matching_bytes(store: FolderBackend):
    data = os.urandom(3 << 20)
    sha = hashlib.sha256(data).hexdigest()
    store.put_blob(sha, io.BytesIO(data), len(data))
    assert store.read(blob_path(sha)) == data
    assert store.missing_blobs([sha, "0" * 64]) == {"0" * 64}

    other = hashlib.sha256(b"other").hexdigest()
    with pytest.raises(DesktopvizError, match=other):
        store.put_blob(other, io.BytesIO(b"not other"), 9)
    assert not store.exists(blob_path(other))
    assert not list((store.root / "tmp").iterdir())


def test_put_checks_a_content_addressed_name(store: FolderBackend):
    data = b'{"format": 1}'
    store.put(f"manifests/{hashlib.sha256(data).hexdigest()}.json", data)
    with pytest.raises(DesktopvizError, match="do not match"):
        store.put(f"manifests/{'a' * 64}.json", data)


@pytest.mark.parametrize(
    "path", ["../x", "/etc/passwd", "journal/../../x", "a\\b", "", "a//b", "./store.json"]
)
def test_paths_out_of_the_store_are_refused(store: FolderBackend, path: str):
    for op in (store.read, store.exists, lambda p: store.put(p, b"x"), lambda p: store.open(p)):
        with pytest.raises(DesktopvizError, match="refused store path"):
            op(path)


def test_symlinks_inside_the_store_are_not_followed(store: FolderBackend, tmp_path: Path):
    init_store(store)
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "secret.json").write_text('{"secret": 1}')
    (store.root / "manifests").symlink_to(outside)
    sha = "ab" * 32
    (store.root / "blobs" / "sha256" / "ab").mkdir(parents=True)
    (store.root / "blobs" / "sha256" / "ab" / sha).symlink_to(outside / "secret.json")
    with pytest.raises(DesktopvizError, match="symlink"):
        store.read("manifests/secret.json")
    with pytest.raises(DesktopvizError, match="symlink"):
        store.read(blob_path(sha))
    with pytest.raises(DesktopvizError, match="symlink"):
        store.put("manifests/new.json", b"{}")
    assert not (outside / "new.json").exists()
    with pytest.raises(DesktopvizError, match="symlink"):
        list(store.list("manifests/"))
    assert list(store.list("blobs/")) == []  # a symlinked file is left out


def test_list_is_sorted_and_starts_after(store: FolderBackend):
    for n in (3, 1, 2, 10):
        store.create(f"journal/{n:012d}.json", b"{}")
    assert list(store.list("journal/")) == [f"journal/{n:012d}.json" for n in (1, 2, 3, 10)]
    assert list(store.list("journal/", after="journal/000000000002.json")) == [
        "journal/000000000003.json",
        "journal/000000000010.json",
    ]


def test_open_backend_by_url(tmp_path: Path):
    assert isinstance(open_backend(str(tmp_path)), FolderBackend)
    b = open_backend((tmp_path / "my store").as_uri())
    assert isinstance(b, FolderBackend) and b.root == tmp_path / "my store"
    with pytest.raises(DesktopvizError, match="unknown store URL"):
        open_backend("ftp://host/x")


def test_store_info_and_its_format_version(store: FolderBackend):
    with pytest.raises(DesktopvizError, match="not a desktopviz store"):
        read_store_info(store)
    assert init_store(store) == {"format": "desktopviz-store", "version": FORMAT_VERSION}
    assert init_store(store)["version"] == FORMAT_VERSION  # a store stays as it is
    (store.root / "store.json").write_text(
        json.dumps({"format": "desktopviz-store", "version": FORMAT_VERSION + 1})
    )
    with pytest.raises(DesktopvizError, match="newer than this desktopviz reads"):
        read_store_info(store)


def test_concurrent_appends_get_consecutive_numbers(store: FolderBackend):
    init_store(store)

    def writer(who: str) -> None:
        other = FolderBackend(store.root)  # a backend per writer, as two machines have
        for i in range(15):
            append_entry(other, {"type": "run", "project": "p", "run": f"{who}{i}", "record": ""})

    threads = [threading.Thread(target=writer, args=(w,)) for w in "abc"]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    entries = list(read_entries(store))
    assert [e["n"] for e in entries] == list(range(45))
    assert sorted(e["run"] for e in entries) == sorted(f"{w}{i}" for w in "abc" for i in range(15))
    assert [e["n"] for e in read_entries(store, 40)] == [41, 42, 43, 44]
