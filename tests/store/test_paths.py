"""Paths never leave their root."""

from __future__ import annotations

import os

import pytest

from desktopviz.errors import UnsafePathError
from desktopviz.store.paths import safe_join, safe_relpath, walk_files
from tests.cli_support import dv


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


def _tree(root, files: dict[str, str], links: dict[str, str]) -> None:
    """Files (path -> text) and symlinks (path -> target, relative to the link's folder)."""
    for rel, text in files.items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_text(text)
    for rel, target in links.items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        os.symlink(target, root / rel)


def test_symlink_loops_are_skipped(tmp_path):
    """Links back to a folder on the way down are not followed; their files come once, directly."""
    root = tmp_path / "root"
    _tree(
        root,
        {"a/x.txt": "x", "b/y.txt": "y", "a/deep/z.txt": "z"},
        {"a/loop": "..", "b/loop": "../a", "a/deep/top": "../..", "a/self": ".", "b/here": "../b"},
    )
    assert [rel for rel, _ in walk_files(root)] == [
        "a/x.txt",
        "a/deep/z.txt",
        "b/loop/x.txt",
        "b/loop/deep/z.txt",
        "b/y.txt",
    ]


def test_mutual_symlink_loops_end(tmp_path):
    """``a/up -> ../b`` and ``b/down -> ../a``: each side is entered once through the other."""
    root = tmp_path / "root"
    _tree(root, {"a/x.txt": "x", "b/y.txt": "y"}, {"a/up": "../b", "b/down": "../a"})
    assert sorted(rel for rel, _ in walk_files(root)) == [
        "a/up/y.txt",
        "a/x.txt",
        "b/down/x.txt",
        "b/y.txt",
    ]


def test_links_inside_a_followed_folder_are_checked_against_the_root(tmp_path):
    """A link in a linked folder may lead to a sibling inside the root, never out of the root."""
    root = tmp_path / "root"
    _tree(root, {"c/f.txt": "f"}, {"a/to_b": "../b", "b/to_c": "../c"})
    assert sorted(rel for rel, _ in walk_files(root)) == [
        "a/to_b/to_c/f.txt",
        "b/to_c/f.txt",
        "c/f.txt",
    ]
    (tmp_path / "outside").mkdir()
    os.symlink(tmp_path / "outside", root / "c" / "out")
    with pytest.raises(UnsafePathError, match="leads out"):
        list(walk_files(root))


def test_broken_and_self_links_and_fifos_are_skipped(tmp_path):
    root = tmp_path / "root"
    _tree(root, {"f.txt": "f"}, {"gone": "nothing-here", "self": "self", "p": "q", "q": "p"})
    os.mkfifo(root / "pipe")
    assert [rel for rel, _ in walk_files(root)] == ["f.txt"]


@pytest.mark.parametrize(
    "links",
    [{"a/loop": "..", "b/loop": ".."}, {"a/loop": "..", "b/loop": "../a"}],
    ids=["both-to-root", "to-root-and-to-sibling"],
)
def test_import_of_a_folder_with_symlink_loops_finishes(tmp_path, links):
    """Before: two links back up made the walk branch at every level (it ran for ever)."""
    root = tmp_path / "proj" / "looped"
    _tree(root, {"a/x.txt": "x", "b/y.txt": "y"}, links)
    cache = tmp_path / "cache"
    r = dv("import", str(root), cache=cache, timeout=30)
    assert r.returncode == 0, r.stderr
    assert "proj/looped:v0" in r.stdout and "new version" in r.stdout
    listing = dv("ls", "proj/looped", cache=cache).stdout
    n = 2 if links["b/loop"] == ".." else 3  # b/loop/x.txt comes through the link to a
    assert listing.startswith(f"v0\tlatest\t{n} files\t"), listing
    again = dv("import", str(root), cache=cache, timeout=30)
    assert again.returncode == 0 and "unchanged" in again.stdout, again.stderr


def test_safe_join_through_links_stays_inside(tmp_path):
    root = tmp_path / "root"
    _tree(root, {"a/x.txt": "x"}, {"a/loop": "..", "a/self": "self", "a/up": "../.."})
    assert safe_join(root, "a/loop/a/loop/a/x.txt").read_text() == "x"
    assert not safe_join(root, "a/self").is_file()  # a link to itself: no file, no hang
    with pytest.raises(UnsafePathError, match="leading out"):
        safe_join(root, "a/up/x.txt")
