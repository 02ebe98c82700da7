"""The main window: artifact sidebar (left dock), version pages as closable central tabs (the start
page when none is open), cell inspector (right dock), menus, status bar, drag-and-drop import,
and the window state kept in QSettings.

Public API: :class:`MainWindow` (``MainWindow(state, settings=None, remember=True)``,
``open_version``, ``open_cache``, ``import_paths``, ``build_demo``, ``restore_session``,
``current_page``, ``pages``).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

from PySide6.QtCore import QByteArray, QSettings, QSize, Qt
from PySide6.QtGui import (
    QAction,
    QActionGroup,
    QCloseEvent,
    QDragEnterEvent,
    QDropEvent,
    QKeySequence,
    QShowEvent,
)
from PySide6.QtWidgets import (
    QApplication,
    QDialog,
    QDockWidget,
    QFileDialog,
    QLabel,
    QMainWindow,
    QMessageBox,
    QStackedWidget,
    QTabWidget,
    QWidget,
)

from desktopviz.app.cache_watch import CacheWatcher
from desktopviz.app.icons import app_icon, icon
from desktopviz.app.state import AppState, TableStatus
from desktopviz.app.theme import THEMES, apply_theme, current_theme
from desktopviz.app.widgets.about import AboutDialog
from desktopviz.app.widgets.import_dialog import ImportJob, dropped_paths
from desktopviz.app.widgets.run_page import RunPage
from desktopviz.app.widgets.sidebar import Sidebar
from desktopviz.app.widgets.start_page import StartPage
from desktopviz.app.widgets.version_page import VersionPage
from desktopviz.app.workers import run_in_worker
from desktopviz.errors import DesktopvizError, NotFoundError
from desktopviz.humanize import human_size
from desktopviz.model import Version
from desktopviz.store.cache import Cache

MAX_RECENT_CACHES = 8
APP_NAME = "desktopviz"
PageT = TypeVar("PageT", bound=QWidget)


def _with_fallback(key: QKeySequence.StandardKey, fallback: str) -> list[QKeySequence]:
    """The platform's bindings of ``key``, and ``fallback`` whatever the platform says."""
    bindings = QKeySequence.keyBindings(key)
    wanted = QKeySequence(fallback)
    return bindings if wanted in bindings else [*bindings, wanted]


class MainWindow(QMainWindow):
    """The application window on one cache (``state.cache``)."""

    def __init__(
        self,
        state: AppState,
        settings: QSettings | None = None,
        *,
        remember: bool = True,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.state = state
        # first to hear cache_changed (see CacheWatcher): other processes' changes show within 1 s
        self.cache_watcher = CacheWatcher(state, parent=self)
        self.settings = settings if settings is not None else QSettings()
        self.remember = remember
        self.import_job: ImportJob | None = None
        self.demo_images = 600
        self.dialog: QWidget | None = None
        self.setObjectName("mainWindow")
        self.setWindowIcon(app_icon())
        self.setAcceptDrops(True)
        self.setDockNestingEnabled(True)
        self.resize(1400, 900)

        self.pages = QTabWidget()
        self.pages.setTabsClosable(True)
        self.pages.setMovable(True)
        self.pages.setDocumentMode(True)
        self.pages.setElideMode(Qt.TextElideMode.ElideMiddle)
        self.pages.setUsesScrollButtons(True)
        self.start_page = StartPage(state)
        self.central = QStackedWidget()
        self.central.addWidget(self.start_page)
        self.central.addWidget(self.pages)
        self.setCentralWidget(self.central)

        self.sidebar = Sidebar(state)
        self.sidebar_dock = self._dock("Artifacts", "sidebarDock", self.sidebar)
        self.addDockWidget(Qt.DockWidgetArea.LeftDockWidgetArea, self.sidebar_dock)
        from desktopviz.app.widgets.cell_inspector import CellInspector

        self.inspector = CellInspector(state)
        self.inspector_dock = self._dock("Inspector", "inspectorDock", self.inspector)
        self.addDockWidget(Qt.DockWidgetArea.RightDockWidgetArea, self.inspector_dock)
        # the Charts panel (and pyqtgraph) is built the first time its dock shows: not at start-up
        self._charts = None
        self.charts_dock = self._dock("Charts", "chartsDock", QWidget())
        self.charts_dock.visibilityChanged.connect(lambda shown: shown and self.charts)
        self.addDockWidget(Qt.DockWidgetArea.RightDockWidgetArea, self.charts_dock)
        self.tabifyDockWidget(self.inspector_dock, self.charts_dock)
        self.inspector_dock.raise_()
        self._docks_sized = False

        self.table_status_label = QLabel()
        self.cache_label = QLabel()
        from desktopviz.app.widgets.sync_status import SyncStatus

        self.sync_status = SyncStatus(state)
        """Syncing sources and downloading catalog-only versions, in the status bar."""
        self.statusBar().addPermanentWidget(self.sync_status)
        self.statusBar().addPermanentWidget(self.table_status_label)
        self.statusBar().addPermanentWidget(self.cache_label)
        self._build_menus()

        self.pages.tabCloseRequested.connect(self.close_page)
        self.pages.currentChanged.connect(self._page_changed)
        state.open_version_requested.connect(self.open_version)
        state.file_requested.connect(self.open_file)
        state.compare_requested.connect(self.open_comparison)
        state.run_requested.connect(self.show_run)
        self.sidebar.registry_requested.connect(self.open_registry)
        self.sidebar.project_requested.connect(self.open_project)
        self.sidebar.report_requested.connect(self.open_report)
        self.sidebar.results.report_requested.connect(self.open_report)
        state.import_requested.connect(self.import_paths)
        state.demo_requested.connect(self.build_demo)
        state.cache_changed.connect(self._cache_changed)
        state.table_status_changed.connect(self._show_table_status)
        state.status_message.connect(lambda text: self.statusBar().showMessage(text, 6000))
        self._cache_changed()

    @staticmethod
    def _dock(title: str, name: str, widget: QWidget) -> QDockWidget:
        dock = QDockWidget(title)
        dock.setObjectName(name)
        dock.setWidget(widget)
        dock.setFeatures(
            QDockWidget.DockWidgetFeature.DockWidgetClosable
            | QDockWidget.DockWidgetFeature.DockWidgetMovable
            | QDockWidget.DockWidgetFeature.DockWidgetFloatable
        )
        return dock

    # -- menus ----------------------------------------------------------------------------------
    def _build_menus(self) -> None:
        bar = self.menuBar()
        file_menu = bar.addMenu("&File")
        self.import_folder_action = file_menu.addAction(
            icon("folder-open"), "Import &folder…", self.ask_import_folder
        )
        self.import_folder_action.setShortcut(QKeySequence("Ctrl+I"))
        file_menu.addAction(icon("import"), "Import f&iles…", self.ask_import_files)
        file_menu.addSeparator()
        open_cache = file_menu.addAction(icon("cache"), "&Open cache…", self.ask_open_cache)
        open_cache.setShortcuts(_with_fallback(QKeySequence.StandardKey.Open, "Ctrl+O"))
        self.recent_menu = file_menu.addMenu("&Recent caches")
        self.recent_menu.aboutToShow.connect(self._fill_recent_menu)
        file_menu.addSeparator()
        self.sources_action = file_menu.addAction("&Sources…", self.show_sources)
        self.sync_action = file_menu.addAction(
            icon("refresh"), "S&ync all sources", lambda: self.sync_status.sync_sources()
        )
        file_menu.addSeparator()
        self.close_tab_action = file_menu.addAction("&Close tab", self.close_current_page)
        self.close_tab_action.setShortcuts(_with_fallback(QKeySequence.StandardKey.Close, "Ctrl+W"))
        quit_action = file_menu.addAction("&Quit", self.close)
        quit_action.setShortcuts(_with_fallback(QKeySequence.StandardKey.Quit, "Ctrl+Q"))
        quit_action.setMenuRole(QAction.MenuRole.QuitRole)

        view_menu = bar.addMenu("&View")
        theme_menu = view_menu.addMenu(icon("theme"), "&Theme")
        self.theme_actions: dict[str, QAction] = {}
        group = QActionGroup(self)
        for mode in THEMES:
            action = theme_menu.addAction(mode.capitalize(), lambda m=mode: self.set_theme(m))
            action.setCheckable(True)
            group.addAction(action)
            self.theme_actions[mode] = action
        view_menu.addSeparator()
        for dock, icon_name, keys in (
            (self.sidebar_dock, "sidebar", "Ctrl+Shift+A"),
            (self.inspector_dock, "inspector", "Ctrl+Shift+I"),
            (self.charts_dock, "compare", "Ctrl+Shift+H"),
        ):
            action = dock.toggleViewAction()
            action.setIcon(icon(icon_name))
            action.setShortcut(QKeySequence(keys))
            view_menu.addAction(action)
        focus_search = view_menu.addAction(icon("search"), "&Find (filter)", self._focus_search)
        focus_search.setShortcuts(_with_fallback(QKeySequence.StandardKey.Find, "Ctrl+F"))
        focus_search.setToolTip("The table's filter box when a table is in front, else artifacts")
        find_artifact = view_menu.addAction("Find &artifact", self._focus_sidebar_search)
        find_artifact.setShortcut(QKeySequence("Ctrl+Shift+F"))
        view_menu.addSeparator()
        self.refresh_action = view_menu.addAction(icon("refresh"), "&Refresh", self.state.refresh)
        self.refresh_action.setShortcuts(_with_fallback(QKeySequence.StandardKey.Refresh, "F5"))
        self.refresh_action.setToolTip("Reload the artifacts and pages from the cache")
        next_tab = QAction("Next tab", self)
        next_tab.setShortcut(QKeySequence("Ctrl+Tab"))
        next_tab.triggered.connect(lambda: self._cycle_pages(1))
        previous_tab = QAction("Previous tab", self)
        previous_tab.setShortcut(QKeySequence("Ctrl+Shift+Tab"))
        previous_tab.triggered.connect(lambda: self._cycle_pages(-1))
        self.addActions([next_tab, previous_tab])

        help_menu = bar.addMenu("&Help")
        about = help_menu.addAction(icon("info"), "&About desktopviz", self.show_about)
        about.setMenuRole(QAction.MenuRole.AboutRole)
        self._sync_theme_menu()

    def _sync_theme_menu(self) -> None:
        app = QApplication.instance()
        mode = current_theme(app) if app else "system"
        self.theme_actions[mode].setChecked(True)

    def set_theme(self, mode: str) -> None:
        """Switch to the ``system``, ``light`` or ``dark`` theme (and remember it)."""
        apply_theme(QApplication.instance(), mode)
        self._sync_theme_menu()
        if self.remember:
            self.settings.setValue("theme", mode)

    def _fill_recent_menu(self) -> None:
        self.recent_menu.clear()
        recent = self.recent_caches()
        for root in recent:
            action = self.recent_menu.addAction(root, lambda r=root: self.open_cache(Path(r)))
            action.setEnabled(Path(root, "index.sqlite").is_file())
        if not recent:
            self.recent_menu.addAction("(none yet)").setEnabled(False)

    def recent_caches(self) -> list[str]:
        """Caches opened before, most recent first."""
        value = self.settings.value("recent_caches", [])
        if isinstance(value, str):
            value = [value]
        return [str(v) for v in value or []]

    def remember_cache(self, root: Path) -> None:
        if not self.remember:
            return
        text = str(root.resolve())
        recent = [text] + [r for r in self.recent_caches() if r != text]
        self.settings.setValue("recent_caches", recent[:MAX_RECENT_CACHES])

    def _focus_search(self) -> None:
        """Ctrl+F: the filter box of the table in front, else the artifact search."""
        panel = self.current_table_panel()
        if panel is not None:
            panel.filter_bar.focus_editor()
            return
        self._focus_sidebar_search()

    def _focus_sidebar_search(self) -> None:
        self.sidebar_dock.show()
        self.sidebar.search.setFocus()
        self.sidebar.search.selectAll()

    # -- pages ----------------------------------------------------------------------------------
    def _tabs_of(self, kind: type[PageT]) -> list[PageT]:
        """The open pages of ``kind``, in tab order."""
        tabs = (self.pages.widget(i) for i in range(self.pages.count()))
        return [page for page in tabs if isinstance(page, kind)]

    def _open_tab(
        self,
        kind: type[PageT],
        matches: Callable[[PageT], bool],
        icon_name: str,
        make: Callable[[], tuple[PageT, str, str] | None],
    ) -> PageT | None:
        """Bring forward the open page of ``kind`` that ``matches``, else add the page ``make()``
        gives as a tab (with its text and tooltip); None when ``make()`` gives none."""
        page = next((p for p in self._tabs_of(kind) if matches(p)), None)
        if page is None:
            made = make()
            if made is None:
                return None
            page, text, tooltip = made
            index = self.pages.addTab(page, icon(icon_name), text)
            self.pages.setTabToolTip(index, tooltip)
        self.pages.setCurrentWidget(page)
        self.central.setCurrentWidget(self.pages)
        return page

    def page_list(self) -> list[VersionPage]:
        """The open version pages, in tab order."""
        return self._tabs_of(VersionPage)

    def run_pages(self) -> list[RunPage]:
        """The open run pages, in tab order."""
        return self._tabs_of(RunPage)

    @property
    def charts(self):  # noqa: ANN201 - a ChartsPanel (built on first use)
        """The Charts dock's panel."""
        if self._charts is None:
            from desktopviz.app.widgets.charts_panel import ChartsPanel

            self._charts = ChartsPanel(self.state)
            self.charts_dock.setWidget(self._charts)
            cell = self.state.cell
            if cell is not None:
                self._charts.show_column(cell.column)
        return self._charts

    def current_table_panel(self):  # noqa: ANN201 - a TablePanel or None
        """The table panel in front (None when no table tab is in front)."""
        page = self.current_page()
        if page is None or page.current_tab() != "table":
            return None
        return getattr(page.tables.currentWidget(), "panel", None)

    def current_page(self) -> VersionPage | None:
        """The version page in front (None on the start page or a run's page)."""
        page = self.pages.currentWidget()
        return page if isinstance(page, VersionPage) else None

    def page_for(self, version: Version) -> VersionPage | None:
        """The open page of ``version``, if any."""
        return next((p for p in self.page_list() if p.version.id == version.id), None)

    def open_version(
        self, version: Version, tab: str = "overview", table: str | None = None
    ) -> VersionPage | None:
        """Open (or bring forward) ``version``'s page on ``tab`` (and ``table``); a version
        synced as catalog only is downloaded first (progress in the status bar), then opens."""
        if not version.downloaded:
            self.sync_status.fetch(version, tab)
            return self.page_for(version)
        page = self._open_tab(
            VersionPage,
            lambda p: p.version.id == version.id,
            "version",
            lambda: (
                VersionPage(self.state, version),
                f"{version.name}:{version.tag}",
                version.ref,
            ),
        )
        if table is not None:
            page.show_table(table)
        else:
            page.show_tab(tab)
        return page

    def open_comparison(self, version: Version, other: Version, table: str | None = None) -> None:
        """Open ``version``'s table (the first, or ``table``) compared with ``other``'s."""
        page = self.open_version(version, "table", table)
        if page is None:  # being downloaded first
            return
        panel = page.show_table(table)
        if panel is None:
            self.state.status_message.emit(f"{version.ref} has no table to compare")
            return
        panel.compare_with(other.ref)

    def open_file(self, version: Version, path: str) -> None:
        """Open ``version``'s Files tab on ``path``."""
        page = self.open_version(version, "files")
        if page is not None:
            page.show_file(path)

    def close_page(self, index: int) -> None:
        """Close the version page at tab ``index``."""
        page = self.pages.widget(index)
        if page is None:
            return
        self.pages.removeTab(index)
        page.deleteLater()
        if not self.pages.count():
            self.central.setCurrentWidget(self.start_page)
            self.state.set_version(None)
            self._update_title()

    def close_current_page(self) -> None:
        """Close the tab in front (Ctrl+W)."""
        if self.pages.count():
            self.close_page(self.pages.currentIndex())

    def _cycle_pages(self, step: int) -> None:
        if self.pages.count():
            self.pages.setCurrentIndex((self.pages.currentIndex() + step) % self.pages.count())

    def _page_changed(self, _index: int) -> None:
        page = self.current_page()
        if isinstance(page, VersionPage):
            page.announce_table()  # the table in front is that page's (the Inspector follows)
        else:
            self.state.focus_table(None)
        if page is not None:
            if self.state.version is None or self.state.version.id != page.version.id:
                self.state.set_version(page.version)
        self._update_title()

    def _update_title(self) -> None:
        page = self.current_page()
        root = str(self.state.cache.root)
        if page is not None:
            v = page.version
            self.setWindowTitle(f"{v.name}:{v.tag} — {v.project} — {APP_NAME}")
        elif isinstance(run_page := self.pages.currentWidget(), RunPage):
            self.setWindowTitle(f"Run {run_page.name} — {run_page.run.project} — {APP_NAME}")
        else:
            self.setWindowTitle(f"{APP_NAME} — {root}")

    # -- the cache --------------------------------------------------------------------------------
    def _cache_changed(self) -> None:
        for page in self.page_list():
            try:
                page.set_version(self.state.cache.version_by_id(page.version.id))
            except NotFoundError:
                self.close_page(self.pages.indexOf(page))
        for run_page in self.run_pages():
            try:
                run_page.reload()
            except NotFoundError:
                self.close_page(self.pages.indexOf(run_page))
        if not self.pages.count():
            self.central.setCurrentWidget(self.start_page)
        self._update_title()
        self.cache_label.setText("Cache …")
        self.cache_label.setToolTip(str(self.state.cache.root))
        run_in_worker(
            self.state.cache.size_bytes,
            on_result=lambda n: self.cache_label.setText(f"Cache {human_size(n)}"),
            owner=self,
        )

    def open_cache(self, root: Path, create: bool = False) -> bool:
        """Switch to the cache at ``root`` (closing open pages); False if there is none."""
        try:
            cache = Cache(root, create=create)
        except DesktopvizError as e:
            self._message(QMessageBox.Icon.Warning, "Cannot open cache", str(e))
            return False
        for _ in range(self.pages.count()):
            self.close_page(0)
        old = self.state.cache
        self.state.set_cache(cache)
        old.close()
        self.remember_cache(root)
        return True

    def ask_open_cache(self) -> None:
        """Pick a cache folder (offering to create one in an empty folder)."""
        folder = QFileDialog.getExistingDirectory(self, "Open cache")
        if not folder:
            return
        root = Path(folder)
        if not (root / "index.sqlite").is_file():
            answer = QMessageBox.question(
                self,
                "Create cache?",
                f"{root} holds no desktopviz cache. Create a new, empty cache there?",
            )
            if answer != QMessageBox.StandardButton.Yes:
                return
            self.open_cache(root, create=True)
            return
        self.open_cache(root)

    # -- importing --------------------------------------------------------------------------------
    def ask_import_folder(self) -> None:
        """File > Import folder…"""
        self.start_page.ask_folder()

    def ask_import_files(self) -> None:
        """File > Import files…"""
        self.start_page.ask_files()

    def _job_running(self) -> bool:
        if self.import_job is not None and self.import_job.running:
            self.statusBar().showMessage("An import is running; wait for it or cancel it", 6000)
            return True
        return False

    def import_paths(self, paths: list[Path]) -> ImportJob | None:
        """Import ``paths`` in a worker with the progress dialog; the result opens when done."""
        if not paths or self._job_running():
            return None
        self.import_job = ImportJob.import_paths(self.state, list(paths), parent=self)
        return self.import_job

    def build_demo(self) -> ImportJob | None:
        """Build the demo project (``demo_images`` images) in a worker; its latest predictions
        open when done."""
        if self._job_running():
            return None
        self.import_job = ImportJob.build_demo(self.state, self.demo_images, parent=self)
        return self.import_job

    def dragEnterEvent(self, event: QDragEnterEvent) -> None:  # noqa: N802 - Qt override
        if dropped_paths(event.mimeData()):
            event.acceptProposedAction()

    def dragMoveEvent(self, event: QDragEnterEvent) -> None:  # noqa: N802 - Qt override
        if dropped_paths(event.mimeData()):
            event.acceptProposedAction()

    def dropEvent(self, event: QDropEvent) -> None:  # noqa: N802 - Qt override
        paths = dropped_paths(event.mimeData())
        if paths:
            event.acceptProposedAction()
            self.import_paths(paths)

    # -- runs, about, status ------------------------------------------------------------------
    def show_run(self, run_id: str) -> RunPage | None:
        """Open (or bring forward) a run's page: a tab beside the versions' pages."""

        def make() -> tuple[RunPage, str, str] | None:
            try:
                run = self.state.cache.run(run_id)
            except NotFoundError as e:
                self._message(QMessageBox.Icon.Information, "Run", str(e))
                return None
            page = RunPage(self.state, run)
            return page, page.name, f"Run {run.id} of {run.project}"

        return self._open_tab(RunPage, lambda p: p.run.id == run_id, "run", make)

    def open_registry(self, collection: str):  # noqa: ANN201 - a RegistryPage
        """Open (or bring forward) a registry collection's page: a tab beside the others."""
        from desktopviz.app.widgets.registry_page import RegistryPage

        return self._open_tab(
            RegistryPage,
            lambda p: p.collection == collection,
            "link",
            lambda: (
                RegistryPage(self.state, collection),
                f"registry/{collection}",
                f"Registry collection {collection}",
            ),
        )

    def open_project(self, name: str):  # noqa: ANN201 - a ProjectPage
        """Open (or bring forward) a project's page: Overview, Runs, Workspace, Sweeps."""
        from desktopviz.app.widgets.project_page import ProjectPage

        return self._open_tab(
            ProjectPage,
            lambda p: p.project == name,
            "project",
            lambda: (ProjectPage(self.state, name), name, f"Project {name}"),
        )

    def open_report(self, name_or_id: str | int):  # noqa: ANN201 - a ReportPage or None
        """Open (or bring forward) a report's page (``[project/]name`` or its id)."""
        from desktopviz import reports
        from desktopviz.app.widgets.report_page import ReportPage

        try:
            report = reports.get(self.state.cache, name_or_id)
        except NotFoundError as e:
            self._message(QMessageBox.Icon.Information, "Report", str(e))
            return None
        return self._open_tab(
            ReportPage,
            lambda p: p.report_id == report.id,
            "file-text",
            lambda: (ReportPage(self.state, report.id), report.name, f"Report {report.ref}"),
        )

    def show_sources(self) -> QDialog:
        """File > Sources…: the servers and folders this cache syncs from."""
        from desktopviz.app.widgets.sources_dialog import SourcesDialog

        dialog = SourcesDialog(self.state, self.sync_status, self)
        self.dialog = dialog
        dialog.open()
        return dialog

    def show_about(self) -> AboutDialog:
        """Help > About."""
        dialog = AboutDialog(str(self.state.cache.root), self)
        self.dialog = dialog
        dialog.open()
        return dialog

    def _show_table_status(self, status: TableStatus | None) -> None:
        if status is None:
            self.table_status_label.clear()
            return
        if status.grouped:
            text = f"{status.shown:,} group{'s' * (status.shown != 1)} of {status.total:,} rows"
        elif status.shown == status.total:
            text = f"{status.total:,} rows"
        else:
            text = f"{status.shown:,} of {status.total:,} rows"
        if status.selected:
            text += f" · {status.selected:,} selected"
        self.table_status_label.setText(text)

    def _message(self, kind: QMessageBox.Icon, title: str, text: str) -> None:
        box = QMessageBox(kind, title, text, QMessageBox.StandardButton.Ok, self)
        self.dialog = box
        box.open()

    # -- window state ---------------------------------------------------------------------------
    def restore_session(self) -> None:
        """Restore geometry, docks and the last open version (or run page) from the settings."""
        geometry = self.settings.value("geometry")
        if isinstance(geometry, QByteArray | bytes):
            self.restoreGeometry(QByteArray(geometry))
        state = self.settings.value("window_state")
        if isinstance(state, QByteArray | bytes):
            self._docks_sized = self.restoreState(QByteArray(state))
        if str(self.settings.value("last_cache", "")) != str(self.state.cache.root):
            return
        ref = self.settings.value("last_version")
        if ref:
            try:
                version = self.state.cache.resolve(str(ref))
            except DesktopvizError:
                version = None
            if version is not None:
                self.open_version(version, str(self.settings.value("last_tab", "overview")))
        run_id = str(self.settings.value("last_run", "") or "")
        if run_id and self.state.cache.runs(run_id=run_id):
            self.show_run(run_id)

    def save_session(self) -> None:
        """Remember geometry, docks and the version in front."""
        self.settings.setValue("geometry", self.saveGeometry())
        self.settings.setValue("window_state", self.saveState())
        page = self.current_page()
        self.settings.setValue("last_version", page.version.ref if page else "")
        self.settings.setValue("last_tab", page.current_tab() if page else "overview")
        run_page = self.pages.currentWidget()
        self.settings.setValue("last_run", run_page.run.id if isinstance(run_page, RunPage) else "")
        self.settings.setValue("last_cache", str(self.state.cache.root))
        self.settings.sync()

    def closeEvent(self, event: QCloseEvent) -> None:  # noqa: N802 - Qt override
        if self.import_job is not None and self.import_job.running:
            self.import_job.cancel()
            self.import_job.worker.wait(30)
        if self.remember:
            self.save_session()
        super().closeEvent(event)

    def showEvent(self, event: QShowEvent) -> None:  # noqa: N802 - Qt override
        super().showEvent(event)
        if not self._docks_sized:
            self._docks_sized = True
            self.resizeDocks(
                [self.sidebar_dock, self.inspector_dock], [320, 300], Qt.Orientation.Horizontal
            )

    def sizeHint(self) -> QSize:  # noqa: D102 - Qt override
        return QSize(1400, 900)
