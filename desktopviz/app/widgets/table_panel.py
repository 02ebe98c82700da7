"""One table of a version: the table view with typed columns and thumbnails, the filter bar and
the tools above it (group, compare, sort, views, export), a thumbnail size slider, and the
overlay legend for image columns.

The panel assembles; what the table shows is owned by its :class:`TableState`
(``panel.table_state``), which every part binds to: the filter bar, each tool, the table model,
and (through ``AppState.table`` when the table is in front) the Charts dock and the Inspector.

Public API: :class:`TablePanel` -- ``TablePanel(state, version, table)``, ``table_state``,
``select_row(row)``, ``query_bar`` (the filter bar and the compare bar), ``view``, ``model``;
the tools ``sort_tool``, ``group_tool``, ``compare_tool``, ``views_tool``, ``export_tool`` and
``columns`` (the column layout); convenience methods that edit the TableState
(``set_filter``, ``set_sort``, ``sort_by_column``, ``group_by``, ``compare_with``...).
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from PySide6.QtCore import QModelIndex, QPoint, Qt, QTimer
from PySide6.QtGui import QFocusEvent
from PySide6.QtWidgets import (
    QHBoxLayout,
    QLabel,
    QMenu,
    QProgressBar,
    QSizePolicy,
    QSlider,
    QSplitter,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from desktopviz.app.icons import icon
from desktopviz.app.models.table_model import TableModel
from desktopviz.app.palette import mute
from desktopviz.app.state import AppState, TableStatus
from desktopviz.app.table_state import QueryFailure, TableState
from desktopviz.app.thumbnail_loader import ThumbnailLoader
from desktopviz.app.widgets.cell_delegates import DEFAULT_THUMB, GALLERY_ITEMS, PAD, CellDelegate
from desktopviz.app.widgets.column_layout import ColumnLayout
from desktopviz.app.widgets.compare_bar import CompareBar
from desktopviz.app.widgets.compare_tool import CompareTool
from desktopviz.app.widgets.export_tool import ExportTool
from desktopviz.app.widgets.filter_bar import FilterBar
from desktopviz.app.widgets.group_tool import GroupTool
from desktopviz.app.widgets.sort_tool import SortTool
from desktopviz.app.widgets.table_view import TableView
from desktopviz.app.widgets.tool_strip import ToolStrip
from desktopviz.app.widgets.views_tool import ViewsTool, view_spec
from desktopviz.model import Version
from desktopviz.query import spec_rules
from desktopviz.query.spec import QuerySpec, SortKey

MIN_THUMB, MAX_THUMB = 32, 256
BUSY_AFTER_MS = 300
"""A query still running after this long shows the busy bar and Cancel."""


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
        self._pending_row: int | None = None
        self._pending_cell: QModelIndex | None = None
        current_view, pending_layout = None, None
        if spec is None:  # a table opens in the view used last (views apply to every version)
            last = state.cache.last_view(version, table)
            if last is not None:
                spec = view_spec(last.spec)
                current_view, pending_layout = last.name, last.layout
        self.table_state = TableState(version, table, spec, parent=self)
        """What this table shows: every part below binds to it."""
        limits = {"row_limit": row_limit} if row_limit is not None else {}
        self.model = TableModel(
            state.engine, version, table, self.table_state.spec, parent=self, **limits
        )
        self.model.bind(self.table_state)
        self.loader = ThumbnailLoader(state.cache, parent=self)
        self.delegate = CellDelegate(state, self.loader, version.id, self)
        self.view = TableView(self)
        self.view.set_table_model(self.model, self.delegate)
        self.side_view: TableView | None = None
        """Side 1's table when a comparison is shown side by side (``view`` then shows side 0)."""
        self.splitter = QSplitter(Qt.Orientation.Horizontal, self)
        self.splitter.setChildrenCollapsible(False)
        self.splitter.addWidget(self.view)
        self.columns = ColumnLayout(self.model, self.views, self)
        self.columns.restore(pending_layout)

        self.query_bar = QWidget(self)
        """The filter bar, and the compare bar while comparing."""
        self.filter_bar = FilterBar(state, self.table_state, self)
        self.compare_bar = CompareBar(self)
        self.group_tool = GroupTool(self.table_state, self)
        self.compare_tool = CompareTool(state, self.table_state, self.compare_bar, self)
        self.sort_tool = SortTool(self.table_state, self)
        self.views_tool = ViewsTool(
            state, self.table_state, self.columns, self, current_view=current_view
        )
        self.export_tool = ExportTool(state, self.table_state, self)
        bar_layout = QVBoxLayout(self.query_bar)
        bar_layout.setContentsMargins(0, 0, 0, 0)
        bar_layout.setSpacing(0)
        bar_layout.addWidget(self.filter_bar)
        bar_layout.addWidget(self.compare_bar)

        self.summary = mute(QLabel("Opening table…", self))
        self.summary.setSizePolicy(QSizePolicy.Policy.Minimum, QSizePolicy.Policy.Preferred)
        self.thumb_label = mute(QLabel("Thumbnails", self))
        self.thumb_slider = QSlider(Qt.Orientation.Horizontal, self)
        self.thumb_slider.setRange(MIN_THUMB, MAX_THUMB)
        self.thumb_slider.setSingleStep(8)
        self.thumb_slider.setPageStep(32)
        self.thumb_slider.setValue(DEFAULT_THUMB)
        self.thumb_slider.setFixedWidth(140)
        self.thumb_slider.setToolTip("Thumbnail size (rows follow)")
        from desktopviz.app.widgets.overlays import OverlayLegend

        self.legend = OverlayLegend(state, self)
        self.legend.hide()

        # the tools sit in a strip: in a narrow window the ones that do not fit go into the
        # menu of its chevron instead of widening the panel or cutting the row count
        self.tools = ToolStrip(self)
        for tool in (
            self.group_tool, self.compare_tool, self.sort_tool, self.views_tool, self.export_tool
        ):  # fmt: skip
            self.tools.add(tool)
        from desktopviz.app.widgets.add_to_report_dialog import AddToReportButton, table_panel

        self.report_tool = AddToReportButton(  # a picture of the rows shown, with their query
            state, self.view, lambda: table_panel(self.table_state), self
        )
        self.tools.add(self.report_tool, self.report_tool.overflow)
        self.thumb_box = QWidget(self)
        thumbs = QHBoxLayout(self.thumb_box)
        thumbs.setContentsMargins(6, 0, 0, 0)
        thumbs.addWidget(self.thumb_label)
        thumbs.addWidget(self.thumb_slider)
        self.tools.add(self.thumb_box, self._thumb_size_menu)
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
        bar.addWidget(self.summary)
        bar.addWidget(self.busy)
        bar.addWidget(self.cancel_query_button)
        bar.addWidget(self.tools, 1)
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

        ts = self.table_state
        ts.spec_changed.connect(self._spec_changed)
        ts.result_changed.connect(self._ready)
        ts.query_failed.connect(self._failed)
        ts.cancelled.connect(self._cancelled)
        self.thumb_slider.valueChanged.connect(self.set_thumb_size)
        self.model.page_loaded.connect(self._page_loaded)
        self.model.images_seen.connect(self.legend.add_cells)
        self.view.selectionModel().currentChanged.connect(self._current_changed)
        self.view.selection_size_changed.connect(lambda _n: self._emit_status())
        self.view.copied.connect(state.status_message.emit)
        self.view.sort_requested.connect(self.sort_by_column)
        self.view.doubleClicked.connect(self._double_clicked)
        self.view.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        self.view.customContextMenuRequested.connect(self._cell_menu)
        self.compare_bar.side_by_side_changed.connect(self.set_side_by_side)
        self.view.installEventFilter(self)
        state.overlay_settings_changed.connect(lambda _s: self.view.viewport().update())
        self.set_thumb_size(DEFAULT_THUMB)
        self.model.load()

    # -- the state ------------------------------------------------------------------------------
    @property
    def spec(self) -> QuerySpec:
        """The query asked for (see ``table_state``)."""
        return self.table_state.spec

    @property
    def current_view(self) -> str | None:
        """The saved view shown (None: the table as set up by hand)."""
        return self.views_tool.current_view

    def set_spec(self, spec: QuerySpec) -> None:
        """Show another query of this table (the rows follow once it is open)."""
        self.table_state.set_spec(spec)

    def _edit(self, rule: object, *args: object) -> None:
        error = self.table_state.edit(rule, *args)  # type: ignore[arg-type]
        if error:
            self.state.status_message.emit(error)

    def set_filter(self, text: str) -> None:
        """Show only the rows ``text`` (either filter form) matches; "" shows every row."""
        self.table_state.set_filter(text)

    def add_filter(self, expr: str) -> None:
        """Narrow the filter shown by ``expr`` (the simple form)."""
        self._edit(spec_rules.add_filter, expr)

    def set_sort(self, keys: Sequence[SortKey]) -> None:
        """Sort by these keys (the first one first); () for the table's own order."""
        self._edit(spec_rules.with_sort, tuple(keys))

    def sort_by_column(self, column: int, add: bool = False) -> None:
        """What a header click does (see :func:`desktopviz.query.spec_rules.cycle_sort`)."""
        if 0 <= column < len(self.model.columns):
            self._edit(spec_rules.cycle_sort, self.model.columns[column].name, add)

    def group_by(self, columns: Sequence[str]) -> None:
        """One row per group of ``columns`` (() to show the rows again)."""
        self._edit(spec_rules.group_by, tuple(columns))

    def drill_down(self, model_row: int) -> None:
        """Show the rows of one group: its key values join the filter and grouping stops."""
        group = self.spec.group
        if group is None:
            return
        names = [c.name for c in self.model.columns]
        keys = [
            (name, self.model.value(self.model.index(model_row, names.index(name))))
            for name in group.by
        ]
        self._edit(spec_rules.drill_down, keys)

    def compare_with(
        self, ref: str, table: str | None = None, key: tuple[str, str] | None = None
    ) -> None:
        """Compare this table (side 0) with ``ref``'s (side 1): filters and grouping stay."""
        self._edit(spec_rules.compare_with, ref, table, key)

    def stop_compare(self) -> None:
        """Back to this table alone."""
        self._edit(spec_rules.stop_compare)

    def cancel_query(self) -> None:
        """Stop the query being opened: the table goes on showing the rows it shows now."""
        self.model.cancel_open()

    # -- saved views and export (the tools do the work) -----------------------------------------
    def save_view(self, name: str) -> None:
        """Save what the table shows as view ``name`` (see :class:`ViewsTool`)."""
        self.views_tool.save_view(name)

    def apply_view(self, name: str) -> None:
        """Show saved view ``name``."""
        self.views_tool.apply_view(name)

    def clear_view(self) -> None:
        """Back to the plain table (no view, no query)."""
        self.views_tool.clear_view()

    def delete_view(self, name: str) -> None:
        """Delete saved view ``name``."""
        self.views_tool.delete_view(name)

    def layout_state(self) -> dict:
        """Column order, widths and hidden columns, by name."""
        return self.columns.layout_state()

    def apply_layout(self, layout: dict) -> None:
        """Put columns back in a saved order, width and visibility."""
        self.columns.apply_layout(layout)

    def ask_export(self, media: str = "cells") -> None:
        """File > Export: ask where, then export the rows shown."""
        self.export_tool.ask_export(media)

    def export_to(self, path: Path, media: str = "cells") -> None:
        """Export the rows shown to ``path`` in a worker (see :class:`ExportTool`)."""
        self.export_tool.export_to(path, media)

    def save_as_version(self, name: str, *, open_after: bool = False, **options: object) -> None:
        """Save the rows shown as a new version of ``name`` (see :class:`ExportTool`)."""
        self.export_tool.save_as_version(name, open_after=open_after, **options)

    # -- views ----------------------------------------------------------------------------------
    def views(self) -> list[TableView]:
        """The tables on screen (two when a comparison is side by side)."""
        return [self.view] + ([self.side_view] if self.side_view is not None else [])

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
        for col in range(len(self.model.columns)):  # (a column hidden here has its width kept)
            view.setColumnWidth(col, self.columns.widths.get(col) or self.view.columnWidth(col))
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

    def _show_compare_columns(self) -> None:
        """Hide a comparison's helper columns (and the twin a merged pair cell shows); side by
        side, each table shows one side's columns (the key and the status in both)."""
        split = self.side_view is not None and self.side_view.isVisible()
        self.model.set_side_by_side(split)
        for col in range(len(self.model.columns)):
            self.view.setColumnHidden(col, self.model.hidden_in_view(col, 0 if split else None))
            if self.side_view is not None:
                self.side_view.setColumnHidden(col, self.model.hidden_in_view(col, 1))

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
        result = self.model.result
        grouped = result is not None and result.spec.group is not None
        return TableStatus(
            self.model.total_rows, self.model.table_rows, self.view.selected_cell_count(), grouped
        )

    # -- what the state says --------------------------------------------------------------------
    def _spec_changed(self, spec: QuerySpec) -> None:
        if self.model.result is not None and spec != self.model.result.spec:
            self.summary.setText(self._rows_text() + " · querying…")
            self._busy_timer.start()
        self._show_sort_marks()

    def _rows_text(self) -> str:
        """``600 rows``, ``12 of 600 rows`` or ``7 groups of 600 rows`` (of the rows shown)."""
        model = self.model
        shown, total = model.total_rows, model.table_rows
        result = model.result
        if result is not None and result.spec.group is not None:
            return f"{shown:,} group{'s' * (shown != 1)} of {total:,} rows"
        if shown != total:
            return f"{shown:,} of {total:,} rows"
        return f"{shown:,} row{'s' * (shown != 1)}"

    def _ready(self, *_: object) -> None:
        model = self.model
        self._show_busy(False)
        self._show_thumbnail_controls(model.has_images)
        self.set_thumb_size(self.thumb_slider.value())
        shown = [col for col in range(len(model.columns)) if not model.hidden_in_view(col)]
        failure = self.table_state.failure
        if failure is None:
            self.summary.setText(f"{self._rows_text()} · {len(shown)} columns")
            self.summary.setToolTip(f"{self.version.ref} · {self.table}")
        else:  # the rows of the query before the one that failed
            self.summary.setText(f"{self._rows_text()} · previous query")
            self.summary.setToolTip(f"The query failed: {failure.message}")
        self._show_sort_marks()
        self._show_compare_columns()
        if self.spec.compare is None and self.side_view is not None:
            self.compare_bar.side_by_side.setChecked(False)  # hides the second table
        if self.spec.group is not None and not model.has_images:
            for view in self.views():
                view.set_row_height(max(self.fontMetrics().height() * 3 + 8, 48))
        self._emit_status()
        self.state.table_changed.emit(self.version, self.table)
        if self._pending_row is not None:
            row, self._pending_row = self._pending_row, None
            self.select_row(row)

    def _failed(self, failure: QueryFailure) -> None:
        self._show_busy(False)
        if self.model.result is None:
            self.summary.setText("Cannot open this table")
            self.summary.setToolTip(failure.message)
        else:  # the new query failed: the old rows stay, and the filter bar says why
            self.summary.setText(f"{self._rows_text()} · previous query")
            self.summary.setToolTip(f"The query failed: {failure.message}")
        self.state.status_message.emit(f"Query failed: {failure.message}")

    def _cancelled(self) -> None:
        self._show_busy(False)
        self._ready()
        self.state.status_message.emit("Query cancelled; the rows shown are the previous query's")

    def _show_busy(self, busy: bool) -> None:
        self.busy.setVisible(busy)
        self.cancel_query_button.setVisible(busy)

    def _show_sort_marks(self) -> None:
        """Header arrows follow ``spec.sort``."""
        columns = {c.name: i for i, c in enumerate(self.model.columns)}
        marks = {
            columns[k.column]: (n, k.descending)
            for n, k in enumerate(self.spec.sort)
            if k.column in columns
        }
        for view in self.views():
            view.horizontalHeader().set_sort_marks(marks)

    # -- cell menu ------------------------------------------------------------------------------
    def cell_menu(self, index: QModelIndex) -> QMenu:
        """The right-click menu of a cell: filter to / exclude its value, sort by its column."""
        menu = QMenu(self)
        column = self.model.columns[index.column()]
        loaded = self.model.cell_ref(index) is not None
        value = self.model.value(index) if loaded else None
        for label, exclude in (("Filter to this value", False), ("Exclude this value", True)):
            expr = spec_rules.value_filter(column.name, value, exclude) if loaded else None
            action = menu.addAction(icon("search"), label, lambda e=expr: self.add_filter(e))
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

    def _double_clicked(self, index: QModelIndex) -> None:
        if self.spec.group is not None and index.isValid():
            self.drill_down(index.row())

    def _thumb_size_menu(self, menu: QMenu) -> None:
        """The thumbnail slider's place in the chevron's menu: a few sizes."""
        sizes = menu.addMenu("Thumbnail size")
        for label, pixels in (("Small", 48), ("Medium", DEFAULT_THUMB), ("Large", 160)):
            action = sizes.addAction(label, lambda p=pixels: self.set_thumb_size(p))
            action.setCheckable(True)
            action.setChecked(self.thumb_slider.value() == pixels)

    def _show_thumbnail_controls(self, visible: bool) -> None:
        self.tools.set_tool_visible(self.thumb_box, visible)
        self.legend.setVisible(visible)

    def _page_loaded(self, _start: int) -> None:
        if self._pending_cell is not None and self._pending_cell.isValid():
            index, self._pending_cell = self._pending_cell, None
            self._current_changed(index, QModelIndex())

    def _current_changed(self, current: QModelIndex, _previous: QModelIndex) -> None:
        if not current.isValid():
            return
        cell = self.model.cell_ref(current)
        if cell is None:  # its page is on the way
            self._pending_cell = current
            return
        self.table_state.set_cell(cell)
        self.state.focus_table(self.table_state)

    def _emit_status(self) -> None:
        self.state.table_status_changed.emit(self.status())

    def eventFilter(self, watched: object, event: object) -> bool:  # noqa: N802 - Qt override
        if watched is self.view and isinstance(event, QFocusEvent) and event.gotFocus():
            self.state.focus_table(self.table_state)
            self.state.table_changed.emit(self.version, self.table)
            self._emit_status()
        return super().eventFilter(watched, event)  # type: ignore[arg-type]

    def closeEvent(self, event: object) -> None:  # noqa: N802 - Qt override
        if self.state.table is self.table_state:
            self.state.focus_table(None)
        self.model.close()
        self.loader.close()
        super().closeEvent(event)  # type: ignore[arg-type]


if __name__ == "__main__":
    import sys

    from PySide6.QtWidgets import QApplication

    from desktopviz.app.theme import apply_theme
    from desktopviz.store.cache import Cache

    app = QApplication(sys.argv)
    apply_theme(app)
    cache = Cache(sys.argv[1] if len(sys.argv) > 1 else "/tmp/democache")
    ref = sys.argv[2] if len(sys.argv) > 2 else "street-scenes/scene-predictions:latest"
    version = cache.resolve(ref)
    panel = TablePanel(AppState(cache), version, cache.tables(version)[0].path)
    panel.resize(1100, 700)
    panel.show()
    sys.exit(app.exec())
