"""Save as new version and media export, as a user drives them from the table's Export menu:
filter and sort, choose "Save as new version…", name the artifact, save, and find the new
version open with the rows shown and lineage back to the source."""

from __future__ import annotations

import json
import threading

import pyarrow.compute as pc
import pytest
from PySide6.QtCore import QPoint, Qt, QTimer
from PySide6.QtWidgets import QApplication, QDialogButtonBox, QMenu

from desktopviz.query.spec import SortKey
from desktopviz.sdk.subset import SUBSET_JOB_TYPE
from tests.app.test_filter_bar import TABLE, stored, wait_applied
from tests.app.test_table_panel import PREDICTIONS, make_panel  # noqa: F401 - fixture


@pytest.fixture
def panel(qtbot, app_state, make_panel):  # noqa: F811 - the imported fixture
    return make_panel(app_state, PREDICTIONS, TABLE)


def export_menu_entries(qtbot, panel, choose: str | None = None) -> dict[str, bool]:
    """Open the Export button's menu with a click on its arrow; return entry -> enabled, and
    trigger ``choose`` if given."""
    seen: dict[str, bool] = {}

    def act() -> None:
        menu = QApplication.activePopupWidget()
        assert isinstance(menu, QMenu)
        actions = {a.text(): a for a in menu.actions() if a.text()}
        seen.update({t: a.isEnabled() for t, a in actions.items()})
        menu.close()
        if choose:
            actions[choose].trigger()

    QTimer.singleShot(300, act)
    button = panel.export_tool
    qtbot.mouseClick(
        button, Qt.MouseButton.LeftButton, pos=QPoint(button.width() - 4, button.height() // 2)
    )
    qtbot.waitUntil(lambda: bool(seen), timeout=5_000)
    return seen


def test_the_rows_shown_become_a_new_version_with_lineage(qtbot, panel, app_state):
    table = stored(app_state)
    want = table.filter(pc.equal(table["label"], "car")).sort_by([("confidence", "descending")])
    panel.set_filter('row["label"] == "car"')
    panel.set_sort((SortKey("confidence", True),))
    wait_applied(qtbot, panel, want.num_rows)

    entries = export_menu_entries(qtbot, panel, choose="Save as new version…")
    assert entries["Save as new version…"] and "Export rows with media files…" in entries
    qtbot.waitUntil(
        lambda: (
            panel.export_tool.save_dialog is not None and panel.export_tool.save_dialog.isVisible()
        )
    )
    dialog = panel.export_tool.save_dialog
    assert dialog.artifact.currentText() == panel.version.name  # a new version of it, by default
    dialog.artifact.lineEdit().selectAll()
    qtbot.keyClicks(dialog.artifact.lineEdit(), "cars-to-relabel")
    assert dialog.type.isEnabled()  # a new artifact: its type is the user's to choose
    qtbot.keyClicks(dialog.aliases, "relabel, review")
    messages: list[str] = []
    app_state.status_message.connect(messages.append)
    with qtbot.waitSignal(app_state.open_version_requested, timeout=30_000) as opened:
        save = dialog.findChild(QDialogButtonBox).button(QDialogButtonBox.StandardButton.Save)
        qtbot.mouseClick(save, Qt.MouseButton.LeftButton)
    version = opened.args[0]
    assert version.ref == f"{panel.version.project}/cars-to-relabel:v0"
    assert {"relabel", "review", "latest"} <= set(version.aliases)
    cache = app_state.cache
    saved = app_state.engine.result(version, None, panel.spec.with_(filters=(), sort=()))
    assert saved.to_arrow().column("id").to_pylist() == want.column("id").to_pylist()
    run = cache.run(cache.producer(version))
    assert run.job_type == SUBSET_JOB_TYPE and run.config["source"] == panel.version.ref
    assert f"Saved {want.num_rows:,} rows as {version.ref}" in messages


def test_grouped_rows_cannot_be_saved_and_the_menu_says_so(qtbot, panel):
    panel.group_by(("label",))
    qtbot.waitUntil(
        lambda: panel.model.result is not None and panel.model.result.spec.group is not None
    )
    entries = export_menu_entries(qtbot, panel)
    assert entries["Save as new version…"] is False
    assert entries["Export rows…"] is True


def test_export_with_media_copies_the_images_beside_the_file(qtbot, panel, app_state, tmp_path):
    panel.set_filter('row["label"] == "car"')
    table = stored(app_state)
    rows = pc.sum(pc.equal(table["label"], "car")).as_py()
    wait_applied(qtbot, panel, rows)
    target = tmp_path / "cars.jsonl"
    panel.export_to(target, media="copy")
    qtbot.waitUntil(
        lambda: panel.export_tool.export_job.is_done and target.exists(), timeout=30_000
    )
    lines = [json.loads(x) for x in target.read_text().splitlines()]
    assert len(lines) == rows
    images = [
        c for c in lines[0].values() if isinstance(c, dict) and c.get("_type") == "image-file"
    ]
    assert images and all((tmp_path / c["path"]).is_file() for c in images)
    assert (tmp_path / "cars_media").is_dir() and not list(tmp_path.glob(".*"))


def test_the_save_writes_on_a_connection_of_its_own_while_the_window_reads(qtbot, panel, app_state):
    """The worker saves through its own SQLite connection (as an import does): nothing the save
    writes passes through the window's connection, which keeps reading the index meanwhile."""
    ui = app_state.cache
    main = threading.current_thread()
    statements: list[tuple[str, str]] = []
    ui.conn.set_trace_callback(
        lambda sql: statements.append((threading.current_thread().name, sql))
    )
    reads: list[int] = []
    reader = QTimer(panel)
    reader.timeout.connect(lambda: reads.append(len(ui.versions())))  # as the sidebar does
    before = len(ui.versions())
    table = stored(app_state)
    panel.set_filter('row["label"] == "car"')
    wait_applied(qtbot, panel, pc.sum(pc.equal(table["label"], "car")).as_py())
    try:
        reader.start(1)
        with qtbot.waitSignal(app_state.cache_changed, timeout=30_000):
            panel.save_as_version("cars-own-connection")
        qtbot.waitUntil(lambda: panel.export_tool.save_job.is_done)
    finally:
        reader.stop()
        ui.conn.set_trace_callback(None)
    writes = [
        (thread, sql)
        for thread, sql in statements
        if sql.lstrip().split(" ", 1)[0].upper() in ("INSERT", "UPDATE", "DELETE", "REPLACE")
    ]
    assert writes == []
    assert [s for s in statements if s[0] != main.name] == []  # the UI's own reads only
    assert reads  # the window read the index while the save ran
    version = panel.export_tool.saved_version
    assert version is not None and version.ref.endswith("/cars-own-connection:v0")
    assert len(ui.versions()) == before + 1 and ui.resolve(version.ref).id == version.id
    assert ui.consumers(ui.resolve(panel.version.ref)) == [ui.producer(version)]


def save_in_file_dialog(qtbot, target) -> list[str]:
    """Type ``target`` into the Save dialog once it shows, and press Save (as a user does); a
    message box shown after is closed and its text returned in the list (so a failure fails the
    test instead of waiting on the box)."""
    from PySide6.QtWidgets import QFileDialog, QLineEdit, QMessageBox

    boxes: list[str] = []
    earlier = {id(w) for w in QApplication.topLevelWidgets() if isinstance(w, QMessageBox)}

    def close_boxes(rounds: int = 40) -> None:
        for w in QApplication.topLevelWidgets():
            if isinstance(w, QMessageBox) and w.isVisible() and id(w) not in earlier:
                boxes.append(f"{w.text()} {w.informativeText()}")
                w.reject()
        if rounds:
            QTimer.singleShot(50, lambda: close_boxes(rounds - 1))

    def fill() -> None:
        dialog = QApplication.activeModalWidget()
        if not isinstance(dialog, QFileDialog):
            QTimer.singleShot(50, fill)
            return
        name = dialog.findChild(QLineEdit, "fileNameEdit")
        name.setText(str(target))
        dialog.accept()
        close_boxes()

    QTimer.singleShot(50, fill)
    return boxes


def test_clicking_export_then_save_writes_the_rows(qtbot, panel, app_state, tmp_path):
    """Before: the button's clicked(bool) arrived as ``media`` and Save said "media must be
    cells, paths, copy, not False", writing nothing."""
    target = tmp_path / "rows.csv"
    boxes = save_in_file_dialog(qtbot, target)
    qtbot.mouseClick(panel.export_tool, Qt.MouseButton.LeftButton)
    assert boxes == []
    qtbot.waitUntil(
        lambda: (
            panel.export_tool.export_job is not None
            and panel.export_tool.export_job.is_done
            and target.exists()
        ),
        timeout=30_000,
    )
    lines = target.read_text().splitlines()
    assert len(lines) == stored(app_state).num_rows + 1  # the header and every row
