"""A project's Sweeps: the runs of one sweep (sharing a sweep id), or of one job type whose config
varies, as a parallel-coordinates chart: one axis per varied config key and a last axis for a
chosen summary metric, one line per run coloured by that metric.

Public API: :class:`Sweeps` (``Sweeps(state)``, ``set_runs``, ``studies`` (label -> runs),
``show_study``, ``set_metric``, ``axes``, ``lines`` (run id -> its PlotDataItem)),
:func:`studies_of`, :func:`axis_positions`.
"""

from __future__ import annotations

import math
from typing import Any

import pyqtgraph as pg
from PySide6.QtCore import Qt
from PySide6.QtGui import QColor, QPalette
from PySide6.QtWidgets import QComboBox, QHBoxLayout, QLabel, QVBoxLayout, QWidget

from desktopviz.app.palette import mute
from desktopviz.app.state import AppState
from desktopviz.app.widgets.project_workspace import config_value
from desktopviz.model import Run
from desktopviz.query.runs_table import sweep_of, varied_keys

MAX_TICKS = 6
"""A numeric axis labels each value when it has at most this many, else its ends."""
COLOURS = "viridis"
"""The colour map of the metric (low to high)."""


def studies_of(runs: list[Run]) -> dict[str, list[Run]]:
    """Sets of runs to compare: each sweep (``sweep <id>``), then each job type with at least
    two runs whose config differs (``job type <t>``)."""
    found: dict[str, list[Run]] = {}
    for run in runs:
        sweep = sweep_of(run)
        if sweep:
            found.setdefault(f"sweep {sweep}", []).append(run)
    by_type: dict[str, list[Run]] = {}
    for run in runs:
        if not sweep_of(run):
            by_type.setdefault(run.job_type or "(no job type)", []).append(run)
    for job_type, members in sorted(by_type.items()):
        if len(members) > 1 and varied_keys(members):
            found[f"job type {job_type}"] = members
    return found


def axis_positions(values: list[Any]) -> tuple[list[float | None], list[tuple[float, str]]]:
    """Where each value sits on its axis (0..1; None for a missing one) and the axis's tick
    labels: numbers spread from min to max (a log scale when they span two decades or more),
    anything else in sorted order of its text."""
    numbers = [v for v in values if isinstance(v, int | float) and not isinstance(v, bool)]
    if numbers and len(numbers) == len([v for v in values if v is not None]):
        finite = [float(v) for v in numbers if math.isfinite(v)]
        low, high = (min(finite), max(finite)) if finite else (0.0, 0.0)
        log = low > 0 and high / low >= 100

        def scale(v: float) -> float:
            return math.log10(v) if log else v

        span = scale(high) - scale(low) if high > low else 0.0
        pos = [
            None if v is None else (0.5 if span == 0 else (scale(float(v)) - scale(low)) / span)
            for v in values
        ]
        distinct = sorted(set(finite))
        shown = distinct if len(distinct) <= MAX_TICKS else [low, high]
        ticks = [(0.5 if span == 0 else (scale(v) - scale(low)) / span, f"{v:.4g}") for v in shown]
        return pos, ticks
    texts = sorted({str(v) for v in values if v is not None})
    step = 1 / (len(texts) - 1) if len(texts) > 1 else 0.0
    where = {t: (i * step if len(texts) > 1 else 0.5) for i, t in enumerate(texts)}
    return [None if v is None else where[str(v)] for v in values], [(where[t], t) for t in texts]


class Sweeps(QWidget):
    """Pick a study and a metric; see every run as a line across the config axes."""

    def __init__(self, state: AppState, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.state = state
        self.studies: dict[str, list[Run]] = {}
        self.axes: list[str] = []
        self.lines: dict[str, pg.PlotDataItem] = {}
        self.study = QComboBox(self)
        self.study.currentIndexChanged.connect(lambda _i: self._study_changed())
        self.metric = QComboBox(self)
        self.metric.currentIndexChanged.connect(lambda _i: self.redraw())
        self.note = mute(QLabel("", self))
        bar = QHBoxLayout()
        bar.addWidget(QLabel("Runs", self))
        bar.addWidget(self.study, 1)
        bar.addWidget(QLabel("Metric", self))
        bar.addWidget(self.metric, 1)
        self.plot = pg.PlotWidget(self)
        self.plot.setBackground(self.palette().color(QPalette.ColorRole.Base))
        self.plot.setMenuEnabled(False)
        self.plot.hideAxis("left")
        self.plot.getPlotItem().getViewBox().setMouseEnabled(x=False, y=False)
        self.empty_note = mute(
            QLabel(
                "No sweep here: runs that share a sweep, or runs of one job type whose config "
                "differs, show as a parallel-coordinates chart.",
                self,
            )  # fmt: skip
        )
        self.empty_note.setWordWrap(True)
        self.empty_note.setAlignment(Qt.AlignmentFlag.AlignCenter)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(8, 8, 8, 8)
        layout.addLayout(bar)
        layout.addWidget(self.note)
        layout.addWidget(self.empty_note)
        layout.addWidget(self.plot, 1)

    def set_runs(self, runs: list[Run]) -> None:
        """The project's runs now (the study and metric shown stay when they still exist)."""
        self.studies = studies_of(runs)
        shown = self.study.currentText()
        self.study.blockSignals(True)
        self.study.clear()
        for label, members in self.studies.items():
            self.study.addItem(f"{label} ({len(members)} runs)", label)
        index = self.study.findData(shown.rsplit(" (", 1)[0]) if shown else -1
        self.study.setCurrentIndex(max(0, index))
        self.study.blockSignals(False)
        self.empty_note.setVisible(not self.studies)
        self.plot.setVisible(bool(self.studies))
        self._study_changed()

    def show_study(self, label: str) -> None:
        """Show study ``label`` (``sweep <id>`` or ``job type <t>``)."""
        self.study.setCurrentIndex(self.study.findData(label))

    def set_metric(self, name: str) -> None:
        """Colour and end the lines by summary metric ``name``."""
        self.metric.setCurrentIndex(self.metric.findData(name))

    def _runs(self) -> list[Run]:
        return self.studies.get(self.study.currentData(), [])

    def _study_changed(self) -> None:
        runs = self._runs()
        numeric = sorted(
            {
                k
                for r in runs
                for k, v in r.summary.items()
                if not k.startswith("_") and isinstance(v, int | float) and not isinstance(v, bool)
            }
        )
        shown = self.metric.currentData()
        self.metric.blockSignals(True)
        self.metric.clear()
        for name in numeric:
            self.metric.addItem(f"summary.{name}", name)
        preferred = [shown, "best_acc", "accuracy", "acc", "loss"]
        index = next(
            (self.metric.findData(p) for p in preferred if self.metric.findData(p) >= 0), 0
        )
        self.metric.setCurrentIndex(index)
        self.metric.blockSignals(False)
        self.redraw()

    def redraw(self) -> None:
        """Draw the chart of the study and metric chosen."""
        self.plot.clear()
        self.lines = {}
        runs = self._runs()
        metric = self.metric.currentData()
        keys = varied_keys(runs)
        self.axes = [f"config.{k}" for k in keys] + ([f"summary.{metric}"] if metric else [])
        if not runs or not self.axes:
            self.note.setText("")
            return
        self.note.setText(
            f"{len(runs)} runs · varied: {', '.join(keys) or 'nothing'}"
            + (f" · colour: {metric}" if metric else "")
        )
        columns = [[config_value(r, k) for r in runs] for k in keys]
        if metric:
            columns.append([r.summary.get(metric) for r in runs])
        placed = [axis_positions(c) for c in columns]
        text = self.palette().color(QPalette.ColorRole.Text)
        axis_pen = pg.mkPen(self.palette().color(QPalette.ColorRole.Mid), width=1)
        for i, (name, (_pos, ticks)) in enumerate(zip(self.axes, placed, strict=True)):
            self.plot.plot([i, i], [0, 1], pen=axis_pen)
            title = pg.TextItem(name, color=text, anchor=(0.5, 1.2))
            title.setPos(i, 1.0)
            self.plot.addItem(title)
            for where, label in ticks:
                tick = pg.TextItem(label, color=text, anchor=(-0.1, 0.5))
                tick.setPos(i, where)
                self.plot.addItem(tick)
        colours = pg.colormap.get(COLOURS)
        metric_pos = placed[-1][0] if metric else [0.5] * len(runs)
        for n, run in enumerate(runs):
            ys = [p[0][n] for p in placed]
            xs = [i for i, y in enumerate(ys) if y is not None]
            shade = metric_pos[n] if metric_pos[n] is not None else 0.0
            colour = QColor(colours.map(0.1 + 0.8 * shade, mode="qcolor"))
            line = self.plot.plot(
                xs, [y for y in ys if y is not None], pen=pg.mkPen(colour, width=2.5),
                symbol="o", symbolSize=7, symbolBrush=colour, symbolPen=None,
            )  # fmt: skip
            line.setToolTip(run.name or run.id)
            self.lines[run.id] = line
        self.plot.setXRange(-0.2, len(self.axes) - 0.6, padding=0)
        self.plot.setYRange(-0.08, 1.15, padding=0)
        self.plot.getPlotItem().getAxis("bottom").setTicks(
            [[(i, "") for i in range(len(self.axes))]]
        )
