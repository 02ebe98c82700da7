"""The Charts dock: for the selected column of the table in front, a histogram (numeric) or a bar
chart of its top values (anything else) over the rows the table shows, per side in a comparison
(shared bins, side colours); click a bar to filter the table to it. A scatter of two numeric
columns (a sample of the rows shown): drag out a rectangle to filter the table to it.

Public API: :class:`ChartsPanel` -- ``ChartsPanel(state)``: it charts the TableState of the table
in front (``state.table``) and edits only it (filter, brush); :meth:`ChartsPanel.show_column`,
:meth:`ChartsPanel.click_bar`, :meth:`ChartsPanel.brush`; ``distribution`` (the data shown).
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pyarrow as pa
import pyqtgraph as pg
from PySide6.QtCore import QPointF, Qt
from PySide6.QtGui import QColor, QFontMetrics, QPalette
from PySide6.QtWidgets import (
    QComboBox,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from desktopviz.app.palette import SIDE_COLOURS, mute
from desktopviz.app.state import AppState, CellRef
from desktopviz.app.table_state import TableState
from desktopviz.app.workers import run_in_worker
from desktopviz.query.charts import Distribution, bin_filter, distribution
from desktopviz.query.expr import ExprError
from desktopviz.query.simple import column_path
from desktopviz.query.spec_rules import add_filter
from desktopviz.query.sql import is_numeric

SCATTER_POINTS = 5000
BRUSH_COLOUR = "#E69F00"
LABEL_GAP = 8
"""Pixels kept free between two bar labels."""
"""The brush rectangle and the points inside it (Okabe-Ito orange)."""
"""Rows a scatter plot samples from the rows shown."""


class ChartsPanel(QWidget):
    """Distribution and scatter charts of the table in front."""

    def __init__(self, state: AppState) -> None:
        super().__init__()
        self.state = state
        self.table: TableState | None = None
        """The table charted (the one in front)."""
        self.distribution: Distribution | None = None
        self.column: str | None = None
        self._asked: tuple | None = None
        self._scatter_for: tuple | None = None
        """(result, x, y) the scatter shows: it is sampled again only when one changes."""
        self.title = QLabel("Select a cell to chart its column")
        self.title.setObjectName("sectionTitle")
        self.note = mute(QLabel(""))
        self.note.setWordWrap(True)
        self.plot = pg.PlotWidget(
            axisItems={"bottom": ValueAxis("bottom"), "left": CountAxis("left")}
        )
        self.plot.setMenuEnabled(False)
        self.plot.setMouseEnabled(x=False, y=False)
        self.plot.hideButtons()
        self.plot.setMinimumHeight(60)
        self.plot.scene().sigMouseClicked.connect(self._plot_clicked)
        self.plot.getPlotItem().vb.sigResized.connect(self._label_bars)
        self.bars: list[pg.BarGraphItem] = []

        self.scatter_plot = pg.PlotWidget(
            axisItems={"bottom": ValueAxis("bottom"), "left": ValueAxis("left")}
        )
        self.scatter_plot.setMenuEnabled(False)
        self.scatter_plot.hideButtons()
        self.scatter_plot.setMinimumHeight(60)
        self.scatter_item = pg.ScatterPlotItem(size=4, pen=None)
        self.scatter_plot.addItem(self.scatter_item)
        self.x_box, self.y_box = QComboBox(), QComboBox()
        self.brush_roi: pg.RectROI | None = None
        self.brush_note = mute(
            QLabel("Drag the rectangle or its corner: the rows inside are selected in the table.")
        )
        self.brush_note.setWordWrap(True)
        self.brushed: tuple[str, tuple[float, float], str, tuple[float, float]] | None = None
        """The brushed rectangle: x column and range, y column and range."""
        self.brushed_rows: int | None = None
        self.filter_brushed = QPushButton("Filter to these rows")
        self.filter_brushed.setToolTip("Show only the brushed rows in the table")
        self.filter_brushed.clicked.connect(self.filter_to_brush)
        self.clear_brush = QPushButton("Clear")
        self.clear_brush.clicked.connect(lambda: self.set_brush(None))
        for button in (self.filter_brushed, self.clear_brush):
            button.setEnabled(False)
        scatter = QWidget()
        axes = QHBoxLayout()
        axes.addWidget(QLabel("x"))
        axes.addWidget(self.x_box, 1)
        axes.addWidget(QLabel("y"))
        axes.addWidget(self.y_box, 1)
        scatter_layout = QVBoxLayout(scatter)
        scatter_layout.setContentsMargins(0, 4, 0, 0)
        scatter_layout.addLayout(axes)
        scatter_layout.addWidget(self.scatter_plot, 1)
        scatter_layout.addWidget(self.brush_note)
        brush_row = QHBoxLayout()
        brush_row.addStretch(1)
        brush_row.addWidget(self.filter_brushed)
        brush_row.addWidget(self.clear_brush)
        scatter_layout.addLayout(brush_row)

        distribution_tab = QWidget()
        dist_layout = QVBoxLayout(distribution_tab)
        dist_layout.setContentsMargins(0, 4, 0, 0)
        dist_layout.addWidget(self.title)
        dist_layout.addWidget(self.plot, 1)
        dist_layout.addWidget(self.note)
        from desktopviz.app.widgets.add_to_report_dialog import AddToReportButton, chart_panel

        self.report_button = AddToReportButton(  # the histogram shown, with its query
            state, self.plot, lambda: chart_panel(self.table, self.column), self
        )
        dist_layout.addWidget(self.report_button, 0, Qt.AlignmentFlag.AlignRight)
        self.tabs = QTabWidget()
        self.tabs.addTab(distribution_tab, "Distribution")
        self.tabs.addTab(scatter, "Scatter")
        layout = QVBoxLayout(self)
        layout.setContentsMargins(6, 6, 6, 6)
        layout.addWidget(self.tabs)
        self._apply_palette()

        state.cell_changed.connect(self._cell_changed)
        state.table_focused.connect(self._follow)
        self._follow(state.table)
        self.x_box.activated.connect(lambda _i: self.refresh_scatter())
        self.y_box.activated.connect(lambda _i: self.refresh_scatter())
        self.tabs.currentChanged.connect(lambda _i: self.refresh())

    def _follow(self, table: TableState | None) -> None:
        """Chart ``table`` (the one in front now) and follow its rows."""
        if self.table is not None:
            self.table.result_changed.disconnect(self._rows_changed)
        self.table = table
        if table is not None:
            table.result_changed.connect(self._rows_changed)
        self.refresh()

    def _rows_changed(self, _result: Any) -> None:
        self.refresh()

    # -- public -------------------------------------------------------------------------------
    def show_column(self, column: str) -> None:
        """Chart ``column`` of the table in front."""
        self.column = column
        self.refresh()

    def refresh(self) -> None:
        """Recompute the charts for the rows the table in front shows now (in a worker)."""
        result = self.table.result if self.table is not None else None
        if result is None or result.spec.group is not None:  # none, or grouped
            self._clear("Charts show the rows of an open, ungrouped table")
            return
        self._fill_axes(result)
        if self.tabs.currentIndex() == 1:
            self.refresh_scatter()
        if self.column is None or self.column not in result.relation.names:
            return
        kind = result.relation.kinds.get(self.column, "plain")
        arrow_type = result.relation.types().get(self.column)
        if kind != "plain" or arrow_type is None or pa.types.is_nested(arrow_type):
            self._clear(f"{self.column}: charts show numbers, strings and booleans")
            return
        asked = (id(result), self.column)
        if asked == self._asked:
            return
        self._asked = asked
        self.title.setText(f"{self.column} · computing…")
        column = self.column
        run_in_worker(
            distribution,
            result,
            column,
            on_result=lambda d, a=asked: self._show(a, d, result.num_rows),
            on_error=lambda e, a=asked: self._failed(a, e),
            owner=self,
        )

    def click_bar(self, index: int) -> None:
        """Filter the table in front to bar ``index`` (a bin's range or a value)."""
        if self.table is None or self.distribution is None:
            return
        self._add_filter(bin_filter(self.distribution, index))

    def _add_filter(self, expr: str) -> None:
        assert self.table is not None
        error = self.table.add_filter(expr)
        if error:
            self.state.status_message.emit(error)

    def brush(self, x_range: tuple[float, float], y_range: tuple[float, float]) -> None:
        """Select the rows inside the rectangle (x and y ranges of the plotted columns)."""
        x, y = self.x_box.currentText(), self.y_box.currentText()
        if x and y:
            self.set_brush((x, tuple(x_range), y, tuple(y_range)))

    def set_brush(
        self, brush: tuple[str, tuple[float, float], str, tuple[float, float]] | None
    ) -> None:
        """Select (None: deselect) the rows inside a rectangle: the table draws them selected,
        the points inside are highlighted, and their number is counted in a worker."""
        table = self.table
        self.brushed, self.brushed_rows = brush, None
        for button in (self.filter_brushed, self.clear_brush):
            button.setEnabled(brush is not None)
        self._colour_points()
        if table is None:
            return
        table.set_brush(brush)
        if brush is None:
            self.brush_note.setText(
                "Drag the rectangle or its corner: the rows inside are selected in the table."
            )
            return
        self.brush_note.setText("counting the brushed rows…")
        engine, version, name = self.state.engine, table.version, table.table
        try:
            spec = add_filter(table.spec, self._brush_filter())
        except ExprError as e:
            self.brush_note.setText(str(e))
            return

        def counted(n: int, asked: tuple = brush) -> None:
            if asked == self.brushed:
                self.brushed_rows = n
                self.brush_note.setText(f"{n:,} rows brushed: selected in the table")

        run_in_worker(
            lambda: engine.result(version, name, spec).num_rows, on_result=counted, owner=self
        )

    def _brush_filter(self) -> str:
        """The brushed rectangle as a filter (the simple form)."""
        assert self.brushed is not None
        x, (x0, x1), y, (y0, y1) = self.brushed
        px, py = column_path(x), column_path(y)
        return f"{px} >= {x0!r} and {px} <= {x1!r} and {py} >= {y0!r} and {py} <= {y1!r}"

    def filter_to_brush(self) -> None:
        """Show only the brushed rows in the table (the brush becomes part of the filter)."""
        if self.table is None or self.brushed is None:
            return
        expr = self._brush_filter()
        self.set_brush(None)
        self._add_filter(expr)

    def _colour_points(self) -> None:
        """Points inside the brush in orange, the others in the side colour."""
        data = self.scatter_item.data
        if not len(data):
            return
        xs, ys = data["x"], data["y"]
        inside = np.zeros(len(xs), bool)
        if self.brushed is not None:
            _x, (x0, x1), _y, (y0, y1) = self.brushed
            inside = (xs >= x0) & (xs <= x1) & (ys >= y0) & (ys <= y1)
        plain, hit = pg.mkBrush(QColor(SIDE_COLOURS[0])), pg.mkBrush(QColor(BRUSH_COLOUR))
        self.scatter_item.setBrush([hit if i else plain for i in inside])

    # -- distribution -------------------------------------------------------------------------
    def _cell_changed(self, cell: CellRef | None) -> None:
        if cell is not None:
            self.show_column(cell.column)

    def _show(self, asked: tuple, dist: Distribution, rows: int) -> None:
        if asked != self._asked:
            return
        self.distribution = dist
        for bar in self.bars:
            self.plot.removeItem(bar)
        self.bars = []
        sides = len(dist.counts)
        n = len(dist.counts[0]) if dist.counts else 0
        for side, counts in enumerate(dist.counts):
            colour = QColor(SIDE_COLOURS[side])
            if dist.numeric:
                edges = np.array(dist.edges)
                width = (edges[1:] - edges[:-1]) / sides
                x0 = edges[:-1] + side * width
                bar = pg.BarGraphItem(
                    x0=x0, width=width * 0.95, height=list(counts), brush=colour, pen=None
                )
            else:
                width = 0.8 / sides  # a value's bars side by side, centred on its index
                x = np.arange(n) + (side - (sides - 1) / 2) * width
                bar = pg.BarGraphItem(x=x, width=width, height=list(counts), brush=colour, pen=None)
            self.plot.addItem(bar)
            self.bars.append(bar)
        self.plot.autoRange()
        self._label_bars()  # where the bars are drawn now
        what = "histogram" if dist.numeric else f"top {n} values"
        sides_text = " · ".join(dist.columns) if sides > 1 else self.column
        self.title.setText(f"{sides_text} · {what} of {rows:,} rows")
        missing = ", ".join(f"{m:,}" for m in dist.missing)
        self.note.setText(
            f"missing (null or NaN): {missing} · click a bar to filter the table to it"
        )

    def _label_bars(self) -> None:
        """Name the bars of a categorical chart where they are drawn: each label elided to its
        bar's share of the width (every k-th bar when a bar has no room for a few letters), so
        that no two overlap and none runs past the plot's edge (the axis would hide it)."""
        dist = self.distribution
        axis = self.plot.getAxis("bottom")
        if dist is None or dist.numeric:
            axis.setTicks(None)
            return
        view = self.plot.getPlotItem().vb
        (x0, x1), width = view.viewRange()[0], view.width()
        if not len(dist.values) or width <= 0 or x1 <= x0:
            axis.setTicks([[]])
            return
        metrics = QFontMetrics(axis.style.get("tickFont") or self.plot.font())
        pitch = width / (x1 - x0)  # pixels from one bar's centre to the next
        every = max(1, math.ceil(metrics.horizontalAdvance("Mm…") / max(pitch - LABEL_GAP, 1)))
        ticks = []
        for i in range(0, len(dist.values), every):
            centre = (i - x0) * pitch
            room = min(pitch * every - LABEL_GAP, 2 * centre, 2 * (width - centre))
            text = metrics.elidedText(str(dist.values[i]), Qt.TextElideMode.ElideRight, int(room))
            if text:
                ticks.append((i, text))
        axis.setTicks([ticks])

    def _failed(self, asked: tuple, error: BaseException) -> None:
        if asked == self._asked:
            self._asked = None
            self._clear(f"Cannot chart {self.column}: {error}")

    def _clear(self, message: str) -> None:
        for bar in self.bars:
            self.plot.removeItem(bar)
        self.bars = []
        self.distribution = None
        self._asked = None
        self.title.setText(message)
        self.note.setText("")

    def bar_at(self, x: float) -> int | None:
        """The bar under plot x-coordinate ``x`` (None between or beyond bars)."""
        dist = self.distribution
        if dist is None:
            return None
        if dist.numeric:
            edges = dist.edges
            if not edges[0] <= x <= edges[-1]:
                return None
            return min(int(np.searchsorted(edges, x, side="right")) - 1, len(edges) - 2)
        index = int(round(x))
        return index if 0 <= index < len(dist.values) else None

    def _plot_clicked(self, event: Any) -> None:
        if event.button() != Qt.MouseButton.LeftButton:
            return
        point = self.plot.getPlotItem().vb.mapSceneToView(event.scenePos())
        index = self.bar_at(point.x())
        if index is not None:
            self.click_bar(index)

    # -- scatter ------------------------------------------------------------------------------
    def _fill_axes(self, result: Any) -> None:
        types, schema = result.relation.types(), result.relation.comparison
        # a comparison's deltas, marks and status are not axes
        numeric = [n for n, t in types.items() if is_numeric(t) and not schema.column(n).helper]
        for box, default in ((self.x_box, 0), (self.y_box, 1)):
            current = box.currentText()
            if [box.itemText(i) for i in range(box.count())] != numeric:
                box.blockSignals(True)
                box.clear()
                box.addItems(numeric)
                if current in numeric:
                    box.setCurrentText(current)
                elif numeric:
                    box.setCurrentIndex(min(default, len(numeric) - 1))
                box.blockSignals(False)

    def refresh_scatter(self) -> None:
        """Plot a sample of the rows shown, x against y (in a worker)."""
        x, y = self.x_box.currentText(), self.y_box.currentText()
        result = self.table.result if self.table is not None else None
        if result is None or not x or not y:
            return
        asked = (result, x, y)
        if asked == self._scatter_for:  # a selection changed, not the rows: nothing to redo
            return
        self._scatter_for = asked

        def sample() -> tuple[np.ndarray, np.ndarray]:
            n = result.num_rows
            step = max(1, n // SCATTER_POINTS)
            xs, ys = [], []
            for offset in range(0, min(n, step * SCATTER_POINTS), step * 200):
                page = result.rows(offset, 200 * step, [x, y])
                xs.append(page.column(x).to_numpy(zero_copy_only=False)[::step])
                ys.append(page.column(y).to_numpy(zero_copy_only=False)[::step])
            if not xs:
                return np.array([]), np.array([])
            return np.concatenate(xs).astype(float), np.concatenate(ys).astype(float)

        run_in_worker(sample, on_result=self._show_scatter, owner=self)

    def _show_scatter(self, points: tuple[np.ndarray, np.ndarray]) -> None:
        xs, ys = points
        keep = np.isfinite(xs) & np.isfinite(ys)
        xs, ys = xs[keep], ys[keep]
        self.scatter_item.setData(xs, ys, brush=QColor(SIDE_COLOURS[0]))
        self.scatter_plot.setLabel("bottom", self.x_box.currentText())
        self.scatter_plot.setLabel("left", self.y_box.currentText())
        if self.brush_roi is not None:
            self.scatter_plot.removeItem(self.brush_roi)
        x, y = self.x_box.currentText(), self.y_box.currentText()
        if self.brushed is not None and self.brushed[::2] != (x, y):
            self.set_brush(None)  # other columns: the old rectangle means nothing here
        elif self.brushed is not None:
            self.set_brush(self.brushed)  # the rows shown changed: select (and count) again
        self._colour_points()
        if len(xs):
            if self.brushed is not None:  # the rectangle stays where the user left it
                (bx0, bx1), (by0, by1) = self.brushed[1], self.brushed[3]
                corner, size = QPointF(bx0, by0), (bx1 - bx0, by1 - by0)
            else:
                x0, x1, y0, y1 = xs.min(), xs.max(), ys.min(), ys.max()
                w, h = (x1 - x0) or 1.0, (y1 - y0) or 1.0
                corner, size = QPointF(x0 + w * 0.25, y0 + h * 0.25), (w * 0.5, h * 0.5)
            self.brush_roi = pg.RectROI(
                corner,
                size,
                pen=pg.mkPen(BRUSH_COLOUR, width=2),
            )
            self.brush_roi.sigRegionChangeFinished.connect(self._brushed)
            self.scatter_plot.addItem(self.brush_roi)
            self.scatter_plot.autoRange()

    def _brushed(self, roi: pg.RectROI) -> None:
        pos, size = roi.pos(), roi.size()
        self.brush((pos.x(), pos.x() + size.x()), (pos.y(), pos.y() + size.y()))

    def _apply_palette(self) -> None:
        background = self.palette().color(QPalette.ColorRole.Base)
        foreground = self.palette().color(QPalette.ColorRole.Text)
        for plot in (self.plot, self.scatter_plot):
            plot.setBackground(background)
            for name in ("bottom", "left"):
                plot.getAxis(name).setTextPen(foreground)
                plot.getAxis(name).setPen(foreground)


class ValueAxis(pg.AxisItem):
    """An axis in its column's own units: ticks read 0.0010, 0.0015 (pyqtgraph would show 1.0,
    1.5 and put "(x0.001)" in the label, an SI prefix with no unit to carry it)."""

    def __init__(self, orientation: str) -> None:
        super().__init__(orientation)
        self.enableAutoSIPrefix(False)

    def tickStrings(self, values: list[float], scale: float, spacing: float) -> list[str]:  # noqa: N802
        """Each tick's value, at a multiple of ``spacing`` (no ``-1e-17`` for zero)."""
        snapped = [round(v / spacing) * spacing if spacing > 0 else v for v in values]
        return super().tickStrings(snapped, scale, spacing)


class CountAxis(ValueAxis):
    """An axis of counts: ticks only on whole numbers, never 0.5 or 1.5."""

    def tickSpacing(  # noqa: N802 - pyqtgraph override
        self, low: float, high: float, size: float
    ) -> list[tuple[float, float]]:
        """pyqtgraph's tick levels less those finer than 1 (one tick per count if none is left)."""
        levels = [(s, o) for s, o in super().tickSpacing(low, high, size) if s >= 1]
        return levels or [(1.0, 0.0)]

    def tickStrings(self, values: list[float], scale: float, spacing: float) -> list[str]:  # noqa: N802
        """Whole counts, with thousands separators."""
        return [f"{round(v):,}" for v in values]
