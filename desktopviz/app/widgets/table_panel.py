"""One table of a version: the table view with typed columns and thumbnails, a thumbnail size
slider, and the overlay legend for image columns.

Public API: :class:`TablePanel` -- ``TablePanel(state, version, table)``, ``select_row(row)``,
``query_bar`` (a slot above the table for the filter / sort / group tool bar), ``view``, ``model``.
The panel sets ``state.set_cell`` on the current cell and emits ``state.table_status_changed``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import Any

from PySide6.QtCore import QModelIndex, QPoint, QSize, Qt, QTimer
from PySide6.QtGui import QFocusEvent
from PySide6.QtWidgets import (
    QHBoxLayout,
    QLabel,
    QMenu,
    QMessageBox,
    QProgressBar,
    QSlider,
    QSplitter,
    QToolBar,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from desktopviz.app.icons import icon
from desktopviz.app.models.table_model import TableModel, compare_base, hidden_in_comparison
from desktopviz.app.palette import mute
from desktopviz.app.state import AppState, TableStatus
from desktopviz.app.thumbnail_loader import ThumbnailLoader
from desktopviz.app.widgets.cell_delegates import (
    DEFAULT_THUMB,
    GALLERY_ITEMS,
    HISTOGRAM_WIDTH,
    PAD,
    CellDelegate,
)
from desktopviz.app.widgets.compare_bar import CompareBar, compare_targets
from desktopviz.app.widgets.filter_bar import FilterBar, combine, value_filter
from desktopviz.app.widgets.overlays import OverlayLegend
from desktopviz.app.widgets.table_view import TableView
from desktopviz.app.workers import Worker, run_in_worker
from desktopviz.errors import DesktopvizError
from desktopviz.model import Version
from desktopviz.progress import CancelFn, ProgressFn
from desktopviz.query.compare import DiffSummary, diff_summary
from desktopviz.query.spec import (
    CompareSpec,
    GroupSpec,
    QuerySpec,
    SortKey,
    spec_from_dict,
    spec_to_dict,
)
from desktopviz.store.cache import Cache

MIN_THUMB, MAX_THUMB = 32, 256
BUSY_AFTER_MS = 300
"""A query still running after this long shows the busy bar and Cancel."""
MAX_TEXT_COLUMN = 320
FIRST_COLUMNS_SIZED = 40
CELL_MARGIN = 8


class TablePanel(QWidget):
    """The Table tab's content for one table of a version."""

    def __init__(
        self,
        state: AppState,
        version: Version,
        table: str,
        parent: QWidget | None = None,
        *,
        spec: QuerySpec | None = None,
        row_limit: int | None = None,
    ) -> None:
        super().__init__(parent)
        self.state = state
        self.version = version
        self.table = table
        self._sized = False
        self._pending_row: int | None = None
        self._pending_cell: QModelIndex | None = None
        self.current_view: str | None = None
        """The saved view shown (None: the table as set up by hand)."""
        self._pending_layout: dict | None = None
        if spec is None:  # a table opens in the view used last (views apply to every version)
            last = state.cache.last_view(version, table)
            if last is not None:
                spec = _view_spec(last.spec)
                self.current_view, self._pending_layout = last.name, last.layout
        self.spec = spec or QuerySpec()
        """The query shown (filters, sort keys, ...)."""
        limits = {"row_limit": row_limit} if row_limit is not None else {}
        self.model = TableModel(state.engine, version, table, self.spec, parent=self, **limits)
        self.loader = ThumbnailLoader(state.cache, parent=self)
        self.delegate = CellDelegate(state, self.loader, version.id, self)
        self.view = TableView(self)
        self.view.set_table_model(self.model, self.delegate)
        self.side_view: TableView | None = None
        """Side 1's table when a comparison is shown side by side (``view`` then shows side 0)."""
        self.splitter = QSplitter(Qt.Orientation.Horizontal, self)
        self.splitter.setChildrenCollapsible(False)
        self.splitter.addWidget(self.view)

        self.query_bar = QWidget(self)
        """The filter bar and the sort button (room for group / compare tools)."""
        self.filter_bar = FilterBar(state, version, table, self.spec.with_(filters=()), self)
        self._sync_filter_bar()
        self.sort_button = QToolButton(self)
        self.sort_button.setPopupMode(QToolButton.ToolButtonPopupMode.InstantPopup)
        self.sort_button.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextBesideIcon)
        self.sort_button.setAutoRaise(True)
        self.sort_button.setToolTip(
            "Sort keys (click a column header to sort, Shift+click to add a key)"
        )
        self.sort_menu = QMenu(self.sort_button)
        self.sort_menu.aboutToShow.connect(self._fill_sort_menu)
        self.sort_button.setMenu(self.sort_menu)
        self.compare_bar = CompareBar(self)
        self.compare_bar.hide()
        self.compare_button = QToolButton(self)
        self.compare_button.setIcon(icon("compare"))
        self.compare_button.setText("Compare")
        self.compare_button.setPopupMode(QToolButton.ToolButtonPopupMode.InstantPopup)
        self.compare_button.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextBesideIcon)
        self.compare_button.setAutoRaise(True)
        self.compare_button.setToolTip("Compare this table with another version's, row by row")
        self.group_button = QToolButton(self)
        self.group_button.setText("Group")
        self.group_button.setPopupMode(QToolButton.ToolButtonPopupMode.InstantPopup)
        self.group_button.setAutoRaise(True)
        self.group_button.setToolTip(
            "One row per group: counts, histograms with shared bins, top values, galleries"
        )
        self.group_menu = QMenu(self.group_button)
        self.group_menu.aboutToShow.connect(self._fill_group_menu)
        self.group_button.setMenu(self.group_menu)
        self._columns_before_group: list[tuple[str, str]] = []
        self.views_button = QToolButton(self)
        self.views_button.setPopupMode(QToolButton.ToolButtonPopupMode.InstantPopup)
        self.views_button.setAutoRaise(True)
        self.views_button.setToolTip(
            "Saved views: filter, sort, group, compare and columns, for every version"
        )
        self.views_menu = QMenu(self.views_button)
        self.views_menu.aboutToShow.connect(self._fill_views_menu)
        self.views_button.setMenu(self.views_menu)
        self.export_button = QToolButton(self)
        self.export_button.setIcon(icon("export"))
        self.export_button.setText("Export")
        self.export_button.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextBesideIcon)
        self.export_button.setAutoRaise(True)
        self.export_button.setToolTip(
            "Save the rows shown (filtered, sorted) as CSV, Parquet or JSON Lines, "
            "or as a new artifact version"
        )
        self.export_button.setPopupMode(QToolButton.ToolButtonPopupMode.MenuButtonPopup)
        # (clicked and triggered carry a bool that must not arrive as ``media``)
        self.export_button.clicked.connect(lambda: self.ask_export())
        self.export_menu = QMenu(self.export_button)
        self.export_menu.addAction("Export rows…", lambda: self.ask_export())
        self.export_menu.addAction(
            "Export rows with media files…", lambda: self.ask_export(media="copy")
        ).setToolTip("Copies the images and masks into a folder beside the file")
        self.export_menu.addSeparator()
        self.save_version_action = self.export_menu.addAction(
            "Save as new version…", self.ask_save_as_version
        )
        self.export_menu.aboutToShow.connect(self._fill_export_menu)
        self.export_button.setMenu(self.export_menu)
        self.export_job = None
        self.save_job = None
        self.compare_menu = QMenu(self.compare_button)
        self.compare_menu.aboutToShow.connect(self._fill_compare_menu)
        self.compare_button.setMenu(self.compare_menu)
        self._summary_worker = None
        self._summary_for: QuerySpec | None = None
        bar_layout = QVBoxLayout(self.query_bar)
        bar_layout.setContentsMargins(0, 0, 0, 0)
        bar_layout.setSpacing(0)
        bar_layout.addWidget(self.filter_bar)
        bar_layout.addWidget(self.compare_bar)

        self.summary = mute(QLabel("Opening table…", self))
        self.thumb_label = mute(QLabel("Thumbnails", self))
        self.thumb_slider = QSlider(Qt.Orientation.Horizontal, self)
        self.thumb_slider.setRange(MIN_THUMB, MAX_THUMB)
        self.thumb_slider.setSingleStep(8)
        self.thumb_slider.setPageStep(32)
        self.thumb_slider.setValue(DEFAULT_THUMB)
        self.thumb_slider.setFixedWidth(140)
        self.thumb_slider.setToolTip("Thumbnail size (rows follow)")
        self.legend = OverlayLegend(state, self)
        self.legend.hide()

        # the tools sit in a tool bar: in a narrow window the ones that do not fit go into its
        # overflow menu instead of widening the panel (and squeezing the docks)
        self.tools = QToolBar(self)
        self.tools.setIconSize(QSize(16, 16))
        self.tools.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextBesideIcon)
        for widget in (self.group_button, self.compare_button, self.sort_button):
            self.tools.addWidget(widget)
        for widget in (self.views_button, self.export_button):
            self.tools.addWidget(widget)
        self._thumb_actions = [
            self.tools.addWidget(w) for w in (self.thumb_label, self.thumb_slider)
        ]
        self.summary.setMinimumWidth(60)
        # a query that takes a while shows a busy bar and Cancel (the rows shown stay)
        self.busy = QProgressBar(self)
        self.busy.setRange(0, 0)
        self.busy.setTextVisible(False)
        self.busy.setFixedWidth(90)
        self.busy.setMaximumHeight(10)
        self.cancel_query_button = QToolButton(self)
        self.cancel_query_button.setText("Cancel")
        self.cancel_query_button.setToolTip("Stop this query; the rows shown now stay")
        self.cancel_query_button.clicked.connect(self.cancel_query)
        self._busy_timer = QTimer(self)
        self._busy_timer.setSingleShot(True)
        self._busy_timer.setInterval(BUSY_AFTER_MS)
        self._busy_timer.timeout.connect(lambda: self._show_busy(self.model.opening))
        self._show_busy(False)
        bar = QHBoxLayout()
        bar.setContentsMargins(8, 6, 8, 4)
        bar.setSpacing(8)
        bar.addWidget(self.summary, 1)
        bar.addWidget(self.busy)
        bar.addWidget(self.cancel_query_button)
        bar.addWidget(self.tools, 0)
        legend_row = QHBoxLayout()
        legend_row.setContentsMargins(8, 0, 8, 6)
        legend_row.addWidget(self.legend, 1)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(0)
        layout.addWidget(self.query_bar)
        layout.addLayout(bar)
        layout.addLayout(legend_row)
        layout.addWidget(self.splitter, 1)
        self._show_thumbnail_controls(False)

        self.thumb_slider.valueChanged.connect(self.set_thumb_size)
        self.model.ready.connect(self._ready)
        self.model.failed.connect(self._failed)
        self.model.cancelled.connect(self._cancelled)
        self.model.page_loaded.connect(self._page_loaded)
        self.model.images_seen.connect(self.legend.add_cells)
        self.view.selectionModel().currentChanged.connect(self._current_changed)
        self.view.selection_size_changed.connect(lambda _n: self._emit_status())
        self.view.copied.connect(state.status_message.emit)
        self.view.sort_requested.connect(self.sort_by_column)
        self.view.doubleClicked.connect(self._double_clicked)
        self.view.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        self.view.customContextMenuRequested.connect(self._cell_menu)
        self.filter_bar.applied.connect(self.set_filter)
        self.compare_bar.only_changed.connect(self._set_only)
        self.compare_bar.key_changed.connect(self._set_key)
        self.compare_bar.closed.connect(self.stop_compare)
        self.compare_bar.side_by_side_changed.connect(self.set_side_by_side)
        self.view.installEventFilter(self)
        state.overlay_settings_changed.connect(lambda _s: self.view.viewport().update())
        self.set_thumb_size(DEFAULT_THUMB)
        self.model.load()

    # -- public -------------------------------------------------------------------------------
    def set_spec(self, spec: QuerySpec) -> None:
        """Show another query of this table (the rows follow once it is open)."""
        if spec == self.spec:
            return
        self.spec = spec
        self.summary.setText("Querying…")
        self.filter_bar.set_base_spec(spec.with_(group=None))  # the count is of rows
        self._show_sort()
        self.model.set_spec(spec)
        self._busy_timer.start()

    def cancel_query(self) -> None:
        """Stop the query being opened: the table goes on showing the rows it shows now."""
        self.model.cancel_open()

    def _cancelled(self) -> None:
        self.spec = self.model.spec
        self._show_busy(False)
        self.filter_bar.set_base_spec(self.spec.with_(group=None))
        self._sync_filter_bar()
        self._ready()
        self.state.status_message.emit("Query cancelled; the rows shown are the previous query's")

    def _show_busy(self, busy: bool) -> None:
        self.busy.setVisible(busy)
        self.cancel_query_button.setVisible(busy)

    def set_filter(self, text: str) -> None:
        """Show only the rows ``text`` (either filter form) matches; "" shows every row."""
        if self.filter_bar.current != text:
            self.filter_bar.set_text(text, apply=True)  # applying it calls back here
            return
        self.set_spec(self.spec.with_(filters=(text,) if text else ()))

    # -- saved views ----------------------------------------------------------------------------
    def layout_state(self) -> dict:
        """Column order, widths and hidden columns, by name (what a view keeps of the view)."""
        header = self.view.horizontalHeader()
        columns = {}
        for col, column in enumerate(self.model.columns):
            columns[column.name] = {
                "position": header.visualIndex(col),
                "width": header.sectionSize(col),
                "hidden": header.isSectionHidden(col),
            }
        return {"columns": columns}

    def apply_layout(self, layout: dict) -> None:
        """Put columns back in a saved order, width and visibility (unknown names are skipped)."""
        header = self.view.horizontalHeader()
        saved = layout.get("columns", {})
        index = {c.name: i for i, c in enumerate(self.model.columns)}
        for name, col in sorted(
            ((n, i) for n, i in index.items() if n in saved),
            key=lambda item: saved[item[0]].get("position", 0),
        ):
            want = min(int(saved[name].get("position", 0)), len(index) - 1)
            header.moveSection(header.visualIndex(col), want)
        for name, col in index.items():
            if name in saved:
                if saved[name].get("width"):
                    header.resizeSection(col, int(saved[name]["width"]))
                header.setSectionHidden(col, bool(saved[name].get("hidden")))

    def save_view(self, name: str) -> None:
        """Save what the table shows now (query and columns) as view ``name`` for every version
        of this artifact."""
        try:
            self.state.cache.save_view(
                self.version, self.table, name, spec_to_dict(self.spec), self.layout_state()
            )
        except DesktopvizError as e:
            self.state.status_message.emit(str(e))
            return
        self.current_view = name.strip()
        self._show_view_name()
        self.state.status_message.emit(f"Saved view {self.current_view!r}")

    def apply_view(self, name: str) -> None:
        """Show saved view ``name`` (its query, then its columns once the rows are there)."""
        try:
            saved = self.state.cache.view(self.version, self.table, name)
        except DesktopvizError as e:
            self.state.status_message.emit(str(e))
            return
        self.state.cache.use_view(self.version, self.table, name)
        self.current_view = name
        self._pending_layout = saved.layout
        spec = _view_spec(saved.spec)
        if spec == self.spec:
            self.apply_layout(saved.layout)
            self._pending_layout = None
        self.set_spec(spec)
        self._sync_filter_bar()
        self._show_view_name()

    def clear_view(self) -> None:
        """Back to the plain table (no view, no query)."""
        self.state.cache.use_view(self.version, self.table, None)
        self.current_view = None
        self.set_spec(QuerySpec())
        self._sync_filter_bar()
        self._show_view_name()

    def delete_view(self, name: str) -> None:
        """Delete saved view ``name`` (the table keeps showing what it shows)."""
        self.state.cache.delete_view(self.version, self.table, name)
        if self.current_view == name:
            self.current_view = None
        self._show_view_name()

    def ask_save_view(self) -> None:
        """Views > Save view as…: ask for a name."""
        from PySide6.QtWidgets import QInputDialog

        name, ok = QInputDialog.getText(
            self, "Save view", "Name (the view applies to every version of this artifact):",
            text=self.current_view or "",
        )  # fmt: skip
        if ok and name.strip():
            self.save_view(name)

    def _fill_views_menu(self) -> None:
        menu = self.views_menu
        menu.clear()
        saved = self.state.cache.views(self.version, self.table)
        for v in saved:
            action = menu.addAction(v.name, lambda n=v.name: self.apply_view(n))
            action.setCheckable(True)
            action.setChecked(v.name == self.current_view)
        if not saved:
            menu.addAction("No saved views yet").setEnabled(False)
        menu.addSeparator()
        menu.addAction("Save view as…", self.ask_save_view)
        if self.current_view:
            menu.addAction(
                f"Update {self.current_view!r}", lambda: self.save_view(self.current_view)
            )
        remove = menu.addMenu("Delete view")
        remove.setEnabled(bool(saved))
        for v in saved:
            remove.addAction(v.name, lambda n=v.name: self.delete_view(n))
        menu.addAction("Plain table (no view)", self.clear_view)

    def _apply_pending_layout(self) -> None:
        if self._pending_layout is not None:
            layout, self._pending_layout = self._pending_layout, None
            self.apply_layout(layout)

    def _show_view_name(self) -> None:
        self.views_button.setText(f"View: {self.current_view}" if self.current_view else "Views")

    def _sync_filter_bar(self) -> None:
        """The filter box shows the spec's filters (after a view or a drill-down)."""
        text = (
            " and ".join(f"({f})" for f in self.spec.filters)
            if len(self.spec.filters) > 1
            else (self.spec.filters[0] if self.spec.filters else "")
        )
        self.filter_bar.current = text
        self.filter_bar.set_text(text)

    def ask_export(self, media: str = "cells") -> None:
        """File > Export: ask where (the suffix picks the format), then export (``media="copy"``:
        with the images copied beside the file)."""
        from PySide6.QtWidgets import QFileDialog

        stem = Path(self.table).name.split(".")[0] or "rows"
        path, _ = QFileDialog.getSaveFileName(
            self,
            "Export rows with media files" if media == "copy" else "Export rows",
            str(Path.home() / f"{self.version.name}-{self.version.tag}-{stem}.csv"),
            "CSV (*.csv);;Parquet (*.parquet);;JSON Lines (*.jsonl)",
        )
        if path:
            self.export_to(Path(path), media)

    def _fill_export_menu(self) -> None:
        plain = self.spec.group is None and self.spec.compare is None
        self.save_version_action.setEnabled(plain and self.model.result is not None)
        self.save_version_action.setToolTip(
            "" if plain else "Grouped or compared rows cannot be saved: show the table's rows"
        )

    def ask_save_as_version(self) -> None:
        """Ask which artifact the rows shown become a new version of, then save them."""
        from desktopviz.app.widgets.save_version_dialog import SaveVersionDialog

        result = self.model.result
        if result is None:
            return
        if self.spec.group is not None or self.spec.compare is not None:
            self.state.status_message.emit(
                "Grouped or compared rows cannot be saved as a version: show the table's rows"
            )
            return
        dialog = SaveVersionDialog(
            self.state.cache, self.version, self.table, result.num_rows, self
        )
        self.save_dialog = dialog
        dialog.accepted.connect(
            lambda: self.save_as_version(
                open_after=dialog.open_after.isChecked(), **dialog.values()
            )
        )
        dialog.open()

    def save_as_version(self, name: str, *, open_after: bool = False, **options: object) -> None:
        """Save the rows shown as a new version of artifact ``name`` in a worker (progress and
        Cancel; a cancelled save writes nothing), then refresh the sidebar and maybe open it."""
        result = self.model.result
        if result is None:
            return
        self.saved_version: Version | None = None

        def saved(version: Version) -> None:
            self.saved_version = version
            self.state.refresh()
            self.state.status_message.emit(f"Saved {result.num_rows:,} rows as {version.ref}")
            if open_after:
                self.state.open_version_requested.emit(version, "table")

        self.save_job = self._job(
            "Save",
            f"{result.num_rows:,} rows as a version of {name}",
            saved,
            _save_on_own_connection,
            self.state.cache.root,
            result,
            self.version,
            self.table,
            name,
            **options,
        )

    def export_to(self, path: Path, media: str = "cells") -> None:
        """Write every row the table shows now to ``path`` in a worker, with a progress dialog
        and Cancel; the file (and with ``media="copy"`` its media folder) appears whole or not
        at all."""
        from desktopviz.query.export import export_result, format_for

        result = self.model.result
        if result is None:
            return
        try:
            fmt = format_for(path)
        except DesktopvizError as e:
            self.state.status_message.emit(str(e))
            return
        self.export_job = self._job(
            "Export",
            f"{result.num_rows:,} rows to {path}",
            lambda rows: self.state.status_message.emit(f"Exported {rows:,} rows to {path}"),
            export_result,
            result,
            path,
            fmt,
            media=media,
            source=self.version,
        )

    def _job(
        self,
        verb: str,
        what: str,
        done: Callable[[Any], None],
        fn: Callable[..., Any],
        *args: Any,
        **kwargs: Any,
    ) -> Worker:
        """Run ``fn`` in a worker behind a progress dialog with Cancel; ``done`` gets its result,
        a cancel or a failure is said in the status bar (a failure in a message box too)."""
        from desktopviz.app.widgets.import_dialog import ImportDialog

        dialog = ImportDialog(verb.removesuffix("e") + "ing", what, self)  # Saving, Exporting
        dialog.open()

        def finished(value: Any) -> None:
            dialog.accept()
            done(value)

        def cancelled() -> None:
            dialog.accept()
            self.state.status_message.emit(f"{verb} cancelled; nothing was written")

        def failed(error: BaseException) -> None:
            dialog.accept()
            self.state.status_message.emit(f"{verb} failed: {error}")
            QMessageBox.warning(self, f"{verb} failed", str(error))

        job = run_in_worker(
            fn,
            *args,
            **kwargs,
            on_result=finished,
            on_cancelled=cancelled,
            on_error=failed,
            on_progress=dialog.update_progress,
            owner=self,
        )
        dialog.cancel_requested.connect(job.cancel)
        return job

    def group_by(self, columns: tuple[str, ...]) -> None:
        """One row per group of ``columns`` (() to show the rows again); sort keys are dropped
        (groups sort by their own columns)."""
        group = GroupSpec(tuple(columns)) if columns else None
        self.set_spec(self.spec.with_(group=group, sort=()))

    def drill_down(self, model_row: int) -> None:
        """Show the rows of one group: its key values become a filter and grouping stops."""
        group = self.spec.group
        if group is None:
            return
        parts = []
        for name in group.by:
            col = [c.name for c in self.model.columns].index(name)
            value = self.model.value(self.model.index(model_row, col))
            expr = value_filter(name, value)
            if expr is None:
                self.state.status_message.emit(f"cannot filter to this group's {name}")
                return
            parts.append(expr)
        current = self.filter_bar.current
        self.set_spec(self.spec.with_(group=None, filters=(combine(current, " and ".join(parts)),)))
        self.filter_bar.current = self.spec.filters[0]
        self.filter_bar.set_text(self.spec.filters[0])

    def _double_clicked(self, index: QModelIndex) -> None:
        if self.spec.group is not None and index.isValid():
            self.drill_down(index.row())

    def _fill_group_menu(self) -> None:
        menu = self.group_menu
        menu.clear()
        current = self.spec.group.by if self.spec.group else ()
        columns = self._groupable_columns()
        for name, label in columns:
            action = menu.addAction(label)
            action.setCheckable(True)
            action.setChecked(name in current)
            action.toggled.connect(
                lambda on, n=name: self.group_by(
                    tuple(c for c in current if c != n) + ((n,) if on else ())
                )
            )
        if not columns:
            menu.addAction("No column to group by").setEnabled(False)
        if current:
            menu.addSeparator()
            menu.addAction("Show rows (no grouping)", lambda: self.group_by(()))

    def _groupable_columns(self) -> list[tuple[str, str]]:
        """Columns a group can be keyed on: strings, bools and numbers (not media or nested
        values), as (name, label); side 0's in a comparison."""
        if self.spec.group is not None:
            return self._columns_before_group
        out = []
        for column in self.model.columns:
            if column.render not in ("text", "number", "bool") or column.name == "__status":
                continue
            if column.name.startswith(("1.", "delta.", "changed.", "__")):
                continue
            out.append((column.name, compare_base(column.name)))
        self._columns_before_group = out
        return out

    def compare_with(
        self, ref: str, table: str | None = None, key: tuple[str, str] | None = None
    ) -> None:
        """Compare this table (side 0) with ``ref``'s (side 1): the same table by default, joined
        on ``key`` (default ``id`` when both have it, else row position). Sort keys of the plain
        table are dropped (the columns are now per side); filters stay (``row`` is side 0)."""
        self.set_spec(self.spec.with_(compare=CompareSpec(ref, table, key), sort=(), group=None))

    def stop_compare(self) -> None:
        """Back to this table alone."""
        self.set_spec(self.spec.with_(compare=None, sort=()))

    def _set_only(self, only: str | None) -> None:
        if self.spec.compare is not None:
            self.set_spec(self.spec.with_(compare=replace(self.spec.compare, only=only)))

    def _set_key(self, key: tuple[str, str] | None) -> None:
        if self.spec.compare is not None:
            self.set_spec(self.spec.with_(compare=replace(self.spec.compare, key=key), sort=()))

    def _fill_compare_menu(self) -> None:
        menu = self.compare_menu
        menu.clear()
        cache = self.state.cache
        others = [v for v in compare_targets(cache, self.version) if cache.tables(v)]
        current = self.spec.compare.ref if self.spec.compare else None
        for other in others:
            aliases = f"  ({', '.join(other.aliases)})" if other.aliases else ""
            action = menu.addAction(
                f"with {other.tag}{aliases}", lambda o=other: self.compare_with(o.ref)
            )
            action.setCheckable(True)
            action.setChecked(current in (other.ref, f"{other.name}:{other.tag}"))
        if not others:
            menu.addAction("No other version of this artifact has a table").setEnabled(False)
        if self.spec.compare is not None:
            menu.addSeparator()
            menu.addAction(icon("tab-close"), "Stop comparing", self.stop_compare)

    def _show_compare(self) -> None:
        """The compare bar, hidden helper columns and the diff summary follow the spec."""
        model, spec = self.model, self.spec
        comparing = spec.compare is not None and model.result is not None
        if not comparing and self.side_view is not None:
            self.compare_bar.side_by_side.setChecked(False)  # hides the second table
        self._show_compare_columns()
        self.compare_bar.setVisible(comparing)
        self.compare_button.setText("Comparing" if comparing else "Compare")
        if not comparing:
            return
        names = [c.name for c in model.columns]
        common = [n[2:] for n in names if n.startswith("0.") and "1." + n[2:] in names]
        self.compare_bar.show_sides(model.side_labels, {0: self.version.ref, 1: spec.compare.ref})
        self.compare_bar.set_keys(common, spec.compare.key)
        self.compare_bar.set_only(spec.compare.only)
        whole = QuerySpec(compare=replace(spec.compare, only=None))
        if whole == self._summary_for:
            return
        self._summary_for = whole
        self.compare_bar.set_summary(None, "counting differences…")
        engine, version, table = self.state.engine, self.version, self.table

        def summarize() -> DiffSummary:
            return diff_summary(engine, engine.result(version, table, whole).relation)

        self._summary_worker = run_in_worker(
            summarize,
            on_result=lambda s, w=whole: self._summary_ready(w, s),
            on_error=lambda e, w=whole: self._summary_ready(w, None, str(e)),
            owner=self,
        )

    def _show_compare_columns(self) -> None:
        """Hide a comparison's helper columns; side by side, each table shows one side's columns
        (the key and the status in both)."""
        split = self.side_view is not None and self.side_view.isVisible()
        for col, column in enumerate(self.model.columns):
            name = column.name
            hidden = self.spec.compare is not None and hidden_in_comparison(name)
            side = name[:2] if name[:2] in ("0.", "1.") else None
            self.view.setColumnHidden(
                col, hidden or (split and (side == "1." or name.startswith("delta.")))
            )
            if self.side_view is not None:
                self.side_view.setColumnHidden(
                    col, hidden or side == "0." or name.startswith("delta.")
                )

    def set_side_by_side(self, on: bool) -> None:
        """Show a comparison as two tables, side 0 left and side 1 right, rows aligned and
        scrolled together (on), or merged in one table (off)."""
        on = on and self.spec.compare is not None
        if self.compare_bar.side_by_side.isChecked() != on:
            self.compare_bar.side_by_side.setChecked(on)  # calls back here
            return
        if on and self.side_view is None:
            self.side_view = self._second_view()
        if self.side_view is not None:
            self.side_view.setVisible(on)
        self._show_compare_columns()
        if on:
            assert self.side_view is not None
            self.side_view.scroll_to_result_row(self.view.top_result_row(), select=False)
            self.splitter.setSizes([self.splitter.width() // 2] * 2)

    def _second_view(self) -> TableView:
        """A second table over the same model: its rows follow the first's as they scroll."""
        view = TableView(self)
        view.set_table_model(self.model, self.delegate)
        view.verticalHeader().hide()  # the row numbers are the left table's
        view.verticalHeader().setDefaultSectionSize(self.view.verticalHeader().defaultSectionSize())
        for col in range(len(self.model.columns)):
            view.setColumnWidth(col, self.view.columnWidth(col))
        view.horizontalHeader().set_sort_marks(self.view.horizontalHeader().sort_marks)
        view.selectionModel().currentChanged.connect(self._current_changed)
        view.sort_requested.connect(self.sort_by_column)
        view.doubleClicked.connect(self._double_clicked)
        view.copied.connect(self.state.status_message.emit)
        self.splitter.addWidget(view)
        for a, b in ((self.view, view), (view, self.view)):
            a.verticalScrollBar().valueChanged.connect(
                lambda value, b=b: b.verticalScrollBar().setValue(value)
            )
            a.window_bar.valueChanged.connect(lambda value, b=b: b.window_bar.setValue(value))
        return view

    def views(self) -> list[TableView]:
        """The tables on screen (two when a comparison is side by side)."""
        return [self.view] + ([self.side_view] if self.side_view is not None else [])

    def _summary_ready(
        self, whole: QuerySpec, summary: DiffSummary | None, error: str = ""
    ) -> None:
        if whole == self._summary_for:
            self.compare_bar.set_summary(summary, error)

    def set_sort(self, keys: tuple[SortKey, ...]) -> None:
        """Sort by these keys (the first one first); () for the table's own order."""
        self.set_spec(self.spec.with_(sort=tuple(keys)))

    def sort_by_column(self, column: int, add: bool = False) -> None:
        """What a header click does: sort by the column, ascending, then descending, then not at
        all; with ``add`` (Shift) it becomes another key, or flips if it is one already."""
        if not 0 <= column < len(self.model.columns):
            return
        name = self.model.columns[column].name
        keys = list(self.spec.sort)
        at = next((i for i, k in enumerate(keys) if k.column == name), None)
        if add:
            if at is None:
                keys.append(SortKey(name))
            else:
                keys[at] = SortKey(name, not keys[at].descending)
        elif keys == [SortKey(name)]:
            keys = [SortKey(name, True)]
        elif keys == [SortKey(name, True)]:
            keys = []
        else:
            keys = [SortKey(name)]
        self.set_sort(tuple(keys))

    def select_row(self, row: int) -> None:
        """Scroll to result row ``row`` and make it current (once the table is open), keeping the
        current column, or on the first image column when there is none yet (so the inspector
        shows the row's picture)."""
        if self.model.result is None:
            self._pending_row = row
            return
        column = self.view.currentIndex().column()
        if column < 0:
            media = [i for i, c in enumerate(self.model.columns) if c.render == "media"]
            column = media[0] if media else 0
        self.view.scroll_to_result_row(row, column=column)

    def set_thumb_size(self, pixels: int) -> None:
        """Thumbnail size in pixels; image rows are that tall (plus padding)."""
        self.delegate.thumb_size = pixels
        for view in self.views():
            if self.model.has_images:
                view.set_row_height(pixels + 2 * PAD)
                for col, column in enumerate(self.model.columns):
                    if column.render == "media":
                        view.setColumnWidth(col, max(pixels + 2 * PAD, 90))
                    elif column.render == "gallery":  # up to GALLERY_ITEMS side by side
                        view.setColumnWidth(col, GALLERY_ITEMS * (pixels + PAD) + PAD)
            else:
                view.set_row_height(self.fontMetrics().height() + 10)
        if self.thumb_slider.value() != pixels:
            self.thumb_slider.setValue(pixels)

    def status(self) -> TableStatus:
        """Rows shown, rows in the table, selected cells."""
        return TableStatus(
            self.model.total_rows, self.model.table_rows, self.view.selected_cell_count()
        )

    # -- events ---------------------------------------------------------------------------------
    def _ready(self) -> None:
        model = self.model
        self._show_busy(False)
        images = model.has_images
        self._show_thumbnail_controls(images)
        self.set_thumb_size(self.thumb_slider.value())
        rows = f"{model.total_rows:,} row{'s' * (model.total_rows != 1)}"
        if self.spec.group is not None:
            rows = f"{model.total_rows:,} group{'s' * (model.total_rows != 1)} of {model.table_rows:,} rows"
        elif model.total_rows != model.table_rows:
            rows += f" of {model.table_rows:,}"
        shown = [
            c
            for c in model.columns
            if not (self.spec.compare is not None and hidden_in_comparison(c.name))
        ]
        self.summary.setText(f"{rows} · {len(shown)} columns")
        if model.result is not None:
            types = model.result.relation.types()
            if self.spec.compare is not None:  # row / row0 / row1 name the sides' own columns
                types = {n[2:]: t for n, t in types.items() if n[:2] in ("0.", "1.")}
            self.filter_bar.set_columns(types)
            if self.spec.group is None and self.spec.limit is None:
                self.filter_bar.show_count(model.total_rows)
        self._show_sort()
        self._show_compare()
        self._show_view_name()
        if self._sized or model.total_rows == 0:  # else after the first page sizes the columns
            self._apply_pending_layout()
        grouped = self.spec.group is not None
        self.group_button.setText(
            f"Grouped by {', '.join(compare_base(b) for b in self.spec.group.by)}"
            if grouped
            else "Group"
        )
        if grouped and not model.has_images:
            for view in self.views():
                view.set_row_height(max(self.fontMetrics().height() * 3 + 8, 48))
        self.summary.setToolTip(f"{self.version.ref} · {self.table}")
        self._emit_status()
        self.state.table_changed.emit(self.version, self.table)
        if self._pending_row is not None:
            row, self._pending_row = self._pending_row, None
            self.select_row(row)

    def _failed(self, message: str) -> None:
        self._show_busy(False)
        if self.model.result is None:
            self.summary.setText(f"Cannot open this table: {message}")
        elif self.model.result.spec != self.spec:  # the new query failed: the old rows stay
            self.summary.setText(f"Query failed: {message}")
        self.state.status_message.emit(message)

    # -- sort -----------------------------------------------------------------------------------
    def _show_sort(self) -> None:
        """Header arrows and the sort button's text follow ``spec.sort``."""
        columns = {c.name: i for i, c in enumerate(self.model.columns)}
        marks = {
            columns[k.column]: (n, k.descending)
            for n, k in enumerate(self.spec.sort)
            if k.column in columns
        }
        for view in self.views():
            view.horizontalHeader().set_sort_marks(marks)
        keys = self.spec.sort
        if keys:
            first = keys[0]
            text = f"Sorted by {first.column} {'▼' if first.descending else '▲'}"
            if len(keys) > 1:
                text += f" +{len(keys) - 1}"
        else:
            text = "Sort"
        self.sort_button.setText(text)

    def _fill_sort_menu(self) -> None:
        """The sort keys in order, each with its direction, move and remove entries."""
        menu = self.sort_menu
        menu.clear()
        keys = list(self.spec.sort)
        if not keys:
            menu.addAction("No sort: click a column header to sort").setEnabled(False)
        for i, key in enumerate(keys):
            arrow = "▼ descending" if key.descending else "▲ ascending"
            sub = menu.addMenu(f"{i + 1}. {key.column}  {arrow}")

            def flip(i: int = i) -> None:
                k = list(self.spec.sort)
                k[i] = SortKey(k[i].column, not k[i].descending)
                self.set_sort(tuple(k))

            def move(i: int = i, step: int = -1) -> None:
                k = list(self.spec.sort)
                k.insert(i + step, k.pop(i))
                self.set_sort(tuple(k))

            def remove(i: int = i) -> None:
                k = list(self.spec.sort)
                del k[i]
                self.set_sort(tuple(k))

            sub.addAction("Descending" if not key.descending else "Ascending", flip)
            sub.addAction("Move up", lambda i=i: move(i, -1)).setEnabled(i > 0)
            sub.addAction("Move down", lambda i=i: move(i, 1)).setEnabled(i < len(keys) - 1)
            sub.addAction(icon("delete"), "Remove", remove)
        if keys:
            menu.addSeparator()
            menu.addAction("Clear sort", lambda: self.set_sort(()))

    # -- cell menu ------------------------------------------------------------------------------
    def cell_menu(self, index: QModelIndex) -> QMenu:
        """The right-click menu of a cell: filter to / exclude its value, sort by its column."""
        menu = QMenu(self)
        column = self.model.columns[index.column()]
        value = self.model.value(index) if self.model.cell_ref(index) is not None else None
        loaded = self.model.cell_ref(index) is not None
        current = self.filter_bar.current
        for label, exclude in (("Filter to this value", False), ("Exclude this value", True)):
            expr = value_filter(column.name, value, exclude) if loaded else None
            action = menu.addAction(
                icon("search"), label, lambda e=expr: self.set_filter(combine(current, e))
            )
            action.setEnabled(expr is not None)
            if expr is not None:
                action.setToolTip(expr)
        menu.addSeparator()
        menu.addAction("Sort ascending", lambda: self.set_sort((SortKey(column.name),)))
        menu.addAction("Sort descending", lambda: self.set_sort((SortKey(column.name, True),)))
        menu.addSeparator()
        menu.addAction(icon("copy"), "Copy", self.view.copy_selection)
        return menu

    def _cell_menu(self, pos: QPoint) -> None:
        index = self.view.indexAt(pos)
        if index.isValid():
            self.cell_menu(index).exec(self.view.viewport().mapToGlobal(pos))

    def _show_thumbnail_controls(self, visible: bool) -> None:
        for action in self._thumb_actions:  # tool bar widgets show and hide by their action
            action.setVisible(visible)
        self.legend.setVisible(visible)

    def _page_loaded(self, start: int) -> None:
        if not self._sized:
            self._sized = True
            self._size_columns()
        self._apply_pending_layout()
        if self._pending_cell is not None and self._pending_cell.isValid():
            index, self._pending_cell = self._pending_cell, None
            self._current_changed(index, QModelIndex())

    def _size_columns(self) -> None:
        """Fit text columns to their header and the first page's texts (capped); media columns
        follow the thumbnail size."""
        header = self.view.horizontalHeader()
        metrics = self.view.fontMetrics()
        for col, column in enumerate(self.model.columns[:FIRST_COLUMNS_SIZED]):
            if column.render in ("media", "gallery"):
                continue
            if column.render == "histogram":
                self._set_width(col, HISTOGRAM_WIDTH)
                continue
            texts = self.model.sample_texts(col)
            widest = max((metrics.horizontalAdvance(t) for t in texts), default=0)
            if column.render == "bool":
                widest = metrics.height()
            width = max(widest + 2 * CELL_MARGIN, header.sectionSizeFromContents(col).width())
            self._set_width(col, min(width, MAX_TEXT_COLUMN))

    def _set_width(self, col: int, width: int) -> None:
        for view in self.views():
            view.setColumnWidth(col, width)

    def _current_changed(self, current: QModelIndex, _previous: QModelIndex) -> None:
        if not current.isValid():
            return
        cell = self.model.cell_ref(current)
        if cell is None:  # its page is on the way
            self._pending_cell = current
            return
        self.state.set_cell(cell)

    def _emit_status(self) -> None:
        self.state.table_status_changed.emit(self.status())

    def eventFilter(self, watched: object, event: object) -> bool:  # noqa: N802 - Qt override
        if watched is self.view and isinstance(event, QFocusEvent) and event.gotFocus():
            self.state.table_changed.emit(self.version, self.table)
            self._emit_status()
        return super().eventFilter(watched, event)  # type: ignore[arg-type]

    def closeEvent(self, event: object) -> None:  # noqa: N802 - Qt override
        self.model.close()
        self.loader.close()
        super().closeEvent(event)  # type: ignore[arg-type]


def _view_spec(data: dict) -> QuerySpec:
    """A saved view's spec; a view saved by a newer or broken build shows the plain table."""
    try:
        return spec_from_dict(data)
    except (KeyError, TypeError, ValueError):
        return QuerySpec()


def _save_on_own_connection(
    root: Path,
    result: Any,
    source: Version,
    table: str,
    name: str,
    *,
    progress: ProgressFn,
    cancel: CancelFn,
    **options: Any,
) -> Version:
    """:func:`desktopviz.sdk.subset.save_as_version` in a worker, writing the index through a
    connection of the worker's own (the window's is the UI thread's), as an import does."""
    from desktopviz.sdk.subset import save_as_version

    with Cache(root) as cache:
        return save_as_version(
            result, source, table, name, cache=cache, progress=progress, cancel=cancel, **options
        )


if __name__ == "__main__":
    import sys

    from PySide6.QtWidgets import QApplication

    from desktopviz.app.state import AppState as _State
    from desktopviz.app.theme import apply_theme
    from desktopviz.store.cache import Cache

    app = QApplication(sys.argv)
    apply_theme(app)
    cache = Cache(sys.argv[1] if len(sys.argv) > 1 else "/tmp/democache")
    ref = sys.argv[2] if len(sys.argv) > 2 else "street-scenes/scene-predictions:latest"
    version = cache.resolve(ref)
    panel = TablePanel(_State(cache), version, cache.tables(version)[0].path)
    panel.resize(1100, 700)
    panel.show()
    sys.exit(app.exec())
