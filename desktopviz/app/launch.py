"""Start the window: check that Qt can show one (on Linux, the X11 libraries Qt's xcb plugin
needs), create the QApplication with the theme, open the window in the state asked for, or render
it offscreen to a PNG and exit.

Public API: :class:`LaunchOptions`, :func:`run` (what the CLI calls), :data:`X11_LIBRARIES`,
:func:`missing_x11_packages`, :func:`display_problem`, :func:`create_application`,
:func:`documents_opened_by_os`.
"""

from __future__ import annotations

import ctypes
import os
import sys
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

X11_LIBRARIES: dict[str, str] = {
    "libxcb-cursor.so.0": "libxcb-cursor0",
    "libxcb-icccm.so.4": "libxcb-icccm4",
    "libxcb-image.so.0": "libxcb-image0",
    "libxcb-keysyms.so.1": "libxcb-keysyms1",
    "libxcb-randr.so.0": "libxcb-randr0",
    "libxcb-render-util.so.0": "libxcb-render-util0",
    "libxcb-shape.so.0": "libxcb-shape0",
    "libxcb-shm.so.0": "libxcb-shm0",
    "libxcb-sync.so.1": "libxcb-sync1",
    "libxcb-util.so.1": "libxcb-util1",
    "libxcb-xfixes.so.0": "libxcb-xfixes0",
    "libxcb-xkb.so.1": "libxcb-xkb1",
    "libX11-xcb.so.1": "libx11-xcb1",
    "libxkbcommon.so.0": "libxkbcommon0",
    "libxkbcommon-x11.so.0": "libxkbcommon-x11-0",
    "libfontconfig.so.1": "libfontconfig1",
    "libEGL.so.1": "libegl1",
    "libGL.so.1": "libgl1",
    "libdbus-1.so.3": "libdbus-1-3",
}
"""Shared libraries Qt's X11 (xcb) platform plugin loads -> the Debian/Ubuntu package of each."""

SCREENSHOT_IDLE_TIMEOUT = 60.0
"""Seconds a screenshot waits at most for workers (table pages, thumbnails) to finish."""


@dataclass
class LaunchOptions:
    """What the window opens on and shows (from ``desktopviz``, ``open``, ``gui``, ``demo``)."""

    cache_dir: Path
    import_paths: list[Path] = field(default_factory=list)
    open_ref: str | None = None
    open_table: str | None = None
    tab: str | None = None
    """``run`` shows the page of ``run_id``, else of the run that logged ``open_ref``."""
    run_id: str | None = None
    select_row: int | None = None
    open_file: str | None = None
    filters: tuple[str, ...] = ()
    sort: tuple = ()
    compare: object = None
    group_by: tuple[str, ...] = ()
    side_by_side: bool = False
    """A comparison's sides in two tables (with ``compare``)."""
    view: str | None = None
    """A CompareSpec: show the table compared with another."""
    size: tuple[int, int] | None = None
    screenshot: Path | None = None
    theme: str | None = None
    first_paint: bool = False
    """Quit at the window's first paint, printing when it came (for startup timings)."""
    page_name: str | None = None
    """With ``tab`` project, registry or report: the project, collection or report to show."""


def missing_x11_packages(libraries: Mapping[str, str] = X11_LIBRARIES) -> list[str]:
    """The packages of the ``libraries`` (soname -> package) that the loader cannot find."""
    missing = []
    for soname, package in libraries.items():
        try:
            ctypes.CDLL(soname)
        except OSError:
            if package not in missing:
                missing.append(package)
    return missing


def x11_message(missing: list[str]) -> str:
    """What to tell a user whose system lacks ``missing`` X11 packages."""
    names = " ".join(missing)
    return (
        f"desktopviz: the window needs X11 libraries that are not installed: {', '.join(missing)}\n"
        f"  Debian/Ubuntu:  sudo apt install {names}\n"
        "  Fedora:         sudo dnf install xcb-util-cursor xcb-util-wm xcb-util-keysyms "
        "xcb-util-image xcb-util-renderutil libxkbcommon-x11\n"
        "Without a display, render the window to a file instead: "
        "desktopviz gui --screenshot window.png"
    )


def _platform_name(environ: Mapping[str, str]) -> str:
    """The Qt platform plugin that will be used (``xcb`` when nothing else is asked for)."""
    asked = environ.get("QT_QPA_PLATFORM", "").split(";")[0].split(":")[0].strip()
    if asked:
        return asked
    if environ.get("WAYLAND_DISPLAY"):
        return "wayland"
    return "xcb"


def display_problem(
    environ: Mapping[str, str] | None = None,
    platform: str | None = None,
    x11_libraries: Mapping[str, str] = X11_LIBRARIES,
) -> str | None:
    """Why Qt could not show a window here (None when it can): Linux only, for the xcb plugin:
    no ``DISPLAY``, or missing X11 libraries (``x11_libraries``: soname -> package to check)."""
    environ = os.environ if environ is None else environ
    if (platform or sys.platform) != "linux" or _platform_name(environ) != "xcb":
        return None
    missing = missing_x11_packages(x11_libraries)
    if missing:
        return x11_message(missing)
    if not environ.get("DISPLAY"):
        return (
            "desktopviz: no display to open the window on (DISPLAY is not set).\n"
            "Run it in a desktop session, or render the window to a file: "
            "desktopviz gui --screenshot window.png"
        )
    return None


def create_application(argv: list[str] | None = None, theme: str | None = None):  # noqa: ANN201
    """The QApplication (made once), named for QSettings, high-DPI ready, themed."""
    from PySide6.QtCore import QCoreApplication, Qt
    from PySide6.QtGui import QGuiApplication
    from PySide6.QtWidgets import QApplication

    from desktopviz.app.icons import app_icon
    from desktopviz.app.theme import apply_theme, follow_system_theme

    app = QApplication.instance()
    if app is None:
        QGuiApplication.setHighDpiScaleFactorRoundingPolicy(
            Qt.HighDpiScaleFactorRoundingPolicy.PassThrough
        )
        QCoreApplication.setOrganizationName("desktopviz")
        QCoreApplication.setApplicationName("desktopviz")
        app = QApplication(argv or ["desktopviz"])
        app.setApplicationDisplayName("desktopviz")
        app.setDesktopFileName("desktopviz")
        follow_system_theme(app)
    app.setWindowIcon(app_icon())
    from PySide6.QtCore import QSettings

    apply_theme(app, theme or str(QSettings().value("theme", "system")))
    return app


def run(options: LaunchOptions, *, x11_libraries: Mapping[str, str] = X11_LIBRARIES) -> int:
    """Open the window as ``options`` say and run until it closes (or write the screenshot);
    return the exit code. ``x11_libraries`` is the soname -> package list the X11 check uses."""
    if options.screenshot is not None:
        os.environ["QT_QPA_PLATFORM"] = "offscreen"
    problem = display_problem(x11_libraries=x11_libraries)
    if problem:
        print(problem, file=sys.stderr)
        return 1
    try:
        import PySide6  # noqa: F401
    except ImportError:
        print(
            "desktopviz: the window needs PySide6, which is not installed: "
            "pip install 'PySide6-Essentials>=6.6'",
            file=sys.stderr,
        )
        return 1
    from desktopviz.app.main_window import MainWindow
    from desktopviz.app.state import AppState
    from desktopviz.store.cache import Cache

    if options.screenshot is not None or os.environ.get("QT_QPA_PLATFORM") == "offscreen":
        _quiet_offscreen_warnings()
    app = create_application(sys.argv[:1], options.theme)
    cache = Cache(options.cache_dir)
    try:
        run_id = _run_to_show(cache, options)
    except Exception:
        cache.close()
        raise
    state = AppState(cache)
    interactive = options.screenshot is None and not options.first_paint
    window = MainWindow(state, remember=interactive)
    opened_by_os = documents_opened_by_os(app, window) if interactive else None
    try:
        if interactive:
            window.remember_cache(options.cache_dir)
        if options.size:
            window.resize(*options.size)
        if interactive and not options.open_ref:
            window.restore_session()
        if options.open_ref:
            version = cache.resolve(options.open_ref)
            page = window.open_version(version, options.tab or "overview", options.open_table)
            if page is None:  # synced as catalog only: it downloads first
                from desktopviz.errors import DesktopvizError

                raise DesktopvizError(
                    f"{version.ref} is not downloaded yet: run `desktopviz pull {version.ref}`"
                )
            if options.view:
                _table_panel(page, options.open_table, version).apply_view(options.view)
            if options.filters or options.sort or options.compare or options.group_by:
                panel = _table_panel(page, options.open_table, version)
                if options.compare is not None:
                    panel.set_spec(panel.spec.with_(compare=options.compare))
                if options.filters:
                    panel.set_filter(
                        " and ".join(f"({f})" for f in options.filters)
                        if len(options.filters) > 1
                        else options.filters[0]
                    )
                if options.side_by_side:
                    panel.set_side_by_side(True)
                if options.group_by:
                    panel.group_by(tuple(options.group_by))
                panel.set_sort(tuple(options.sort))
            if options.select_row is not None:
                _table_panel(page, options.open_table, version).select_row(options.select_row)
            elif options.tab and options.open_table:
                page.show_tab(options.tab)
            if options.open_file:
                window.open_file(version, options.open_file)
        if options.tab in ("project", "registry", "report"):
            _open_named_page(window, cache, options)
        window.show()
        if options.import_paths:
            window.import_paths(options.import_paths)
        if run_id is not None:
            window.show_run(run_id)
        if opened_by_os is not None:
            opened_by_os.window_ready()
        if options.screenshot is not None:
            return _screenshot(app, window, options.screenshot, options.size)
        if options.first_paint:
            return _quit_at_first_paint(app, window)
        return app.exec()
    finally:
        window.close()
        state.engine.close()
        cache.close()


def _run_to_show(cache, options: LaunchOptions) -> str | None:  # noqa: ANN001
    """The id of the run whose page ``--tab run`` shows (None for other tabs): ``run_id``, else
    the run that logged ``open_ref``. NotFoundError when there is no such run."""
    from desktopviz.errors import DesktopvizError, NotFoundError

    if options.tab != "run":
        return None
    if options.run_id:
        return cache.run(options.run_id).id
    if not options.open_ref:
        raise DesktopvizError("--tab run needs --run ID or --open REF")
    version = cache.resolve(options.open_ref)
    run_id = cache.producer(version)
    if run_id is None:
        raise NotFoundError(f"{version.ref} was not logged by a run, so it has no run page")
    return run_id


def _quiet_offscreen_warnings() -> None:
    """Drop the offscreen plugin's "does not support propagateSizeHints()" notes (one per
    window, meaningless to a user); other Qt messages still reach stderr."""
    from PySide6.QtCore import qInstallMessageHandler

    def handler(_mode, _context, message: str) -> None:  # noqa: ANN001
        if "does not support propagateSizeHints" not in message:
            print(message, file=sys.stderr)

    qInstallMessageHandler(handler)


def _table_panel(page, table: str | None, version):  # noqa: ANN001, ANN202
    """The page's table panel (NotFoundError when the version holds no such table)."""
    from desktopviz.errors import NotFoundError

    panel = page.show_table(table)
    if panel is None:
        raise NotFoundError(f"{version.ref} holds no table {table or ''}".rstrip())
    return panel


def _wait_until_idle(app, window, timeout: float) -> None:  # noqa: ANN001
    """Paint and process events until no worker pool (the global one and any in the window, such
    as thumbnail loaders) has had work for a few rounds, or ``timeout`` passes. Painting comes
    first in each round: offscreen, views ask for their thumbnails only when painted."""
    from PySide6.QtCore import QThreadPool

    deadline = time.monotonic() + timeout
    quiet_rounds = 0
    while time.monotonic() < deadline and quiet_rounds < 3:
        window.grab()
        app.processEvents()
        pools = [QThreadPool.globalInstance(), *window.findChildren(QThreadPool)]
        busy = [p for p in pools if not p.waitForDone(50)]
        app.processEvents()
        quiet_rounds = 0 if busy or any(p.activeThreadCount() for p in pools) else quiet_rounds + 1


def _open_named_page(window, cache, options: LaunchOptions) -> None:  # noqa: ANN001
    """``gui --tab project|registry|report``: the page named, else the one the version (or the
    cache) suggests; a one-line error when there is none."""
    from desktopviz.errors import NotFoundError

    name = options.page_name
    if options.tab == "project":
        projects = [p.name for p in cache.projects()]
        if name is None:
            version = cache.resolve(options.open_ref) if options.open_ref else None
            name = version.project if version else (projects[0] if projects else None)
        if name not in projects or window.open_project(name) is None:
            raise NotFoundError(f"no project {name!r}" if name else "the cache has no project")
    elif options.tab == "registry":
        from desktopviz import registry

        names = [c.name for c in registry.collections(cache)]
        if name is None:
            name = names[0] if names else None
        if name not in names or window.open_registry(name) is None:
            raise NotFoundError(
                f"no registry collection {name!r}" if name else "no registry collection"
            )
    else:
        from desktopviz import reports

        if name is None:
            project = cache.resolve(options.open_ref).project if options.open_ref else None
            found = reports.list_reports(cache, project)
            name = found[0].id if found else None
        if name is None or window.open_report(name) is None:
            raise NotFoundError(f"no report {name!r}" if name else "no report")


class _OpenedByOs:
    """Documents the OS asks the running app to open (macOS Finder: double-click, Dock drops):
    imported into the window, or kept until it is ready."""

    def __init__(self, window) -> None:  # noqa: ANN001
        self._window = window
        self._pending: list[Path] = []
        self._ready = False
        self.handler = None
        """The application's event filter that calls :meth:`open_path`."""

    def open_path(self, path: str) -> None:
        """Import ``path`` now, or once the window is ready."""
        if self._ready:
            self._window.import_paths([Path(path)])
        else:
            self._pending.append(Path(path))

    def window_ready(self) -> None:
        """The window is shown: import what came before."""
        self._ready = True
        if self._pending:
            self._window.import_paths(self._pending)
            self._pending = []


def documents_opened_by_os(app, window, platform: str = sys.platform) -> _OpenedByOs | None:  # noqa: ANN001
    """On macOS, route the QFileOpenEvents of ``app`` to ``window`` (other systems pass documents
    in argv, and an application-wide event filter costs a Python call per event); call
    ``window_ready()`` on the result once the window is shown."""
    if platform != "darwin":
        return None
    from desktopviz.app.file_open_events import install_file_open_handler

    opened = _OpenedByOs(window)
    opened.handler = install_file_open_handler(app, opened.open_path)
    return opened


def _quit_at_first_paint(app, window) -> int:  # noqa: ANN001
    """Run until the window first paints; print ``first paint: <seconds since the epoch>``."""
    from PySide6.QtCore import QEvent, QObject

    class FirstPaint(QObject):
        def eventFilter(self, _obj, event) -> bool:  # noqa: ANN001, N802
            if event.type() == QEvent.Type.Paint and self.parent() is not None:
                print(f"first paint: {time.time():.4f}", flush=True)
                self.setParent(None)
                app.quit()
            return False

    watcher = FirstPaint(window)
    window.installEventFilter(watcher)
    code = app.exec()
    _wait_until_idle(app, window, SCREENSHOT_IDLE_TIMEOUT)  # the workers it started end cleanly
    return code


def _screenshot(app, window, out: Path, size: tuple[int, int] | None) -> int:  # noqa: ANN001
    """Render the window to ``out`` (PNG) at ``size`` pixels once its workers are done."""
    from PySide6.QtCore import QSize, Qt

    _wait_until_idle(app, window, SCREENSHOT_IDLE_TIMEOUT)
    image = window.grab().toImage()
    if size and (image.width(), image.height()) != size:
        image = image.scaled(
            QSize(*size),
            Qt.AspectRatioMode.IgnoreAspectRatio,
            Qt.TransformationMode.SmoothTransformation,
        )
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    if not image.save(str(out), "PNG"):
        print(f"desktopviz: error: {out}: cannot write the screenshot", file=sys.stderr)
        return 1
    print(f"screenshot: {out} ({image.width()}x{image.height()})")
    return 0
