"""``desktopviz registry link|ls|alias|unlink|history`` through the installed console script,
and registry references taken by ``table``, ``ls`` and ``gui --open``."""

from __future__ import annotations

import getpass
import json
from pathlib import Path

import pytest

from tests.cli_support import dv, needs_qt


@pytest.fixture(scope="module")
def demo_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    cache = tmp_path_factory.mktemp("registry-cli") / "cache"
    r = dv("demo", "--images", "12", "--quiet", cache=cache)
    assert r.returncode == 0, r.stderr
    return cache


def ok(*args: str, cache: Path) -> str:
    r = dv(*args, cache=cache)
    assert r.returncode == 0, r.stderr
    return r.stdout


def blob_files(cache: Path) -> int:
    return sum(1 for p in (cache / "blobs").rglob("*") if p.is_file())


def test_link_alias_unlink_and_history(demo_dir, tmp_path):
    import shutil

    cache = tmp_path / "cache"
    shutil.copytree(demo_dir, cache)
    demo = [
        "scene-detector\t2 versions\tlatest:v1, production:v0, staging:v1"
    ]  # the demo's own collection
    assert ok("registry", "ls", cache=cache).splitlines() == demo
    blobs = blob_files(cache)
    out = ok(
        "registry", "link", "street-scenes/scene-detector:v0", "detectors",
        "--alias", "staging", "--alias", "candidate", cache=cache,
    )  # fmt: skip
    assert out.strip() == (
        "registry/detectors:v0 [latest, candidate, staging] -> street-scenes/scene-detector:v0"
    )
    out = ok("registry", "link", "scene-detector:v1", "detectors", cache=cache)
    assert out.strip() == "registry/detectors:v1 [latest] -> street-scenes/scene-detector:v1"
    assert blob_files(cache) == blobs  # linking copies no bytes

    out = ok("registry", "alias", "detectors:v1", "staging", cache=cache)
    assert out.strip() == (
        "registry/detectors:v1 [latest, staging] -> street-scenes/scene-detector:v1"
    )
    ok("registry", "alias", "registry/detectors:v0", "production", cache=cache)
    ok("registry", "alias", "detectors:v0", "candidate", "--remove", cache=cache)

    listing = ok("registry", "ls", cache=cache).splitlines()
    assert listing == ["detectors\t2 versions\tlatest:v1, production:v0, staging:v1", *demo]
    assert ok("ls", "registry", cache=cache).splitlines() == listing
    rows = [
        line.split("\t") for line in ok("registry", "ls", "detectors", cache=cache).splitlines()
    ]
    assert [r[:3] for r in rows] == [
        ["v0", "production", "street-scenes/scene-detector:v0"],
        ["v1", "latest,staging", "street-scenes/scene-detector:v1"],
    ]
    user = getpass.getuser()
    assert rows[0][3].startswith("linked 20") and rows[0][3].endswith(f"by {user}")

    history = [
        line.split("\t")
        for line in ok("registry", "history", "detectors", cache=cache).splitlines()
    ]
    assert [h[1] for h in history] == [
        "staging: — → v0",
        "candidate: — → v0",
        "staging: v0 → v1",
        "production: — → v0",
        "candidate: v0 → —",
    ]
    assert all(h[2] == user and h[0].startswith("20") for h in history)

    out = ok("registry", "unlink", "detectors:v1", cache=cache)
    assert out.strip() == ("unlinked registry/detectors:v1 (street-scenes/scene-detector:v1 stays)")
    assert "scene-detector" in ok("ls", "street-scenes", cache=cache)
    assert ok("registry", "ls", cache=cache).splitlines() == [
        "detectors\t1 version\tlatest:v0, production:v0",
        *demo,
    ]
    assert ok("registry", "history", "detectors", cache=cache).splitlines()[-1].split("\t")[1] == (
        "staging: v1 → —"
    )


def test_registry_references_work_in_table(demo_dir, tmp_path):
    import shutil

    cache = tmp_path / "cache"
    shutil.copytree(demo_dir, cache)
    ok("registry", "link", "scene-predictions:v0", "preds", "--alias", "production", cache=cache)
    out = ok("table", "registry/preds:production", "predictions", "--limit", "2", cache=cache)
    direct = ok(
        "table", "street-scenes/scene-predictions:v0", "predictions", "--limit", "2", cache=cache
    )
    assert out == direct and len(out.splitlines()) == 2
    assert json.loads(out.splitlines()[0])["id"] == "scene-0000"


@needs_qt
def test_registry_references_open_in_the_window(demo_dir, tmp_path):
    shot = tmp_path / "shot.png"
    ok(
        "gui", "--open", "registry/scene-detector:production", "--size", "900x600",
        "--screenshot", str(shot), cache=demo_dir,
    )  # fmt: skip
    assert shot.stat().st_size > 10_000


def test_bad_registry_input_is_one_line(demo_dir):
    for args, message in (
        (("registry", "ls", "nope"), "no registry collection 'nope'"),
        (("registry", "alias", "nope:v0", "production"), "no registry collection 'nope'"),
        (("registry", "link", "street-scenes/nope:v0", "x"), "no artifact named 'nope'"),
        (("table", "registry/nope:production"), "no registry collection 'nope'"),
        (("registry", "history", "nope"), "no registry collection 'nope'"),
        (("registry",), "registry needs a subcommand"),
    ):
        r = dv(*args, cache=demo_dir)
        assert r.returncode == 2, (args, r.stdout)
        assert message in r.stderr and len(r.stderr.strip().splitlines()) == 1, r.stderr
    r = dv("registry", "link", "scene-detector:v0", "x", "--alias", "latest", cache=demo_dir)
    assert r.returncode == 2 and "managed by desktopviz" in r.stderr
    # nothing was linked: only the demo's own collection
    assert ok("registry", "ls", cache=demo_dir).splitlines() == [
        "scene-detector\t2 versions\tlatest:v1, production:v0, staging:v1"
    ]
