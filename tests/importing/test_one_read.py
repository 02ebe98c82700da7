"""An import reads each image once: its digests, its blob and the check that it is whole all come
from that one read (counted with an audit hook in the console script's process)."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path

from tests.cli_support import console_script
from tests.importing.test_import import png

COUNTING_DRIVER = textwrap.dedent("""
    import collections, json, os, sys
    source, out = sys.argv[1], sys.argv[2]
    opened = collections.Counter()
    def hook(event, args):
        if event == "open" and isinstance(args[0], (str, bytes, os.PathLike)):
            path = os.fsdecode(args[0])
            if path.startswith(source):
                opened[os.path.relpath(path, source)] += 1
    sys.addaudithook(hook)
    sys.argv = [sys.argv[3], *sys.argv[4:]]
    from desktopviz.cli.main import main
    try:
        main()
    finally:
        with open(out, "w") as f:
            json.dump(opened, f)
""")


def test_each_image_is_read_once(tmp_path):
    src = tmp_path / "p" / "ds:v0"
    rows = []
    for i in range(40):
        png(src / "media" / "images" / f"{i}.png", i)
        rows.append([i, {"_type": "image-file", "path": f"media/images/{i}.png", "format": "png"}])
    (src / "ds.table.json").write_text(
        json.dumps({"_type": "table", "columns": ["id", "image"], "data": rows})
    )
    counts = tmp_path / "opened.json"
    r = subprocess.run(
        [
            sys.executable,
            "-c",
            COUNTING_DRIVER,
            str(src),
            str(counts),
            console_script(),
            "--cache",
            str(tmp_path / "cache"),
            "import",
            str(src),
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert r.returncode == 0, r.stderr
    assert "new version" in r.stdout
    opened = json.loads(counts.read_text())
    images = {k: v for k, v in opened.items() if k.endswith(".png")}
    assert len(images) == 40
    assert set(images.values()) == {1}, images


def test_a_cut_image_is_still_refused_with_its_row(tmp_path):
    src = tmp_path / "p" / "ds:v0"
    rows = []
    for i in range(3):
        png(src / "media" / f"{i}.png", i, size=(64, 64))
        rows.append([i, {"_type": "image-file", "path": f"media/{i}.png"}])
    whole = (src / "media" / "2.png").read_bytes()
    (src / "media" / "2.png").write_bytes(whole[: len(whole) // 2])
    (src / "ds.table.json").write_text(
        json.dumps({"_type": "table", "columns": ["id", "image"], "data": rows})
    )
    r = subprocess.run(
        [console_script(), "--cache", str(tmp_path / "cache"), "import", str(src)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert r.returncode == 2
    assert "ds.table.json -> media/2.png, row 3" in r.stderr or "media/2.png" in r.stderr
    assert "truncated" in r.stderr, r.stderr
    assert not Path(tmp_path / "cache" / "blobs" / "packs").exists() or not any(
        (tmp_path / "cache" / "blobs" / "packs").iterdir()
    )
