"""``desktopviz report ...`` through the installed console script."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.chromium_support import distinct_colours, remote_references, screenshot
from tests.cli_support import dv, needs_qt
from tests.test_reports import build_demo_with_report


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A cache with the demo project (60 images) and its report, made through the core."""
    return build_demo_with_report(tmp_path_factory.mktemp("cli-reports") / "cache")


def ok(*args: str, cache: Path, input: str | None = None) -> str:
    r = dv(*args, cache=cache, input=input)
    assert r.returncode == 0, r.stderr
    return r.stdout


def test_new_add_text_ls_show(demo: Path, tmp_path: Path) -> None:
    import shutil

    cache = tmp_path / "cache"
    shutil.copytree(demo, cache)
    assert "made report street-scenes/Notes" in ok(
        "report", "new", "Notes", "--project", "street-scenes", cache=cache
    )
    ok("report", "add-text", "Notes", "# Findings\nline two", cache=cache)
    ok("report", "add-text", "street-scenes/Notes", "-", cache=cache, input="from *stdin*\n")
    listing = ok("report", "ls", cache=cache).splitlines()
    assert [line.split("\t")[:2] for line in listing] == [
        ["street-scenes/Notes", "2 blocks"],
        ["street-scenes/Where the model is wrong", "3 blocks"],
    ]
    assert "no reports in project 'nope'" in ok("report", "ls", "nope", cache=cache)
    shown = ok("report", "show", "Notes", cache=cache).splitlines()
    assert shown[1:] == ["1. text: # Findings  (+1 lines)", "2. text: from *stdin*"]
    demo_shown = ok("report", "show", "Where the model is wrong", cache=cache)
    assert "2. panel (svg): Wrong predictions, most confident first" in demo_shown
    assert 'filter row["correct"] == false · sort confidence desc' in demo_shown
    refreshed = ok("report", "refresh", "Where the model is wrong", cache=cache)
    assert refreshed.count("refreshed") == 2
    assert "deleted report street-scenes/Notes" in ok("report", "rm", "Notes", cache=cache)


def test_errors_are_one_line(demo: Path) -> None:
    r = dv("report", "show", "nope", cache=demo)
    assert r.returncode == 2 and "no report 'nope'" in r.stderr and "Traceback" not in r.stderr
    r = dv("report", "new", "Where the model is wrong", "--project", "street-scenes", cache=demo)
    assert r.returncode == 2 and "already" in r.stderr
    r = dv("report", "export", "Where the model is wrong", "out.docx", cache=demo)
    assert r.returncode == 2 and "export writes .html or .pdf" in r.stderr
    r = dv("report", cache=demo)
    assert r.returncode == 2


def test_export_html_opens_offline_in_chromium(demo: Path, tmp_path: Path) -> None:
    out = tmp_path / "report.html"
    assert f"wrote {out}" in ok(
        "report", "export", "Where the model is wrong", str(out), cache=demo
    )
    text = out.read_text("utf-8")
    assert remote_references(text) == [] and text.count("<svg") == 2
    shot = screenshot(out, tmp_path / "report.png")
    assert distinct_colours(shot) > 200  # the thumbnails of the table panel are drawn


@needs_qt
def test_export_pdf(demo: Path, tmp_path: Path) -> None:
    out = tmp_path / "report.pdf"
    r = dv("report", "export", "Where the model is wrong", str(out), cache=demo,
           env={"QT_QPA_PLATFORM": "offscreen"})  # fmt: skip
    assert r.returncode == 0, r.stderr
    data = out.read_bytes()
    assert data.startswith(b"%PDF") and b"/Image" in data and len(data) > 20_000
