"""*Add to report*: a picture of a widget (a table view, a chart) and the query that made it go
into a report of its project, an existing one or a new one named in the dialog.

Public API: :class:`AddToReportDialog` (pick a report of a project or type a new name; ``report``
once accepted), :func:`add_widget_to_report` (grab, ask, add; the report's page opens),
:class:`AddToReportButton` (the tool button tables and charts show), :func:`table_panel`,
:func:`chart_panel` (what a table or a chart adds), :func:`widget_png`, :data:`report_events`.
"""

from __future__ import annotations

import html
from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QBuffer, QByteArray, QIODevice, QObject, Qt, Signal
from PySide6.QtWidgets import (
    QButtonGroup,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QGridLayout,
    QLabel,
    QLineEdit,
    QMenu,
    QRadioButton,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from desktopviz import reports
from desktopviz.app.icons import icon
from desktopviz.app.palette import mute
from desktopviz.app.state import AppState
from desktopviz.errors import DesktopvizError

ADD_TEXT = "Add to report…"
"""The text of the button (and of the action) that adds a panel to a report."""
PanelSource = Callable[[], "tuple[dict[str, Any], str] | None"]
"""What a button adds when clicked: (the panel's query, its title), or None when there is
nothing to add yet."""


class ReportEvents(QObject):
    """Reports changed by this window (open report pages reload): ``changed(report_id)``."""

    changed = Signal(int)


report_events = ReportEvents()
"""The window's one :class:`ReportEvents`."""


def widget_png(widget: QWidget) -> bytes:
    """What ``widget`` shows now, as PNG bytes."""
    data = QByteArray()
    buffer = QBuffer(data)
    buffer.open(QIODevice.OpenModeFlag.WriteOnly)
    widget.grab().save(buffer, "PNG")
    buffer.close()
    return bytes(data.data())


def project_of(state: AppState, query: dict[str, Any]) -> str | None:
    """The project a panel's query is about (its version's, its run's), else the current one."""
    try:
        if query.get("kind") == "run":
            return state.cache.run(query["run_id"]).project
        if query.get("kind") == "runs" and query.get("run_ids"):
            return state.cache.run(query["run_ids"][0]).project
        if query.get("ref"):
            return state.cache.resolve(query["ref"]).project
    except DesktopvizError:
        pass
    return state.version.project if state.version is not None else None


class AddToReportDialog(QDialog):
    """Pick a report of ``project`` (the one changed last first) or type a new one's name; on
    OK the report is made if new and kept in :attr:`report`."""

    def __init__(self, state: AppState, project: str, title: str, parent: QWidget | None = None):
        super().__init__(parent)
        self.state, self.project = state, project
        self.report: reports.Report | None = None
        self.setWindowTitle("Add to report")
        self.setMinimumWidth(440)
        known = sorted(
            reports.list_reports(state.cache, project), key=lambda r: r.updated_at, reverse=True
        )
        what = QLabel(
            f"Add <b>{html.escape(title)}</b> to a report of project <b>{html.escape(project)}</b>"
        )
        what.setWordWrap(True)
        self.existing = QRadioButton("Existing report")
        self.reports_box = QComboBox()
        for info in known:
            self.reports_box.addItem(
                f"{info.name}  ({info.block_count} block{'s' * (info.block_count != 1)})", info.id
            )
        self.new = QRadioButton("New report")
        self.name_edit = QLineEdit()
        self.name_edit.setPlaceholderText("Name of the new report")
        self.name_edit.setAccessibleName("New report name")
        group = QButtonGroup(self)
        group.addButton(self.existing)
        group.addButton(self.new)
        self.error = mute(QLabel(" "))
        self.error.setWordWrap(True)
        self.buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel
        )
        self.ok_button = self.buttons.button(QDialogButtonBox.StandardButton.Ok)
        self.ok_button.setText("Add")
        self.buttons.accepted.connect(self.accept)
        self.buttons.rejected.connect(self.reject)
        grid = QGridLayout()
        grid.addWidget(self.existing, 0, 0)
        grid.addWidget(self.reports_box, 0, 1)
        grid.addWidget(self.new, 1, 0)
        grid.addWidget(self.name_edit, 1, 1)
        grid.setColumnStretch(1, 1)
        layout = QVBoxLayout(self)
        layout.addWidget(what)
        layout.addLayout(grid)
        layout.addWidget(self.error)
        layout.addWidget(self.buttons)
        if known:
            self.existing.setChecked(True)
        else:
            self.existing.setEnabled(False)
            self.reports_box.setEnabled(False)
            self.new.setChecked(True)
            self.name_edit.setFocus()
        # typing a name or picking a report chooses that way
        self.name_edit.textEdited.connect(lambda _t: self.new.setChecked(True))
        self.reports_box.activated.connect(lambda _i: self.existing.setChecked(True))
        group.buttonToggled.connect(lambda *_: self._check())
        self.name_edit.textChanged.connect(lambda _t: self._check())
        self._check()

    def _check(self) -> None:
        ok = self.existing.isChecked() or bool(self.name_edit.text().strip())
        self.ok_button.setEnabled(ok)

    def accept(self) -> None:
        """Make the new report (or find the chosen one), then close; a bad name is said here."""
        try:
            if self.new.isChecked():
                self.report = reports.create(self.state.cache, self.project, self.name_edit.text())
            else:
                self.report = reports.get(self.state.cache, int(self.reports_box.currentData()))
        except DesktopvizError as e:
            self.error.setText(str(e))
            return
        super().accept()


def add_widget_to_report(
    state: AppState,
    widget: QWidget,
    query: dict[str, Any],
    title: str,
    parent: QWidget | None = None,
    *,
    project: str | None = None,
) -> AddToReportDialog | None:
    """Add what ``widget`` shows (grabbed now, as PNG) with ``query`` and ``title`` to a report
    the user picks in a dialog (opened, not run: returned). Once added, open report pages reload
    and the window (if it has ``open_report``) opens the report. None when no project is known."""
    png = widget_png(widget)
    project = project or project_of(state, query)
    if project is None:
        state.status_message.emit("Add to report: open a project's version first")
        return None
    dialog = AddToReportDialog(state, project, title, parent or widget)

    def add() -> None:
        report = dialog.report
        assert report is not None
        reports.add_panel(state.cache, report.id, title, png=png, query=query)
        report_events.changed.emit(report.id)
        state.status_message.emit(f"Added {title!r} to report {report.name!r}")
        window = (parent or widget).window()
        opener = getattr(window, "open_report", None)
        if callable(opener):
            opener(report.id)

    dialog.accepted.connect(add)
    dialog.finished.connect(dialog.deleteLater)
    dialog.open()
    return dialog


def table_panel(table: Any) -> tuple[dict[str, Any], str] | None:
    """A table's panel (``table``: a TableState): the query of the rows shown and a title."""
    if table is None:
        return None
    v = table.version
    return reports.table_query(v, table.table, table.spec), f"{v.name}:{v.tag} · {table.table}"


def chart_panel(table: Any, column: str | None) -> tuple[dict[str, Any], str] | None:
    """A distribution chart's panel: ``column`` over the rows ``table`` (a TableState) shows."""
    if table is None or column is None:
        return None
    v = table.version
    query = reports.chart_query(v, table.table, table.spec, column)
    return query, f"{column} · {v.name}:{v.tag} · {table.table}"


class AddToReportButton(QToolButton):
    """*Add to report…*: grabs ``shows`` and adds it with what ``source()`` says."""

    def __init__(
        self, state: AppState, shows: QWidget, source: PanelSource, parent: QWidget | None = None
    ) -> None:
        super().__init__(parent)
        self.state, self.shows, self.source = state, shows, source
        self.dialog: AddToReportDialog | None = None
        self.setText(ADD_TEXT)
        self.setIcon(icon("file-text"))
        self.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextBesideIcon)
        self.setToolTip("Add a picture of this, with the query that made it, to a report")
        self.clicked.connect(self.add)

    def overflow(self, menu: QMenu) -> None:
        """Its entry in a tool strip's chevron menu (when it has no room)."""
        menu.addAction(icon("file-text"), ADD_TEXT, self.add)

    def add(self) -> AddToReportDialog | None:
        """Grab the picture and ask which report (the dialog is returned, open)."""
        panel = self.source()
        if panel is None:
            self.state.status_message.emit("Nothing to add to a report yet")
            return None
        query, title = panel
        self.dialog = add_widget_to_report(self.state, self.shows, query, title, self)
        return self.dialog
