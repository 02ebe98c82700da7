"""The Lineage tab as a user drives it: the graph around the open version, the version
highlighted, depth and "each run" controls, clicking a version opens its page, clicking a run
opens the run page, the wheel zooms; a 1,000-node lineage is all drawn, fits, and opens."""

from __future__ import annotations

from PySide6.QtCore import QPoint, QPointF, Qt

from desktopviz.app.widgets.lineage_view import NODE_H, NODE_W, NodeItem
from desktopviz.app.widgets.overview import RunDialog
from tests.app.test_main_window import make_window
from tests.test_lineage import BIG_DEPTH, write_big_lineage


def node_position(view, label: str) -> QPoint:
    (item,) = [i for i in view.items.values() if i.node.label == label]
    scene = item.pos() + QPointF(NODE_W / 2, NODE_H / 2)
    return view.view.mapFromScene(scene)


def open_lineage(qtbot, app_state, tmp_path, ref: str):
    window = make_window(qtbot, app_state, tmp_path)
    page = window.open_version(app_state.cache.resolve(ref), "lineage")
    qtbot.waitUntil(lambda: page.lineage is not None)
    return window, page.lineage


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
    qtbot.waitUntil(lambda: isinstance(window.dialog, RunDialog) and window.dialog.isVisible())
    assert window.dialog.windowTitle() == "Run train-wide-resnet"


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
    shown = view.view.mapToScene(view.view.viewport().rect()).boundingRect()
    assert shown.contains(view.scene.itemsBoundingRect())

    far = max(drawn, key=lambda i: (i.node.kind == "version", i.pos().x(), i.pos().y()))
    qtbot.mouseClick(
        view.view.viewport(), Qt.MouseButton.LeftButton, pos=node_position(view, far.node.label)
    )
    page = window.current_page()
    assert page.version.id == int(far.key[1]) and page.current_tab() == "lineage"
