"""Files and folders the system will not let us read: exit 2, one line naming the file and the
system's reason, and the cache exactly as it was.

Root reads every file whatever its mode, so as root the console script runs without the two
capabilities that let it (CAP_DAC_OVERRIDE, CAP_DAC_READ_SEARCH): dropped from its bounding set
before it starts, as ``setpriv --bounding-set`` does. As another user, ``chmod 000`` is enough.
"""

from __future__ import annotations

import ctypes
import json
import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.cli_support import console_script, png_bytes, snapshot, stored_files

PR_CAPBSET_DROP = 24
CAP_DAC_OVERRIDE, CAP_DAC_READ_SEARCH = 1, 2


def _drop_read_override() -> None:
    """In the child before exec: give up root's right to read whatever the modes say."""
    libc = ctypes.CDLL(None, use_errno=True)
    for cap in (CAP_DAC_OVERRIDE, CAP_DAC_READ_SEARCH):
        if libc.prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) != 0:
            raise OSError(ctypes.get_errno(), "prctl(PR_CAPBSET_DROP)")


def _as_unprivileged() -> Callable[[], None] | None:
    return _drop_read_override if os.geteuid() == 0 else None


def run(cache: Path, *args: str) -> subprocess.CompletedProcess:
    """``desktopviz --cache CACHE ARGS`` as a process that mode 000 keeps out."""
    return subprocess.run(
        [console_script(), "--cache", str(cache), *args],
        capture_output=True,
        text=True,
        timeout=120,
        preexec_fn=_as_unprivileged(),
    )


@pytest.fixture(scope="module")
def modes_bind(tmp_path_factory) -> None:
    """Skip unless a mode-000 file really cannot be read by the processes these tests start."""
    probe = tmp_path_factory.mktemp("probe") / "locked"
    probe.write_text("x")
    probe.chmod(0)
    code = f"open({str(probe)!r}).read()"
    try:
        r = subprocess.run(
            [sys.executable, "-c", code],
            capture_output=True,
            text=True,
            timeout=60,
            preexec_fn=_as_unprivileged(),
        )
    except (OSError, subprocess.SubprocessError) as e:
        pytest.skip(f"cannot start a process without CAP_DAC_OVERRIDE here: {e}")
    if "PermissionError" not in r.stderr:
        pytest.skip("file modes do not stop reads here (root without a way to drop CAP_DAC_*)")


def _folder(root: Path) -> tuple[Path, Path]:
    (root / "sub").mkdir(parents=True)
    (root / "a.txt").write_text("a")
    locked = root / "sub" / "b.txt"
    locked.write_text("b")
    return root, locked


def _images(root: Path) -> tuple[Path, Path]:
    for label in ("cat", "dog"):
        (root / label).mkdir(parents=True)
        (root / label / "0.png").write_bytes(png_bytes())
    return root, root / "dog" / "0.png"


def _csv(root: Path) -> tuple[Path, Path]:
    root.mkdir(parents=True)
    p = root / "data.csv"
    p.write_text("a,b\n1,2\n")
    return p, p


def _download(root: Path) -> tuple[Path, Path]:
    """A download folder whose manifest lists the locked file (so it is read, not just listed)."""
    from desktopviz.formats.manifest import file_digest

    folder = root / "things:v0"
    folder.mkdir(parents=True)
    (folder / "t.table.json").write_text(
        json.dumps({"_type": "table", "columns": ["a"], "data": [[1]]})
    )
    (folder / "notes.txt").write_text("n")
    contents = {
        rel: {"digest": file_digest(folder / rel), "size": (folder / rel).stat().st_size}
        for rel in ("notes.txt", "t.table.json")
    }
    manifest = {
        "version": 1,
        "storagePolicy": "wandb-storage-policy-v1",
        "storagePolicyConfig": {},
        "contents": contents,
    }
    (folder / "wandb_manifest.json").write_text(json.dumps(manifest))
    return folder, folder / "notes.txt"


def _table_media(root: Path) -> tuple[Path, Path]:
    (root / "media" / "images").mkdir(parents=True)
    img = root / "media" / "images" / "x.png"
    img.write_bytes(png_bytes())
    cell = {"_type": "image-file", "path": "media/images/x.png", "width": 8, "height": 8}
    table = root / "t.table.json"
    table.write_text(json.dumps({"_type": "table", "columns": ["image"], "data": [[cell]]}))
    return table, img


@pytest.mark.parametrize(
    "make", [_folder, _images, _csv, _download, _table_media], ids=lambda f: f.__name__[1:]
)
def test_unreadable_file_is_one_line_and_changes_nothing(modes_bind, primed, tmp_path, make):
    target, locked = make(tmp_path / "in")
    locked.chmod(0)
    before, files_before = snapshot(primed), stored_files(primed)
    r = run(primed, "import", str(target))
    assert r.returncode == 2, (r.returncode, r.stdout, r.stderr)
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("desktopviz: error:"), r.stderr
    assert str(locked) in lines[0] and "Permission denied" in lines[0], lines[0]
    assert "broken" not in lines[0], lines[0]  # the system refused it: nothing is wrong inside
    assert snapshot(primed) == before
    assert stored_files(primed) == files_before


def test_unreadable_folder_is_not_skipped_silently(modes_bind, primed, tmp_path):
    """Before: os.walk dropped the folder's files without a word and the import said 'new'."""
    root, _ = _folder(tmp_path / "in")
    locked = root / "sub" / "deeper"
    locked.mkdir()
    (locked / "c.txt").write_text("c")
    locked.chmod(0)
    before, files_before = snapshot(primed), stored_files(primed)
    try:
        r = run(primed, "import", str(root))
    finally:
        locked.chmod(0o755)  # so pytest can remove it
    assert r.returncode == 2, (r.returncode, r.stdout, r.stderr)
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("desktopviz: error:"), r.stderr
    assert str(locked) in lines[0] and "Permission denied" in lines[0], lines[0]
    assert snapshot(primed) == before and stored_files(primed) == files_before
