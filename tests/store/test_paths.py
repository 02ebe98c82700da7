"""Paths never leave their root."""

from __future__ import annotations

import os

import pytest

from desktopviz.errors import UnsafePathError
from desktopviz.store.paths import safe_join, safe_relpath, walk_files


def test_normalises_and_refuses_escapes():
    assert safe_relpath("a/./b//c.txt") == "a/b/c.txt"
    assert safe_relpath("a\\b.txt") == "a/b.txt"
    for bad in ("../x", "/abs", "a/../../x", "C:\\x", "", "a/\x00"):
        with pytest.raises(UnsafePathError):
            safe_relpath(bad)


def test_symlinks_leading_out_are_refused(tmp_path):
    root = tmp_path / "root"
    (root / "sub").mkdir(parents=True)
    (tmp_path / "secret.txt").write_text("secret")
    (root / "ok.txt").write_text("ok")
    os.symlink(tmp_path / "secret.txt", root / "sub" / "link.txt")
    with pytest.raises(UnsafePathError, match="leading out"):
        safe_join(root, "sub/link.txt")
    with pytest.raises(UnsafePathError):
        list(walk_files(root))


def test_symlinks_inside_are_followed(tmp_path):
    root = tmp_path / "root"
    root.mkdir()
    (root / "a.txt").write_text("a")
    os.symlink(root / "a.txt", root / "b.txt")
    assert [rel for rel, _ in walk_files(root)] == ["a.txt", "b.txt"]
