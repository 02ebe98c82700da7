"""Bad input: exit code 2, one line naming the file and row or field, and the cache exactly as it was."""

from __future__ import annotations

import json
import os
import struct
import subprocess
import zlib
from pathlib import Path

import numpy as np
import pytest

import desktopviz
from tests.cli_support import dv, png_bytes, snapshot, stored_files


def dv_cli(cache: Path, *args: str, env: dict | None = None) -> subprocess.CompletedProcess:
    return dv(*args, cache=cache, env=env, timeout=120)


def assert_refused(cache: Path, target: Path, *needles: str, env: dict | None = None) -> str:
    before, files_before = snapshot(cache), stored_files(cache)
    r = dv_cli(cache, "import", str(target), env=env)
    assert r.returncode == 2, (r.returncode, r.stdout, r.stderr)
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("desktopviz: error:"), r.stderr
    for needle in needles:
        assert needle in lines[0], (needle, lines[0])
    assert snapshot(cache) == before
    assert dv_cli(cache, "gc").returncode == 0
    assert stored_files(cache) == files_before
    return lines[0]


def bomb_png(width: int, height: int) -> bytes:
    """A tiny PNG whose header claims a huge image (Pillow must refuse to open it)."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return (
            struct.pack(">I", len(data))
            + kind
            + data
            + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)
        )

    ihdr = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", ihdr)
        + chunk(b"IDAT", zlib.compress(b"\x00" * 16))
        + chunk(b"IEND", b"")
    )


def table_with_image(root: Path, image_bytes: bytes | None) -> Path:
    root.mkdir(parents=True)
    cell = {
        "_type": "image-file",
        "path": "media/images/x.png",
        "width": 8,
        "height": 8,
        "format": "png",
    }
    (root / "media/images").mkdir(parents=True)
    if image_bytes is not None:
        (root / "media/images/x.png").write_bytes(image_bytes)
    (root / "t.table.json").write_text(
        json.dumps({"columns": ["id", "img"], "data": [[0, None], [1, cell]]})
    )
    return root


def test_malformed_json(primed, tmp_path):
    p = tmp_path / "in" / "bad.table.json"
    p.parent.mkdir()
    p.write_text('{"columns": ["a", "b"],\n "data": [[1, 2],\n [3, 4],\n [5 6]]}')
    line = assert_refused(primed, p, "bad.table.json", "line 4", "malformed JSON")
    assert "column" in line


def test_row_length_differs_from_columns(primed, tmp_path):
    p = tmp_path / "in" / "short.table.json"
    p.parent.mkdir()
    p.write_text(json.dumps({"columns": ["a", "b"], "data": [[1, 2], [3, 4], [5]]}))
    assert_refused(primed, p, "short.table.json", "row 2", "1 cells", "has 2")


@pytest.mark.parametrize("bad_path", ["../evil.txt", "/etc/passwd", "media/../../x.png"])
def test_manifest_path_leaving_the_folder(primed, tmp_path, bad_path):
    root = tmp_path / "in" / "ds:v0"
    root.mkdir(parents=True)
    (root / "a.txt").write_text("a")
    manifest = {
        "version": 1,
        "storagePolicy": "wandb-storage-policy-v1",
        "contents": {"a.txt": {"digest": "x", "size": 1}, bad_path: {"digest": "y", "size": 1}},
    }
    (root / "wandb_manifest.json").write_text(json.dumps(manifest))
    assert_refused(primed, root, "wandb_manifest.json", repr(bad_path))


def test_symlink_file_leading_out(primed, tmp_path):
    (tmp_path / "secret.txt").write_text("secret")
    root = tmp_path / "in" / "plain"
    root.mkdir(parents=True)
    (root / "ok.txt").write_text("ok")
    os.symlink(tmp_path / "secret.txt", root / "link.txt")
    assert_refused(primed, root, "link.txt", "leads out")


def test_symlink_folder_leading_out(primed, tmp_path):
    (tmp_path / "outside").mkdir()
    (tmp_path / "outside" / "x.txt").write_text("x")
    root = tmp_path / "in" / "ds:v0"
    root.mkdir(parents=True)
    (root / "ok.txt").write_text("ok")
    os.symlink(tmp_path / "outside", root / "sub")
    assert_refused(primed, root, "sub", "leads out")


def test_missing_media_file(primed, tmp_path):
    root = table_with_image(tmp_path / "in" / "ds:v0", None)
    assert_refused(primed, root, "t.table.json", "row 1", "'img'", "media/images/x.png")


@pytest.mark.parametrize(
    "content,needle", [(png_bytes()[:60], "truncated"), (b"this is not a png", "not an image")]
)
def test_broken_png(primed, tmp_path, content, needle):
    root = table_with_image(tmp_path / "in" / "ds:v0", content)
    assert_refused(primed, root, "media/images/x.png", "row 1", needle)


def test_truncated_png_in_an_image_folder(primed, tmp_path):
    root = tmp_path / "in" / "pets"
    (root / "cat").mkdir(parents=True)
    (root / "cat" / "a.png").write_bytes(png_bytes())
    (root / "cat" / "b.png").write_bytes(png_bytes()[:50])
    assert_refused(primed, root, "cat/b.png", "truncated")


def test_image_over_the_decompression_bomb_limit(primed, tmp_path):
    root = table_with_image(tmp_path / "in" / "ds:v0", bomb_png(30000, 30000))
    assert_refused(primed, root, "media/images/x.png", "decompression bomb")


def test_oversized_table_json(primed, tmp_path):
    p = tmp_path / "in" / "big.table.json"
    p.parent.mkdir()
    p.write_text(json.dumps({"columns": ["a"], "data": [[i] for i in range(1000)]}))
    assert_refused(primed, p, "big.table.json", "limit", env={"DESKTOPVIZ_MAX_TABLE_BYTES": "1000"})


def test_oversized_manifest(primed, tmp_path):
    root = tmp_path / "in" / "ds:v0"
    root.mkdir(parents=True)
    (root / "a.txt").write_text("a")
    (root / "wandb_manifest.json").write_text(
        json.dumps({"contents": {"a.txt": {"digest": "x" * 5000}}})
    )
    assert_refused(
        primed, root, "wandb_manifest.json", "limit", env={"DESKTOPVIZ_MAX_JSON_BYTES": "1000"}
    )


def test_csv_not_utf8(primed, tmp_path):
    p = tmp_path / "in" / "latin.csv"
    p.parent.mkdir()
    p.write_bytes("name,city\nann,paris\nbob,m\u00fcnchen\n".encode("latin-1"))
    assert_refused(primed, p, "latin.csv", "line 3", "not UTF-8")


def test_bad_references_on_the_command_line(primed):
    for args in (
        ["table", "nope:v0"],
        ["table", "ok:v9"],
        ["table", "ok:v0", "other.table.json"],
        ["alias", "ok:v0", "v2"],
    ):
        before = snapshot(primed)
        r = dv_cli(primed, *args)
        assert (
            r.returncode == 2
            and r.stderr.count("\n") == 1
            and r.stderr.startswith("desktopviz: error:")
        ), (args, r.stderr)
        assert snapshot(primed) == before


def test_sdk_raises_desktopviz_error():
    with pytest.raises(desktopviz.DesktopvizError, match="row 0"):
        desktopviz.Table(columns=["a", "b"]).add_data(1)
    with pytest.raises(desktopviz.DesktopvizError, match="H×W"):
        desktopviz.Image(np.zeros((4, 4, 7)))
    with pytest.raises(desktopviz.DesktopvizError):
        desktopviz.Image({"not": "an image"})
