"""A killed import leaves a consistent cache with no half-visible version; concurrent imports
either both succeed or one says "cache is busy"; the index is never corrupt."""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from desktopviz.store.cache import Cache

ROWS = 60_000
FILES = 150

KILL_DRIVER = textwrap.dedent("""
    import os, signal, sys
    from pathlib import Path
    from desktopviz.importing import import_path
    from desktopviz.store.cache import Cache
    cache_dir, source, stage, after = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
    seen = 0
    def progress(p):
        global seen
        if p.stage == stage:
            seen += 1
            if seen >= after:
                os.kill(os.getpid(), signal.SIGKILL)
    import_path(Cache(cache_dir), Path(source), project="p", progress=progress)
""")


def make_input(root: Path, seed: int = 0, rows: int = ROWS) -> Path:
    rnd = random.Random(seed)
    root.mkdir(parents=True)
    data = [
        [i, rnd.random(), f"label {rnd.randint(0, 9)}", {"n": i, "xs": [rnd.random(), 1.5]}]
        for i in range(rows)
    ]
    (root / "data.table.json").write_text(
        json.dumps({"_type": "table", "columns": ["id", "x", "s", "d"], "data": data})
    )
    for i in range(FILES):
        (root / "files" / f"{i % 10}").mkdir(parents=True, exist_ok=True)
        (root / "files" / f"{i % 10}" / f"f{i}.txt").write_text(f"file {i} {seed} " * 50)
    return root


def cli(cache: Path, *args: str, env: dict | None = None) -> subprocess.Popen:
    return subprocess.Popen(
        [
            sys.executable,
            "-m",
            "desktopviz",
            "--cache",
            str(cache),
            *args,
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, **(env or {})},
    )


def assert_consistent(cache_dir: Path, rows: int = ROWS) -> list:
    with Cache(cache_dir) as cache:
        assert cache.check() == []
        assert cache.conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        versions = cache.versions()
        for v in versions:
            files = cache.files(v)
            assert len(files) == FILES + 1 and all(cache.blobs.has(f.sha256) for f in files)
            (table,) = cache.tables(v)
            assert pq.read_table(cache.parquet_path(table)).num_rows == table.num_rows == rows
        return versions


def reimport_and_check(cache_dir: Path, source: Path) -> None:
    r = cli(cache_dir, "import", str(source), "--quiet")
    out, err = r.communicate(timeout=120)
    assert r.returncode == 0, err
    versions = assert_consistent(cache_dir)
    assert [v.tag for v in versions] == ["v0"]
    g = cli(cache_dir, "gc")
    g.communicate(timeout=60)
    assert g.returncode == 0
    assert [v.tag for v in assert_consistent(cache_dir)] == ["v0"]


@pytest.fixture(scope="module")
def source(tmp_path_factory) -> Path:
    return make_input(tmp_path_factory.mktemp("src") / "ds:v0")


@pytest.mark.parametrize(
    "stage,after", [("files", 1), ("files", FILES // 2), ("table", 1), ("table", 3)]
)
def test_killed_at_a_known_point(tmp_path, source, stage, after):
    cache_dir = tmp_path / "cache"
    Cache(cache_dir).close()
    r = subprocess.run(
        [sys.executable, "-c", KILL_DRIVER, str(cache_dir), str(source), stage, str(after)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert r.returncode == -signal.SIGKILL, r.stderr
    assert assert_consistent(cache_dir) == []
    reimport_and_check(cache_dir, source)


def test_killed_at_moments_spread_over_an_import(tmp_path, source):
    probe = tmp_path / "probe"
    start = time.perf_counter()
    p = cli(probe, "import", str(source), "--quiet")
    p.communicate(timeout=120)
    duration = time.perf_counter() - start
    for i, fraction in enumerate((0.1, 0.3, 0.5, 0.7, 0.85, 0.95)):
        cache_dir = tmp_path / f"cache{i}"
        p = cli(cache_dir, "import", str(source), "--quiet")
        time.sleep(duration * fraction)
        p.send_signal(signal.SIGKILL)
        p.communicate(timeout=60)
        if cache_dir.exists() and (cache_dir / "index.sqlite").exists():
            assert len(assert_consistent(cache_dir)) <= 1  # nothing, or the whole version
        reimport_and_check(cache_dir, source)


def test_two_processes_import_at_once(tmp_path, source):
    other = make_input(tmp_path / "other" / "other:v0", seed=1, rows=20_000)
    for round_ in range(3):
        cache_dir = tmp_path / f"cache{round_}"
        procs = [
            cli(cache_dir, "import", str(source), "--quiet"),
            cli(cache_dir, "import", str(other), "--quiet"),
            cli(cache_dir, "import", str(source), "--quiet"),
        ]
        results = [(p.wait(timeout=180), p.stderr.read()) for p in procs]
        for code, err in results:
            assert code == 0 or (code == 2 and "cache is busy" in err), err
        with Cache(cache_dir) as cache:
            assert cache.check() == []
            names = sorted({(v.name, v.tag) for v in cache.versions()})
        assert ("ds", "v0") in names and (
            "ds",
            "v1",
        ) not in names  # the same content twice is one version
        if results[1][0] == 0:
            assert ("other", "v0") in names


def test_a_held_write_lock_gives_cache_is_busy(tmp_path, source):
    cache_dir = tmp_path / "cache"
    Cache(cache_dir).close()
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            textwrap.dedent(f"""
        import sqlite3, sys, time
        c = sqlite3.connect({str(cache_dir / "index.sqlite")!r}, isolation_level=None)
        c.execute("BEGIN IMMEDIATE"); print("locked", flush=True); time.sleep(20)
    """),
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout.readline().strip() == "locked"
        r = cli(cache_dir, "import", str(source), "--quiet", env={"DESKTOPVIZ_BUSY_TIMEOUT": "0.2"})
        out, err = r.communicate(timeout=120)
        assert r.returncode == 2 and "cache is busy" in err and err.count("\n") == 1, err
    finally:
        holder.kill()
        holder.wait()
    assert assert_consistent(cache_dir) == []
