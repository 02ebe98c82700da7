"""One table of a version: the table view with typed columns and thumbnails, a thumbnail size
slider, and the overlay legend for image columns.

Public API: :class:`TablePanel` -- ``TablePanel(state, version, table)``, ``select_row(row)``,
``query_bar`` (a slot above the table for the filter / sort / group tool bar), ``view``, ``model``.
The panel sets ``state.set_cell`` on the current cell and emits ``state.table_status_changed``.
"""

from __future__ import annotations

from PySide6.QtCore import QModelIndex, QPoint, Qt
from PySide6.QtGui import QFocusEvent
from PySide6.QtWidgets import (
    QHBoxLayout,
    QLabel,
    QMenu,
    QSlider,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from desktopviz.app.icons import icon
from desktopviz.app.models.table_model import TableModel
from desktopviz.app.palette import mute
from desktopviz.app.state import AppState, TableStatus
from desktopviz.app.thumbnail_loader import ThumbnailLoader
from desktopviz.app.widgets.cell_delegates import DEFAULT_THUMB, PAD, CellDelegate
from desktopviz.app.widgets.filter_bar import FilterBar, combine, value_filter
from desktopviz.app.widgets.overlays import OverlayLegend
from desktopviz.app.widgets.table_view import TableView
from desktopviz.model import Version
from desktopviz.query.spec import QuerySpec, SortKey

MIN_THUMB, MAX_THUMB = 32, 256
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
        self.spec = spec or QuerySpec()
        """The query shown (filters, sort keys, ...)."""
        limits = {"row_limit": row_limit} if row_limit is not None else {}
        self.model = TableModel(state.engine, version, table, self.spec, parent=self, **limits)
        self.loader = ThumbnailLoader(state.cache, parent=self)
        self.delegate = CellDelegate(state, self.loader, version.id, self)
        self.view = TableView(self)
        self.view.set_table_model(self.model, self.delegate)

        self.query_bar = QWidget(self)
        """The filter bar and the sort button (room for group / compare tools)."""
        self.filter_bar = FilterBar(state, version, table, self.spec.with_(filters=()), self)
        if self.spec.filters:
            self.filter_bar.current = " and ".join(f"({f})" for f in self.spec.filters)
            self.filter_bar.set_text(self.filter_bar.current)
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
        bar_layout = QHBoxLayout(self.query_bar)
        bar_layout.setContentsMargins(0, 0, 0, 0)
        bar_layout.setSpacing(0)
        bar_layout.addWidget(self.filter_bar, 1)

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

        bar = QHBoxLayout()
        bar.setContentsMargins(8, 6, 8, 4)
        bar.setSpacing(8)
        bar.addWidget(self.summary, 1)
        bar.addWidget(self.sort_button)
        bar.addWidget(self.thumb_label)
        bar.addWidget(self.thumb_slider)
        legend_row = QHBoxLayout()
        legend_row.setContentsMargins(8, 0, 8, 6)
        legend_row.addWidget(self.legend, 1)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(0)
        layout.addWidget(self.query_bar)
        layout.addLayout(bar)
        layout.addLayout(legend_row)
        layout.addWidget(self.view, 1)
        self._show_thumbnail_controls(False)

        self.thumb_slider.valueChanged.connect(self.set_thumb_size)
        self.model.ready.connect(self._ready)
        self.model.failed.connect(self._failed)
        self.model.page_loaded.connect(self._page_loaded)
        self.model.images_seen.connect(self.legend.add_cells)
        self.view.selectionModel().currentChanged.connect(self._current_changed)
        self.view.selection_size_changed.connect(lambda _n: self._emit_status())
        self.view.copied.connect(state.status_message.emit)
        self.view.sort_requested.connect(self.sort_by_column)
        self.view.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        self.view.customContextMenuRequested.connect(self._cell_menu)
        self.filter_bar.applied.connect(self.set_filter)
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
        self.filter_bar.set_base_spec(spec)
        self._show_sort()
        self.model.set_spec(spec)

    def set_filter(self, text: str) -> None:
        """Show only the rows ``text`` (either filter form) matches; "" shows every row."""
        if self.filter_bar.current != text:
            self.filter_bar.set_text(text, apply=True)  # applying it calls back here
            return
        self.set_spec(self.spec.with_(filters=(text,) if text else ()))

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
        if self.model.has_images:
            self.view.set_row_height(pixels + 2 * PAD)
            for col, column in enumerate(self.model.columns):
                if column.render == "media":
                    self.view.setColumnWidth(col, max(pixels + 2 * PAD, 90))
        else:
            self.view.set_row_height(self.fontMetrics().height() + 10)
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
        images = model.has_images
        self._show_thumbnail_controls(images)
        self.set_thumb_size(self.thumb_slider.value())
        rows = f"{model.total_rows:,} row{'s' * (model.total_rows != 1)}"
        if model.total_rows != model.table_rows:
            rows += f" of {model.table_rows:,}"
        self.summary.setText(f"{rows} · {len(model.columns)} columns")
        if model.result is not None:
            self.filter_bar.set_columns(model.result.relation.types())
        self._show_sort()
        self.summary.setToolTip(f"{self.version.ref} · {self.table}")
        self._emit_status()
        self.state.table_changed.emit(self.version, self.table)
        if self._pending_row is not None:
            row, self._pending_row = self._pending_row, None
            self.select_row(row)

    def _failed(self, message: str) -> None:
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
        self.view.horizontalHeader().set_sort_marks(marks)
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
        for widget in (self.thumb_label, self.thumb_slider, self.legend):
            widget.setVisible(visible)

    def _page_loaded(self, start: int) -> None:
        if not self._sized:
            self._sized = True
            self._size_columns()
        if self._pending_cell is not None and self._pending_cell.isValid():
            index, self._pending_cell = self._pending_cell, None
            self._current_changed(index, QModelIndex())

    def _size_columns(self) -> None:
        """Fit text columns to their header and the first page's texts (capped); media columns
        follow the thumbnail size."""
        header = self.view.horizontalHeader()
        metrics = self.view.fontMetrics()
        for col, column in enumerate(self.model.columns[:FIRST_COLUMNS_SIZED]):
            if column.render == "media":
                continue
            texts = self.model.sample_texts(col)
            widest = max((metrics.horizontalAdvance(t) for t in texts), default=0)
            if column.render == "bool":
                widest = metrics.height()
            width = max(widest + 2 * CELL_MARGIN, header.sectionSizeFromContents(col).width())
            self.view.setColumnWidth(col, min(width, MAX_TEXT_COLUMN))

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
