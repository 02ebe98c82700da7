"""Reports in the window, as a user makes one: *Add to report…* on a table (a new report named in
the dialog) and on a chart (the existing report), the report's tab shows the panels; add a text
block and type its Markdown, double-click to edit it again, drag a block to another place,
refresh and remove a panel, export HTML (opened in headless Chromium) and PDF."""

from __future__ import annotations

from pathlib import Path

import pytest
from PySide6.QtCore import QPoint, Qt, QTimer
from PySide6.QtWidgets import QApplication, QFileDialog, QLineEdit, QToolButton, QWidget

from desktopviz import reports
from desktopviz.app.widgets.add_to_report_dialog import ADD_TEXT, AddToReportDialog
from desktopviz.app.widgets.report_page import ReportPage
from tests.app.test_main_window import make_window, open_table
from tests.chromium_support import SHOTS, distinct_colours, keep_shot, remote_references, screenshot

NEW = "street-scenes/scene-predictions:v1"
TABLE = "predictions.table.json"


@pytest.fixture
def shown(qtbot, app_state, tmp_path):
    """The main window with the predictions table in front, filtered to the wrong predictions."""
    window = make_window(qtbot, app_state, tmp_path)
    panel = open_table(qtbot, window, NEW, TABLE)
    panel.set_filter('row["correct"] == false')
    qtbot.waitUntil(
        lambda: bool(panel.model.result and panel.model.result.spec.filters), timeout=15_000
    )
    qtbot.waitUntil(lambda: panel.model.is_loaded(0), timeout=15_000)
    return window, panel


def button_with_text(parent: QWidget, text: str) -> QToolButton:
    found = [b for b in parent.findChildren(QToolButton) if b.text() == text and b.isVisible()]
    assert found, f"no visible button {text!r}"
    return found[0]


def click_add_to_report(qtbot, parent: QWidget) -> None:
    """Click *Add to report…*, or pick it in the tool strip's » menu when it has no room."""
    strip = getattr(parent, "tools", None)
    if strip is not None and parent.report_tool in strip.hidden():
        strip.menu.aboutToShow.emit()  # filled as when the chevron opens it
        (action,) = [a for a in strip.menu.actions() if a.text() == ADD_TEXT]
        action.trigger()
        return
    qtbot.mouseClick(button_with_text(parent, ADD_TEXT), Qt.MouseButton.LeftButton)


def open_dialog(qtbot, parent: QWidget) -> AddToReportDialog:
    click_add_to_report(qtbot, parent)

    def shown() -> list[AddToReportDialog]:
        return [d for d in parent.window().findChildren(AddToReportDialog) if d.isVisible()]

    qtbot.waitUntil(lambda: len(shown()) == 1, timeout=5_000)
    (dialog,) = shown()
    qtbot.waitExposed(dialog)
    return dialog


def add_table_to_new_report(qtbot, window, panel, name: str) -> ReportPage:
    dialog = open_dialog(qtbot, panel)
    qtbot.keyClicks(dialog.name_edit, name)
    assert dialog.new.isChecked()  # typing a name chose "New report"
    qtbot.mouseClick(dialog.ok_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: isinstance(window.pages.currentWidget(), ReportPage), timeout=5_000)
    return window.pages.currentWidget()


def drag(qtbot, page: ReportPage, row: int, to: QPoint) -> None:
    """Press on a card's grip, drag it in steps and drop it at ``to`` (list viewport
    coordinates), as a hand on the mouse does."""
    view = page.blocks.viewport()
    grip = page.blocks.card(row).grip
    press = grip.rect().center()
    left = Qt.MouseButton.LeftButton
    qtbot.mousePress(grip, left, pos=press)
    target = grip.mapFrom(view, to)
    steps = 6
    for step in range(1, steps + 1):
        qtbot.mouseMove(grip, press + (target - press) * step / steps)
    qtbot.mouseRelease(grip, left, pos=target)


def kinds(app_state, report_id: int) -> list[str]:
    return [b.kind for b in reports.get(app_state.cache, report_id).blocks]


def test_add_a_table_and_a_chart_write_text_reorder_and_export(
    qtbot, app_state, shown, tmp_path: Path
) -> None:
    window, panel = shown
    page = add_table_to_new_report(qtbot, window, panel, "Weekly review")
    report = reports.get(app_state.cache, page.report_id)
    assert (report.name, report.project) == ("Weekly review", "street-scenes")
    assert window.pages.tabText(window.pages.currentIndex()) == "Weekly review"
    (block,) = report.blocks
    assert block.kind == "panel" and block.text == f"scene-predictions:v1 · {TABLE}"
    assert block.query["kind"] == "table" and block.query["spec"]["filters"]
    (card,) = page.cards()
    assert card.isVisible() and card.heading.text() == block.text
    picture = card.body.pixmap()
    assert not picture.isNull() and picture.width() > 300  # the table view's picture
    assert 'filter row["correct"] == false' in card.note.text()

    # a chart of the confidence, into the same (existing) report
    window.charts_dock.show()
    window.charts_dock.raise_()
    charts = window.charts
    window.pages.setCurrentIndex(0)
    qtbot.waitUntil(lambda: app_state.table is panel.table_state, timeout=5_000)
    charts.show_column("confidence")
    qtbot.waitUntil(lambda: charts.distribution is not None, timeout=15_000)
    dialog = open_dialog(qtbot, charts)
    assert dialog.existing.isChecked() and dialog.reports_box.currentText().startswith(
        "Weekly review"
    )
    qtbot.mouseClick(dialog.ok_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: window.pages.currentWidget() is page, timeout=5_000)
    qtbot.waitUntil(lambda: len(page.cards()) == 2, timeout=5_000)
    assert page.cards()[1].block.query["column"] == "confidence"

    # add a text block and type its Markdown
    qtbot.mouseClick(page.add_text_button, Qt.MouseButton.LeftButton)
    text_card = page.cards()[2]
    assert text_card.editing and window.focusWidget() is text_card.editor
    qtbot.keyClicks(text_card.editor, "# Findings")
    qtbot.keyClick(text_card.editor, Qt.Key.Key_Return)
    qtbot.keyClick(text_card.editor, Qt.Key.Key_Return)
    qtbot.keyClicks(text_card.editor, "Most *wrong* predictions are night scenes.")
    qtbot.mouseClick(text_card.save_button, Qt.MouseButton.LeftButton)
    saved = reports.get(app_state.cache, page.report_id).blocks[2]
    assert saved.text == "# Findings\n\nMost *wrong* predictions are night scenes."
    text_card = page.cards()[2]
    assert not text_card.editing and "<h1>Findings</h1>" in text_card.body.text()
    assert "<em>wrong</em>" in text_card.body.text()

    # double-click the text to edit it again; Cancel keeps it
    page.blocks.scrollToItem(page.blocks.item(2))
    qtbot.mouseDClick(text_card.body, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: text_card.editing, timeout=2_000)
    assert text_card.editor.toPlainText() == saved.text
    qtbot.mouseClick(text_card.cancel_button, Qt.MouseButton.LeftButton)
    assert not text_card.editing

    # drag the text block to the top
    page.blocks.scrollToTop()
    first = page.blocks.visualItemRect(page.blocks.item(0))
    drag(qtbot, page, 2, QPoint(first.center().x(), first.top() + 8))
    qtbot.waitUntil(lambda: kinds(app_state, page.report_id)[0] == "text", timeout=5_000)
    assert kinds(app_state, page.report_id) == ["text", "panel", "panel"]
    qtbot.waitUntil(lambda: page.cards()[0].block.kind == "text", timeout=2_000)
    # and the chart below the end
    page.blocks.scrollToBottom()
    last = page.blocks.visualItemRect(page.blocks.item(2))
    drag(qtbot, page, 1, QPoint(last.center().x(), last.bottom() - 4))
    qtbot.waitUntil(
        lambda: reports.get(app_state.cache, page.report_id).blocks[1].query["kind"] == "chart",
        timeout=5_000,
    )
    assert [c.block.text for c in page.cards()] == [
        b.text for b in reports.get(app_state.cache, page.report_id).blocks
    ]
    if SHOTS.is_dir():
        window.grab().save(str(SHOTS / "report-page.png"))

    # export HTML through the file dialog; Chromium opens it offline
    out = tmp_path / "weekly review.html"

    def choose_file() -> None:  # type the file's name in the save dialog, press Enter
        dialog = QApplication.activeModalWidget()
        assert isinstance(dialog, QFileDialog)
        edit = dialog.findChild(QLineEdit, "fileNameEdit")
        assert edit.text() == "Weekly review.html"  # the report's name proposed
        edit.selectAll()
        qtbot.keyClicks(edit, str(out))
        qtbot.keyClick(edit, Qt.Key.Key_Return)

    QTimer.singleShot(300, choose_file)
    qtbot.mouseClick(page.html_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: page.exported == out, timeout=30_000)
    text = out.read_text()
    assert "<h1>Findings</h1>" in text and "data:image/png;base64," in text
    assert not remote_references(text)
    shot = screenshot(out, tmp_path / "report.png", size=(1100, 1600))
    keep_shot(shot, "report-page-export-chromium.png")
    assert distinct_colours(shot) > 500  # the table's picture with its images, not just text

    # PDF
    pdf = tmp_path / "weekly.pdf"
    page.export_pdf(pdf)
    qtbot.waitUntil(lambda: page.exported == pdf, timeout=60_000)
    data = pdf.read_bytes()
    assert data.startswith(b"%PDF") and len(data) > 20_000


def test_refresh_and_remove_a_panel(qtbot, app_state, shown) -> None:
    window, panel = shown
    page = add_table_to_new_report(qtbot, window, panel, "Refresh me")
    (card,) = page.cards()
    assert card.block.image_sha256 is not None and card.block.svg is None
    qtbot.mouseClick(card.refresh_button, Qt.MouseButton.LeftButton)
    assert page.cards()[0].refresh_button.text() == "Refreshing…"
    qtbot.waitUntil(
        lambda: reports.get(app_state.cache, page.report_id).blocks[0].svg is not None,
        timeout=30_000,
    )
    qtbot.waitUntil(lambda: not page.refreshing, timeout=5_000)
    card = page.cards()[0]
    assert card.refresh_button.text() == "Refresh" and not card.body.pixmap().isNull()
    qtbot.mouseClick(card.remove_button, Qt.MouseButton.LeftButton)
    assert reports.get(app_state.cache, page.report_id).blocks == ()
    assert page.cards() == [] and page.empty.isVisible()


def test_a_bad_new_name_is_said_in_the_dialog(qtbot, app_state, shown) -> None:
    window, panel = shown
    before = reports.list_reports(app_state.cache)
    dialog = open_dialog(qtbot, panel)
    dialog.new.click()
    assert not dialog.ok_button.isEnabled()  # no name yet
    qtbot.keyClicks(dialog.name_edit, "a/b")
    qtbot.mouseClick(dialog.ok_button, Qt.MouseButton.LeftButton)
    assert dialog.isVisible() and "without '/'" in dialog.error.text()
    assert reports.list_reports(app_state.cache) == before
    qtbot.mouseClick(dialog.buttons.button(dialog.buttons.StandardButton.Cancel),
                     Qt.MouseButton.LeftButton)  # fmt: skip
    assert not dialog.isVisible()


def test_a_report_opens_from_its_row_in_the_sidebar(qtbot, app_state, tmp_path) -> None:
    """The demo's report sits under its project's *reports* node; a click opens its page."""
    from desktopviz.app.widgets.sidebar import KEY_ROLE
    from tests.app.test_sidebar import click, rows

    window = make_window(qtbot, app_state, tmp_path)
    (demo,) = reports.list_reports(app_state.cache, "street-scenes")
    (row,) = [i for i in rows(window.sidebar) if i.data(KEY_ROLE) == f"report/{demo.id}"]
    assert row.data() == "Where the model is wrong"
    click(qtbot, window.sidebar, row)
    qtbot.waitUntil(lambda: isinstance(window.pages.currentWidget(), ReportPage), timeout=10_000)
    assert window.pages.tabText(window.pages.currentIndex()) == "Where the model is wrong"


def test_a_run_pages_charts_go_to_a_report(qtbot, app_state, tmp_path) -> None:
    """A run page's *Add to report…*: its metric charts and the run query land in a report."""
    window = make_window(qtbot, app_state, tmp_path)
    page = window.show_run("train-wide-resnet")
    qtbot.mouseClick(page.report_button, Qt.MouseButton.LeftButton)

    def shown() -> list[AddToReportDialog]:
        return [d for d in window.findChildren(AddToReportDialog) if d.isVisible()]

    qtbot.waitUntil(lambda: len(shown()) == 1, timeout=5_000)
    (dialog,) = shown()
    qtbot.keyClicks(dialog.name_edit, "Training")
    qtbot.mouseClick(dialog.ok_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: isinstance(window.pages.currentWidget(), ReportPage), timeout=5_000)
    report = reports.get(app_state.cache, window.pages.currentWidget().report_id)
    (panel,) = report.blocks
    assert panel.query["kind"] == "run" and panel.query["run_id"] == "train-wide-resnet"
    assert set(panel.query["keys"]) == set(page.metrics.shown()) and panel.query["keys"]
