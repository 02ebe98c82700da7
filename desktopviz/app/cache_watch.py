"""Notice changes other processes make to the open cache (the CLI, the SDK, another window) and
reload what shows it: :class:`CacheWatcher` polls the index's ``data_version`` (it moves only on
another connection's commit, so the window's own changes, which already refresh, don't count).

Public API: :class:`CacheWatcher` (``CacheWatcher(state, interval_ms=500)``, ``check``).
"""

from __future__ import annotations

import sqlite3

from PySide6.QtCore import QObject, QTimer

from desktopviz.app.state import AppState

POLL_MS = 500
"""How often the index is asked (a change shows within about this long)."""


class CacheWatcher(QObject):
    """Calls ``state.refresh()`` when another process committed to ``state.cache``.

    Build it before the widgets that reload on ``cache_changed``: it takes the index's version
    when a refresh starts, so a commit landing while they reload is seen at the next poll.
    """

    def __init__(
        self, state: AppState, interval_ms: int = POLL_MS, parent: QObject | None = None
    ) -> None:
        super().__init__(parent if parent is not None else state)
        self.state = state
        self.seen = self._read()
        self.timer = QTimer(self)
        self.timer.setInterval(interval_ms)
        self.timer.timeout.connect(self.check)
        state.cache_changed.connect(self._note_refresh)
        self.timer.start()

    def check(self) -> bool:
        """Refresh if the cache changed since the last refresh; True if it did."""
        version = self._read()
        if version is None or version == self.seen:
            return False
        self.state.refresh()
        return True

    def _note_refresh(self) -> None:
        # any refresh (this watcher's, or the window's after its own import) shows what is
        # committed now: only later commits need another
        self.seen = self._read()

    def _read(self) -> int | None:
        try:
            return self.state.cache.data_version()
        except sqlite3.Error:  # the cache was closed (switching caches): nothing to watch
            return None
