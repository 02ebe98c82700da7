"""A run's metric history as line charts (pyqtgraph): pick metrics from the list; each gets its
own chart (x = step over that metric's own steps, its own y scale), as W&B's run page draws them.
The x axes are not linked: a metric logged once (beside a table, say) would squash every other
chart to the half-step around its one point.

Public API: :class:`MetricCharts` -- ``MetricCharts(history)``, :meth:`MetricCharts.show_metrics`,
:meth:`MetricCharts.set_history`, ``series`` (metric -> (steps, values)), :func:`metric_series`,
:func:`step_range`.
"""

from __future__ import annotations

import math
from typing import Any

import pyqtgraph as pg
from PySide6.QtCore import Qt
from PySide6.QtGui import QColor, QPalette
from PySide6.QtWidgets import QHBoxLayout, QLabel, QListWidget, QListWidgetItem, QWidget

from desktopviz.app.palette import class_colour, mute

FIRST_SHOWN = 4
"""Metrics checked when the page opens."""
COUNTERS = frozenset({"epoch", "step", "global_step", "iteration", "batch"})
"""Metrics that count steps: listed but not checked at first (a straight line says nothing)."""
COLUMNS = 2
"""Charts per row."""
LIST_WIDTH = 220
"""Pixels the list of metrics takes at most."""
SYMBOL_SIZE = 4
"""Pixels of a logged point's dot; a metric with few points gets bigger dots (a lone point shows)."""
FEW_POINTS = 3
"""Metrics with at most this many points are drawn with the bigger dots."""


def metric_series(
    history: list[tuple[int, dict[str, Any]]],
) -> dict[str, tuple[list[int], list[float]]]:
    """Numeric metrics of a run's history: name -> (steps, values), in step order; names that
    start with ``_`` (``_step``, ``_runtime``) and non-numbers are left out."""
    series: dict[str, tuple[list[int], list[float]]] = {}
    for step, row in history:
        for name, value in row.items():
            if name.startswith("_") or isinstance(value, bool):
                continue
            if isinstance(value, int | float) and math.isfinite(value):
                steps, values = series.setdefault(name, ([], []))
                steps.append(step)
                values.append(float(value))
    return dict(sorted(series.items()))


def step_range(steps: list[int]) -> tuple[float, float]:
    """The x range of a chart of ``steps``: first to last step, one step either side of a lone
    step."""
    first, last = min(steps), max(steps)
    return (first - 1, last + 1) if first == last else (first, last)


class StepAxis(pg.AxisItem):
    """An x axis of steps: ticks on whole steps only (no 3.5 beside a lone point at 4)."""

    def tickSpacing(self, minVal: float, maxVal: float, size: float) -> list:  # noqa: N802, N803
        levels = [level for level in super().tickSpacing(minVal, maxVal, size) if level[0] >= 1]
        return levels or [(1.0, 0.0)]


def _first_shown(series: dict[str, Any]) -> set[str]:
    return set([n for n in series if n not in COUNTERS][:FIRST_SHOWN])


class MetricCharts(QWidget):
    """A checkable list of metrics beside their line chart."""

    def __init__(
        self, history: list[tuple[int, dict[str, Any]]], parent: QWidget | None = None
    ) -> None:
        super().__init__(parent)
        self.series: dict[str, tuple[list[int], list[float]]] = {}
        self.list = QListWidget(self)
        self.plot = pg.GraphicsLayoutWidget(self)
        self.plot.setBackground(self.palette().color(QPalette.ColorRole.Base))
        self.empty_note = mute(QLabel("This run logged no metrics."))
        self.charts: dict[str, pg.PlotItem] = {}
        self.curves: dict[str, pg.PlotDataItem] = {}
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 6, 0, 0)
        layout.addWidget(self.empty_note)
        layout.addWidget(self.list)
        layout.addWidget(self.plot, 1)
        self.list.itemChanged.connect(lambda _item: self._redraw())
        series = metric_series(history)
        self._fill(series, _first_shown(series))

    def show_metrics(self, names: list[str]) -> None:
        """Check exactly these metrics (the chart follows)."""
        for i in range(self.list.count()):
            item = self.list.item(i)
            item.setCheckState(
                Qt.CheckState.Checked if item.text() in names else Qt.CheckState.Unchecked
            )

    def set_history(self, history: list[tuple[int, dict[str, Any]]]) -> None:
        """Chart a new history of the same run (it logged more): the checked metrics stay
        checked, new metrics are listed unchecked."""
        series = metric_series(history)
        if series != self.series:
            self._fill(series, set(self.shown()) if self.series else _first_shown(series))

    def _fill(self, series: dict[str, tuple[list[int], list[float]]], checked: set[str]) -> None:
        self.series = series
        self.list.blockSignals(True)
        self.list.clear()
        for name in series:
            item = QListWidgetItem(name, self.list)
            item.setFlags(item.flags() | Qt.ItemFlag.ItemIsUserCheckable)
            item.setCheckState(
                Qt.CheckState.Checked if name in checked else Qt.CheckState.Unchecked
            )
        self.list.blockSignals(False)
        # as wide as the longest name (the charts need the room), at most LIST_WIDTH
        frame = 2 * self.list.frameWidth() + self.list.verticalScrollBar().sizeHint().width()
        self.list.setFixedWidth(min(LIST_WIDTH, self.list.sizeHintForColumn(0) + frame + 4))
        self.empty_note.setVisible(not series)
        self.list.setVisible(bool(series))
        self.plot.setVisible(bool(series))
        self._redraw()

    def shown(self) -> list[str]:
        """The metrics drawn now."""
        return list(self.curves)

    def _redraw(self) -> None:
        self.plot.clear()
        self.charts, self.curves = {}, {}
        text = self.palette().color(QPalette.ColorRole.Text)
        for i in range(self.list.count()):
            item = self.list.item(i)
            if item.checkState() != Qt.CheckState.Checked:
                continue
            name = item.text()
            steps, values = self.series[name]
            n = len(self.charts)
            chart = self.plot.addPlot(
                row=n // COLUMNS, col=n % COLUMNS, axisItems={"bottom": StepAxis("bottom")}
            )
            chart.setTitle(name, color=text, size="10pt")
            chart.setMenuEnabled(False)
            chart.showGrid(x=True, y=True, alpha=0.2)
            chart.setLabel("bottom", "step")
            chart.setXRange(*step_range(steps), padding=0.02)
            colour = QColor(class_colour(i))
            size = SYMBOL_SIZE if len(steps) > FEW_POINTS else 2 * SYMBOL_SIZE
            self.curves[name] = chart.plot(
                steps, values, pen=pg.mkPen(colour, width=2), symbol="o", symbolSize=size,
                symbolBrush=colour, symbolPen=None,
            )  # fmt: skip
            self.charts[name] = chart
