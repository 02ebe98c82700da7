"""A virtual table model over a query result: pages of rows fetched around the viewport.

The model never holds all rows: pages of ``page_rows`` rows are read by a worker thread (the
query engine's ``Result.rows``), turned into display texts and image cells there, and kept in a
small page cache (at most ``max_pages`` pages, the ones farthest from the viewport dropped first).
``data()`` is a lookup in a cached page; a row whose page is still loading shows a placeholder.
The page cache, the window arithmetic (``desktopviz/query/paging.py``) and the cells' texts
(``desktopviz/query/display.py``) are Qt-free core code this model calls.

Qt's item views address rows with ints and lay them out in int pixels, so beyond ``row_limit``
rows (or what fits in 2**31 pixels at the row height) the model exposes a *window* of rows:
``window_start`` is the result row shown as model row 0, and :meth:`TableModel.shift_window`
moves it (keeping selections and the current cell on the same result rows). The table view
drives the window with its own scroll bar.

Public API: :class:`TableModel`, the item roles (``VALUE_ROLE``, ``CELL_ROLE``, ``LOADING_ROLE``,
``TYPE_ROLE``, ``RENDER_ROLE``, ``PAINT_ROLE``, ``CHANGED_ROLE``, ``OTHER_TEXT_ROLE``,
``SIDE_ROLE``).
"""

from __future__ import annotations

import json
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import pyarrow as pa
from PySide6.QtCore import (
    QAbstractTableModel,
    QModelIndex,
    QObject,
    QPersistentModelIndex,
    Qt,
    Signal,
)

from desktopviz.app.state import CellRef
from desktopviz.app.table_state import TableState
from desktopviz.app.thumbnail_loader import JobQueue
from desktopviz.app.workers import Worker, run_in_worker
from desktopviz.errors import DesktopvizError
from desktopviz.formats.image_cells import ImageCell, image_cell
from desktopviz.formats.media import IMAGE_TYPE, class_set
from desktopviz.model import Version
from desktopviz.progress import CancelFn
from desktopviz.query.comparison import ComparisonSchema, Role
from desktopviz.query.display import ColumnInfo, column_info, display_text, tsv_field
from desktopviz.query.engine import QueryEngine, Result
from desktopviz.query.paging import (
    MAX_PAGES,
    PAGE_ROWS,
    ROW_LIMIT,
    Page,
    PageCache,
    Window,
    window_size,
)
from desktopviz.query.spec import QuerySpec

VALUE_ROLE = Qt.ItemDataRole.UserRole + 1
"""The cell's value as Python (media cells: the struct as a dict)."""
CELL_ROLE = Qt.ItemDataRole.UserRole + 2
"""An image cell's :class:`ImageCell` (None for other cells)."""
LOADING_ROLE = Qt.ItemDataRole.UserRole + 3
"""True while the cell's page is being read."""
TYPE_ROLE = Qt.ItemDataRole.UserRole + 4
"""Header: the column's type label (``int``, ``float``, ``str``, ``image``...)."""
RENDER_ROLE = Qt.ItemDataRole.UserRole + 5
"""How a cell is drawn: number, bool, text, nested, image, media, null, error, loading; in a
comparison status, and (merged view) pair / histograms for both sides of a column in one cell."""
PAINT_ROLE = Qt.ItemDataRole.UserRole + 6
"""``(render, text, changed)`` in one lookup (what painting a number or text cell needs;
``changed``: the cell differs between the two sides of a comparison)."""
CHANGED_ROLE = Qt.ItemDataRole.UserRole + 8
"""True for a cell of a comparison whose two sides differ (its row is in both)."""
OTHER_TEXT_ROLE = Qt.ItemDataRole.UserRole + 9
"""A changed string cell of a comparison: the other side's text (what its diff is against)."""
SIDE_ROLE = Qt.ItemDataRole.UserRole + 7
"""Header of a comparison: 0 or 1 for a side's column, None for the others."""


@dataclass(frozen=True)
class PairCell:
    """Both sides of a numeric pair (or of a group's histogram) in one cell of the merged
    view: values and texts, side 0 first, and the column's range over both tables (None until
    known; histograms share their bins instead)."""

    values: tuple[Any, Any]
    texts: tuple[str, str]
    span: tuple[float, float] | None


_HEADER_WORDS = {Role.STATUS: "status", Role.SIDE: "side"}
"""What a comparison's own columns are called in the header (others: their base column's name,
a delta's with Δ before it)."""
TOOLTIP_CHARS = 4000
NO_PARENT = QModelIndex()


class TableModel(QAbstractTableModel):
    """Rows of one table's query result, read page by page in a worker thread."""

    ready = Signal()
    """The result is open: columns and row count are known."""
    failed = Signal(str)
    """Opening the result or reading a page failed (the message)."""
    open_failed = Signal(object)
    """Opening the result failed (the exception; ``failed`` follows)."""
    opened = Signal(object)
    """The result now shown (after ``ready``)."""
    page_loaded = Signal(int)
    """A page arrived (its first result row)."""
    cancelled = Signal()
    """Opening a new result was cancelled: the rows shown (and ``spec``) are the old ones."""
    images_seen = Signal(list)
    """Image cells of a page that arrived (for legends)."""
    window_moved = Signal(int)
    """The window now starts at this result row."""

    def __init__(
        self,
        engine: QueryEngine,
        version: Version,
        table: str,
        spec: QuerySpec | None = None,
        *,
        row_limit: int = ROW_LIMIT,
        page_rows: int = PAGE_ROWS,
        max_pages: int = MAX_PAGES,
        parent: QObject | None = None,
    ) -> None:
        super().__init__(parent)
        self.engine = engine
        self.version = version
        self.table = table
        self.spec = spec or QuerySpec()
        self.row_limit = row_limit
        self.page_rows = page_rows
        self.result: Result | None = None
        self.columns: list[ColumnInfo] = []
        self.brush: tuple[int, float, float, int, float, float] | None = None
        """Column, range, column, range of the rows a scatter's brushing selected."""
        self.total_rows = 0
        """Rows of the result (after the query)."""
        self.table_rows = 0
        """Rows of the table before the query."""
        self.window_start = 0
        self._window_rows = 0
        self._row_height = 24
        self._pages = PageCache(page_rows, max_pages)
        self._viewport = (0, 0)
        self._generation = 0
        self._result_generation = -1
        self._changed_column: dict[int, int] = {}
        self._twin: dict[int, int] = {}
        """Column -> the other side's column of a comparison."""
        self.comparison = ComparisonSchema.plain([])
        """What each column of the result is (a side's value, a delta, a mark...)."""
        self._pair: dict[int, int] = {}
        """Side 0's column of a numeric pair -> side 1's: one cell shows both (merged view)."""
        self.side_by_side = False
        """Each side in its own table: a pair's columns show their own values."""
        self._ranges: tuple[Result | None, dict[str, tuple[float, float]]] = (None, {})
        """Column -> the column saying whether its cell changed (in a comparison)."""
        self.side_labels: dict[int, str] = {0: version.tag, 1: ""}
        """What the header calls each side of a comparison (``v1``, ``v0``)."""
        """The generation ``result`` belongs to (pages are asked for only when it is current)."""
        self._class_names: dict[str, dict[int, str]] = {}
        self._class_lock = threading.Lock()
        self._opening: Worker | None = None
        self.pages = JobQueue(self._read_page, threads=1, parent=self)
        self.pages.done.connect(self._on_page)
        self.pages.failed.connect(self._on_page_failed)

    # -- opening ------------------------------------------------------------------------------
    def load(self) -> None:
        """Open the result in a worker (``ready`` or ``failed`` follows); an open still under
        way for an older spec is cancelled (its query would keep the engine from this one)."""
        self._generation += 1
        generation = self._generation
        spec = self.spec
        if self._opening is not None:
            self._opening.cancel()
        self._opening = run_in_worker(
            self._open_in_worker,
            spec,
            on_result=lambda opened: self._opened(generation, opened),
            on_error=lambda exc: self._open_failed(generation, exc),
        )

    @property
    def opening(self) -> bool:
        """Whether a new result is being opened (the rows shown are the previous one's)."""
        return self._result_generation != self._generation

    def cancel_open(self) -> bool:
        """Stop opening the new result (its query is interrupted, or never starts): the rows
        shown stay, ``spec`` goes back to theirs, and ``cancelled`` is emitted. False when
        nothing was opening."""
        worker = self._opening
        if worker is None or worker.is_done or not self.opening:
            return False
        worker.cancel()
        self._generation += 1  # a result that still arrives is dropped
        if self.result is not None:
            self._result_generation = self._generation  # the rows shown go on paging
            self.spec = self.result.spec
        self.cancelled.emit()
        self.set_viewport(*self._viewport)  # pages the cancelled open held back
        return True

    def _open_in_worker(
        self, spec: QuerySpec, *, cancel: CancelFn
    ) -> tuple[Result, list[ColumnInfo], int]:
        with self.engine.cancelling(cancel):  # Worker.cancel() interrupts its statements
            return self._open(spec)

    def set_spec(self, spec: QuerySpec) -> None:
        """Show the rows of another query on the same table (filter, sort, ...): the current rows
        stay until the new result is open (``ready``), or ``failed`` says why it cannot be."""
        if spec != self.spec:
            self.spec = spec
            self.load()

    def bind(self, table: TableState) -> None:
        """Follow ``table``: its spec is what this model opens, its brush what it marks; the
        result opened (or the failure, or a cancel) goes back to it."""
        # bound methods only: a connection dies with either end (a lambda would outlive them)
        table.spec_changed.connect(self.set_spec)
        table.brush_changed.connect(self.set_brush)
        self.opened.connect(table.show_result)
        self.open_failed.connect(table.fail_with)
        self.cancelled.connect(table.cancel_done)

    def load_now(self) -> None:
        """Open the result in this thread (benchmarks, small tables)."""
        self._generation += 1
        self._opened(self._generation, self._open(self.spec))

    def _open(self, spec: QuerySpec) -> tuple[Result, list[ColumnInfo], int]:
        result = self.engine.result(self.version, self.table, spec)
        group_table = getattr(result, "table", None)
        if isinstance(group_table, pa.Table):  # one row per group: its own columns and types
            types = {f.name: f.type for f in group_table.schema}
        else:
            types = result.relation.types()
        columns = [
            column_info(name, result.kinds.get(name, "plain"), types.get(name))
            for name in result.columns
        ]
        table_rows = result.relation.num_rows
        if table_rows < 0 and isinstance(group_table, pa.Table):  # groups of a comparison
            table_rows = sum(group_table.column("count").to_pylist())  # the rows grouped
        return result, columns, table_rows if table_rows >= 0 else result.num_rows

    def _opened(self, generation: int, opened: tuple[Result, list[ColumnInfo], int]) -> None:
        if generation != self._generation:
            return
        self.beginResetModel()
        self._result_generation = generation
        self.result, self.columns, self.table_rows = opened
        self.brush = None
        self._show_comparison()
        if self.spec.compare is not None:
            other = self.spec.compare.ref.rpartition(":")[2] or self.spec.compare.ref
            self.side_labels = {0: self.version.tag, 1: other}
        self.total_rows = self.result.num_rows
        self.window_start = 0
        self._window_rows = self._window_size()
        self._pages.clear()
        self.endResetModel()
        self.ready.emit()
        self.opened.emit(self.result)

    def _show_comparison(self) -> None:
        """Which columns mark, twin and pair which, from the result's comparison schema."""
        schema = self.comparison = self.result.comparison if self.result else self.comparison
        index = {c.name: i for i, c in enumerate(self.columns)}

        def at(name: str | None) -> int | None:
            return index.get(name) if name is not None else None

        self._changed_column = {
            i: m for i, c in enumerate(self.columns) if (m := at(schema.changed_mark(c.name)))
        }
        self._twin = {
            i: t for i, c in enumerate(self.columns) if (t := at(schema.twin(c.name))) is not None
        }
        self._pair = {
            i: t
            for i, t in self._twin.items()
            if schema.column(self.columns[i].name).side == 0
            and self.columns[i].render == self.columns[t].render
            and self.columns[i].render in ("number", "histogram")
        }

    def set_side_by_side(self, on: bool) -> None:
        """Each side in its own table (on: a pair's columns show their own values) or merged
        (a pair's side-0 cell shows both, its twin is hidden: :meth:`hidden_in_view`)."""
        if on != self.side_by_side:
            self.side_by_side = on
            for page in self._pages:  # their paint tuples say pair or number
                page.paint.clear()
            if self.rowCount() and self.columnCount():
                self.dataChanged.emit(
                    self.index(0, 0), self.index(self.rowCount() - 1, self.columnCount() - 1)
                )

    def merged_pair(self, column: int) -> bool:
        """Whether ``column`` is side 0's of a pair and shows both sides (the merged view)."""
        return not self.side_by_side and column in self._pair

    def pair_cell(self, model_row: int, column: int) -> PairCell | None:
        """What a merged pair's cell shows (None while its page loads)."""
        twin = self._pair.get(column)
        page = self._pages.page(self.window_start + model_row)
        if twin is None or page is None or page.error is not None:
            return None
        i = self.window_start + model_row - page.start
        result, ranges = self._ranges
        base = self.comparison.column(self.columns[column].name).base
        return PairCell(
            (page.values[column][i], page.values[twin][i]),
            (page.texts[column][i], page.texts[twin][i]),
            ranges.get(base) if result is self.result else None,
        )

    def hidden_in_view(self, column: int, side: int | None = None) -> bool:
        """Whether a table hides ``column``: the merged view (``side`` None) hides a
        comparison's marks and the twin of a pair (its side-0 cell shows both); side by side,
        the table of side ``side`` shows that side's values and the shared columns (key,
        status), not the other side's values nor the deltas."""
        c = self.comparison.column(self.columns[column].name)
        if c.hidden:
            return True
        if side is None:
            return not self.side_by_side and column in self._pair.values()
        return c.side == 1 - side or c.role is Role.DELTA

    def _open_failed(self, generation: int, exc: BaseException) -> None:
        if generation == self._generation:
            self.open_failed.emit(exc)
            self.failed.emit(str(exc))

    # -- shape --------------------------------------------------------------------------------
    def rowCount(self, parent: QModelIndex | QPersistentModelIndex = NO_PARENT) -> int:  # noqa: N802
        return 0 if parent.isValid() else self._window_rows

    def columnCount(self, parent: QModelIndex | QPersistentModelIndex = NO_PARENT) -> int:  # noqa: N802
        return 0 if parent.isValid() else len(self.columns)

    def _window_size(self) -> int:
        return window_size(self.total_rows, self.row_limit, self._row_height)

    @property
    def _window(self) -> Window:
        return Window(self.window_start, self._window_rows, self.total_rows)

    @property
    def windowed(self) -> bool:
        """Whether only a window of the result's rows is exposed to Qt."""
        return self._window_rows < self.total_rows

    @property
    def window_rows(self) -> int:
        """How many rows the window holds (all rows when not windowed)."""
        return self._window_rows

    def set_row_height(self, pixels: int) -> None:
        """Tell the model the view's row height (the window must fit in Qt's pixel range)."""
        self._row_height = max(1, pixels)
        size = self._window_size()
        if size != self._window_rows:
            self.beginResetModel()
            window = self._window.resized(size)
            self.window_start, self._window_rows = window.start, window.rows
            self.endResetModel()

    def result_row(self, model_row: int) -> int:
        """The result row shown at a model row."""
        return self._window.result_row(model_row)

    def model_row(self, result_row: int) -> int | None:
        """The model row showing a result row (None when outside the window)."""
        return self._window.view_row(result_row)

    def shift_window(self, start: int) -> None:
        """Show result rows ``start ..`` as model rows ``0 ..`` (clamped); indexes follow rows."""
        window = self._window
        moved = window.moved(start)
        if moved.start == window.start:
            return
        self.layoutAboutToBeChanged.emit()
        old = self.persistentIndexList()
        new = []
        for index in old:
            row = window.follow(index.row(), moved)
            new.append(self.index(row, index.column()) if row is not None else QModelIndex())
        self.window_start = start = moved.start
        self.changePersistentIndexList(old, new)
        self.layoutChanged.emit()
        if self._window_rows:
            self.headerDataChanged.emit(Qt.Orientation.Vertical, 0, self._window_rows - 1)
        self.window_moved.emit(start)

    def ensure_in_window(self, result_row: int, margin: int = 0) -> int:
        """Move the window (to centre on ``result_row``) if the row is not inside it with
        ``margin`` rows to spare; return its model row."""
        window, row = self._window.centred_on(result_row, margin)
        self.shift_window(window.start)
        return row

    # -- data -----------------------------------------------------------------------------------
    def headerData(  # noqa: N802 - Qt override
        self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole
    ) -> Any:
        if orientation == Qt.Orientation.Vertical:
            if role == Qt.ItemDataRole.DisplayRole:
                return str(self.window_start + section)
            if role == Qt.ItemDataRole.TextAlignmentRole:
                return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
            return None
        if not 0 <= section < len(self.columns):
            return None
        column = self.columns[section]
        compared = self.comparison.column(column.name)
        if role == Qt.ItemDataRole.DisplayRole:
            if compared.role is Role.DELTA:
                return f"Δ {compared.base}"
            return _HEADER_WORDS.get(compared.role, compared.base)
        if role == TYPE_ROLE:
            if self.merged_pair(section):
                return f"{self.side_labels[0]} · {self.side_labels[1]} · {column.label}"
            side = compared.side
            return (
                f"{self.side_labels[side]} · {column.label}" if side is not None else column.label
            )
        if role == SIDE_ROLE:
            return None if self.merged_pair(section) else compared.side
        if role == Qt.ItemDataRole.ToolTipRole:
            return f"{column.name}\n{column.arrow_type} ({column.kind})"
        if role == Qt.ItemDataRole.TextAlignmentRole:
            align = Qt.AlignmentFlag.AlignLeft
            if column.render == "number":
                align = Qt.AlignmentFlag.AlignRight
            return int(align | Qt.AlignmentFlag.AlignVCenter)
        return None

    def data(
        self, index: QModelIndex | QPersistentModelIndex, role: int = Qt.ItemDataRole.DisplayRole
    ) -> Any:
        if not index.isValid():
            return None
        row = self.window_start + index.row()
        col = index.column()
        page = self._pages.page(row)
        if page is None:
            self._request(self._pages.start_of(row))
            if role == LOADING_ROLE:
                return True
            if role == RENDER_ROLE:
                return "loading"
            if role == PAINT_ROLE:
                return ("loading", "", False)
            return None
        if role == PAINT_ROLE and page.error is None:
            return self._page_paint(page, col)[row - page.start]
        column = self.columns[col]
        if page.error is not None:
            if role in (Qt.ItemDataRole.DisplayRole, Qt.ItemDataRole.ToolTipRole):
                return page.error
            if role == PAINT_ROLE:
                return ("error", page.error, False)
            return "error" if role == RENDER_ROLE else None
        i = row - page.start
        if role == Qt.ItemDataRole.DisplayRole:
            return page.texts[col][i]
        if role == VALUE_ROLE:
            return page.values[col][i]
        if role == RENDER_ROLE:
            return self._paint_tuple(page, col, i)[0]
        if role == CHANGED_ROLE:
            flag = self._changed_column.get(col)
            return bool(flag is not None and page.values[flag][i])
        if role == OTHER_TEXT_ROLE:
            twin = self._twin.get(col)
            return page.texts[twin][i] if twin is not None else None
        if role == CELL_ROLE:
            cells = page.cells.get(col)
            return cells[i] if cells is not None else None
        if role == Qt.ItemDataRole.ToolTipRole:
            return self._tooltip(page, col, i)
        if role == Qt.ItemDataRole.TextAlignmentRole:
            if column.render == "number":
                return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
            if column.render == "bool":
                return int(Qt.AlignmentFlag.AlignCenter)
            return int(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter)
        if role == LOADING_ROLE:
            return False
        return None

    def set_brush(
        self, brush: tuple[str, tuple[float, float], str, tuple[float, float]] | None
    ) -> None:
        """Mark the rows whose ``x`` and ``y`` columns fall in the ranges (``(x, (lo, hi), y,
        (lo, hi))``; None clears it): a scatter's brushing selects them."""
        names = [c.name for c in self.columns]
        if brush is not None and (brush[0] not in names or brush[2] not in names):
            brush = None
        self.brush = (
            None
            if brush is None
            else (names.index(brush[0]), *brush[1], names.index(brush[2]), *brush[3])
        )
        if self.rowCount() and self.columnCount():
            self.dataChanged.emit(
                self.index(0, 0), self.index(self.rowCount() - 1, self.columnCount() - 1)
            )

    def brushed(self, model_row: int) -> bool:
        """Whether the row is inside the brush (False while its page loads)."""
        brush = self.brush
        if brush is None:
            return False
        row = self.window_start + model_row
        page = self._pages.page(row)
        if page is None or page.error is not None:
            return False
        xi, x0, x1, yi, y0, y1 = brush
        x, y = page.values[xi][row - page.start], page.values[yi][row - page.start]
        try:
            return x is not None and y is not None and x0 <= x <= x1 and y0 <= y <= y1
        except TypeError:
            return False

    def paint_at(self, model_row: int, col: int) -> tuple[str, str, bool]:
        """What painting a cell needs, ``data(index, PAINT_ROLE)`` without the trip through
        Qt (the delegate calls it for every cell it paints)."""
        row = self.window_start + model_row
        page = self._pages.page(row)
        if page is None or page.error is not None:
            return self.data(self.index(model_row, col), PAINT_ROLE)
        return self._page_paint(page, col)[row - page.start]

    def _page_paint(self, page: Page, col: int) -> list[tuple[str, str, bool]]:
        """The paint tuples of one column of a page (made on its first paint, then kept)."""
        tuples = page.paint.get(col)
        if tuples is None:
            tuples = page.paint[col] = [
                self._paint_tuple(page, col, i) for i in range(page.row_count)
            ]
        return tuples

    def _paint_tuple(self, page: Page, col: int, i: int) -> tuple[str, str, bool]:
        """(how the cell is drawn, its text, whether it changed in a comparison)."""
        column = self.columns[col]
        value = page.values[col][i]
        if col in self._pair and not self.side_by_side:  # both sides in one cell
            render = "pair" if column.render == "number" else "histograms"
        elif value is None:
            render = "null"
        elif column.render == "media" and col in page.cells and page.cells[col][i] is not None:
            render = "image"
        elif column.render == "gallery" and not page.cells.get(col, [None] * (i + 1))[i]:
            render = "nested"
        elif self.comparison.column(column.name).role is Role.STATUS:
            render = "status"
        else:
            render = column.render
        flag = self._changed_column.get(col)
        return (render, page.texts[col][i], bool(flag is not None and page.values[flag][i]))

    def _tooltip(self, page: Page, col: int, i: int) -> str | None:
        value = page.values[col][i]
        column = self.columns[col]
        if value is None:
            return "null"
        if column.render == "media" and isinstance(value, dict):
            parts = [value.get("caption") or "", value.get("path") or ""]
            if value.get("width") and value.get("height"):
                parts.append(f"{value['width']} × {value['height']} px")
            return "\n".join(p for p in parts if p)
        if column.render in ("text", "nested"):
            text = value if isinstance(value, str) else json.dumps(value, default=str, indent=1)
            return text if len(text) <= TOOLTIP_CHARS else text[:TOOLTIP_CHARS] + "…"
        if column.render == "number" and isinstance(value, float):
            return repr(value)
        return None

    def value(self, index: QModelIndex) -> Any:
        """A cell's value (None when its page is not loaded)."""
        return self.data(index, VALUE_ROLE)

    def cell_ref(self, index: QModelIndex) -> CellRef | None:
        """The selected-cell record for the state (None while the cell's page loads)."""
        if not index.isValid() or self.data(index, LOADING_ROLE):
            return None
        column = self.columns[index.column()]
        other = None
        if self.data(index, CHANGED_ROLE):
            twin = self.other_side(index.column())
            if twin is not None:
                other = self.value(self.index(index.row(), twin))
        return CellRef(
            version=self.version,
            table=self.table,
            row=self.result_row(index.row()),
            column=column.name,
            value=self.value(index),
            kind=column.kind,
            arrow_type=str(column.arrow_type),
            other=other,
            side=self.comparison.column(column.name).side,
        )

    def other_side(self, column: int) -> int | None:
        """The column of the other side of a comparison (``0.x`` <-> ``1.x``), if any."""
        return self._twin.get(column)

    @property
    def has_images(self) -> bool:
        """Whether any column holds media (thumbnails may be drawn)."""
        return any(c.render in ("media", "gallery") for c in self.columns)

    def cached_row_count(self) -> int:
        """Rows held in the page cache now."""
        return self._pages.cached_rows()

    def sample_texts(self, column: int, count: int = 64) -> list[str]:
        """Display texts of a column from the first cached page (for sizing columns)."""
        page = self._pages.first()
        return page.texts[column][:count] if page is not None and page.error is None else []

    def is_loaded(self, result_row: int) -> bool:
        """Whether the page holding a result row is in the cache."""
        return self._pages.page(result_row) is not None

    # -- pages ----------------------------------------------------------------------------------
    def set_viewport(self, first: int, last: int) -> None:
        """The result rows on screen: fetch their pages (and one on each side), forget queued
        pages far from them."""
        if self.result is None or self.total_rows == 0:
            return
        self._viewport = (first, last)
        order, wanted = self._pages.plan(first, last, self.total_rows)
        generation = self._generation
        self.pages.retain(lambda key: key[0] == generation and wanted(key[1]))
        for page_start in order:  # the last submitted (a page on screen) is read first
            self._request(page_start)

    def _request(self, page_start: int) -> None:
        if (
            self.result is not None
            and self._result_generation == self._generation  # not while another result opens
            and page_start not in self._pages
            and page_start < self.total_rows
        ):
            self.pages.submit((self._generation, page_start))

    def _read_page(self, key: tuple[int, int]) -> tuple[int, Page]:
        """Runs in a worker thread: read rows and make their texts and image cells."""
        generation, start = key
        result = self.result
        if result is None:
            raise DesktopvizError("no result")
        count = min(self.page_rows, self.total_rows - start)
        table = result.rows(start, count)
        pairs = result.relation.pairs
        if self._pair and pairs is not None and self._ranges[0] is not result:
            self._ranges = (result, pairs.value_ranges(self.engine))  # footers: no scan
        values, texts, cells = [], [], {}
        for col, column in enumerate(self.columns):
            vals = table.column(column.name).to_pylist()
            values.append(vals)
            texts.append([display_text(v, column) for v in vals])
            if column.kind == "media":
                cells[col] = [self._image_cell(v) for v in vals]
            elif column.kind == "media_list":
                cells[col] = [
                    [c for c in (self._image_cell(v) for v in (items or [])) if c is not None]
                    or None
                    for items in vals
                ]
        return generation, Page(start, values, texts, cells)

    def _image_cell(self, record: dict[str, Any] | None) -> ImageCell | None:
        if not record or record.get("_type") != IMAGE_TYPE:
            return None
        classes = record.get("classes")
        return image_cell(record, self._classes(classes) if classes else None)

    def _classes(self, path: str) -> dict[int, str]:
        with self._class_lock:
            if path in self._class_names:
                return self._class_names[path]
        try:
            names = class_set(
                json.loads(self.engine.cache.file_path(self.version, path).read_text())
            )
        except (DesktopvizError, OSError, ValueError):
            names = {}
        with self._class_lock:
            self._class_names[path] = names
        return names

    def _on_page(self, key: tuple[int, int], loaded: tuple[int, Page]) -> None:
        generation, page = loaded
        if generation != self._generation:
            return
        self._pages.add(page, self._viewport)
        self._page_changed(page.start, page.row_count)
        if page.cells:
            self.images_seen.emit(page.images())
        self.page_loaded.emit(page.start)

    def _on_page_failed(self, key: tuple[int, int], error: Exception) -> None:
        generation, start = key
        if generation != self._generation:
            return
        count = min(self.page_rows, self.total_rows - start)
        message = f"could not read rows {start:,}–{start + count - 1:,}: {error}"
        self._pages.add(Page(start, [], [], {}, error=message))
        self._page_changed(start, count)
        self.failed.emit(message)

    def _page_changed(self, start: int, count: int) -> None:
        rows = self._window.view_rows(start, count)
        if rows and self.columns:
            last = self.index(rows[-1], len(self.columns) - 1)
            self.dataChanged.emit(self.index(rows[0], 0), last)

    # -- copying ---------------------------------------------------------------------------------
    def rows_as_tsv(self, rows: Sequence[int], columns: Sequence[int], header: bool = False) -> str:
        """Result rows x columns as TSV (reads pages not in the cache; call off the UI thread
        for large selections)."""
        if self.result is None or not rows or not columns:
            return ""
        cols = [self.columns[c] for c in columns]
        lines = ["\t".join(c.name for c in cols)] if header else []
        ordered = sorted(set(rows))
        wanted = set(ordered)
        first = ordered[0]
        chunk = 4096
        while first <= ordered[-1]:
            table = self.result.rows(first, chunk, [c.name for c in cols])
            data = [table.column(i).to_pylist() for i in range(len(cols))]
            for i in range(table.num_rows):
                if first + i in wanted:
                    lines.append(
                        "\t".join(tsv_field(d[i], c) for d, c in zip(data, cols, strict=True))
                    )
            first = next((r for r in ordered if r >= first + chunk), ordered[-1] + 1)
        return "\n".join(lines)

    def close(self) -> None:
        """Stop reading pages (waits for a read under way: the engine may be closed next)."""
        self._generation += 1
        self.pages.close()
        if self._opening is not None:
            self._opening.wait()
