"""A virtual table model over a query result: pages of rows fetched around the viewport.

The model never holds all rows: pages of ``page_rows`` rows are read by a worker thread (the
query engine's ``Result.rows``), turned into display texts and image cells there, and kept in a
small page cache (at most ``max_pages`` pages, the ones farthest from the viewport dropped first).
``data()`` is a lookup in a cached page; a row whose page is still loading shows a placeholder.

Qt's item views address rows with ints and lay them out in int pixels, so beyond ``row_limit``
rows (or what fits in 2**31 pixels at the row height) the model exposes a *window* of rows:
``window_start`` is the result row shown as model row 0, and :meth:`TableModel.shift_window`
moves it (keeping selections and the current cell on the same result rows). The table view
drives the window with its own scroll bar.

Public API: :class:`TableModel`, :class:`ColumnInfo`, the item roles (``VALUE_ROLE``,
``CELL_ROLE``, ``LOADING_ROLE``, ``TYPE_ROLE``, ``RENDER_ROLE``), :func:`display_text`,
:func:`tsv_field`, :func:`type_label`.
"""

from __future__ import annotations

import json
import math
import threading
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time
from decimal import Decimal
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
from desktopviz.app.thumbnail_loader import JobQueue
from desktopviz.app.widgets.overlays import ImageCell, image_cell
from desktopviz.app.workers import Worker, run_in_worker
from desktopviz.errors import DesktopvizError
from desktopviz.formats.media import IMAGE_TYPE, class_set
from desktopviz.model import Version
from desktopviz.query.engine import QueryEngine, Result
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
"""How a cell is drawn: number, bool, text, nested, image, media, null, error, loading."""
PAINT_ROLE = Qt.ItemDataRole.UserRole + 6
"""``(render, text, changed)`` in one lookup (what painting a number or text cell needs;
``changed``: the cell differs between the two sides of a comparison)."""
CHANGED_ROLE = Qt.ItemDataRole.UserRole + 8
"""True for a cell of a comparison whose two sides differ (its row is in both)."""
OTHER_TEXT_ROLE = Qt.ItemDataRole.UserRole + 9
"""A changed string cell of a comparison: the other side's text (what its diff is against)."""
SIDE_ROLE = Qt.ItemDataRole.UserRole + 7
"""Header of a comparison: 0 or 1 for a side's column, None for the others."""
HIDDEN_PREFIXES = ("changed.",)
HIDDEN_COLUMNS = ("__changed",)
"""Comparison columns the view hides (they colour the cells instead)."""


def hidden_in_comparison(name: str) -> bool:
    """Whether a comparison's column is a helper the view hides (it colours cells instead)."""
    return name in HIDDEN_COLUMNS or name.startswith(HIDDEN_PREFIXES)


def compare_side(name: str) -> int | None:
    """0 or 1 for a column of one side of a comparison (``0.score``), else None."""
    if name[:2] in ("0.", "1."):
        return int(name[0])
    return None


def compare_base(name: str) -> str:
    """``score`` for ``0.score``, ``1.score``, ``delta.score`` and ``changed.score``."""
    prefix, dot, base = name.partition(".")
    return base if dot and prefix in ("0", "1", "delta", "changed") else name


PAGE_ROWS = 128
MAX_PAGES = 24
ROW_LIMIT = 2_000_000
"""Rows exposed to Qt at most (the window); larger results are windowed."""
PIXEL_LIMIT = 2**31 - 1
MIN_WINDOW = 200
MAX_DISPLAY_CHARS = 500
TOOLTIP_CHARS = 4000
NO_PARENT = QModelIndex()


@dataclass(frozen=True)
class ColumnInfo:
    """A column as the view needs it: name, kind (plain/media/json/...), Arrow type, how its
    cells are drawn, and the type label shown in the header."""

    name: str
    kind: str
    arrow_type: pa.DataType | None
    render: str
    label: str


def column_info(name: str, kind: str, arrow_type: pa.DataType | None) -> ColumnInfo:
    """Describe a column from its kind and Arrow type."""
    if kind == "media":
        render = "media"
    elif kind == "media_list":
        render = "gallery"
    elif is_histogram(arrow_type):
        render = "histogram"
    elif kind == "json":
        render = "nested"
    elif arrow_type is None:
        render = "text"
    elif pa.types.is_boolean(arrow_type):
        render = "bool"
    elif pa.types.is_integer(arrow_type) or pa.types.is_floating(arrow_type):
        render = "number"
    elif pa.types.is_decimal(arrow_type):
        render = "number"
    elif pa.types.is_nested(arrow_type):
        render = "nested"
    else:
        render = "text"
    return ColumnInfo(name, kind, arrow_type, render, type_label(kind, arrow_type))


def is_histogram(arrow_type: pa.DataType | None) -> bool:
    """A grouped numeric column: a struct of min, mean, max and histogram (bin counts)."""
    return (
        arrow_type is not None
        and pa.types.is_struct(arrow_type)
        and arrow_type.get_field_index("histogram") >= 0
        and arrow_type.get_field_index("mean") >= 0
    )


def type_label(kind: str, arrow_type: pa.DataType | None) -> str:
    """A short type name for a header: int, float, str, bool, list[float], dict, image..."""
    if kind == "media":
        return "media"
    if kind == "media_list":
        return "gallery"
    if is_histogram(arrow_type):
        return "histogram"
    if kind in ("json", "ndarray"):
        return kind
    t = arrow_type
    if t is None:
        return "?"
    if pa.types.is_boolean(t):
        return "bool"
    if pa.types.is_integer(t):
        return "int"
    if pa.types.is_decimal(t):
        return "int" if t.scale == 0 else "decimal"  # int: integers beyond 64 bits, kept exact
    if pa.types.is_floating(t):
        return "float"
    if pa.types.is_string(t) or pa.types.is_large_string(t):
        return "str"
    if pa.types.is_timestamp(t):
        return "time"
    if pa.types.is_date(t):
        return "date"
    if pa.types.is_list(t) or pa.types.is_large_list(t) or pa.types.is_fixed_size_list(t):
        return f"list[{type_label('plain', t.value_type)}]"
    if pa.types.is_struct(t):
        return "dict"
    if pa.types.is_map(t):
        return "map"
    if pa.types.is_binary(t) or pa.types.is_large_binary(t):
        return "bytes"
    if pa.types.is_null(t):
        return "null"
    return str(t)


def format_number(value: float | int | Decimal) -> str:
    """Numbers for cells: ints (and exact decimals) as they are, floats to 4 decimals (scientific
    when huge or tiny)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | Decimal):
        return str(value)
    if math.isnan(value):
        return "NaN"
    if math.isinf(value):
        return "∞" if value > 0 else "-∞"
    magnitude = abs(value)
    if magnitude and (magnitude >= 1e9 or magnitude < 1e-4):
        return f"{value:.3e}"
    return f"{value:.4f}"


def compact(value: Any, limit: int = MAX_DISPLAY_CHARS) -> str:
    """A nested value on one line: ``{a: 1, b: [1, 2]}``, cut at ``limit`` characters."""
    parts: list[str] = []
    size = 0

    def add(text: str) -> bool:
        nonlocal size
        parts.append(text)
        size += len(text)
        return size < limit

    def walk(v: Any) -> bool:
        if isinstance(v, dict):
            if not add("{"):
                return False
            for i, (k, x) in enumerate(v.items()):
                if (i and not add(", ")) or not add(f"{k}: ") or not walk(x):
                    return False
            return add("}")
        if isinstance(v, list | tuple):
            if not add("["):
                return False
            for i, x in enumerate(v):
                if (i and not add(", ")) or not walk(x):
                    return False
            return add("]")
        if isinstance(v, float):
            text = f"{v:.6g}"
            return add(text + ".0" if text.lstrip("-").isdigit() else text)
        if v is None:
            return add("null")
        if isinstance(v, bool):
            return add("true" if v else "false")
        return add(str(v))

    if walk(value):
        return "".join(parts)
    return "".join(parts)[:limit] + "…"


def display_text(value: Any, column: ColumnInfo) -> str:
    """The one-line text of a cell (what the view paints and tooltips start from)."""
    if value is None:
        return ""
    render = column.render
    if render == "number":
        return format_number(value)
    if render == "bool":
        return "true" if value else "false"
    if render == "gallery":
        return f"[{len(value)} items]"
    if render == "histogram":
        lo, mean, hi = value.get("min"), value.get("mean"), value.get("max")
        if mean is None:
            return ""
        return f"{format_number(lo)} … {format_number(hi)}, mean {format_number(mean)}"
    if render == "media":
        if value.get("caption"):
            return value["caption"]
        name = (value.get("path") or "").rsplit("/", 1)[-1]
        kind = (value.get("_type") or "media").removesuffix("-file")
        return f"{kind} · {name}" if name else kind
    if render == "nested":
        if column.kind == "json" and isinstance(value, str):
            try:
                value = json.loads(value)
            except ValueError:
                return value[:MAX_DISPLAY_CHARS]
        return compact(value)
    if isinstance(value, datetime | date | time):
        return value.isoformat()
    if isinstance(value, bytes):
        return f"<{len(value):,} bytes>"
    text = str(value)
    if len(text) > MAX_DISPLAY_CHARS:
        text = text[:MAX_DISPLAY_CHARS] + "…"
    return text.replace("\r\n", " ⏎ ").replace("\n", " ⏎ ").replace("\t", " ")


def tsv_field(value: Any, column: ColumnInfo) -> str:
    """A cell as one TSV field: full precision, media as their artifact path, nested as JSON;
    quoted (quotes doubled) when it holds a tab or newline or starts with a quote, as
    spreadsheets read it."""
    if value is None:
        return ""
    if column.render == "bool":
        text = "true" if value else "false"
    elif column.render == "number":
        text = repr(value) if isinstance(value, float) else str(value)
    elif column.render == "media" and isinstance(value, dict):
        text = value.get("path") or value.get("json") or ""
    elif column.render == "nested" and not isinstance(value, str):
        text = json.dumps(value, ensure_ascii=False, default=str)
    else:
        text = str(value)
    if any(c in text for c in "\t\n\r") or text.startswith('"'):
        text = '"' + text.replace('"', '""') + '"'
    return text


@dataclass
class Page:
    """Rows ``start .. start+len`` of the result: values and display texts per column."""

    start: int
    values: list[list[Any]]
    texts: list[list[str]]
    cells: dict[int, list[ImageCell | None]]
    error: str | None = None
    paint: dict[int, list[tuple[str, str, bool]]] = field(default_factory=dict)
    """Per column, what painting needs of each row (made on first paint)."""

    @property
    def row_count(self) -> int:
        """How many rows the page holds."""
        return len(self.values[0]) if self.values else 0


class TableModel(QAbstractTableModel):
    """Rows of one table's query result, read page by page in a worker thread."""

    ready = Signal()
    """The result is open: columns and row count are known."""
    failed = Signal(str)
    """Opening the result or reading a page failed (the message)."""
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
        self.row_limit = max(MIN_WINDOW, row_limit)
        self.page_rows = page_rows
        self.max_pages = max(4, max_pages)
        self.result: Result | None = None
        self._open_lock = threading.Lock()
        self._open_thread: int | None = None
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
        self._pages: dict[int, Page] = {}
        self._viewport = (0, 0)
        self._generation = 0
        self._result_generation = -1
        self._changed_column: dict[int, int] = {}
        self._twin: dict[int, int] = {}
        """Column -> the other side's column of a comparison."""
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
        """Open the result in a worker (``ready`` or ``failed`` follows)."""
        self._generation += 1
        generation = self._generation
        spec = self.spec
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
        with self._open_lock:
            thread = self._open_thread
            if thread is None or not self.opening:
                return False
            self.engine.stop(thread)
        self._generation += 1  # a result that still arrives is dropped
        if self.result is not None:
            self._result_generation = self._generation  # the rows shown go on paging
            self.spec = self.result.spec
        self.cancelled.emit()
        self.set_viewport(*self._viewport)  # pages the cancelled open held back
        return True

    def _open_in_worker(self, spec: QuerySpec) -> tuple[Result, list[ColumnInfo], int]:
        me = threading.get_ident()
        with self._open_lock:
            self._open_thread = me
        try:
            return self._open(spec)
        finally:
            with self._open_lock:
                self._open_thread = None
                self.engine.allow(me)

    def set_spec(self, spec: QuerySpec) -> None:
        """Show the rows of another query on the same table (filter, sort, ...): the current rows
        stay until the new result is open (``ready``), or ``failed`` says why it cannot be."""
        if spec != self.spec:
            self.spec = spec
            self.load()

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
        return result, columns, table_rows if table_rows >= 0 else result.num_rows

    def _opened(self, generation: int, opened: tuple[Result, list[ColumnInfo], int]) -> None:
        if generation != self._generation:
            return
        self.beginResetModel()
        self._result_generation = generation
        self.result, self.columns, self.table_rows = opened
        self.brush = None
        index = {c.name: i for i, c in enumerate(self.columns)}
        self._changed_column = {
            i: index[f"changed.{compare_base(c.name)}"]
            for i, c in enumerate(self.columns)
            if c.name[:2] in ("0.", "1.") or c.name.startswith("delta.")
            if f"changed.{compare_base(c.name)}" in index
        }
        self._twin = {
            i: t for i in range(len(self.columns)) if (t := self.other_side(i)) is not None
        }
        if self.spec.compare is not None:
            other = self.spec.compare.ref.rpartition(":")[2] or self.spec.compare.ref
            self.side_labels = {0: self.version.tag, 1: other}
        self.total_rows = self.result.num_rows
        self.window_start = 0
        self._window_rows = self._window_size()
        self._pages.clear()
        self.endResetModel()
        self.ready.emit()

    def _open_failed(self, generation: int, exc: BaseException) -> None:
        if generation == self._generation:
            self.failed.emit(str(exc))

    # -- shape --------------------------------------------------------------------------------
    def rowCount(self, parent: QModelIndex | QPersistentModelIndex = NO_PARENT) -> int:  # noqa: N802
        return 0 if parent.isValid() else self._window_rows

    def columnCount(self, parent: QModelIndex | QPersistentModelIndex = NO_PARENT) -> int:  # noqa: N802
        return 0 if parent.isValid() else len(self.columns)

    def _window_size(self) -> int:
        fits = PIXEL_LIMIT // max(1, self._row_height) // 2
        return min(self.total_rows, max(MIN_WINDOW, min(self.row_limit, fits)))

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
            self._window_rows = size
            self.window_start = min(self.window_start, max(0, self.total_rows - size))
            self.endResetModel()

    def result_row(self, model_row: int) -> int:
        """The result row shown at a model row."""
        return self.window_start + model_row

    def model_row(self, result_row: int) -> int | None:
        """The model row showing a result row (None when outside the window)."""
        row = result_row - self.window_start
        return row if 0 <= row < self._window_rows else None

    def shift_window(self, start: int) -> None:
        """Show result rows ``start ..`` as model rows ``0 ..`` (clamped); indexes follow rows."""
        start = max(0, min(start, self.total_rows - self._window_rows))
        if start == self.window_start:
            return
        self.layoutAboutToBeChanged.emit()
        old = self.persistentIndexList()
        new = []
        for index in old:
            row = index.row() + self.window_start - start
            valid = 0 <= row < self._window_rows
            new.append(self.index(row, index.column()) if valid else QModelIndex())
        self.window_start = start
        self.changePersistentIndexList(old, new)
        self.layoutChanged.emit()
        if self._window_rows:
            self.headerDataChanged.emit(Qt.Orientation.Vertical, 0, self._window_rows - 1)
        self.window_moved.emit(start)

    def ensure_in_window(self, result_row: int, margin: int = 0) -> int:
        """Move the window (to centre on ``result_row``) if the row is not inside it with
        ``margin`` rows to spare; return its model row."""
        result_row = max(0, min(result_row, self.total_rows - 1))
        low = self.window_start + (margin if self.window_start > 0 else 0)
        end = self.window_start + self._window_rows
        high = end - (margin if end < self.total_rows else 0)
        if not low <= result_row < high:
            self.shift_window(result_row - self._window_rows // 2)
        return result_row - self.window_start

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
        comparing = self.spec.compare is not None
        if role == Qt.ItemDataRole.DisplayRole:
            if comparing:
                if column.name == "__status":
                    return "status"
                if column.name.startswith("delta."):
                    return "Δ " + compare_base(column.name)
                return compare_base(column.name)
            return column.name
        if role == TYPE_ROLE:
            side = compare_side(column.name) if comparing else None
            return (
                f"{self.side_labels[side]} · {column.label}" if side is not None else column.label
            )
        if role == SIDE_ROLE:
            return compare_side(column.name) if comparing else None
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
        page = self._pages.get(row - row % self.page_rows)
        if page is None:
            self._request(row - row % self.page_rows)
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
        start = row - row % self.page_rows
        page = self._pages.get(start)
        if page is None or page.error is not None:
            return False
        xi, x0, x1, yi, y0, y1 = brush
        x, y = page.values[xi][row - start], page.values[yi][row - start]
        try:
            return x is not None and y is not None and x0 <= x <= x1 and y0 <= y <= y1
        except TypeError:
            return False

    def paint_at(self, model_row: int, col: int) -> tuple[str, str, bool]:
        """What painting a cell needs, ``data(index, PAINT_ROLE)`` without the trip through
        Qt (the delegate calls it for every cell it paints)."""
        row = self.window_start + model_row
        start = row - row % self.page_rows
        page = self._pages.get(start)
        if page is None or page.error is not None:
            return self.data(self.index(model_row, col), PAINT_ROLE)
        return self._page_paint(page, col)[row - start]

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
        if value is None:
            render = "null"
        elif column.render == "media" and col in page.cells and page.cells[col][i] is not None:
            render = "image"
        elif column.render == "gallery" and not page.cells.get(col, [None] * (i + 1))[i]:
            render = "nested"
        elif column.name == "__status":
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
        )

    def other_side(self, column: int) -> int | None:
        """The column of the other side of a comparison (``0.x`` <-> ``1.x``), if any."""
        name = self.columns[column].name
        if name[:2] not in ("0.", "1."):
            return None
        twin = f"{1 - int(name[0])}.{name[2:]}"
        return next((i for i, c in enumerate(self.columns) if c.name == twin), None)

    @property
    def has_images(self) -> bool:
        """Whether any column holds media (thumbnails may be drawn)."""
        return any(c.render in ("media", "gallery") for c in self.columns)

    def cached_row_count(self) -> int:
        """Rows held in the page cache now."""
        return sum(p.row_count for p in self._pages.values())

    def sample_texts(self, column: int, count: int = 64) -> list[str]:
        """Display texts of a column from the first cached page (for sizing columns)."""
        if not self._pages:
            return []
        page = self._pages[min(self._pages)]
        return page.texts[column][:count] if page.error is None else []

    def is_loaded(self, result_row: int) -> bool:
        """Whether the page holding a result row is in the cache."""
        return (result_row - result_row % self.page_rows) in self._pages

    # -- pages ----------------------------------------------------------------------------------
    def set_viewport(self, first: int, last: int) -> None:
        """The result rows on screen: fetch their pages (and one on each side), forget queued
        pages far from them."""
        if self.result is None or self.total_rows == 0:
            return
        self._viewport = (first, last)
        step = self.page_rows
        start = max(0, first - step) // step * step
        stop = min(self.total_rows - 1, last + step)
        wanted_first, wanted_last = first - 2 * step, last + 2 * step
        generation = self._generation
        self.pages.retain(
            lambda key: (
                key[0] == generation and wanted_first <= key[1] + step and key[1] <= wanted_last
            )
        )
        visible = range(first - first % step, last + 1, step)
        for page_start in range(start, stop + 1, step):
            if page_start not in visible:
                self._request(page_start)
        for page_start in reversed(visible):  # the last submitted is read first
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
        self._pages[page.start] = page
        self._evict()
        self._page_changed(page.start, page.row_count)
        if page.cells:
            seen = []
            for cells in page.cells.values():
                for c in cells:
                    if isinstance(c, list):
                        seen.extend(c)
                    elif c is not None:
                        seen.append(c)
            self.images_seen.emit(seen)
        self.page_loaded.emit(page.start)

    def _on_page_failed(self, key: tuple[int, int], error: Exception) -> None:
        generation, start = key
        if generation != self._generation:
            return
        count = min(self.page_rows, self.total_rows - start)
        message = f"could not read rows {start:,}–{start + count - 1:,}: {error}"
        self._pages[start] = Page(start, [], [], {}, error=message)
        self._page_changed(start, count)
        self.failed.emit(message)

    def _page_changed(self, start: int, count: int) -> None:
        first = max(start - self.window_start, 0)
        last = min(start + count - self.window_start, self._window_rows) - 1
        if last >= first and self.columns:
            self.dataChanged.emit(self.index(first, 0), self.index(last, len(self.columns) - 1))

    def _evict(self) -> None:
        if len(self._pages) <= self.max_pages:
            return
        first, last = self._viewport
        middle = (first + last) / 2
        by_distance = sorted(self._pages, key=lambda s: abs(s + self.page_rows / 2 - middle))
        for start in by_distance[self.max_pages :]:
            if start + self.page_rows <= first or start > last:
                del self._pages[start]

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
