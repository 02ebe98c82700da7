"""A run's page is a tab of the main window, like a version's: a click on a run link opens it (no
dialog), a second click brings the same tab forward, its version links open versions, Ctrl+W
closes it, the session brings it back, and it follows the run as it logs more."""

from __future__ import annotations

from PySide6.QtCore import QPoint, Qt
from PySide6.QtWidgets import QDialog, QWidget

from desktopviz.app.main_window import MainWindow
from desktopviz.app.widgets.run_page import RunPage
from desktopviz.sdk.run import Run
from tests.app.test_main_window import make_window, settings_in, tab_texts


def click_first_link(qtbot, label) -> None:
    """Click a rich-text label at its start, where its first link is drawn."""
    label.window().activateWindow()
    pos = QPoint(4 + label.contentsMargins().left(), label.fontMetrics().height() // 2 + 1)
    qtbot.mouseClick(label, Qt.MouseButton.LeftButton, pos=pos)


def open_dialogs(window: QWidget) -> list[QDialog]:
    """The window's dialogs on screen (a run used to open in a modal one)."""
    return [w for w in window.findChildren(QDialog) if w.isVisible()]


def test_a_run_link_opens_the_run_as_a_tab(qtbot, app_state, tmp_path):
    window = make_window(qtbot, app_state, tmp_path)
    page = window.open_version(app_state.cache.resolve("scene-detector:v1"))
    assert page.overview.producer.text().startswith('<a href="run:train-wide-resnet">')
    click_first_link(qtbot, page.overview.producer)
    qtbot.waitUntil(lambda: isinstance(window.pages.currentWidget(), RunPage))
    run_page = window.pages.currentWidget()
    assert tab_texts(window) == ["scene-detector:v1", "train-wide-resnet"]
    assert run_page.title.text() == "train-wide-resnet" and run_page.isVisible()
    assert window.windowTitle().startswith("Run train-wide-resnet")
    assert open_dialogs(window) == []
    # what it shows: its fields, the versions it logged and used, charts, config
    assert run_page.fields["Job type"].text() == "train"
    assert "scene-detector:v1" in run_page.logged.text()
    assert "street-scenes-dataset:v0" in run_page.used.text()
    assert run_page.metrics.shown() == ["accuracy", "loss", "val_loss"]
    assert run_page.trees["Config"].topLevelItemCount() > 0

    # back on the version, the same link brings the same tab forward
    window.pages.setCurrentIndex(0)
    click_first_link(qtbot, page.overview.producer)
    assert window.pages.currentWidget() is run_page
    assert tab_texts(window) == ["scene-detector:v1", "train-wide-resnet"]

    # a version link of the run page opens that version
    click_first_link(qtbot, run_page.used)
    assert window.current_page().version.name == "street-scenes-dataset"
    assert window.state.version.name == "street-scenes-dataset"

    # Ctrl+W closes the run's tab like any other
    window.pages.setCurrentWidget(run_page)
    window.activateWindow()
    qtbot.waitUntil(window.isActiveWindow)
    qtbot.keyClick(window.pages, Qt.Key.Key_W, Qt.KeyboardModifier.ControlModifier)
    assert tab_texts(window) == ["scene-detector:v1", "street-scenes-dataset:v0"]
    assert window.run_pages() == []


def test_the_run_page_in_front_comes_back_next_session(qtbot, app_state, tmp_path):
    first = make_window(qtbot, app_state, tmp_path)
    first.open_version(app_state.cache.resolve("scene-detector:v0"))
    first.show_run("train-baseline")
    first.close()

    second = MainWindow(app_state, settings_in(tmp_path))
    qtbot.addWidget(second)
    second.restore_session()
    assert tab_texts(second) == ["train-baseline"]
    assert isinstance(second.pages.currentWidget(), RunPage)
    assert second.central.currentWidget() is second.pages


def test_an_open_run_page_follows_the_run_it_shows(qtbot, app_state, tmp_path):
    window = make_window(qtbot, app_state, tmp_path)
    run = Run("street-scenes", "train", dir=app_state.cache.root, name="still-training")
    run.log({"loss": 1.0})
    run.log({"loss": 0.5})
    run._flush()
    run_page = window.show_run(run.id)
    assert run_page.fields["State"].text() == "running"
    assert run_page.metrics.series["loss"][0] == [0, 1]
    # the run (another process's connection to the cache) logs more and finishes
    for step in range(2, 30):
        run.log({"loss": 1.0 / step})
    run.finish()
    run.cache.close()
    qtbot.waitUntil(lambda: run_page.fields["State"].text() == "finished", timeout=2000)
    assert run_page.metrics.series["loss"][0] == list(range(30))
    assert run_page.metrics.charts["loss"].viewRange()[0][1] >= 29
