"""``gc`` never destroys data: an import's fresh blobs and tables are leased and spared, a version
is never made visible without its files, and a cache without its index is never taken as empty
(issue 10, item 4)."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
import time
from pathlib import Path

from desktopviz.store.cache import Cache
from tests.cli_support import console_script, dv
from tests.importing.test_import import png

GC_DURING_IMPORT = textwrap.dedent("""
    import subprocess, sys, time
    from pathlib import Path
    from desktopviz.importing import import_path
    from desktopviz.store.cache import Cache
    script, cache_dir, source = sys.argv[1], sys.argv[2], sys.argv[3]
    cache = Cache(cache_dir)
    ran = []
    def progress(p):
        # once the table is being read, wait for some of the import's blobs, then collect garbage
        if p.stage == "table" and not ran:
            deadline = time.time() + 20
            while not any(Path(cache_dir, "blobs").rglob("*/*")) and time.time() < deadline:
                time.sleep(0.01)
            gc = subprocess.run([script, "--cache", cache_dir, "gc"], capture_output=True, text=True)
            ran.append(gc.returncode)
            print("gc:", gc.returncode, gc.stdout.strip(), gc.stderr.strip(), flush=True)
    (r,) = import_path(cache, Path(source), project="p", progress=progress)
    print("imported", r.result.version.ref, ran)
""")


def image_dataset(root: Path, n: int, seed: int = 0) -> Path:
    rows = []
    for i in range(n):
        png(root / f"media/{i}.png", seed * 1000 + i)
        rows.append([i, {"_type": "image-file", "path": f"media/{i}.png"}, f"label {i % 3}"])
    (root / "t.table.json").write_text(
        json.dumps({"_type": "table", "columns": ["id", "img", "label"], "data": rows})
    )
    return root


def test_gc_during_an_import_spares_its_blobs(tmp_path):
    cache_dir = tmp_path / "cache"
    source = image_dataset(tmp_path / "src" / "ds:v0", 200)
    r = subprocess.run(
        [sys.executable, "-c", GC_DURING_IMPORT, console_script(), str(cache_dir), str(source)],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert r.returncode == 0, r.stderr
    assert "gc: 0" in r.stdout and "imported p/ds:v0 [0]" in r.stdout, r.stdout
    with Cache(cache_dir) as cache:
        assert cache.check() == []
        v = cache.resolve("p/ds:v0")
        assert len(cache.files(v)) == 201
        assert all(cache.blobs.has(f.sha256) for f in cache.files(v))
    table = dv("table", "p/ds:v0", "--limit", "3", cache=cache_dir)
    assert table.returncode == 0 and len(table.stdout.splitlines()) == 3


def test_gc_and_imports_racing_never_show_a_version_without_its_files(tmp_path):
    cache_dir = tmp_path / "cache"
    sources = [image_dataset(tmp_path / f"src{i}" / f"ds{i}:v0", 15, seed=i) for i in range(8)]
    # the first import makes the cache; its version is then deleted so its blobs are orphans that
    # the later imports of the same bytes reuse while gc runs beside them
    assert dv("import", str(sources[0]), cache=cache_dir).returncode == 0
    with Cache(cache_dir) as cache:
        cache.delete_version(cache.resolve("ds0:v0"))
    gc_loop = subprocess.Popen(
        [
            sys.executable,
            "-c",
            textwrap.dedent(f"""
            import subprocess, time
            end = time.time() + 60
            while time.time() < end:
                subprocess.run([{console_script()!r}, "--cache", {str(cache_dir)!r}, "gc"],
                               capture_output=True)
            """),
        ],
    )
    try:
        results = []
        for i, src in enumerate(sources * 2):
            r = dv("import", str(src), cache=cache_dir, env={"DESKTOPVIZ_BUSY_TIMEOUT": "60"})
            results.append((i, r.returncode, r.stderr))
    finally:
        gc_loop.kill()
        gc_loop.wait()
    assert all(code == 0 for _, code, _ in results), results
    with Cache(cache_dir) as cache:
        assert cache.check() == []
        assert sorted(v.name for v in cache.versions()) == [f"ds{i}" for i in range(8)]
        for v in cache.versions():
            assert all(cache.blobs.has(f.sha256) for f in cache.files(v) if f.sha256)


def test_a_cache_without_its_index_is_not_taken_as_empty(tmp_path):
    cache_dir = tmp_path / "cache"
    assert (
        dv("import", str(image_dataset(tmp_path / "src" / "ds:v0", 5)), cache=cache_dir).returncode
        == 0
    )
    blobs = sorted(p for p in (cache_dir / "blobs").rglob("*") if p.is_file())
    assert blobs
    for name in ("index.sqlite", "index.sqlite-wal", "index.sqlite-shm"):
        (cache_dir / name).unlink(missing_ok=True)
    for args in (["ls"], ["gc"], ["import", str(tmp_path / "src" / "ds:v0")], ["verify"]):
        r = dv(*args, cache=cache_dir)
        assert r.returncode == 2, (args, r.stdout, r.stderr)
        (line,) = r.stderr.splitlines()
        assert "index" in line and "missing" in line and str(cache_dir) in line, line
    assert sorted(p for p in (cache_dir / "blobs").rglob("*") if p.is_file()) == blobs
    assert not (cache_dir / "index.sqlite").exists()


def test_a_dead_process_lease_is_dropped_and_its_orphans_collected(tmp_path):
    cache_dir = tmp_path / "cache"
    code = textwrap.dedent(f"""
        import os
        from desktopviz.store.cache import Cache
        c = Cache({str(cache_dir)!r})
        lease = c.lease()
        info = c.blobs.put_bytes(b"written by a process that then died", lease)
        print(info.sha256, flush=True)
        os._exit(9)
    """)
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    digest = r.stdout.strip()
    with Cache(cache_dir) as cache:
        assert cache.blobs.has(digest) and list(cache.leases_dir.iterdir())
        # a live lease of this process spares what it names
        with cache.lease() as mine:
            kept = cache.blobs.put_bytes(b"being written", mine)
            cache.gc()
            assert cache.blobs.has(kept.sha256)
        assert not cache.blobs.has(digest)
        assert not list(cache.leases_dir.iterdir())
        cache.gc()
        assert not cache.blobs.has(kept.sha256)
    time.sleep(0)
