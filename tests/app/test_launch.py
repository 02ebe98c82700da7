"""Starting the window from the command line: ``gui --screenshot`` in every state it documents,
the start page on an empty cache, one-line errors for bad references, and what a Linux user
without a display or without Qt's X11 libraries is told."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

from PIL import Image

from desktopviz.app.launch import display_problem, missing_x11_packages

REF = "street-scenes/scene-predictions:v1"
TRAINED = "street-scenes/scene-detector:v1"
"""Logged by the run ``train-wide-resnet``, which logged a metric history."""


def desktopviz(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    """``desktopviz ARGS`` in a new process (as a user runs it)."""
    return subprocess.run(
        [sys.executable, "-m", "desktopviz", *args],
        capture_output=True,
        text=True,
        timeout=180,
        env=env,
    )


def colours(png: Path, box: tuple[int, int, int, int]) -> int:
    """How many distinct colours the screenshot has inside ``box`` (left, top, right, bottom)."""
    with Image.open(png) as im:
        return len(im.convert("RGB").crop(box).getcolors(1 << 20) or [])


def pixels_of(png: Path, hex_colour: str) -> int:
    """How many pixels of the screenshot are exactly ``hex_colour`` (``#RRGGBB``)."""
    rgb = tuple(int(hex_colour[i : i + 2], 16) for i in (1, 3, 5))
    with Image.open(png) as im:
        return sum(n for n, c in im.convert("RGB").getcolors(1 << 20) or [] if c == rgb)


def test_screenshot_of_a_table_shows_thumbnails(demo_cache_dir, tmp_path):
    out = tmp_path / "shots" / "table.png"
    r = desktopviz(
        "--cache", str(demo_cache_dir), "gui", "--open", REF, "predictions.table.json",
        "--tab", "table", "--select", "2", "--size", "1200x800", "--screenshot", str(out),
    )  # fmt: skip
    assert r.returncode == 0, r.stderr
    assert f"screenshot: {out} (1200x800)" in r.stdout
    assert "propagateSizeHints" not in r.stderr  # Qt's offscreen chatter is not shown
    with Image.open(out) as im:
        assert im.size == (1200, 800)
    # the central area holds photos with overlays: thousands of colours, not a flat UI
    assert colours(out, (320, 150, 900, 750)) > 2000


def test_screenshots_of_overview_and_files_differ(demo_cache_dir, tmp_path):
    shots = {}
    for tab in ("overview", "files"):
        shots[tab] = tmp_path / f"{tab}.png"
        r = desktopviz(
            "--cache", str(demo_cache_dir), "gui", "--open", REF, "--tab", tab,
            "--screenshot", str(shots[tab]),
        )  # fmt: skip
        assert r.returncode == 0, r.stderr
    with Image.open(shots["overview"]) as a, Image.open(shots["files"]) as b:
        assert a.size == b.size == (1400, 900)
        assert a.tobytes() != b.tobytes()


def test_screenshot_of_an_empty_cache_is_the_start_page(tmp_path):
    out = tmp_path / "start.png"
    r = desktopviz("--cache", str(tmp_path / "new-cache"), "gui", "--screenshot", str(out))
    assert r.returncode == 0, r.stderr
    assert (tmp_path / "new-cache" / "index.sqlite").is_file()
    with Image.open(out) as im:
        assert im.size == (1400, 900)


def test_a_bad_reference_is_one_line_and_exit_2(demo_cache_dir, tmp_path):
    out = tmp_path / "x.png"
    r = desktopviz(
        "--cache", str(demo_cache_dir), "gui", "--open", "street-scenes/nope:v0",
        "--screenshot", str(out),
    )  # fmt: skip
    assert r.returncode == 2
    assert "nope" in r.stderr and len(r.stderr.strip().splitlines()) == 1
    assert not out.exists()


def test_a_bad_size_is_refused(demo_cache_dir, tmp_path):
    r = desktopviz("--cache", str(demo_cache_dir), "gui", "--size", "big", "--screenshot", "x.png")
    assert r.returncode == 2
    assert "WIDTHxHEIGHT" in r.stderr


def test_missing_x11_libraries_are_named_with_their_packages():
    problem = display_problem(
        environ={"DISPLAY": ":0"},
        platform="linux",
        x11_libraries={"libc.so.6": "libc6", "libdesktopviz-absent.so.9": "libdesktopviz-absent9"},
    )
    assert problem is not None
    assert "sudo apt install libdesktopviz-absent9" in problem
    assert "libc6" not in problem
    assert missing_x11_packages({"libc.so.6": "libc6"}) == []


def test_no_display_is_explained_and_other_platforms_are_left_to_qt():
    present = {"libc.so.6": "libc6"}
    problem = display_problem(environ={}, platform="linux", x11_libraries=present)
    assert problem is not None and "DISPLAY is not set" in problem
    assert (
        display_problem(environ={"DISPLAY": ":0"}, platform="linux", x11_libraries=present) is None
    )
    assert display_problem(environ={}, platform="darwin", x11_libraries=present) is None
    offscreen = {"QT_QPA_PLATFORM": "offscreen"}
    assert display_problem(environ=offscreen, platform="linux", x11_libraries=present) is None


def test_opening_the_window_without_a_display_says_so(demo_cache_dir):
    env = {k: v for k, v in os.environ.items() if k not in ("DISPLAY", "WAYLAND_DISPLAY")}
    env.pop("QT_QPA_PLATFORM", None)
    r = desktopviz("--cache", str(demo_cache_dir), env=env)
    assert r.returncode == 1
    assert "desktopviz:" in r.stderr
    assert "DISPLAY" in r.stderr or "apt install" in r.stderr
    assert "qt.qpa" not in r.stderr  # our message, not Qt's abort


def test_screenshot_of_a_filtered_sorted_table_and_bad_filters(demo_cache_dir, tmp_path):
    out = tmp_path / "filtered.png"
    r = desktopviz(
        "--cache", str(demo_cache_dir), "gui", "--open", REF, "predictions.table.json",
        "--filter", 'row["label"] == "car"', "--sort", "confidence:desc",
        "--screenshot", str(out),
    )  # fmt: skip
    assert r.returncode == 0, r.stderr
    assert out.is_file()
    r = desktopviz(
        "--cache", str(demo_cache_dir), "gui", "--open", REF, "predictions.table.json",
        "--filter", "{$gtt: ['$0.confidence', 1]}", "--screenshot", str(tmp_path / "x.png"),
    )  # fmt: skip
    assert r.returncode == 2
    assert "position 1: unknown operator $gtt; did you mean $gt?" in r.stderr
    r = desktopviz(
        "--cache", str(demo_cache_dir), "gui", "--open", REF, "predictions.table.json",
        "--sort", "nope", "--screenshot", str(tmp_path / "y.png"),
    )  # fmt: skip
    assert r.returncode == 2 and "nope" in r.stderr


def test_screenshot_of_a_run_page_shows_its_metric_charts(demo_cache_dir, tmp_path):
    from desktopviz.app.palette import CLASS_COLOURS

    shots = {tab: tmp_path / f"{tab}.png" for tab in ("run", "overview")}
    for tab, out in shots.items():
        r = desktopviz(
            "--cache", str(demo_cache_dir), "gui", "--open", TRAINED, "--tab", tab,
            "--size", "900x700", "--screenshot", str(out),
        )  # fmt: skip
        assert r.returncode == 0, r.stderr
        assert f"screenshot: {out} (900x700)" in r.stdout
    with Image.open(shots["run"]) as run, Image.open(shots["overview"]) as overview:
        assert run.size == overview.size == (900, 700)
        assert run.tobytes() != overview.tobytes()
    # the metrics checked at first (accuracy, loss, val_loss: list rows 0, 2, 3; the epoch
    # counter is left out) are drawn as lines, each in its chart and its colour (the run's page
    # is a tab of the window, beside the docks)
    for i in (0, 2, 3):
        assert pixels_of(shots["run"], CLASS_COLOURS[i]) > 100, CLASS_COLOURS[i]
    assert pixels_of(shots["run"], CLASS_COLOURS[1]) < 20


def test_a_run_page_by_id_and_an_unknown_run_id(demo_cache_dir, tmp_path):
    out = tmp_path / "run.png"
    r = desktopviz(
        "--cache", str(demo_cache_dir), "gui", "--tab", "run", "--run", "train-baseline",
        "--screenshot", str(out),
    )  # fmt: skip
    assert r.returncode == 0, r.stderr
    assert pixels_of(out, "#0072B2") > 200  # its first metric's line
    missing = tmp_path / "missing.png"
    r = desktopviz(
        "--cache", str(demo_cache_dir), "gui", "--tab", "run", "--run", "nosuchrun",
        "--screenshot", str(missing),
    )  # fmt: skip
    assert r.returncode == 2
    assert "nosuchrun" in r.stderr and len(r.stderr.strip().splitlines()) == 1
    assert not missing.exists()


def test_the_run_page_of_a_version_no_run_logged_is_exit_2(tmp_path):
    cache = str(tmp_path / "cache")
    (tmp_path / "points.csv").write_text("a,b\n1,2\n3,4\n")
    r = desktopviz("--cache", cache, "import", str(tmp_path / "points.csv"), "--project", "loose")
    assert r.returncode == 0, r.stderr
    out = tmp_path / "x.png"
    r = desktopviz(
        "--cache", cache, "gui", "--open", "loose/points:v0", "--tab", "run",
        "--screenshot", str(out),
    )  # fmt: skip
    assert r.returncode == 2
    assert r.stderr.strip() == (
        "desktopviz: error: loose/points:v0 was not logged by a run, so it has no run page"
    )
    assert not out.exists()


def test_first_paint_prints_when_the_window_first_painted(demo_cache_dir):
    """`gui --first-paint` (the installers' startup timing): the window paints, the time is
    printed, the process exits by itself."""
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen")
    started = time.time()
    r = desktopviz("--cache", str(demo_cache_dir), "gui", "--first-paint", env=env)
    ended = time.time()
    assert r.returncode == 0, r.stderr
    (line,) = [x for x in r.stdout.splitlines() if x.startswith("first paint: ")]
    painted = float(line.split()[2])
    assert started < painted < ended
    assert "Traceback" not in r.stderr and "deleted" not in r.stderr  # its workers end cleanly


def test_about_names_the_build(qtbot):
    """Help > About and --version say which build runs (here: the Python package)."""
    from desktopviz import __version__ as desktopviz_version
    from desktopviz.app.widgets.about import AboutDialog

    dialog = AboutDialog()
    qtbot.addWidget(dialog)
    assert dialog.versions["desktopviz"].endswith("(Python package)")
    assert f"desktopviz: {desktopviz_version} (Python package)" in dialog.text()
    r = desktopviz("--version")
    assert r.stdout.strip() == f"desktopviz {desktopviz_version} (Python package)"


def test_screenshots_of_the_project_registry_and_report_pages(demo_cache_dir, tmp_path):
    """`gui --tab project|registry|report`: each page of the demo, with real content; a name
    option without its tab, or an unknown name, is a one-line error."""
    shots = {}
    for tab, extra in (
        ("project", ["--project", "street-scenes"]),
        ("registry", []),  # the first collection
        ("report", ["--open", REF]),  # the first report of the version's project
    ):
        out = tmp_path / f"{tab}.png"
        r = desktopviz(
            "--cache", str(demo_cache_dir), "gui", "--tab", tab, *extra, "--size", "1200x800",
            "--screenshot", str(out),
        )  # fmt: skip
        assert r.returncode == 0, r.stderr
        shots[tab] = colours(out, (320, 60, 900, 750))
    assert shots["project"] > 50 and shots["registry"] > 300  # text and the lineage graph
    assert shots["report"] > 2000  # the report's table panel holds thumbnails
    r = desktopviz("--cache", str(demo_cache_dir), "gui", "--project", "street-scenes")
    assert r.returncode == 2 and "use it with --tab project" in r.stderr
    r = desktopviz(
        "--cache", str(demo_cache_dir), "gui", "--tab", "registry", "--collection", "nope",
        "--screenshot", str(tmp_path / "x.png"),
    )  # fmt: skip
    assert r.returncode == 2 and "no registry collection 'nope'" in r.stderr
