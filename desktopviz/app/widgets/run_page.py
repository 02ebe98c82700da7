"""A run's page (a tab of the main window, like a version's): its job type, state, times, the
versions it logged and used (links open them), and tabs of metric charts, system metrics (CPU,
memory, GPU... as W&B records them), config, summary, environment, git state and the files of the
run's folder.

Public API: :class:`RunPage` (``RunPage(state, run)``, ``reload``, ``title``).
"""

from __future__ import annotations

from html import escape

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QFormLayout,
    QLabel,
    QPushButton,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from desktopviz.app.icons import icon
from desktopviz.app.state import AppState
from desktopviz.app.widgets.overview import JsonTree, link
from desktopviz.humanize import local_time_text
from desktopviz.model import Run
from desktopviz.store.run_system import system_metrics

TREES = ("Config", "Summary", "Environment")


class RunPage(QWidget):
    """One run: what it is, what it logged and used, its metric history and settings."""

    def __init__(self, state: AppState, run: Run, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.state = state
        self.run = run
        self.setObjectName("runPage")
        layout = QVBoxLayout(self)
        layout.setContentsMargins(24, 18, 24, 12)
        self.title = QLabel()
        self.title.setObjectName("pageTitle")
        self.title.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        layout.addWidget(self.title)
        form = QFormLayout()
        form.setHorizontalSpacing(16)
        self.fields = {name: QLabel() for name in ("Id", "Project", "Job type", "State", "Time")}
        for name, label in self.fields.items():
            label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
            form.addRow(name, label)
        self.logged = QLabel()
        self.used = QLabel()
        for label in (self.logged, self.used):
            label.setTextFormat(Qt.TextFormat.RichText)
            label.setWordWrap(True)
            label.linkActivated.connect(self._open_version)
        form.addRow("Logged", self.logged)
        form.addRow("Used", self.used)
        layout.addLayout(form)
        self.tabs = QTabWidget()
        self.tabs.setDocumentMode(True)
        from desktopviz.app.widgets.metric_charts import MetricCharts  # pyqtgraph: not at start

        self.metrics = MetricCharts(state.cache.history(run.id))
        self.tabs.addTab(self.metrics, "Metrics")
        from desktopviz.app.widgets.run_extras import RunFiles, SystemCharts

        self.system = SystemCharts()
        """System metrics (CPU, memory, GPU...) over the run's time."""
        self.tabs.addTab(self.system, "System")
        self.trees: dict[str, JsonTree] = {}
        for name in TREES:
            self.trees[name] = JsonTree()
            self.tabs.addTab(self.trees[name], name)
        self.git = QLabel()
        self.git.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.git.setAlignment(Qt.AlignmentFlag.AlignTop | Qt.AlignmentFlag.AlignLeft)
        self.git.setWordWrap(True)
        self.git.setContentsMargins(8, 8, 8, 8)
        self.tabs.addTab(self.git, "Git")
        self.files = RunFiles()
        self.tabs.addTab(self.files, "Files")
        self.report_button = QPushButton(icon("export"), "Add to report…")
        self.report_button.setToolTip("Add the metric charts shown to a report of the project")
        self.report_button.clicked.connect(self.add_to_report)
        self.tabs.setCornerWidget(self.report_button, Qt.Corner.TopRightCorner)
        layout.addWidget(self.tabs, 1)
        self._show(run)
        # the metrics, else the config (a run without history, like an evaluation)
        first = self.metrics if self.metrics.series else self.trees["Config"]
        self.tabs.setCurrentWidget(first)

    def add_to_report(self):  # noqa: ANN201 - the dialog, or None
        """Add the metric charts shown (a snapshot and the run query that redraws them) to a
        report the user picks."""
        from desktopviz import reports
        from desktopviz.app.widgets.add_to_report_dialog import add_widget_to_report

        self.tabs.setCurrentWidget(self.metrics)
        query = reports.run_query(self.run.id, self.metrics.shown())
        title = f"{self.name}: {', '.join(self.metrics.shown())}"
        return add_widget_to_report(self.state, self.metrics, query, title, self)

    @property
    def name(self) -> str:
        """The run's name (its id when it has none)."""
        return self.run.name or self.run.id

    def reload(self) -> None:
        """Show the run as the cache holds it now (it may have logged more); NotFoundError when
        the run is gone."""
        run = self.state.cache.run(self.run.id)
        self.metrics.set_history(self.state.cache.history(run.id))
        self.system.set_samples(system_metrics(self.state.cache, run.id))
        if run != self.run:
            self._show(run)

    def _show(self, run: Run) -> None:
        self.run = run
        self.title.setText(self.name)
        times = local_time_text(run.created_at)
        if run.finished_at:
            times += f" → {local_time_text(run.finished_at)}"
        for name, text in (
            ("Id", run.id),
            ("Project", run.project),
            ("Job type", run.job_type or "—"),
            ("State", run.state or "—"),
            ("Time", times),
        ):
            self.fields[name].setText(text)
        cache = self.state.cache
        edges = [e for e in cache.lineage(run.project) if e.run_id == run.id]
        for label, direction in ((self.logged, "output"), (self.used, "input")):
            links = []
            for e in edges:
                if e.direction == direction:
                    v = cache.version_by_id(e.version_id)
                    links.append(link(f"{v.name}:{v.tag}", f"version:{v.id}"))
            label.setText(", ".join(links) or "—")
        for name, value in zip(TREES, (run.config, run.summary, run.environment), strict=True):
            self.trees[name].set_value(value or {}, expand_depth=1)
        from desktopviz.app.widgets.run_extras import git_state

        git = git_state(run.environment)
        self.git.setText(
            "<table>"
            + "".join(
                f"<tr><td><b>{k}</b>&nbsp;&nbsp;</td><td>{escape(v)}</td></tr>"
                for k, v in git.items()
            )
            + "</table>"
            if git
            else "No git state was recorded with this run."
        )
        self.system.set_samples(system_metrics(self.state.cache, run.id))
        self.files.set_folder(run.source)

    def _open_version(self, href: str) -> None:
        version = self.state.cache.version_by_id(int(href.split(":", 1)[1]))
        self.state.open_version_requested.emit(version, "overview")
