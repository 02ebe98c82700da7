"""One table of a version: the table view with typed columns and thumbnails, a thumbnail size
slider, and the overlay legend for image columns.

Public API: :class:`TablePanel` -- ``TablePanel(state, version, table)``, ``select_row(row)``,
``query_bar`` (a slot above the table for the filter / sort / group tool bar), ``view``, ``model``.
The panel sets ``state.set_cell`` on the current cell and emits ``state.table_status_changed``.
"""

from __future__ import annotations

from PySide6.QtCore import QModelIndex, Qt
from PySide6.QtGui import QFocusEvent
from PySide6.QtWidgets import QHBoxLayout, QLabel, QSlider, QVBoxLayout, QWidget

from desktopviz.app.models.table_model import TableModel
from desktopviz.app.palette import mute
from desktopviz.app.state import AppState, TableStatus
from desktopviz.app.thumbnail_loader import ThumbnailLoader
from desktopviz.app.widgets.cell_delegates import DEFAULT_THUMB, PAD, CellDelegate
from desktopviz.app.widgets.overlays import OverlayLegend
from desktopviz.app.widgets.table_view import TableView
from desktopviz.model import Version
from desktopviz.query.spec import QuerySpec

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
        limits = {"row_limit": row_limit} if row_limit is not None else {}
        self.model = TableModel(state.engine, version, table, spec, parent=self, **limits)
        self.loader = ThumbnailLoader(state.cache, parent=self)
        self.delegate = CellDelegate(state, self.loader, version.id, self)
        self.view = TableView(self)
        self.view.set_table_model(self.model, self.delegate)

        self.query_bar = QWidget(self)
        """Room for the filter / sort / group tool bar (empty until a later issue fills it)."""
        QVBoxLayout(self.query_bar).setContentsMargins(0, 0, 0, 0)
        self.query_bar.hide()

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
        self.view.installEventFilter(self)
        state.overlay_settings_changed.connect(lambda _s: self.view.viewport().update())
        self.set_thumb_size(DEFAULT_THUMB)
        self.model.load()

    # -- public -------------------------------------------------------------------------------
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
        self.summary.setToolTip(f"{self.version.ref} · {self.table}")
        self._emit_status()
        self.state.table_changed.emit(self.version, self.table)
        if self._pending_row is not None:
            row, self._pending_row = self._pending_row, None
            self.select_row(row)

    def _failed(self, message: str) -> None:
        if self.model.result is None:
            self.summary.setText(f"Cannot open this table: {message}")
        self.state.status_message.emit(message)

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
