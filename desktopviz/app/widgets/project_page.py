"""A project's page (a tab of the main window, opened from the sidebar's project row), as W&B's
project has: *Overview* (counts, last activity, artifacts and recent runs), *Runs* (every run as
a row of a table served by the query engine and shown by the usual table view: filter, sort,
group, charts and export work on runs as on any table), *Workspace* (metric charts comparing
runs) and *Sweeps* (parallel coordinates of a sweep's config against a metric). It follows the
cache: runs logged or imported meanwhile show.

Public API: :class:`ProjectPage` (``ProjectPage(state, project)``, ``reload``, ``show_tab``,
``selected_run_ids``, ``compare_selected``, ``overview``, ``runs_panel``, ``workspace``,
``sweeps``, ``tabs``), :func:`project_overview`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QScrollArea,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from desktopviz.app.icons import icon
from desktopviz.app.palette import mute
from desktopviz.app.state import AppState
from desktopviz.app.widgets.overview import link
from desktopviz.humanize import age_text, human_size, local_time_text
from desktopviz.model import Run, Version
from desktopviz.query.runs_table import runs_digest, serve_runs_table
from desktopviz.query.spec import QuerySpec
from desktopviz.store.cache import Cache

TABS = ("overview", "runs", "workspace", "sweeps")
RECENT_RUNS = 8
"""Runs the Overview lists (the newest)."""


@dataclass
class ProjectOverview:
    """What a project's Overview says."""

    name: str
    runs: list[Run] = field(default_factory=list)
    versions: list[Version] = field(default_factory=list)
    artifacts: dict[tuple[str, str], list[Version]] = field(default_factory=dict)
    """(type, name) -> its versions, oldest first."""
    last_activity: str = ""
    size: int = 0
    description: str = ""


def project_overview(cache: Cache, project: str) -> ProjectOverview:
    """Counts, last activity and description of ``project``: the description is the one its
    newest described version or run gives (W&B keeps a project's own on its server only)."""
    found = ProjectOverview(project, cache.runs(project), cache.versions(project))
    for v in found.versions:
        found.artifacts.setdefault((v.type, v.name), []).append(v)
    stamps = [v.created_at for v in found.versions]
    stamps += [t for r in found.runs for t in (r.created_at, r.finished_at) if t]
    found.last_activity = max(stamps, default="")
    found.size = sum(v.size for v in found.versions)
    notes = [r.config.get("description") or r.summary.get("description") for r in found.runs]
    notes += [v.description for v in sorted(found.versions, key=lambda v: v.created_at)]
    found.description = next((n for n in reversed(notes) if isinstance(n, str) and n), "")
    return found


class _Overview(QScrollArea):
    """The Overview tab: counts, last activity, description, artifacts and recent runs."""

    def __init__(self, state: AppState, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.state = state
        self.setWidgetResizable(True)
        body = QWidget(self)
        layout = QVBoxLayout(body)
        layout.setContentsMargins(24, 18, 24, 12)
        self.title = QLabel(body)
        self.title.setObjectName("pageTitle")
        self.description = QLabel(body)
        self.description.setWordWrap(True)
        form = QFormLayout()
        form.setHorizontalSpacing(16)
        self.fields = {
            name: QLabel(body)
            for name in ("Runs", "Artifacts", "Versions", "Last activity", "Size")
        }
        for name, label in self.fields.items():
            label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
            form.addRow(name, label)
        self.artifact_list = QLabel(body)
        self.run_list = QLabel(body)
        for label in (self.artifact_list, self.run_list):
            label.setTextFormat(Qt.TextFormat.RichText)
            label.setWordWrap(True)
            label.linkActivated.connect(self._open)
        layout.addWidget(self.title)
        layout.addWidget(self.description)
        layout.addLayout(form)
        layout.addWidget(mute(QLabel("Artifacts", body)))
        layout.addWidget(self.artifact_list)
        layout.addWidget(mute(QLabel("Recent runs", body)))
        layout.addWidget(self.run_list)
        layout.addStretch(1)
        self.setWidget(body)

    def show_overview(self, o: ProjectOverview) -> None:
        self.title.setText(o.name)
        self.description.setText(o.description or "No description.")
        job_types = sorted({r.job_type or "—" for r in o.runs})
        states = sorted({r.state or "—" for r in o.runs})
        self.fields["Runs"].setText(
            f"{len(o.runs)}"
            + (
                f" · job types: {', '.join(job_types)} · {', '.join(states)}" if o.runs else ""
            )  # fmt: skip
        )
        types = sorted({t for t, _ in o.artifacts})
        self.fields["Artifacts"].setText(
            f"{len(o.artifacts)}" + (f" · types: {', '.join(types)}" if types else "")
        )
        self.fields["Versions"].setText(str(len(o.versions)))
        self.fields["Last activity"].setText(
            f"{local_time_text(o.last_activity)} ({age_text(o.last_activity)})"
            if o.last_activity
            else "—"
        )
        self.fields["Size"].setText(human_size(o.size))
        rows = []
        for (kind, name), versions in sorted(o.artifacts.items()):
            latest = versions[-1]
            aliases = f" [{', '.join(latest.aliases)}]" if latest.aliases else ""
            rows.append(
                f"{link(name, f'version:{latest.id}')} · {kind} · {len(versions)} "
                f"version{'s' * (len(versions) != 1)} · latest {latest.tag}{aliases}"
            )
        self.artifact_list.setText("<br>".join(rows) or "—")
        recent = sorted(o.runs, key=lambda r: r.created_at, reverse=True)[:RECENT_RUNS]
        self.run_list.setText(
            "<br>".join(
                f"{link(r.name or r.id, f'run:{r.id}')} · {r.job_type or '—'} · "
                f"{r.state or '—'} · {local_time_text(r.created_at)}"
                for r in recent
            )
            or "—"
        )

    def _open(self, href: str) -> None:
        kind, _, key = href.partition(":")
        if kind == "run":
            self.state.run_requested.emit(key)
        elif kind == "version":
            self.state.open_version_requested.emit(
                self.state.cache.version_by_id(int(key)), "overview"
            )


class ProjectPage(QWidget):
    """One project: Overview, Runs, Workspace and Sweeps tabs."""

    def __init__(self, state: AppState, project: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.state = state
        self.project = project
        self.setObjectName("projectPage")
        self.runs: list[Run] = []
        self._digest = ""
        self.tabs = QTabWidget(self)
        self.tabs.setDocumentMode(True)
        self.overview = _Overview(state, self)
        self.tabs.addTab(self.overview, icon("overview"), "Overview")

        from desktopviz.app.widgets.project_sweeps import Sweeps  # pyqtgraph: on first use
        from desktopviz.app.widgets.project_workspace import Workspace
        from desktopviz.app.widgets.table_panel import TablePanel

        version, table = serve_runs_table(state.engine, project)
        self.runs_panel = TablePanel(state, version, table, spec=QuerySpec())
        """The runs table (the table view of artifact tables, on the project's runs)."""
        panel = self.runs_panel
        for tool in (panel.compare_tool, panel.views_tool):  # other versions / saved views:
            panel.tools.set_tool_visible(tool, False)  # an artifact's, not a runs table's
        panel.export_tool.save_version_action.setVisible(False)
        runs_tab = QWidget(self)
        self.compare_button = QPushButton(icon("compare"), "Compare selected in Workspace", self)
        self.compare_button.setToolTip("Tick the runs of the selected rows in the Workspace")
        self.compare_button.clicked.connect(self.compare_selected)
        self.open_run_button = QPushButton(icon("run"), "Open run", self)
        self.open_run_button.setToolTip("Open the run of the current row on its own tab")
        self.open_run_button.clicked.connect(self.open_current_run)
        buttons = QHBoxLayout()
        buttons.setContentsMargins(8, 6, 8, 0)
        buttons.addWidget(self.compare_button)
        buttons.addWidget(self.open_run_button)
        buttons.addStretch(1)
        runs_layout = QVBoxLayout(runs_tab)
        runs_layout.setContentsMargins(0, 0, 0, 0)
        runs_layout.setSpacing(0)
        runs_layout.addLayout(buttons)
        runs_layout.addWidget(self.runs_panel, 1)
        self.tabs.addTab(runs_tab, icon("table"), "Runs")
        self.workspace = Workspace(state, project, self)
        self.tabs.addTab(self.workspace, icon("compare"), "Workspace")
        self.sweeps = Sweeps(state, self)
        self.tabs.addTab(self.sweeps, icon("run"), "Sweeps")
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.tabs)
        state.cache_changed.connect(self.reload)
        self.reload()

    @property
    def name(self) -> str:
        """The project's name."""
        return self.project

    def reload(self) -> None:
        """Show the project as the cache holds it now (a run logged meanwhile shows)."""
        cache = self.state.cache
        self.runs = cache.runs(self.project)
        self.overview.show_overview(project_overview(cache, self.project))
        digest = runs_digest(self.runs)
        if digest != self._digest:
            first = not self._digest
            self._digest = digest
            if not first:  # the runs changed: the engine serves the new table, the view re-asks
                serve_runs_table(self.state.engine, self.project)
                self.runs_panel.model.load()
            self.workspace.set_runs(self.runs)
            self.sweeps.set_runs(self.runs)

    def show_tab(self, tab: str) -> None:
        """Bring ``overview``, ``runs``, ``workspace`` or ``sweeps`` forward."""
        self.tabs.setCurrentIndex(TABS.index(tab))

    def current_tab(self) -> str:
        """The tab in front."""
        return TABS[self.tabs.currentIndex()]

    def selected_run_ids(self) -> list[str]:
        """The ids of the runs whose rows are selected in the runs table (in row order)."""
        model = self.runs_panel.model
        names = [c.name for c in model.columns]
        if "id" not in names or model.result is None or model.result.spec.group is not None:
            return []
        column = names.index("id")
        rows = sorted({i.row() for i in self.runs_panel.view.selectionModel().selectedIndexes()})
        ids: list[Any] = [model.value(model.index(row, column)) for row in rows]
        return [i for i in ids if isinstance(i, str)]

    def compare_selected(self) -> None:
        """Tick the selected rows' runs in the Workspace and show it."""
        ids = self.selected_run_ids()
        if not ids:
            self.state.status_message.emit("Select rows of the runs table first")
            return
        self.workspace.pick(ids)
        self.show_tab("workspace")

    def open_current_run(self) -> None:
        """Open the current row's run on its own tab."""
        model = self.runs_panel.model
        index = self.runs_panel.view.currentIndex()
        names = [c.name for c in model.columns]
        if index.isValid() and "id" in names:
            run_id = model.value(model.index(index.row(), names.index("id")))
            if isinstance(run_id, str):
                self.state.run_requested.emit(run_id)

    def closeEvent(self, event: object) -> None:  # noqa: N802 - Qt override
        self.runs_panel.close()
        super().closeEvent(event)  # type: ignore[arg-type]
