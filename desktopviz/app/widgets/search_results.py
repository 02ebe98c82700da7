"""Ranked search results under the sidebar's search box: what ``desktopviz.search`` finds
(projects, artifacts, versions, runs, tables, registry collections, reports) as the user types,
each with its kind's icon, its reference and the field that matched (matched words in bold).

The search runs in a worker on a connection of its own, 150 ms after the last keystroke (one at
a time: what is typed meanwhile is searched next, and a stale answer is dropped). A click or
Enter opens the hit: a version's page (``state.open_version_requested``), a run's page
(``state.run_requested``), a table on its version's Table tab, an artifact's latest version;
projects, registry collections and reports are signalled for the window to open.

Public API: :class:`SearchResults` (``SearchResults(state)``, :meth:`~SearchResults.attach` to a
line edit, :meth:`~SearchResults.set_query`, :meth:`~SearchResults.open_current`).
"""

from __future__ import annotations

from PySide6.QtCore import QEvent, QModelIndex, QObject, QRect, QSize, Qt, QTimer, Signal
from PySide6.QtGui import (
    QFont,
    QFontMetrics,
    QGuiApplication,
    QIcon,
    QKeyEvent,
    QPainter,
    QPalette,
    QStandardItem,
    QStandardItemModel,
)
from PySide6.QtWidgets import (
    QAbstractItemView,
    QLineEdit,
    QListView,
    QStyle,
    QStyledItemDelegate,
    QStyleOptionViewItem,
    QWidget,
)

from desktopviz.app.icons import icon
from desktopviz.app.state import AppState
from desktopviz.app.workers import Worker, run_in_worker
from desktopviz.errors import DesktopvizError
from desktopviz.search import Hit, search_index

HIT_ROLE = Qt.ItemDataRole.UserRole + 1
"""The :class:`desktopviz.search.Hit` of a row."""
DEBOUNCE_MS = 150
ROWS_SHOWN = 7
"""At most this many rows tall (the rest scroll)."""
ICONS = {
    "project": "project",
    "artifact": "artifact",
    "version": "version",
    "run": "run",
    "table": "table",
    "registry": "link",
    "report": "file-text",
}


class _HitDelegate(QStyledItemDelegate):
    """Two lines: the kind's icon and the reference; under it, dim, ``field: snippet`` with the
    matched words in bold."""

    def sizeHint(self, option: QStyleOptionViewItem, index: QModelIndex) -> QSize:  # noqa: N802
        line = QFontMetrics(option.font).height()
        return QSize(200, 2 * line + 8)

    def paint(self, painter: QPainter, option: QStyleOptionViewItem, index: QModelIndex) -> None:
        hit: Hit = index.data(HIT_ROLE)
        opt = QStyleOptionViewItem(option)
        self.initStyleOption(opt, index)
        opt.text = ""
        opt.icon = QIcon()  # drawn below, at the first line's height
        style = opt.widget.style() if opt.widget else QGuiApplication.style()
        style.drawControl(QStyle.ControlElement.CE_ItemViewItem, opt, painter, opt.widget)
        selected = bool(opt.state & QStyle.StateFlag.State_Selected)
        palette = opt.palette
        text = palette.color(
            QPalette.ColorRole.HighlightedText if selected else QPalette.ColorRole.Text
        )
        dim = palette.color(
            QPalette.ColorRole.HighlightedText if selected else QPalette.ColorRole.PlaceholderText
        )
        metrics = QFontMetrics(opt.font)
        line = metrics.height()
        rect = opt.rect.adjusted(6, 4, -6, -4)
        painter.save()
        mode = QIcon.Mode.Selected if selected else QIcon.Mode.Normal
        icon(ICONS.get(hit.kind, "search")).paint(
            painter, QRect(rect.x(), rect.y() + (line - 16) // 2, 16, 16), mode=mode
        )
        x = rect.x() + 22
        painter.setFont(opt.font)
        painter.setPen(text)
        label = metrics.elidedText(hit.label, Qt.TextElideMode.ElideMiddle, rect.right() - x)
        painter.drawText(
            QRect(x, rect.y(), rect.right() - x, line), Qt.AlignmentFlag.AlignVCenter, label
        )
        bold = QFont(opt.font)
        bold.setWeight(QFont.Weight.Bold)
        y = rect.y() + line
        painter.setPen(dim)
        x = _draw_run(painter, opt.font, f"{hit.field}: ", x, y, line, rect.right())
        at = 0
        for start, end in (*hit.marks, (len(hit.snippet), len(hit.snippet))):
            x = _draw_run(painter, opt.font, hit.snippet[at:start], x, y, line, rect.right())
            painter.setPen(text)
            x = _draw_run(painter, bold, hit.snippet[start:end], x, y, line, rect.right())
            painter.setPen(dim)
            at = end
        painter.restore()


def _draw_run(
    painter: QPainter, font: QFont, text: str, x: int, y: int, height: int, right: int
) -> int:
    """Draw ``text`` from ``x`` (elided at ``right``); return where it ends."""
    if not text or x >= right:
        return x
    metrics = QFontMetrics(font)
    shown = metrics.elidedText(text, Qt.TextElideMode.ElideRight, right - x)
    painter.setFont(font)
    painter.drawText(QRect(x, y, right - x, height), Qt.AlignmentFlag.AlignVCenter, shown)
    return x + metrics.horizontalAdvance(shown)


class SearchResults(QListView):
    """The hits of the search box, best first; hidden while the box is empty or nothing
    matches."""

    hit_activated = Signal(object)
    """A hit was opened (clicked, or Enter): its :class:`Hit`, after the request to open it."""
    project_requested = Signal(str)
    """A project hit was opened: the project's name (the window opens its page)."""
    registry_requested = Signal(str)
    """A registry collection hit was opened: the collection's name."""
    report_requested = Signal(str)
    """A report hit was opened: its reference (``project/name``)."""
    searched = Signal(str)
    """The hits shown are now those of this text."""

    def __init__(self, state: AppState, parent: QWidget | None = None, *, limit: int = 30) -> None:
        super().__init__(parent)
        self.state = state
        self.limit = limit
        self.text = ""
        self.shown_text = ""
        self.model_ = QStandardItemModel(self)
        self.setModel(self.model_)
        self.setObjectName("searchResults")
        self.setAccessibleName("Search results")
        self.setItemDelegate(_HitDelegate(self))
        self.setUniformItemSizes(True)
        self.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.setVisible(False)
        self._box: QLineEdit | None = None
        self._worker: Worker | None = None
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setInterval(DEBOUNCE_MS)
        self._timer.timeout.connect(self._start)
        self.clicked.connect(self._open_index)
        state.cache_changed.connect(self.refresh)

    # -- searching ----------------------------------------------------------------------------
    def attach(self, box: QLineEdit) -> None:
        """Follow what is typed in ``box``; Down moves from it into the results."""
        self._box = box
        box.textChanged.connect(self.set_query)
        box.installEventFilter(self)

    def set_query(self, text: str) -> None:
        """Search ``text`` once typing pauses (an empty text hides the results at once)."""
        self.text = text
        if not text.strip():
            self._timer.stop()
            self._fill([], "")
            return
        self._timer.start()

    def refresh(self) -> None:
        """Search the current text again (the cache changed)."""
        if self.text.strip():
            self._timer.start()

    def _start(self) -> None:
        if self._worker is not None and not self._worker.is_done:
            return  # the running search's end starts the next one
        text = self.text
        if not text.strip():
            return
        self._worker = run_in_worker(
            search_index,
            self.state.cache.root / "index.sqlite",
            text,
            limit=self.limit,
            on_result=lambda hits: self._fill(hits, text),
            on_error=self._failed,
            on_finished=self._next,
            owner=self,
        )

    def _next(self) -> None:
        if self.text.strip() and self.text != self.shown_text:
            self._start()

    def _failed(self, error: BaseException) -> None:
        message = str(error) if isinstance(error, DesktopvizError) else repr(error)
        self.state.status_message.emit(f"Search failed: {message}")

    def _fill(self, hits: list[Hit], text: str) -> None:
        if text != self.text and text:  # typed on meanwhile: the next search shows
            return
        self.shown_text = text
        self.model_.clear()
        for hit in hits:
            item = QStandardItem(hit.label)
            item.setData(hit, HIT_ROLE)
            item.setToolTip(f"{hit.kind} {hit.label}\n{hit.field}: {hit.snippet}")
            self.model_.appendRow(item)
        if hits:
            self.setCurrentIndex(self.model_.index(0, 0))
            row = self.sizeHintForRow(0)
            self.setFixedHeight(row * min(len(hits), ROWS_SHOWN) + 2 * self.frameWidth())
        self.setVisible(bool(hits))
        self.searched.emit(text)

    def hits(self) -> list[Hit]:
        """The hits shown, best first."""
        return [self.model_.item(r).data(HIT_ROLE) for r in range(self.model_.rowCount())]

    # -- opening ------------------------------------------------------------------------------
    def open_current(self) -> Hit | None:
        """Open the current hit (the best one unless the user moved); None when none is shown."""
        if not self.isVisible() or self.model_.rowCount() == 0:
            return None
        index = self.currentIndex()
        if not index.isValid():
            index = self.model_.index(0, 0)
        return self._open_index(index)

    def _open_index(self, index: QModelIndex) -> Hit | None:
        hit: Hit | None = index.data(HIT_ROLE)
        if hit is None:
            return None
        self.open_hit(hit)
        return hit

    def open_hit(self, hit: Hit) -> None:
        """Open what ``hit`` found (see the module docstring); then emit ``hit_activated``."""
        cache = self.state.cache
        try:
            if hit.kind == "version":
                self.state.open_version_requested.emit(
                    cache.version_by_id(int(hit.key)), "overview"
                )
            elif hit.kind == "table":
                version_id = int(str(hit.key).split("/", 1)[0])
                self.state.open_version_requested.emit(cache.version_by_id(version_id), "table")
            elif hit.kind == "artifact":
                self.state.open_version_requested.emit(cache.resolve(hit.ref), "overview")
            elif hit.kind == "run":
                self.state.run_requested.emit(str(hit.key))
            elif hit.kind == "project":
                self.project_requested.emit(hit.ref)
            elif hit.kind == "registry":
                self.registry_requested.emit(hit.ref.removeprefix("registry/"))
            elif hit.kind == "report":
                self.report_requested.emit(hit.ref)
        except DesktopvizError as e:  # gone since the search (deleted by another process)
            self.state.status_message.emit(f"Cannot open {hit.label}: {e}")
            return
        self.hit_activated.emit(hit)

    # -- keys ---------------------------------------------------------------------------------
    def eventFilter(self, watched: QObject, event: QEvent) -> bool:  # noqa: N802 - Qt override
        """Down in the search box moves into the results."""
        if (
            watched is self._box
            and event.type() == QEvent.Type.KeyPress
            and event.key() == Qt.Key.Key_Down
            and self.isVisible()
        ):
            self.setFocus()
            if not self.currentIndex().isValid():
                self.setCurrentIndex(self.model_.index(0, 0))
            return True
        return super().eventFilter(watched, event)

    def keyPressEvent(self, event: QKeyEvent) -> None:  # noqa: N802 - Qt override
        """Enter opens the current hit; Up on the first goes back to the search box."""
        if event.key() in (Qt.Key.Key_Return, Qt.Key.Key_Enter):
            self.open_current()
            return
        if event.key() == Qt.Key.Key_Up and self.currentIndex().row() <= 0 and self._box:
            self._box.setFocus()
            return
        super().keyPressEvent(event)
