"""The Lineage tab as a user drives it: the graph around the open version, the version
highlighted, depth and "each run" controls, clicking a version opens its page, clicking a run
opens the run page, the wheel zooms; names are whole and legible after Fit at any window size;
8 versions and 3 runs fill the view; a 1,000-node lineage is all drawn, fits as far as its text
stays legible, and opens."""

from __future__ import annotations

import itertools

import pytest
from PySide6.QtCore import QPoint, QPointF, Qt
from PySide6.QtGui import QFontInfo

from desktopviz.app.widgets.lineage_view import NodeItem
from desktopviz.app.widgets.run_page import RunPage
from desktopviz.sdk.artifact import Artifact
from desktopviz.sdk.run import Run
from tests.app.test_main_window import make_window
from tests.test_lineage import BIG_DEPTH, write_big_lineage
from tests.test_lineage_layout import write_checkpoints

LONG_NAME = "street-scenes-detector-predictions-with-test-time-augmentation-and-calibration"


def node_position(view, label: str) -> QPoint:
    (item,) = [i for i in view.items.values() if i.node.label == label]
    return view.view.mapFromScene(item.sceneBoundingRect().center())


def open_lineage(qtbot, app_state, tmp_path, ref: str, size=(1300, 850)):
    window = make_window(qtbot, app_state, tmp_path)
    window.resize(*size)
    page = window.open_version(app_state.cache.resolve(ref), "lineage")
    qtbot.waitUntil(lambda: page.lineage is not None and page.lineage.view.isVisible())
    return window, page.lineage


def shown(view):
    """The part of the scene the viewport shows."""
    return view.view.mapToScene(view.view.viewport().rect()).boundingRect()


def assert_legible_and_whole(view) -> None:
    """Every node's text drawn at a legible pixel size, its name whole or in its tooltip."""
    scale = view.view.transform().m11()
    fonts = next(iter(view.items.values())).style.fonts
    title_px, detail_px = (QFontInfo(f).pixelSize() for f in fonts)
    assert scale * title_px >= 8 and scale * detail_px >= 7, (scale, title_px, detail_px)
    for item in view.items.values():
        assert item.node.label in item.toolTip()
        if item.title.text() != item.node.label:
            assert "…" in item.title.text() and len(item.node.label) > 40


def test_the_graph_shows_the_neighbourhood_and_controls_change_it(qtbot, app_state, tmp_path):
    _, view = open_lineage(qtbot, app_state, tmp_path, "scene-predictions:v1")
    focus = [i for i in view.items.values() if i.focus]
    assert [i.node.label for i in focus] == ["scene-predictions:v1"]
    assert view.summary.text().startswith("5 versions, 5 runs")
    view.depth.setValue(1)
    assert view.summary.text().startswith("3 versions, 1 run")
    view.depth.setValue(3)
    view.explode.setChecked(False)
    assert "3 job types" in view.summary.text()


def test_clicking_a_version_opens_it_and_a_run_opens_its_page(qtbot, app_state, tmp_path):
    window, view = open_lineage(qtbot, app_state, tmp_path, "scene-predictions:v1")
    qtbot.mouseClick(
        view.view.viewport(),
        Qt.MouseButton.LeftButton,
        pos=node_position(view, "scene-detector:v1"),
    )
    page = window.current_page()
    assert page.version.name == "scene-detector" and page.current_tab() == "lineage"
    qtbot.waitUntil(lambda: page.lineage is not None)
    qtbot.mouseClick(
        page.lineage.view.viewport(),
        Qt.MouseButton.LeftButton,
        pos=node_position(page.lineage, "train-wide-resnet"),
    )
    qtbot.waitUntil(lambda: isinstance(window.pages.currentWidget(), RunPage))
    assert window.pages.tabText(window.pages.currentIndex()) == "train-wide-resnet"
    assert window.pages.currentWidget().title.text() == "train-wide-resnet"


def test_the_wheel_zooms(qtbot, app_state, tmp_path):
    _, view = open_lineage(qtbot, app_state, tmp_path, "scene-predictions:v1")
    before = view.view.transform().m11()
    from PySide6.QtCore import QPoint as P
    from PySide6.QtGui import QWheelEvent

    centre = view.view.viewport().rect().center()
    event = QWheelEvent(
        QPointF(centre), QPointF(view.view.viewport().mapToGlobal(centre)), P(0, 0), P(0, 120),
        Qt.MouseButton.NoButton, Qt.KeyboardModifier.NoModifier, Qt.ScrollPhase.NoScrollPhase, False,
    )  # fmt: skip
    view.view.wheelEvent(event)
    assert view.view.transform().m11() > before
    assert not view.auto_fit


def test_a_thousand_nodes_are_all_drawn_fit_and_a_far_node_opens(qtbot, app_state, tmp_path):
    focus = write_big_lineage(app_state.cache)
    window, view = open_lineage(qtbot, app_state, tmp_path, focus.ref)
    view.depth.setValue(BIG_DEPTH)
    cache = app_state.cache
    assert len(view.graph.nodes) == len(cache.runs("big")) + len(cache.versions("big")) >= 950
    drawn = [i for i in view.scene.items() if isinstance(i, NodeItem)]
    assert len(drawn) == len(view.graph.nodes)
    assert f"{len(view.graph.edges)} edges" in view.summary.text()

    view.view.scale(3, 3)
    view.fit_button.click()
    assert_legible_and_whole(view)  # too big to show whole: the open version, legible
    assert shown(view).contains(view.items[view.graph.focus].sceneBoundingRect())

    far = max(drawn, key=lambda i: (i.node.kind == "version", i.pos().y(), i.pos().x()))
    view.view.centerOn(far)
    qtbot.mouseClick(
        view.view.viewport(), Qt.MouseButton.LeftButton, pos=node_position(view, far.node.label)
    )
    page = window.current_page()
    assert page.version.id == int(far.key[1]) and page.current_tab() == "lineage"


@pytest.mark.parametrize("size", [(1300, 850), (700, 500)])
def test_names_are_whole_and_legible_after_fit(qtbot, app_state, tmp_path, size):
    _, view = open_lineage(qtbot, app_state, tmp_path, "scene-predictions:v1", size)
    view.depth.setValue(3)
    view.view.scale(0.2, 0.2)
    view.fit_button.click()
    assert_legible_and_whole(view)
    assert all(i.title.text() == i.node.label for i in view.items.values())
    focus = view.items[view.graph.focus]
    assert shown(view).contains(focus.sceneBoundingRect())


@pytest.mark.parametrize(
    ("depth", "summary"), [(2, "6 versions, 2 runs"), (5, "8 versions, 3 runs")]
)
def test_eight_versions_and_three_runs_fill_the_view(qtbot, app_state, tmp_path, depth, summary):
    latest = write_checkpoints(app_state.cache, tmp_path / "files")
    _, view = open_lineage(qtbot, app_state, tmp_path, latest.ref)
    view.depth.setValue(depth)
    assert view.summary.text().startswith(summary)
    view.fit_button.click()
    rect = view.scene.itemsBoundingRect()
    assert 1 / 3 <= rect.width() / rect.height() <= 3
    boxes = [i.sceneBoundingRect() for i in view.items.values()]
    assert not [(a, b) for a, b in itertools.combinations(boxes, 2) if a.intersects(b)]
    assert_legible_and_whole(view)
    assert shown(view).contains(rect)  # all of it, legible, in a 1300x850 window
    viewport = view.view.viewport().rect()
    drawn = view.view.mapFromScene(rect).boundingRect()
    assert drawn.width() >= viewport.width() / 2 or drawn.height() >= viewport.height() / 2


def test_a_name_longer_than_a_node_is_elided_in_the_middle_with_a_tooltip(
    qtbot, app_state, tmp_path
):
    weights = tmp_path / "weights.txt"
    weights.write_text("w")
    with Run(project="street-scenes", job_type="eval", dir=app_state.cache) as run:
        run.use_artifact("scene-detector:v1")
        artifact = Artifact(LONG_NAME, "predictions")
        artifact.add_file(weights)
        run.log_artifact(artifact)
    _, view = open_lineage(qtbot, app_state, tmp_path, f"{LONG_NAME}:v0", (700, 500))
    (item,) = [i for i in view.items.values() if i.node.label == f"{LONG_NAME}:v0"]
    title = item.title.text()
    assert "…" in title and title.startswith("street-scenes") and title.endswith(":v0")
    assert f"{LONG_NAME}:v0" in item.toolTip()
    assert_legible_and_whole(view)
