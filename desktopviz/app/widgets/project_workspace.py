"""A project's Workspace: pick runs (tick them, take the runs table's selection, or type a filter
of the runs table) and see each metric's history overlaid, one colour per run; smoothing, x by
step or by time, and grouping by a config key (each group's mean line and min-max band).

Public API: :class:`Workspace` (``Workspace(state, project)``, ``set_runs``, ``pick``,
``picked``, ``pick_by_filter``, ``set_smoothing``, ``set_x``, ``set_group_key``, ``charts``,
``curves`` (metric -> {label: PlotDataItem}), ``bands``).
"""

from __future__ import annotations

from typing import Any

import pyqtgraph as pg
from PySide6.QtCore import Qt
from PySide6.QtGui import QColor, QPalette
from PySide6.QtWidgets import (
    QComboBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    QSlider,
    QSplitter,
    QVBoxLayout,
    QWidget,
)

from desktopviz.app.icons import icon
from desktopviz.app.palette import class_colour, mute
from desktopviz.app.state import AppState
from desktopviz.app.workers import run_in_worker
from desktopviz.model import Run
from desktopviz.query.run_curves import band, run_curves, smooth
from desktopviz.query.runs_table import flatten, serve_runs_table, varied_keys
from desktopviz.query.spec import QuerySpec

COLUMNS = 2
"""Charts per row."""
RUN_ROLE = Qt.ItemDataRole.UserRole + 1


def config_value(run: Run, key: str) -> Any:
    """A run's value of config key ``key`` (``optimizer.lr`` reaches into nested dicts)."""
    flat: dict[str, Any] = {}
    for name, value in run.config.items():
        flatten(name, value, flat)
    return flat.get(key)


class Workspace(QWidget):
    """Metric charts comparing the picked runs of one project."""

    def __init__(self, state: AppState, project: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.state = state
        self.project = project
        self.runs: list[Run] = []
        self.histories: dict[str, list[tuple[int, dict[str, Any]]]] = {}
        self.charts: dict[str, pg.PlotItem] = {}
        self.curves: dict[str, dict[str, pg.PlotDataItem]] = {}
        """Metric -> {run name or group label: its line}."""
        self.bands: dict[str, dict[str, pg.FillBetweenItem]] = {}
        """Metric -> {group label: its min-max band} (when grouping)."""
        self._filter_job = None

        self.filter = QLineEdit(self)
        self.filter.setPlaceholderText('Pick runs by a filter: row["config.lr"] < 0.01')
        self.filter.setClearButtonEnabled(True)
        self.filter.returnPressed.connect(lambda: self.pick_by_filter(self.filter.text()))
        self.filter_note = mute(QLabel("", self))
        self.filter_note.setWordWrap(True)
        self.run_list = QListWidget(self)
        self.run_list.itemChanged.connect(lambda _item: self.redraw())
        self.x_mode = QComboBox(self)
        self.x_mode.addItem("x: step", "step")
        self.x_mode.addItem("x: time (s)", "time")
        self.x_mode.currentIndexChanged.connect(lambda _i: self.redraw())
        self.group_key = QComboBox(self)
        self.group_key.currentIndexChanged.connect(lambda _i: self.redraw())
        self.smoothing = QSlider(Qt.Orientation.Horizontal, self)
        self.smoothing.setRange(0, 99)
        self.smoothing.setToolTip("Smoothing (exponential moving average)")
        self.smoothing_label = mute(QLabel("Smoothing 0", self))
        self.smoothing.valueChanged.connect(self._smoothing_changed)

        controls = QHBoxLayout()
        controls.setContentsMargins(0, 0, 0, 0)
        controls.addWidget(self.x_mode)
        controls.addWidget(QLabel("Group by", self))
        controls.addWidget(self.group_key)
        controls.addSpacing(12)
        controls.addWidget(self.smoothing_label)
        controls.addWidget(self.smoothing, 1)
        self.report_button = QPushButton(icon("export"), "Add to report…", self)
        self.report_button.setToolTip("Add these charts (and the runs and metrics) to a report")
        self.report_button.clicked.connect(self.add_to_report)
        controls.addWidget(self.report_button)
        self.plot = pg.GraphicsLayoutWidget(self)
        self.plot.setBackground(self.palette().color(QPalette.ColorRole.Base))
        self.empty_note = mute(QLabel("Pick runs on the left to compare their metrics.", self))
        self.empty_note.setAlignment(Qt.AlignmentFlag.AlignCenter)
        left = QWidget(self)
        left_layout = QVBoxLayout(left)
        left_layout.setContentsMargins(0, 0, 0, 0)
        left_layout.addWidget(mute(QLabel("Runs", self)))
        left_layout.addWidget(self.filter)
        left_layout.addWidget(self.filter_note)
        left_layout.addWidget(self.run_list, 1)
        right = QWidget(self)
        right_layout = QVBoxLayout(right)
        right_layout.setContentsMargins(0, 0, 0, 0)
        right_layout.addLayout(controls)
        right_layout.addWidget(self.empty_note)
        right_layout.addWidget(self.plot, 1)
        splitter = QSplitter(Qt.Orientation.Horizontal, self)
        splitter.addWidget(left)
        splitter.addWidget(right)
        splitter.setStretchFactor(1, 1)
        splitter.setSizes([240, 900])
        layout = QVBoxLayout(self)
        layout.setContentsMargins(8, 8, 8, 8)
        layout.addWidget(splitter)

    def add_to_report(self):  # noqa: ANN201 - the dialog, or None
        """Add the charts shown (a snapshot, and the runs and metrics that redraw them) to a
        report of the project the user picks."""
        from desktopviz import reports
        from desktopviz.app.widgets.add_to_report_dialog import add_widget_to_report

        runs, keys = self.picked(), sorted(self.charts)
        if not runs or not keys:
            self.state.status_message.emit("Add to report: pick runs with metrics first")
            return None
        query = reports.runs_query(runs, keys, x=self.x_mode.currentData() or "step")
        title = f"{', '.join(keys)} of {len(runs)} run{'s' * (len(runs) != 1)}"
        return add_widget_to_report(self.state, self.plot, query, title, self, project=self.project)

    # -- the runs ---------------------------------------------------------------------------
    def set_runs(self, runs: list[Run]) -> None:
        """The project's runs (as the cache holds them now): the ticks and grouping stay."""
        picked = set(self.picked())
        first = not self.runs
        self.runs = runs
        self.histories = {r.id: self.state.cache.history(r.id) for r in runs}
        self.run_list.blockSignals(True)
        self.run_list.clear()
        with_metrics = [r for r in runs if run_curves(self.histories[r.id])]
        for run in runs:
            item = QListWidgetItem(run.name or run.id, self.run_list)
            item.setData(RUN_ROLE, run.id)
            item.setToolTip(f"{run.id} · {run.job_type or '—'} · {run.state or '—'}")
            item.setFlags(item.flags() | Qt.ItemFlag.ItemIsUserCheckable)
            on = run.id in picked or (first and run in with_metrics[:6])
            item.setCheckState(Qt.CheckState.Checked if on else Qt.CheckState.Unchecked)
        self.run_list.blockSignals(False)
        key = self.group_key.currentData()
        self.group_key.blockSignals(True)
        self.group_key.clear()
        self.group_key.addItem("(none)", None)
        for name in varied_keys(runs):
            self.group_key.addItem(name, name)
        if key is not None and self.group_key.findData(key) >= 0:
            self.group_key.setCurrentIndex(self.group_key.findData(key))
        self.group_key.blockSignals(False)
        self.redraw()

    def picked(self) -> list[str]:
        """Ids of the runs ticked, in list order."""
        items = (self.run_list.item(i) for i in range(self.run_list.count()))
        return [i.data(RUN_ROLE) for i in items if i.checkState() == Qt.CheckState.Checked]

    def pick(self, run_ids: list[str]) -> None:
        """Tick exactly these runs (the charts follow)."""
        wanted = set(run_ids)
        self.run_list.blockSignals(True)
        for i in range(self.run_list.count()):
            item = self.run_list.item(i)
            on = item.data(RUN_ROLE) in wanted
            item.setCheckState(Qt.CheckState.Checked if on else Qt.CheckState.Unchecked)
        self.run_list.blockSignals(False)
        self.redraw()

    def pick_by_filter(self, text: str) -> None:
        """Tick the runs a filter of the runs table (either form) keeps, queried in a worker;
        "" ticks every run."""
        engine, project = self.state.engine, self.project

        def ids() -> list[str]:
            version, table = serve_runs_table(engine, project)
            spec = QuerySpec(filters=(text,) if text.strip() else ())
            result = engine.result(version, table, spec)
            return result.rows(0, result.num_rows, ["id"]).column("id").to_pylist()

        def found(run_ids: list[str]) -> None:
            self.filter_note.setText(f"{len(run_ids)} run{'s' * (len(run_ids) != 1)} match")
            self.pick(run_ids)

        self._filter_job = run_in_worker(
            ids, on_result=found, on_error=lambda e: self.filter_note.setText(str(e)), owner=self
        )

    # -- settings ---------------------------------------------------------------------------
    def set_smoothing(self, weight: float) -> None:
        """Smooth every curve by ``weight`` (0 none .. 0.99)."""
        self.smoothing.setValue(round(weight * 100))

    def set_x(self, mode: str) -> None:
        """``step`` or ``time``."""
        self.x_mode.setCurrentIndex(self.x_mode.findData(mode))

    def set_group_key(self, key: str | None) -> None:
        """Group the picked runs by config key ``key`` (None: one line per run)."""
        self.group_key.setCurrentIndex(max(0, self.group_key.findData(key)))

    def _smoothing_changed(self, value: int) -> None:
        self.smoothing_label.setText(f"Smoothing {value / 100:.2f}")
        self.redraw()

    # -- drawing ------------------------------------------------------------------------------
    def _series(self) -> list[tuple[str, int, dict[str, tuple[list[float], list[float]]]]]:
        """(label, colour index, curves) of each line to draw: each run, or each group."""
        x = self.x_mode.currentData() or "step"
        by_id = {r.id: (n, r) for n, r in enumerate(self.runs)}
        picked = [by_id[i] for i in self.picked() if i in by_id]
        key = self.group_key.currentData()
        if key is None:
            return [(r.name or r.id, n, run_curves(self.histories[r.id], x)) for n, r in picked]
        groups: dict[str, list[Run]] = {}
        for _n, run in picked:
            groups.setdefault(f"{key}={config_value(run, key)}", []).append(run)
        return [
            (label, g, {"__runs__": members})  # type: ignore[dict-item]
            for g, (label, members) in enumerate(sorted(groups.items()))
        ]

    def redraw(self) -> None:
        """Draw the charts for the runs ticked and the settings chosen."""
        self.plot.clear()
        self.charts, self.curves, self.bands = {}, {}, {}
        weight = self.smoothing.value() / 100
        x = self.x_mode.currentData() or "step"
        grouped = self.group_key.currentData() is not None
        lines: dict[str, list[tuple[str, int, tuple[list[float], list[float]], Any]]] = {}
        for label, colour, found in self._series():
            if grouped:
                members: list[Run] = found["__runs__"]  # type: ignore[assignment]
                per_metric: dict[str, list[tuple[list[float], list[float]]]] = {}
                for run in members:
                    for name, curve in run_curves(self.histories[run.id], x).items():
                        per_metric.setdefault(name, []).append(curve)
                for name, curves in per_metric.items():
                    xs, mean, low, high = band(curves)
                    lines.setdefault(name, []).append(
                        (f"{label} (n={len(curves)})", colour, (xs, mean), (low, high))
                    )
            else:
                for name, curve in found.items():
                    lines.setdefault(name, []).append((label, colour, curve, None))
        self.empty_note.setVisible(not lines)
        self.plot.setVisible(bool(lines))
        text = self.palette().color(QPalette.ColorRole.Text)
        for n, name in enumerate(sorted(lines)):
            chart = self.plot.addPlot(row=n // COLUMNS, col=n % COLUMNS)
            chart.setTitle(name, color=text, size="10pt")
            chart.setMenuEnabled(False)
            chart.showGrid(x=True, y=True, alpha=0.2)
            chart.setLabel("bottom", "step" if x == "step" else "time (s)")
            legend = chart.addLegend(offset=(-4, 4), labelTextSize="8pt")
            legend.setLabelTextColor(text)
            self.charts[name] = chart
            self.curves[name] = {}
            self.bands[name] = {}
            for label, colour_index, (xs, ys), spread in lines[name]:
                colour = QColor(class_colour(colour_index))
                if spread is not None:
                    fill = QColor(colour)
                    fill.setAlpha(60)
                    low = pg.PlotDataItem(xs, smooth(spread[0], weight), pen=None)
                    high = pg.PlotDataItem(xs, smooth(spread[1], weight), pen=None)
                    area = pg.FillBetweenItem(low, high, brush=fill)
                    chart.addItem(area)
                    self.bands[name][label] = area
                curve = chart.plot(
                    xs, smooth(ys, weight), pen=pg.mkPen(colour, width=2), name=label,
                    symbol="o" if len(xs) <= 3 else None, symbolSize=6, symbolBrush=colour,
                )  # fmt: skip
                self.curves[name][label] = curve
