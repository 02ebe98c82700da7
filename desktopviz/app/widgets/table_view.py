"""The table view: typed column headers, keyboard navigation, Ctrl+C as TSV, and its own scroll
bar when the model exposes only a window of a very long result.

Public API: :class:`TableView` (``set_table_model``, ``scroll_to_result_row``, ``top_result_row``,
``copy_selection``, ``selected_cell_count``, ``window_bar``), :class:`TypedHeader`.

Windowing: Qt lays rows out in int pixels, so a model of more than about 70M rows cannot be
scrolled by Qt. :class:`~desktopviz.app.models.table_model.TableModel` then exposes a window of
rows; this view hides Qt's vertical scroll bar, shows its own (ranging over every result row),
and moves the window when the view nears its edges or the user drags far.
"""

from __future__ import annotations

from PySide6.QtCore import QItemSelection, QModelIndex, QRect, QSize, Qt, QTimer, Signal
from PySide6.QtGui import (
    QColor,
    QFont,
    QFontMetrics,
    QGuiApplication,
    QKeyEvent,
    QKeySequence,
    QPainter,
    QPalette,
)
from PySide6.QtWidgets import (
    QAbstractItemView,
    QApplication,
    QHeaderView,
    QScrollBar,
    QStyle,
    QStyleOptionHeader,
    QTableView,
    QWidget,
)

from desktopviz.app.models.table_model import SIDE_ROLE, TYPE_ROLE, TableModel
from desktopviz.app.palette import SIDE_COLOURS
from desktopviz.app.widgets.cell_delegates import CellDelegate
from desktopviz.app.workers import run_in_worker

HEADER_PAD = 6
COPY_ROW_LIMIT = 100_000
"""Ctrl+C copies at most this many rows (the clipboard is not a file)."""


class TypedHeader(QHeaderView):
    """Column headers with the column's name and, below it in a small muted font, its type."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(Qt.Orientation.Horizontal, parent)
        self.sort_marks: dict[int, tuple[int, bool]] = {}
        """Sorted columns: section -> (key number from 0, descending)."""
        self.setSectionsClickable(True)
        self.setHighlightSections(True)
        self.setDefaultAlignment(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter)
        self.setTextElideMode(Qt.TextElideMode.ElideRight)

    def _type_font(self) -> QFont:
        font = QFont(self.font())
        font.setPointSizeF(max(7.0, font.pointSizeF() * 0.82))
        return font

    def _height(self) -> int:
        """Two lines: the name, and the type in a smaller font."""
        return self.fontMetrics().height() + QFontMetrics(self._type_font()).height() + 10

    def sizeHint(self) -> QSize:  # noqa: N802 - Qt override
        hint = super().sizeHint()
        return QSize(hint.width(), max(hint.height(), self._height()))

    def _name_font(self) -> QFont:
        font = QFont(self.font())
        font.setWeight(QFont.Weight.DemiBold)
        return font

    def sectionSizeFromContents(self, logical_index: int) -> QSize:  # noqa: N802 - Qt override
        model = self.model()
        name = str(model.headerData(logical_index, Qt.Orientation.Horizontal) or "")
        type_text = str(model.headerData(logical_index, Qt.Orientation.Horizontal, TYPE_ROLE) or "")
        width = max(
            QFontMetrics(self._name_font()).horizontalAdvance(name),
            QFontMetrics(self._type_font()).horizontalAdvance(type_text),
        )
        # (not sizeHint(): Qt's asks every section for its size, this once per section)
        return QSize(width + 2 * HEADER_PAD + 4 + self._mark_width(), self._height())

    def _mark_width(self) -> int:
        return QFontMetrics(self._name_font()).horizontalAdvance(" ▼9") if self.sort_marks else 0

    def set_sort_marks(self, marks: dict[int, tuple[int, bool]]) -> None:
        """Show these sort keys (section -> (key number, descending)) as arrows."""
        self.sort_marks = dict(marks)
        self.viewport().update()

    def paintSection(self, painter: QPainter, rect: QRect, logical_index: int) -> None:  # noqa: N802
        if not rect.isValid():
            return
        model = self.model()
        opt = QStyleOptionHeader()
        self.initStyleOption(opt)
        opt.rect = rect
        opt.section = logical_index
        opt.text = ""
        opt.state |= QStyle.StateFlag.State_Enabled
        if self.window() and self.window().isActiveWindow():
            opt.state |= QStyle.StateFlag.State_Active
        selection = self.selectionModel()
        if selection is not None and selection.columnIntersectsSelection(
            logical_index, QModelIndex()
        ):
            opt.state |= QStyle.StateFlag.State_On
        painter.save()
        self.style().drawControl(QStyle.ControlElement.CE_Header, opt, painter, self)
        side = model.headerData(logical_index, Qt.Orientation.Horizontal, SIDE_ROLE)
        if side is not None:  # which side of a comparison: a bar in the side's colour
            painter.fillRect(
                QRect(rect.left(), rect.top(), rect.width(), 3), QColor(SIDE_COLOURS[side])
            )
        name = str(model.headerData(logical_index, Qt.Orientation.Horizontal) or "")
        type_text = str(model.headerData(logical_index, Qt.Orientation.Horizontal, TYPE_ROLE) or "")
        align = model.headerData(
            logical_index, Qt.Orientation.Horizontal, Qt.ItemDataRole.TextAlignmentRole
        )
        horizontal = Qt.AlignmentFlag(int(align or 0)) & Qt.AlignmentFlag.AlignHorizontal_Mask
        horizontal = horizontal or Qt.AlignmentFlag.AlignLeft
        area = rect.adjusted(HEADER_PAD, 4, -HEADER_PAD, -4)
        painter.setFont(self._name_font())
        painter.setPen(self.palette().color(QPalette.ColorRole.ButtonText))
        line = painter.fontMetrics().height()
        top = QRect(area.left(), area.top(), area.width(), line)
        mark = self.sort_marks.get(logical_index)
        if mark is not None:
            number, descending = mark
            text = ("▼" if descending else "▲") + (
                str(number + 1) if len(self.sort_marks) > 1 else ""
            )
            painter.save()
            painter.setPen(self.palette().color(QPalette.ColorRole.Highlight))
            width = painter.fontMetrics().horizontalAdvance(text) + 2
            painter.drawText(
                QRect(top.right() - width, top.top(), width, line),
                int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter),
                text,
            )
            painter.restore()
            top.setRight(top.right() - width - 2)
        shown = painter.fontMetrics().elidedText(name, Qt.TextElideMode.ElideRight, top.width())
        painter.drawText(top, int(horizontal | Qt.AlignmentFlag.AlignVCenter), shown)
        painter.setFont(self._type_font())
        painter.setPen(self.palette().color(QPalette.ColorRole.PlaceholderText))
        bottom = QRect(area.left(), top.bottom() + 1, area.width(), area.bottom() - top.bottom())
        shown = painter.fontMetrics().elidedText(
            type_text, Qt.TextElideMode.ElideRight, area.width()
        )
        painter.drawText(bottom, int(horizontal | Qt.AlignmentFlag.AlignVCenter), shown)
        painter.restore()


class TableView(QTableView):
    """A QTableView over a :class:`TableModel`: paged data, thumbnails, windowed scrolling;
    header clicks ask for a sort."""

    sort_requested = Signal(int, bool)
    """A header was clicked: sort by that column (True: add it as another key, Shift held)."""

    viewport_rows_changed = Signal(int, int)
    """The result rows on screen (first, last) after a scroll or resize."""
    copied = Signal(str)
    """A note after Ctrl+C ("Copied 3 rows × 2 columns")."""
    selection_size_changed = Signal(int)
    """How many cells are selected."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._model: TableModel | None = None
        self._delegate: CellDelegate | None = None
        self._syncing = False
        self._bar = QScrollBar(Qt.Orientation.Vertical, self)
        self._bar.hide()
        self._bar.valueChanged.connect(self._bar_moved)
        header = TypedHeader(self)
        self.setHorizontalHeader(header)
        # a header click sorts (Shift adds a key) instead of selecting the column
        header.sectionPressed.disconnect()
        header.sectionEntered.disconnect()
        header.sectionClicked.connect(self._header_clicked)
        self.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectItems)
        self.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
        self.setHorizontalScrollMode(QAbstractItemView.ScrollMode.ScrollPerPixel)
        self.setVerticalScrollMode(QAbstractItemView.ScrollMode.ScrollPerItem)
        self.setWordWrap(False)
        self.setTextElideMode(Qt.TextElideMode.ElideRight)
        self.setAlternatingRowColors(True)
        self.setCornerButtonEnabled(False)
        self.setTabKeyNavigation(False)
        rows = self.verticalHeader()
        rows.setSectionResizeMode(QHeaderView.ResizeMode.Fixed)
        rows.setDefaultAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        self.horizontalHeader().setStretchLastSection(False)
        self.horizontalHeader().setMinimumSectionSize(40)
        self.verticalScrollBar().valueChanged.connect(self._inner_scrolled)
        self._viewport_timer = QTimer(self)
        self._viewport_timer.setSingleShot(True)
        self._viewport_timer.setInterval(0)
        self._viewport_timer.timeout.connect(self._report_viewport)

    def _header_clicked(self, section: int) -> None:
        shift = bool(QApplication.keyboardModifiers() & Qt.KeyboardModifier.ShiftModifier)
        self.sort_requested.emit(section, shift)

    # -- model ----------------------------------------------------------------------------------
    def set_table_model(self, model: TableModel, delegate: CellDelegate) -> None:
        """Show ``model``, painting cells with ``delegate``."""
        self._model = model
        self._delegate = delegate
        self.setItemDelegate(delegate)
        self.setModel(model)
        model.modelReset.connect(self._model_reset)
        model.dataChanged.connect(lambda *_: self._schedule_viewport())
        self.selectionModel().selectionChanged.connect(self._selection_changed)
        delegate.loader.ready.connect(lambda _request: self.viewport().update())
        self._model_reset()

    def table_model(self) -> TableModel | None:
        """The model shown."""
        return self._model

    def set_row_height(self, pixels: int) -> None:
        """Make every row ``pixels`` tall, keeping the top row where it is."""
        top = self.top_result_row()
        self.verticalHeader().setDefaultSectionSize(pixels)
        self.verticalHeader().setMinimumSectionSize(min(pixels, 18))
        if self._model is not None:
            self._model.set_row_height(pixels)
            self._update_windowing()
            self.scroll_to_result_row(top, select=False)

    def _model_reset(self) -> None:
        self._update_windowing()
        self._schedule_viewport()

    # -- windowing ------------------------------------------------------------------------------
    @property
    def window_bar(self) -> QScrollBar:
        """The scroll bar over every result row (shown only when the model is windowed)."""
        return self._bar

    def _windowed(self) -> bool:
        return self._model is not None and self._model.windowed

    def visible_rows(self) -> int:
        """Whole rows that fit in the viewport."""
        return max(
            1, self.viewport().height() // max(1, self.verticalHeader().defaultSectionSize())
        )

    def _update_windowing(self) -> None:
        windowed = self._windowed()
        self.setVerticalScrollBarPolicy(
            Qt.ScrollBarPolicy.ScrollBarAlwaysOff
            if windowed
            else Qt.ScrollBarPolicy.ScrollBarAsNeeded
        )
        self._bar.setVisible(windowed)
        self.updateGeometries()
        self._sync_bar()

    def updateGeometries(self) -> None:  # noqa: N802 - Qt override
        super().updateGeometries()
        if not self._windowed():
            return
        margins = self.viewportMargins()
        width = self._bar.sizeHint().width()
        if margins.right() != width:
            self.setViewportMargins(margins.left(), margins.top(), width, margins.bottom())
        area = self.viewport().geometry()
        self._bar.setGeometry(area.right() + 1, area.top(), width, area.height())
        self._sync_bar()

    def _sync_bar(self) -> None:
        model = self._model
        if model is None or not model.windowed:
            return
        visible = self.visible_rows()
        self._syncing = True
        self._bar.setRange(0, max(0, model.total_rows - visible))
        self._bar.setPageStep(visible)
        self._bar.setSingleStep(1)
        self._bar.setValue(model.window_start + self.verticalScrollBar().value())
        self._syncing = False

    def _inner_scrolled(self, value: int) -> None:
        model = self._model
        if model is not None and model.windowed and not self._syncing:
            margin = model.window_rows // 4
            visible = self.visible_rows()
            top = model.window_start + value
            near_start = value < margin and model.window_start > 0
            end = model.window_start + model.window_rows
            near_end = value > model.window_rows - visible - margin and end < model.total_rows
            if near_start or near_end:
                self._recentre(top)
            self._sync_bar()
        self._schedule_viewport()

    def _recentre(self, top: int) -> None:
        """Move the window so that result row ``top`` is the top row, mid-window."""
        model = self._model
        assert model is not None
        self._syncing = True
        model.shift_window(top - model.window_rows // 2)
        self.verticalScrollBar().setValue(top - model.window_start)
        self._syncing = False

    def _bar_moved(self, top: int) -> None:
        model = self._model
        if self._syncing or model is None or not model.windowed:
            return
        visible = self.visible_rows()
        if model.window_start <= top <= model.window_start + model.window_rows - visible:
            self.verticalScrollBar().setValue(top - model.window_start)
        else:
            self._recentre(top)
            self._sync_bar()
        self._schedule_viewport()

    def top_result_row(self) -> int:
        """The result row at the top of the viewport."""
        if self._model is None:
            return 0
        return self._model.window_start + max(0, self.rowAt(0))

    def scroll_to_result_row(
        self, row: int, *, select: bool = True, column: int | None = None
    ) -> None:
        """Bring a result row into view (moving the window if needed); make it current."""
        model = self._model
        if model is None or model.total_rows == 0:
            return
        model_row = model.ensure_in_window(row, margin=self.visible_rows() * 2)
        col = column if column is not None else max(0, self.currentIndex().column())
        index = model.index(model_row, col)
        if select:
            self.setCurrentIndex(index)
        hint = QAbstractItemView.ScrollHint
        self.scrollTo(index, hint.EnsureVisible if select else hint.PositionAtTop)
        self._sync_bar()

    # -- keyboard -------------------------------------------------------------------------------
    def moveCursor(  # noqa: N802 - Qt override
        self, action: QAbstractItemView.CursorAction, modifiers: Qt.KeyboardModifier
    ) -> QModelIndex:
        model = self._model
        if model is None or not model.windowed:
            return super().moveCursor(action, modifiers)
        current = self.currentIndex()
        row = model.result_row(current.row()) if current.isValid() else 0
        column = current.column() if current.isValid() else 0
        visible = self.visible_rows()
        ctrl = bool(modifiers & Qt.KeyboardModifier.ControlModifier)
        Move = QAbstractItemView.CursorAction
        targets = {
            Move.MoveDown: row + 1,
            Move.MoveUp: row - 1,
            Move.MoveNext: row + 1,
            Move.MovePrevious: row - 1,
            Move.MovePageDown: row + visible,
            Move.MovePageUp: row - visible,
        }
        if ctrl and action == Move.MoveHome:
            target = 0
        elif ctrl and action == Move.MoveEnd:
            target = model.total_rows - 1
        elif action in targets and action not in (Move.MoveNext, Move.MovePrevious):
            target = targets[action]
        else:
            return super().moveCursor(action, modifiers)
        target = max(0, min(model.total_rows - 1, target))
        model_row = model.ensure_in_window(target, margin=visible * 2)
        self._sync_bar()
        return model.index(model_row, column)

    def keyPressEvent(self, event: QKeyEvent) -> None:  # noqa: N802 - Qt override
        if event.matches(QKeySequence.StandardKey.Copy):
            self.copy_selection()
            event.accept()
            return
        super().keyPressEvent(event)

    # -- selection and copy ---------------------------------------------------------------------
    def _selected_rows_and_columns(self) -> tuple[list[int], list[int]]:
        model = self._model
        selection = self.selectionModel()
        if model is None or selection is None:
            return [], []
        rows: set[int] = set()
        columns: set[int] = set()
        for r in selection.selection():
            columns.update(range(r.left(), r.right() + 1))
            rows.update(range(model.result_row(r.top()), model.result_row(r.bottom()) + 1))
            if len(rows) > COPY_ROW_LIMIT:
                break
        return sorted(rows)[:COPY_ROW_LIMIT], sorted(columns)

    def selected_cell_count(self) -> int:
        """How many cells are selected."""
        selection = self.selectionModel()
        if selection is None:
            return 0
        return sum(r.width() * r.height() for r in selection.selection())

    def copy_selection(self) -> None:
        """Put the selected cells on the clipboard as TSV (read in a worker; ``copied`` follows)."""
        model = self._model
        rows, columns = self._selected_rows_and_columns()
        if model is None or not rows or not columns:
            return
        note = f"Copied {len(rows):,} row{'s' * (len(rows) != 1)} × {len(columns)} column{'s' * (len(columns) != 1)}"
        if len(rows) >= COPY_ROW_LIMIT:
            note += f" (the first {COPY_ROW_LIMIT:,} rows)"

        def done(text: str) -> None:
            QGuiApplication.clipboard().setText(text)
            self.copied.emit(note)

        run_in_worker(
            model.rows_as_tsv,
            rows,
            columns,
            on_result=done,
            on_error=lambda exc: self.copied.emit(f"Copy failed: {exc}"),
        )

    def _selection_changed(self, _selected: QItemSelection, _deselected: QItemSelection) -> None:
        self.selection_size_changed.emit(self.selected_cell_count())

    # -- viewport -------------------------------------------------------------------------------
    def _schedule_viewport(self) -> None:
        self._viewport_timer.start()

    def resizeEvent(self, event: object) -> None:  # noqa: N802 - Qt override
        super().resizeEvent(event)  # type: ignore[arg-type]
        self._sync_bar()
        self._schedule_viewport()

    def _report_viewport(self) -> None:
        """Tell the model which rows are on screen; drop thumbnail requests scrolled away."""
        model = self._model
        if model is None or model.rowCount() == 0:
            return
        first_row = max(0, self.rowAt(0))
        last_row = self.rowAt(self.viewport().height() - 1)
        if last_row < 0:
            last_row = model.rowCount() - 1
        first, last = model.result_row(first_row), model.result_row(last_row)
        model.set_viewport(first, last)
        if self._delegate is not None and model.has_images:
            self._delegate.retain_visible(self, first_row, last_row)
        self.viewport_rows_changed.emit(first, last)
