"""The columns of a table's views: widths fitted to their content when a new set of columns
arrives (the plain table, a comparison, a grouping), and the order, widths and hidden columns a
saved view keeps, put back once the rows are there.

Public API: :class:`ColumnLayout` -- ``ColumnLayout(model, views)``; :meth:`layout_state`,
:meth:`apply_layout`, :meth:`restore`, :meth:`set_width`.
"""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import QObject

from desktopviz.app.models.table_model import TableModel
from desktopviz.app.widgets.cell_delegates import HISTOGRAM_WIDTH, PAIR_BARS
from desktopviz.app.widgets.table_view import TableView
from desktopviz.query.display import ColumnInfo

MAX_TEXT_COLUMN = 320
FIRST_COLUMNS_SIZED = 40
CELL_MARGIN = 8


class ColumnLayout(QObject):
    """Sizes and restores the columns of ``views()`` (the table, and side 1's beside it)."""

    def __init__(
        self, model: TableModel, views: Callable[[], list[TableView]], parent: QObject | None = None
    ) -> None:
        super().__init__(parent)
        self.model = model
        self.views = views
        self.sized_for: tuple[str, ...] | None = None
        """The columns whose widths were fitted (a new set is fitted again)."""
        self.pending: dict | None = None
        self.widths: dict[int, int] = {}
        """Each column's width as last set (a hidden column's too)."""
        self.user_sized: set[str] = set()
        """Columns the user (or a saved view) gave a width: fitting leaves them alone."""
        self._setting = False
        self._fitted_result: object = None
        views()[0].horizontalHeader().sectionResized.connect(self._user_resized)
        model.page_loaded.connect(self._page_loaded)
        model.ready.connect(self._ready)

    @property
    def columns(self) -> tuple[str, ...]:
        """The model's column names."""
        return tuple(c.name for c in self.model.columns)

    def layout_state(self) -> dict:
        """Column order, widths and hidden columns, by name (what a view keeps of the view)."""
        header = self.views()[0].horizontalHeader()
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
        header = self.views()[0].horizontalHeader()
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
                    self.set_width(col, int(saved[name]["width"]))
                    self.user_sized.add(name)
                header.setSectionHidden(col, bool(saved[name].get("hidden")))

    def restore(self, layout: dict | None) -> None:
        """Apply ``layout`` once the columns it names are there and fitted (now if they are)."""
        self.pending = layout
        if self.sized_for == self.columns and self.model.result is not None:
            self._apply_pending()

    def set_width(self, col: int, width: int) -> None:
        """Column ``col``'s width in every view."""
        self.widths[col] = width
        self._setting = True
        try:
            for view in self.views():
                view.setColumnWidth(col, width)
        finally:
            self._setting = False

    def fit(self) -> None:
        """Fit text columns to their header and the texts of the pages read (capped); media
        columns follow the thumbnail size."""
        self.widths.clear()
        self.user_sized.clear()
        for col, column in enumerate(self.model.columns[:FIRST_COLUMNS_SIZED]):
            width = self._wanted(col, column)
            if width is not None:
                self.set_width(col, width)
        self.sized_for = self.columns
        self._fitted_result = self.model.result

    def grow(self) -> None:
        """Widen the columns whose texts in a new result need more room (a sort brings longer
        values to the top), never one the user sized."""
        header = self.views()[0].horizontalHeader()
        metrics = self.views()[0].fontMetrics()
        for col, column in enumerate(self.model.columns[:FIRST_COLUMNS_SIZED]):
            if column.name in self.user_sized or column.render not in ("text", "number"):
                continue
            current = self.widths.get(col) or header.sectionSize(col)
            if current >= MAX_TEXT_COLUMN:
                continue
            texts = self.model.sample_texts(col)
            if not any(metrics.horizontalAdvance(t) + 2 * CELL_MARGIN > current for t in texts):
                continue  # (the usual case: nothing longer came up)
            width = self._wanted(col, column)
            if width is not None and width > current:
                self.set_width(col, width)
        self._fitted_result = self.model.result

    def _wanted(self, col: int, column: ColumnInfo) -> int | None:
        """The width column ``col``'s header and loaded texts need (None: media columns)."""
        if column.render in ("media", "gallery"):
            return None
        if column.render == "histogram":
            return HISTOGRAM_WIDTH
        header = self.views()[0].horizontalHeader()
        metrics = self.views()[0].fontMetrics()
        texts = self.model.sample_texts(col)
        twin = self.model.other_side(col)
        if twin is not None:  # a pair's columns fit either side's values
            texts = texts + self.model.sample_texts(twin)
        widest = max((metrics.horizontalAdvance(t) for t in texts), default=0)
        if column.render == "bool":
            widest = metrics.height()
        if self.model.merged_pair(col):  # both numbers beside their bars
            widest += PAIR_BARS
        width = max(widest + 2 * CELL_MARGIN, header.sectionSizeFromContents(col).width())
        return min(width, MAX_TEXT_COLUMN)

    def _user_resized(self, col: int, _old: int, new: int) -> None:
        if not self._setting and 0 <= col < len(self.model.columns) and new > 0:
            self.user_sized.add(self.model.columns[col].name)
            self.widths[col] = new

    def _ready(self) -> None:
        if self.model.total_rows == 0 and self.sized_for != self.columns:
            self.fit()  # no page will come: fit to the headers
        if self.sized_for == self.columns:
            self._apply_pending()

    def _page_loaded(self, _start: int = 0) -> None:
        if self.sized_for != self.columns:
            self.fit()
        elif self._fitted_result is not self.model.result:
            self.grow()
        self._apply_pending()

    def _apply_pending(self) -> None:
        if self.pending is not None:
            layout, self.pending = self.pending, None
            self.apply_layout(layout)
