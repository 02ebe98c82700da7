"""Small blobs live in pack files: an import of many images writes one pack (not a file per
image), never writes a blob the store already holds, and ``gc`` removes or compacts packs as
versions go; the bytes read back are always the bytes imported."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

from desktopviz.store.cache import Cache
from desktopviz.store.packs import PACK_MAX_BLOB
from tests.cli_support import dv, stored_files
from tests.importing.test_import import png
from tests.store.test_atomicity import KILL_DRIVER


def image_folder(root: Path, seeds: range) -> Path:
    for s in seeds:
        png(root / "images" / f"{s:04d}.png", s)
    return root


def pack_files(cache: Path) -> list[Path]:
    return sorted((cache / "blobs" / "packs").glob("*.pack"))


def loose_blobs(cache: Path) -> list[Path]:
    return [p for p in (cache / "blobs" / "sha256").rglob("*") if p.is_file()]


def version_bytes(cache: Path, ref: str, only: str | None = None) -> int:
    with Cache(cache) as c:
        return sum(f.size for f in c.files(c.resolve(ref)) if only in (None, f.path))


def exported_bytes(cache: Path, ref: str, tmp: Path) -> dict[str, bytes]:
    """Every file of a version as ``artifact.download()`` writes it (checked against digests)."""
    import desktopviz as dvz

    with dvz.open_cache(cache) as c:
        folder = c.artifact(ref).download(tmp)
    return {
        p.relative_to(folder).as_posix(): p.read_bytes()
        for p in folder.rglob("*")
        if p.is_file() and p.name != "wandb_manifest.json"
    }


def test_many_images_become_one_pack_and_known_bytes_are_not_written_again(tmp_path):
    cache = tmp_path / "cache"
    first = image_folder(tmp_path / "p" / "first", range(300))
    r = dv("import", str(first), cache=cache)
    assert r.returncode == 0, r.stderr
    (pack,) = pack_files(cache)
    assert loose_blobs(cache) == []
    assert pack.stat().st_size == version_bytes(cache, "p/first:v0")  # the images and the table

    # 300 images the cache holds and 10 new ones: only the 10 are written
    second = image_folder(tmp_path / "p" / "second", range(310))
    assert dv("import", str(second), cache=cache).returncode == 0
    new_pack = next(p for p in pack_files(cache) if p != pack)
    new_sources = [second / "images" / f"{s:04d}.png" for s in range(300, 310)]
    table = version_bytes(cache, "p/second:v0", "second.table.json")
    assert new_pack.stat().st_size == sum(p.stat().st_size for p in new_sources) + table

    got = exported_bytes(cache, "p/second:v0", tmp_path / "out")
    assert {k: v for k, v in got.items() if k.startswith("images/")} == {
        f"images/{p.name}": p.read_bytes() for p in sorted((second / "images").iterdir())
    }
    assert dv("verify", cache=cache).returncode == 0


def test_a_file_larger_than_a_pack_takes_is_a_blob_of_its_own(tmp_path):
    cache = tmp_path / "cache"
    src = tmp_path / "p" / "model:v0"
    src.mkdir(parents=True)
    weights = os.urandom(PACK_MAX_BLOB + 12345)
    (src / "weights.bin").write_bytes(weights)
    (src / "config.json").write_text('{"layers": 3}')
    assert dv("import", str(src), cache=cache).returncode == 0
    (loose,) = loose_blobs(cache)
    assert loose.read_bytes() == weights
    assert len(pack_files(cache)) == 1  # config.json
    got = exported_bytes(cache, "p/model:v0", tmp_path / "out")
    assert got == {"weights.bin": weights, "config.json": b'{"layers": 3}'}
    assert dv("verify", cache=cache).returncode == 0


def test_gc_removes_the_pack_of_a_killed_import(tmp_path):
    cache = tmp_path / "cache"
    keep = image_folder(tmp_path / "p" / "keep", range(20))
    assert dv("import", str(keep), cache=cache).returncode == 0
    before = stored_files(cache)
    killed = image_folder(tmp_path / "p" / "killed:v0", range(100, 400))
    r = subprocess.run(
        [sys.executable, "-c", KILL_DRIVER, str(cache), str(killed), "files", "250"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert r.returncode == -signal.SIGKILL, r.stderr
    assert len(pack_files(cache)) == 2  # the killed import's pack, which no version names
    with Cache(cache) as c:
        assert [v.name for v in c.versions()] == ["keep"] and c.check() == []
    g = dv("gc", cache=cache)
    assert g.returncode == 0, g.stderr
    assert stored_files(cache) == before
    assert dv("verify", cache=cache).returncode == 0


def test_gc_drops_a_dead_pack_and_compacts_a_mostly_dead_one(tmp_path):
    cache = tmp_path / "cache"
    big = image_folder(tmp_path / "p" / "big", range(100))
    other = image_folder(tmp_path / "p" / "other", range(500, 540))
    assert dv("import", str(big), cache=cache).returncode == 0
    (big_pack,) = pack_files(cache)
    assert dv("import", str(other), cache=cache).returncode == 0
    few = tmp_path / "p" / "few"
    for s in range(10):  # ten of big's images: nothing new is written
        png(few / "images" / f"{s:04d}.png", s)
    assert dv("import", str(few), cache=cache).returncode == 0
    few_pack = next(
        p
        for p in pack_files(cache)
        if p.stat().st_size == version_bytes(cache, "p/few:v0", "few.table.json")
    )  # the table made of the folder is all that is new
    assert len(pack_files(cache)) == 3
    with Cache(cache) as c:
        c.delete_version(c.resolve("p/big:v0"))
        c.delete_version(c.resolve("p/other:v0"))
    g = dv("gc", cache=cache)
    assert g.returncode == 0, g.stderr
    # other's pack was all dead; big's kept only few's images
    (compacted,) = [p for p in pack_files(cache) if p != few_pack]
    assert compacted != big_pack and few_pack.is_file()
    assert compacted.stat().st_size == sum(p.stat().st_size for p in (few / "images").iterdir())
    got = exported_bytes(cache, "p/few:v0", tmp_path / "out")
    assert {k: v for k, v in got.items() if k.startswith("images/")} == {
        f"images/{p.name}": p.read_bytes() for p in (few / "images").iterdir()
    }
    assert dv("verify", cache=cache).returncode == 0


def test_thumbnails_of_packed_images_write_no_copies(tmp_path):
    """Before: each thumbnail first copied its packed image out to blobs/extracted/."""
    from desktopviz.store.thumbnails import ThumbnailStore, media_source

    cache = tmp_path / "cache"
    folder = image_folder(tmp_path / "p" / "pics", range(12))
    assert dv("import", str(folder), cache=cache).returncode == 0
    with Cache(cache) as c:
        version = c.resolve("p/pics:v0")
        store = ThumbnailStore.of(c)
        images = [f for f in c.files(version) if f.path.endswith(".png")]
        for f in images:
            source, sha = media_source(c, version, None, f.path)  # as an image folder's cells
            assert isinstance(source, bytes) and sha == f.sha256
            thumb = store.thumbnail(source, sha, 64)
            assert thumb.is_file() and thumb.stat().st_size > 0
    assert len(images) == 12
    assert not (cache / "blobs" / "extracted").exists()


def test_a_cache_named_by_a_relative_path_reads_packed_blobs_from_other_threads(
    tmp_path, monkeypatch
):
    """Worker threads open the index read-only by URI: a cache given as ``--cache rel`` failed
    with "relative path can't be expressed as a file URI" (push, thumbnails)."""
    import threading

    folder = tmp_path / "shots"
    image = png(folder / "a.png", 1)
    r = dv("import", str(folder), cache=tmp_path / "rel")
    assert r.returncode == 0, r.stderr
    monkeypatch.chdir(tmp_path)
    with Cache("rel") as cache:
        entry = next(f for f in cache.files(cache.resolve("shots:v0")) if f.path.endswith("a.png"))
        got: list[object] = []
        worker = threading.Thread(target=lambda: got.append(cache.blobs.read(entry.sha256)))
        worker.start()
        worker.join(30)
        assert got == [image.read_bytes()]
