"""Reports in the core (desktopviz.reports): made, edited, reordered and exported as one
self-contained HTML file, which headless Chromium opens offline (tests/chromium_support.py)."""

from __future__ import annotations

import io
import re
from pathlib import Path

import pytest
from PIL import Image

from desktopviz import reports
from desktopviz.errors import DesktopvizError, NotFoundError
from desktopviz.store.cache import Cache
from tests.chromium_support import (
    colour_near,
    distinct_colours,
    keep_shot,
    remote_references,
    screenshot,
)

MAGENTA = (230, 0, 200)


def build_demo_with_report(root: Path) -> Path:
    """A cache at ``root`` holding the demo project (60 images) and its report."""
    from desktopviz.demo import build_demo

    with Cache(root) as cache:
        build_demo(cache, n_images=60)
        reports.add_demo_report(cache)
    return root


@pytest.fixture(scope="module")
def demo_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A cache holding the demo project (60 images) and its report."""
    return build_demo_with_report(tmp_path_factory.mktemp("reports") / "cache")


@pytest.fixture
def cache(demo_dir: Path, tmp_path: Path):
    import shutil

    root = tmp_path / "cache"
    shutil.copytree(demo_dir, root)
    with Cache(root) as c:
        yield c


def png_bytes(colour: tuple[int, int, int] = MAGENTA, size: tuple[int, int] = (300, 120)) -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", size, colour).save(buf, "PNG")
    return buf.getvalue()


def test_create_list_rename_delete(cache: Cache) -> None:
    r = reports.create(cache, "street-scenes", "Weekly")
    assert (r.name, r.project, r.blocks) == ("Weekly", "street-scenes", ())
    with pytest.raises(DesktopvizError, match="already"):
        reports.create(cache, "street-scenes", "Weekly")
    reports.create(cache, "other", "Weekly")
    with pytest.raises(NotFoundError, match="several projects"):
        reports.get(cache, "Weekly")
    names = [i.ref for i in reports.list_reports(cache)]
    assert names == [
        "other/Weekly",
        "street-scenes/Weekly",
        "street-scenes/Where the model is wrong",
    ]
    assert [i.ref for i in reports.list_reports(cache, "other")] == ["other/Weekly"]
    renamed = reports.rename(cache, "other/Weekly", "Monthly")
    assert renamed.ref == "other/Monthly" and renamed.id != r.id
    with pytest.raises(DesktopvizError, match="name"):
        reports.create(cache, "other", "a/b")
    reports.delete(cache, "other/Monthly")
    with pytest.raises(NotFoundError, match="no report"):
        reports.get(cache, "other/Monthly")


def test_blocks_keep_their_order_through_moves_and_removes(cache: Cache) -> None:
    r = reports.create(cache, "street-scenes", "Order")
    a = reports.add_text(cache, r.id, "a")
    b = reports.add_panel(cache, r.id, "b", png=png_bytes(), query={"kind": "x"})
    c = reports.add_text(cache, r.id, "c")
    first = reports.add_text(cache, r.id, "first", position=0)

    def order(rep: reports.Report) -> list[str]:
        assert [x.position for x in rep.blocks] == list(range(len(rep.blocks)))
        return [x.text for x in rep.blocks]

    assert order(reports.get(cache, r.id)) == ["first", "a", "b", "c"]
    assert order(reports.move(cache, c.id, 0)) == ["c", "first", "a", "b"]
    assert order(reports.move(cache, c.id, 99)) == ["first", "a", "b", "c"]
    assert order(reports.move(cache, b.id, 1)) == ["first", "b", "a", "c"]
    assert order(reports.remove(cache, first.id)) == ["b", "a", "c"]
    assert reports.set_text(cache, a.id, "# A").text == "# A"
    got = reports.get(cache, r.id)
    assert got.updated_at > r.updated_at
    panel = got.blocks[0]
    assert panel.kind == "panel" and reports.panel_image(cache, panel) == png_bytes()
    assert panel.query == {"kind": "x"}
    with pytest.raises(DesktopvizError, match="PNG or an SVG"):
        reports.add_panel(cache, r.id, "none")
    with pytest.raises(DesktopvizError, match="PNG"):
        reports.add_panel(cache, r.id, "jpeg", png=b"\xff\xd8 not a png")
    with pytest.raises(DesktopvizError, match="no query"):
        reports.refresh_panel(cache, panel.id)


def test_demo_report_is_made_once_and_refreshes(cache: Cache) -> None:
    r = reports.add_demo_report(cache)
    assert reports.add_demo_report(cache).id == r.id
    assert len(reports.list_reports(cache, "street-scenes")) == 1
    kinds = [(b.kind, (b.query or {}).get("kind")) for b in r.blocks]
    assert kinds == [("text", None), ("panel", "table"), ("panel", "chart")]
    table, chart = r.blocks[1], r.blocks[2]
    assert table.query["spec"]["filters"] == ['row["correct"] == false']
    assert "<image " in table.svg and "data:image/" in table.svg  # thumbnails embedded
    assert "<rect" in chart.svg
    # every row of the table is a wrong prediction: the labels differ from the predictions
    texts = re.findall(r">([^<>]+)</text>", table.svg)
    assert "label" in texts and "prediction" in texts
    refreshed = reports.refresh_panel(cache, chart.id)
    assert refreshed.svg == chart.svg and refreshed.updated_at > chart.updated_at


def test_run_panel_draws_the_runs_metrics(cache: Cache) -> None:
    run = next(r for r in cache.runs("street-scenes") if cache.history(r.id))
    keys = sorted(k for k, v in cache.history(run.id)[0][1].items() if isinstance(v, float))[:2]
    svg = reports.render_query(cache, reports.run_query(run.id, keys))
    assert svg.count("<polyline") == len(keys) and keys[0] in svg


def test_html_export_is_self_contained_and_opens_offline(cache: Cache, tmp_path: Path) -> None:
    r = reports.create(cache, "street-scenes", "Export <check>")
    reports.add_text(
        cache,
        r.id,
        "## Findings\n\nThe **wrong** ones.\n\n| a | b |\n|---|---|\n| 1 | 2 |\n\n"
        "<script>alert(1)</script>",
    )
    reports.add_panel(cache, r.id, "A magenta picture", png=png_bytes(), query={"kind": "x"})
    chart = reports.get(cache, "street-scenes/Where the model is wrong").blocks[2]
    reports.add_panel(cache, r.id, "Confidence", svg=chart.svg, query=chart.query)
    out = reports.export_html(cache, r.id, tmp_path / "out" / "report.html")
    text = out.read_text("utf-8")
    assert remote_references(text) == []
    assert "<strong>wrong</strong>" in text and "<table>" in text
    assert "<script>" not in text and "&lt;script&gt;" in text  # raw HTML is shown, not run
    assert "Export &lt;check&gt;" in text
    assert text.count("data:image/png;base64,") == 1 and "<svg" in text
    assert "Content-Security-Policy" in text

    shot = screenshot(out, tmp_path / "report.png")
    keep_shot(shot, "report-html-chromium.png")
    assert colour_near(shot, MAGENTA) > 300 * 100  # the PNG panel is drawn whole
    assert colour_near(shot, (0x00, 0x72, 0xB2), 10) > 200  # the chart's blue bars
    assert distinct_colours(shot) > 20


def test_a_missing_panel_image_is_said_not_fatal(cache: Cache, tmp_path: Path) -> None:
    r = reports.create(cache, "street-scenes", "Lost")
    b = reports.add_panel(cache, r.id, "gone", png=png_bytes((1, 2, 3)))
    cache.blobs.path(b.image_sha256).unlink()
    text = reports.export_html(cache, r.id, tmp_path / "lost.html").read_text("utf-8")
    assert "no longer in the cache" in text


def test_gc_keeps_report_images(cache: Cache) -> None:
    r = reports.create(cache, "street-scenes", "Kept")
    b = reports.add_panel(cache, r.id, "kept", png=png_bytes((9, 9, 9)))
    cache.gc(tmp_min_age=0)
    assert reports.panel_image(cache, b) is not None
