"""Documents opened from the macOS Finder reach the app as ``QFileOpenEvent``, not in ``argv``.

Double-clicking a ``*.table.json`` (or an artifact folder) that Launch Services hands to
desktopviz, dragging one onto its Dock icon, or "Open With > desktopviz" sends the running
application one ``QEvent.FileOpen`` per document. On a cold start the first events arrive soon
after the ``QApplication`` exists, often before the window is shown, and before ``app.exec()``.

Public API::

    handler = install_file_open_handler(app, open_path)

``open_path(path)`` is called on the UI thread with each document's local path. The handler does
not buffer: a caller whose window is not ready yet keeps the paths itself (e.g. appends them to
a list that the window imports once it is shown) and must install the handler before
``app.exec()`` so no event is missed. Keep the returned object alive (it is parented to the
app, so it lives as long as the app does unless deleted); ``app.removeEventFilter(handler)``
stops it. Other platforms never send these events, so installing it everywhere is harmless.
"""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import QEvent, QObject
from PySide6.QtGui import QFileOpenEvent
from PySide6.QtWidgets import QApplication


class FileOpenHandler(QObject):
    """Event filter on the application: ``QEvent.FileOpen`` -> ``open_path(local path)``."""

    def __init__(self, app: QApplication, open_path: Callable[[str], None]) -> None:
        super().__init__(app)
        self._open_path = open_path

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:  # noqa: N802 - Qt override
        """Handle file-open events sent to the application; let every other event through."""
        if event.type() == QEvent.Type.FileOpen and isinstance(event, QFileOpenEvent):
            path = event.file() or event.url().toLocalFile()
            if path:
                self._open_path(path)
                return True
        return super().eventFilter(watched, event)


def install_file_open_handler(app: QApplication, open_path: Callable[[str], None]) -> QObject:
    """Call ``open_path(path)`` for every document the OS asks ``app`` to open; return the filter.

    Paths that arrive before the window is ready are not kept here: buffering them is the
    caller's business (see the module docstring).
    """
    handler = FileOpenHandler(app, open_path)
    app.installEventFilter(handler)
    return handler
