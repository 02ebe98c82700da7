"""A run's metric history as line charts (pyqtgraph): pick metrics from the list; each gets its
own chart (its own y scale, x = step, x axes linked), as W&B's run page draws them.

Public API: :class:`MetricCharts` -- ``MetricCharts(history)``, :meth:`MetricCharts.show_metrics`,
``series`` (metric -> (steps, values)), :func:`metric_series`.
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


class MetricCharts(QWidget):
    """A checkable list of metrics beside their line chart."""

    def __init__(
        self, history: list[tuple[int, dict[str, Any]]], parent: QWidget | None = None
    ) -> None:
        super().__init__(parent)
        self.series = metric_series(history)
        self.list = QListWidget(self)
        self.list.setMaximumWidth(220)
        self.plot = pg.GraphicsLayoutWidget(self)
        self.plot.setBackground(self.palette().color(QPalette.ColorRole.Base))
        self.charts: dict[str, pg.PlotItem] = {}
        self.curves: dict[str, pg.PlotDataItem] = {}
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 6, 0, 0)
        if not self.series:
            layout.addWidget(mute(QLabel("This run logged no metrics.")))
            self.list.hide()
            self.plot.hide()
            return
        first = [n for n in self.series if n not in COUNTERS][:FIRST_SHOWN]
        for name in self.series:
            item = QListWidgetItem(name, self.list)
            item.setFlags(item.flags() | Qt.ItemFlag.ItemIsUserCheckable)
            item.setCheckState(Qt.CheckState.Checked if name in first else Qt.CheckState.Unchecked)
        layout.addWidget(self.list)
        layout.addWidget(self.plot, 1)
        self.list.itemChanged.connect(lambda _item: self._redraw())
        self._redraw()

    def show_metrics(self, names: list[str]) -> None:
        """Check exactly these metrics (the chart follows)."""
        for i in range(self.list.count()):
            item = self.list.item(i)
            item.setCheckState(
                Qt.CheckState.Checked if item.text() in names else Qt.CheckState.Unchecked
            )

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
            chart = self.plot.addPlot(row=n // COLUMNS, col=n % COLUMNS)
            chart.setTitle(name, color=text, size="10pt")
            chart.setMenuEnabled(False)
            chart.showGrid(x=True, y=True, alpha=0.2)
            chart.setLabel("bottom", "step")
            if self.charts:
                chart.setXLink(next(iter(self.charts.values())))
            colour = QColor(class_colour(i))
            self.curves[name] = chart.plot(
                steps, values, pen=pg.mkPen(colour, width=2), symbol="o", symbolSize=4,
                symbolBrush=colour, symbolPen=None,
            )  # fmt: skip
            self.charts[name] = chart
