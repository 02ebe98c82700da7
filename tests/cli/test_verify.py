"""``desktopviz verify [REF...]`` re-hashes stored blobs and tables against the digests the index
recorded: each damaged file on a line (version, path, digest), exit 1 if any (issue 10, item 3)."""

from __future__ import annotations

import shutil
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from desktopviz.progress import Progress
from desktopviz.store.cache import Cache
from desktopviz.store.verify import verify
from tests.blob_support import damage_blob, lose_blob
from tests.cli_support import dv
from tests.importing.test_import import png


@pytest.fixture
def cache(tmp_path) -> Path:
    """Two image folders sharing one image, and a CSV: three versions."""
    cache = tmp_path / "cache"
    for name, seeds in (("cats", [1, 2, 3]), ("dogs", [3, 4])):
        for s in seeds:
            png(tmp_path / name / "x" / f"{s}.png", s)
    (tmp_path / "scores.csv").write_text("id,score\n1,0.5\n2,0.25\n")
    for src in ("cats", "dogs", "scores.csv"):
        r = dv("import", str(tmp_path / src), "--project", "p", cache=cache)
        assert r.returncode == 0, r.stderr
    return cache


def blob_of(cache: Path, ref: str, path: str) -> str:
    with Cache(cache) as c:
        (f,) = [f for f in c.files(c.resolve(ref)) if f.path == path]
        return f.sha256


def test_an_intact_cache_verifies(cache):
    r = dv("verify", cache=cache)
    assert r.returncode == 0, r.stdout + r.stderr
    assert r.stdout == ""
    assert "no damage" in r.stderr and "3 versions" in r.stderr


def test_a_changed_blob_is_reported_for_every_version_that_holds_it(cache):
    sha = blob_of(cache, "p/cats:v0", "x/3.png")

    def flip(data: bytes) -> bytes:  # one bit: same size, same name
        return (
            data[: len(data) // 2] + bytes([data[len(data) // 2] ^ 1]) + data[len(data) // 2 + 1 :]
        )

    with Cache(cache) as c:
        damage_blob(c, sha, flip)
    r = dv("verify", cache=cache)
    assert r.returncode == 1
    lines = sorted(r.stdout.splitlines())
    assert lines == [
        f"p/cats:v0\tx/3.png\t{sha}\tcontent differs",
        f"p/dogs:v0\tx/3.png\t{sha}\tcontent differs",
    ]
    assert "2 damaged" in r.stderr
    # only the versions asked for are checked
    assert dv("verify", "p/scores:v0", cache=cache).returncode == 0
    one = dv("verify", "p/dogs:latest", cache=cache)
    assert one.returncode == 1 and one.stdout.splitlines() == [lines[1]]


def test_a_missing_blob_and_a_damaged_table_are_reported(cache):
    sha = blob_of(cache, "p/cats:v0", "x/1.png")
    with Cache(cache) as c:
        lose_blob(c, sha)
    with Cache(cache) as c:
        (table,) = c.tables(c.resolve("p/scores:v0"))
        parquet = c.parquet_path(table)
    data = bytearray(parquet.read_bytes())
    data[len(data) // 2] ^= 0xFF
    parquet.write_bytes(bytes(data))
    r = dv("verify", cache=cache)
    assert r.returncode == 1
    lines = r.stdout.splitlines()
    assert f"p/cats:v0\tx/1.png\t{sha}\tmissing" in lines
    (table_line,) = [x for x in lines if x.startswith("p/scores:v0")]
    version, path, digest, problem = table_line.split("\t")
    assert (path, problem) == ("scores.csv", "table content differs") and digest.startswith(
        "xxh128:"
    )


def test_a_table_from_before_digests_is_read_whole(cache):
    with Cache(cache) as c:
        c.conn.execute("UPDATE tables SET digest = NULL")  # as a cache from an older desktopviz
        (table,) = c.tables(c.resolve("p/scores:v0"))
        parquet = c.parquet_path(table)
    assert dv("verify", cache=cache).returncode == 0
    shutil.copyfile(parquet, parquet.with_suffix(".bak"))
    parquet.write_bytes(parquet.read_bytes()[:-30])  # cut through the footer
    r = dv("verify", cache=cache)
    assert r.returncode == 1 and "p/scores:v0\tscores.csv\t" in r.stdout
    assert pq.read_table(parquet.with_suffix(".bak")).num_rows == 2


def test_progress_counts_every_file_and_byte(cache):
    seen: list[Progress] = []
    with Cache(cache) as c:
        report = verify(c, progress=seen.append)
    assert report.damaged == []
    assert seen[-1].done == seen[-1].total == report.files
    assert seen[-1].bytes_done == seen[-1].bytes_total == report.bytes > 0
    # 4 distinct images; per version its table file (made or given) and its Parquet file
    assert report.files == 4 + 3 + 3


def test_an_unknown_ref_is_one_line(cache):
    r = dv("verify", "p/nope:v0", cache=cache)
    assert r.returncode == 2 and len(r.stderr.splitlines()) == 1 and "nope" in r.stderr
