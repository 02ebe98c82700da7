"""A damaged, read-only or full cache gives one clear line and exit 2, and nothing is changed
(issue 10, item 6: the cache's side)."""

from __future__ import annotations

import os
import sqlite3
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.cli_support import dv, snapshot, stored_files
from tests.importing.test_import import png


def image_folder(root: Path, n: int, size: tuple[int, int] = (12, 10)) -> Path:
    for i in range(n):
        png(root / f"class{i % 2}" / f"{i}.png", i, size)
    return root


@pytest.fixture
def cache_with_data(tmp_path) -> Path:
    cache = tmp_path / "cache"
    r = dv("import", str(image_folder(tmp_path / "imgs", 6)), cache=cache)
    assert r.returncode == 0, r.stderr
    return cache


def one_error_line(r: subprocess.CompletedProcess) -> str:
    assert r.returncode == 2, (r.returncode, r.stdout, r.stderr)
    lines = r.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith("desktopviz: error:"), r.stderr
    return lines[0]


@pytest.mark.parametrize("damage", ["garbage header", "truncated", "zeroed pages"])
def test_a_damaged_index_is_named_and_left_alone(cache_with_data, tmp_path, damage):
    index = cache_with_data / "index.sqlite"
    conn = sqlite3.connect(index)
    conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    conn.close()
    data = bytearray(index.read_bytes())
    if damage == "garbage header":
        data[:100] = os.urandom(100)
    elif damage == "truncated":
        data = data[: len(data) // 3 + 17]
    else:
        page = 4096
        for start in range(page, len(data), page * 2):
            data[start : start + page] = bytes(min(page, len(data) - start))
    index.write_bytes(bytes(data))
    before = index.read_bytes(), stored_files(cache_with_data)
    for args in (
        ["ls"],
        ["ls", "imgs"],
        ["table", "imgs:v0"],
        ["gc"],
        ["verify"],
        ["import", str(image_folder(tmp_path / "more", 2))],
    ):
        line = one_error_line(dv(*args, cache=cache_with_data))
        assert "the cache index is damaged" in line and "index.sqlite" in line, (args, line)
    assert (index.read_bytes(), stored_files(cache_with_data)) == before


def mount(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(["mount", *args], capture_output=True, text=True)


@pytest.fixture
def read_only_view(cache_with_data, tmp_path) -> Iterator[Path]:
    """The cache seen through a read-only bind mount (as on a read-only share)."""
    view = tmp_path / "ro-cache"
    view.mkdir()
    r = mount("--bind", str(cache_with_data), str(view))
    if r.returncode != 0:
        pytest.skip(f"cannot bind-mount the cache read-only (needs root): {r.stderr.strip()}")
    r = mount("-o", "remount,ro,bind", str(view))
    if r.returncode != 0:
        subprocess.run(["umount", "-l", str(view)], check=False)
        pytest.skip(f"cannot remount the bind mount read-only: {r.stderr.strip()}")
    yield view
    subprocess.run(["umount", "-l", str(view)], check=False)


def test_a_read_only_cache_says_so(cache_with_data, read_only_view, tmp_path):
    before = snapshot(cache_with_data), stored_files(cache_with_data)
    for args in (["import", str(image_folder(tmp_path / "more", 2))], ["gc"], ["ls"]):
        line = one_error_line(dv(*args, cache=read_only_view))
        assert "read-only" in line and str(read_only_view) in line, (args, line)
    assert (snapshot(cache_with_data), stored_files(cache_with_data)) == before
    # a cache folder that cannot even be made
    line = one_error_line(dv("ls", cache=read_only_view / "inner" / "cache"))
    assert "read-only" in line and "inner" in line, line


@pytest.fixture
def small_disk(tmp_path) -> Iterator[Path]:
    mount = tmp_path / "small-disk"
    mount.mkdir()
    r = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=1m", "tmpfs", str(mount)],
        capture_output=True,
        text=True,
    )
    if r.returncode != 0:
        pytest.skip(f"cannot mount a 1 MB tmpfs to fill (needs root): {r.stderr.strip()}")
    yield mount
    subprocess.run(["umount", "-l", str(mount)], check=False)


def test_a_full_disk_adds_nothing(tmp_path, small_disk):
    cache = small_disk / "cache"
    assert dv("import", str(image_folder(tmp_path / "few", 2)), cache=cache).returncode == 0
    before = snapshot(cache), stored_files(cache)
    big = image_folder(tmp_path / "many", 40, size=(120, 100))  # about 1.4 MB of PNGs
    line = one_error_line(dv("import", str(big), cache=cache))
    assert "disk full while writing" in line and "nothing was added" in line, line
    assert (snapshot(cache), stored_files(cache)) == before
    # the space is given back: the next, smaller import works
    r = dv("import", str(image_folder(tmp_path / "three", 3)), cache=cache)
    assert r.returncode == 0, r.stderr
    assert "three:v0" in r.stdout and "new version" in r.stdout
