"""A report's tab: its blocks in order (Markdown text rendered and edited in place; panels as
their picture with title and the one-line query they keep), dragged to reorder, removed,
panels refreshed (their query run again in a worker), text added, and the report exported as
one self-contained HTML file or as PDF (in a worker, with progress and Cancel).

Public API: :class:`ReportPage` -- ``ReportPage(state, report_id)``; ``report``, ``blocks`` (the
list), ``cards()``, :meth:`ReportPage.reload`, :meth:`ReportPage.add_text`,
:meth:`ReportPage.save_text`, :meth:`ReportPage.remove_block`, :meth:`ReportPage.move_block`,
:meth:`ReportPage.refresh_block`, :meth:`ReportPage.export_html`, :meth:`ReportPage.export_pdf`;
:class:`BlockCard`, :class:`BlockList`.
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QByteArray, QPoint, QSize, Qt, QTimer, Signal
from PySide6.QtGui import QImage, QMouseEvent, QPainter, QPalette, QPixmap, QResizeEvent
from PySide6.QtSvg import QSvgRenderer
from PySide6.QtWidgets import (
    QAbstractItemView,
    QApplication,
    QFileDialog,
    QFrame,
    QGraphicsOpacityEffect,
    QHBoxLayout,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QPlainTextEdit,
    QPushButton,
    QSizePolicy,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from desktopviz import reports
from desktopviz.app.icons import icon
from desktopviz.app.jobs import run_job
from desktopviz.app.palette import mute
from desktopviz.app.state import AppState
from desktopviz.app.widgets.add_to_report_dialog import report_events
from desktopviz.app.workers import Worker, run_in_worker
from desktopviz.errors import DesktopvizError, NotFoundError
from desktopviz.humanize import timestamp_text

MAX_IMAGE_WIDTH = 900
"""Widest a panel's picture is drawn on the page (pixels; wider ones are scaled down)."""
NEW_TEXT = "New text: *double-click* to edit its **Markdown**."


def svg_pixmap(svg: str, ratio: float = 1.0) -> QPixmap:
    """An SVG panel drawn at its own size (times the screen's pixel ratio)."""
    renderer = QSvgRenderer(QByteArray(svg.encode("utf-8")))
    size = renderer.defaultSize()
    if not renderer.isValid() or size.isEmpty():
        return QPixmap()
    image = QImage(size * ratio, QImage.Format.Format_ARGB32_Premultiplied)
    image.fill(0xFFFFFFFF)
    painter = QPainter(image)
    renderer.render(painter)
    painter.end()
    image.setDevicePixelRatio(ratio)
    return QPixmap.fromImage(image)


class BlockCard(QFrame):
    """One block on the page: a text block (rendered Markdown; Edit shows its source) or a
    panel (title, picture, query); its buttons say what to do through the signals."""

    text_saved = Signal(int, str)
    """(block id, Markdown) from Save."""
    remove_requested = Signal(int)
    refresh_requested = Signal(int)
    size_changed = Signal()

    def __init__(self, block: reports.Block, picture: QPixmap | None, parent=None) -> None:
        super().__init__(parent)
        self.block = block
        self._pressed_at: QPoint | None = None
        self.picture: QPixmap | None = None
        """The panel's picture at its own size (drawn scaled down to the room there is)."""
        self.setObjectName("reportBlock")
        self.setFrameShape(QFrame.Shape.StyledPanel)
        self.setAutoFillBackground(True)
        self.grip = mute(QLabel("⠿"))
        self.grip.setToolTip("Drag to move this block")
        self.grip.setCursor(Qt.CursorShape.OpenHandCursor)
        is_text = block.kind == reports.TEXT
        self.heading = QLabel("Text" if is_text else block.text)
        if is_text:
            mute(self.heading)
        else:
            font = self.heading.font()
            font.setBold(True)
            self.heading.setFont(font)
        self.heading.setWordWrap(True)
        head = QHBoxLayout()
        head.setContentsMargins(0, 0, 0, 0)
        head.addWidget(self.grip)
        head.addWidget(self.heading, 1)
        self.edit_button = self._button("Edit", "file-text", "Edit this text's Markdown")
        self.refresh_button = self._button(
            "Refresh", "refresh", "Run this panel's query again and redraw it"
        )
        self.remove_button = self._button("Remove", "delete", "Remove this block from the report")
        for button in (self.edit_button, self.refresh_button, self.remove_button):
            head.addWidget(button)
        self.edit_button.setVisible(is_text)
        self.refresh_button.setVisible(not is_text)
        self.refresh_button.setEnabled(bool(block.query))
        self.edit_button.clicked.connect(self.start_edit)
        self.refresh_button.clicked.connect(lambda: self.refresh_requested.emit(block.id))
        self.remove_button.clicked.connect(lambda: self.remove_requested.emit(block.id))

        self.body = QLabel()
        self.body.setWordWrap(True)
        self.body.setSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Minimum)
        self.editor = QPlainTextEdit()
        self.editor.setAccessibleName("Markdown")
        self.editor.setMinimumHeight(140)
        self.editor.hide()
        self.save_button = QPushButton("Save")
        self.cancel_button = QPushButton("Cancel")
        self.save_button.clicked.connect(self.save_edit)
        self.cancel_button.clicked.connect(self.stop_edit)
        self.edit_row = QWidget()
        row = QHBoxLayout(self.edit_row)
        row.setContentsMargins(0, 0, 0, 0)
        row.addStretch(1)
        row.addWidget(self.cancel_button)
        row.addWidget(self.save_button)
        self.edit_row.hide()
        self.note = mute(QLabel(reports.describe_query(block.query)))
        self.note.setWordWrap(True)
        self.note.setVisible(bool(self.note.text()))
        layout = QVBoxLayout(self)
        layout.setContentsMargins(10, 8, 10, 8)
        layout.addLayout(head)
        layout.addWidget(self.body)
        layout.addWidget(self.editor)
        layout.addWidget(self.edit_row)
        layout.addWidget(self.note)
        if is_text:
            self.body.setTextFormat(Qt.TextFormat.RichText)
            self.body.setText(reports.markdown_html(block.text) or "<i>(empty)</i>")
        elif picture is not None and not picture.isNull():
            self.picture = picture
            self.fit_picture(MAX_IMAGE_WIDTH)
            self.body.setWordWrap(False)
        else:
            self.body.setText(
                "<i>The picture of this panel is no longer in the cache: refresh it</i>"
            )

    def fit_picture(self, width: int) -> None:
        """Draw the picture at its own size, or scaled down to ``width`` (the card's width)."""
        picture = self.picture
        if picture is None:
            return
        ratio = picture.devicePixelRatio()
        room = min(MAX_IMAGE_WIDTH, width - 2 * 10 - 2)
        if picture.width() / ratio > room > 0:
            picture = picture.scaledToWidth(
                int(room * ratio), Qt.TransformationMode.SmoothTransformation
            )
        shown = self.body.pixmap()
        if shown.isNull() or shown.size() != picture.size():
            self.body.setPixmap(picture)

    def _button(self, text: str, icon_name: str, tip: str) -> QToolButton:
        button = QToolButton()
        button.setText(text)
        button.setIcon(icon(icon_name))
        button.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextBesideIcon)
        button.setAutoRaise(True)
        button.setToolTip(tip)
        return button

    def _list(self) -> BlockList | None:
        parent = self.parentWidget()
        view = parent.parentWidget() if parent is not None else None
        return view if isinstance(view, BlockList) else None

    def mousePressEvent(self, event: QMouseEvent) -> None:  # noqa: N802 - Qt override
        if event.button() == Qt.MouseButton.LeftButton and not self.editing:
            self._pressed_at = event.position().toPoint()
            event.accept()
            return
        super().mousePressEvent(event)

    def mouseMoveEvent(self, event: QMouseEvent) -> None:  # noqa: N802 - Qt override
        blocks = self._list()
        pressed = self._pressed_at
        if blocks is None or pressed is None or not event.buttons() & Qt.MouseButton.LeftButton:
            super().mouseMoveEvent(event)
            return
        pos = event.position().toPoint()
        if blocks.dragging is None:
            if (pos - pressed).manhattanLength() < QApplication.startDragDistance():
                return
            blocks.begin_drag(self)
        blocks.drag_to(self.mapTo(blocks.viewport(), pos))

    def mouseReleaseEvent(self, event: QMouseEvent) -> None:  # noqa: N802 - Qt override
        blocks = self._list()
        self._pressed_at = None
        if blocks is not None and blocks.dragging is self:
            blocks.drop_at(self.mapTo(blocks.viewport(), event.position().toPoint()))
            return
        super().mouseReleaseEvent(event)

    def keyPressEvent(self, event) -> None:  # noqa: N802, ANN001 - Qt override
        blocks = self._list()
        if event.key() == Qt.Key.Key_Escape and blocks is not None and blocks.dragging is self:
            blocks.drop_at(None)  # Escape cancels a drag
            return
        super().keyPressEvent(event)

    def mouseDoubleClickEvent(self, event) -> None:  # noqa: N802, ANN001 - Qt override
        """A double-click on a text block edits it."""
        if self.block.kind == reports.TEXT:
            self.start_edit()
            event.accept()
        else:
            super().mouseDoubleClickEvent(event)

    @property
    def editing(self) -> bool:
        """Whether the Markdown editor is open."""
        return not self.editor.isHidden()

    def start_edit(self) -> None:
        """Show the Markdown source in an editor (text blocks only)."""
        if self.block.kind != reports.TEXT or self.editing:
            return
        self.editor.setPlainText(self.block.text)
        self._show_editor(True)
        self.editor.setFocus()

    def stop_edit(self) -> None:
        """Close the editor without saving."""
        self._show_editor(False)

    def save_edit(self) -> None:
        """Keep the Markdown typed (the page saves it and redraws)."""
        self.text_saved.emit(self.block.id, self.editor.toPlainText())

    def _show_editor(self, on: bool) -> None:
        self.body.setVisible(not on)
        self.editor.setVisible(on)
        self.edit_row.setVisible(on)
        self.edit_button.setEnabled(not on)
        self.size_changed.emit()

    def set_refreshing(self, on: bool) -> None:
        """Say that the panel's query runs again."""
        self.refresh_button.setEnabled(not on and bool(self.block.query))
        self.refresh_button.setText("Refreshing…" if on else "Refresh")


class BlockList(QListWidget):
    """The blocks, one card each. A card is dragged with the mouse (press anywhere but on its
    buttons, move, release): a line shows where it goes, the list scrolls near its edges, and
    the drop asks for the move (``block_moved(block id, new position)``); the page moves it in
    the cache and redraws. (Our own drag, not QDrag: it works the same on every platform,
    offscreen included.)"""

    block_moved = Signal(int, int)
    EDGE = 40
    """Pixels from the top or bottom edge where a drag scrolls the list."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setSelectionMode(QAbstractItemView.SelectionMode.NoSelection)
        self.setVerticalScrollMode(QAbstractItemView.ScrollMode.ScrollPerPixel)
        self.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.verticalScrollBar().setSingleStep(24)
        self.setSpacing(6)
        self.setFrameShape(QFrame.Shape.NoFrame)
        self.dragging: BlockCard | None = None
        """The card being dragged."""
        self.indicator = QFrame(self.viewport())
        self.indicator.setObjectName("dropIndicator")
        self.indicator.setFixedHeight(3)
        self.indicator.setAutoFillBackground(True)
        self.indicator.setBackgroundRole(QPalette.ColorRole.Highlight)
        self.indicator.hide()

    def card(self, row: int) -> BlockCard:
        """The card at ``row``."""
        return self.itemWidget(self.item(row))  # type: ignore[return-value]

    def fit(self) -> None:
        """Size each row to its card at the list's width."""
        width = self.viewport().width() - 2 * self.spacing()
        for row in range(self.count()):
            card = self.card(row)
            if card is None:  # (being added)
                continue
            card.fit_picture(width)
            height = card.heightForWidth(width) if card.hasHeightForWidth() else -1
            height = max(height, card.minimumSizeHint().height(), card.sizeHint().height())
            self.item(row).setSizeHint(QSize(width, height))

    def drop_row(self, pos: QPoint) -> int:
        """Where a block dropped at ``pos`` (viewport coordinates) goes: before this row."""
        index = self.indexAt(pos)
        if not index.isValid():
            if not self.count():
                return 0
            return 0 if pos.y() < self.visualItemRect(self.item(0)).top() else self.count()
        rect = self.visualRect(index)
        return index.row() + (1 if pos.y() > rect.center().y() else 0)

    # -- dragging a card ----------------------------------------------------------------------
    def begin_drag(self, card: BlockCard) -> None:
        """``card`` is being dragged (see :meth:`drag_to`, :meth:`drop_at`)."""
        self.dragging = card
        faded = QGraphicsOpacityEffect(card)
        faded.setOpacity(0.45)
        card.setGraphicsEffect(faded)  # drawn faded while it moves
        self.viewport().setCursor(Qt.CursorShape.ClosedHandCursor)

    def drag_to(self, pos: QPoint) -> None:
        """The dragged card is over ``pos`` (viewport coordinates): show where it would go."""
        bar = self.verticalScrollBar()
        if pos.y() < self.EDGE:
            bar.setValue(bar.value() - bar.singleStep())
        elif pos.y() > self.viewport().height() - self.EDGE:
            bar.setValue(bar.value() + bar.singleStep())
        row = self.drop_row(pos)
        if row < self.count():
            y = self.visualItemRect(self.item(row)).top() - self.spacing() // 2 - 1
        else:
            y = self.visualItemRect(self.item(self.count() - 1)).bottom() + self.spacing() // 2
        self.indicator.setGeometry(self.spacing(), max(0, y), self.viewport().width() -
                                   2 * self.spacing(), 3)  # fmt: skip
        self.indicator.show()
        self.indicator.raise_()

    def drop_at(self, pos: QPoint | None) -> None:
        """Drop the dragged card at ``pos`` (None: the drag is cancelled)."""
        card, self.dragging = self.dragging, None
        self.indicator.hide()
        self.viewport().unsetCursor()
        if card is None:
            return
        card.setGraphicsEffect(None)
        if pos is None:
            return
        source = next((r for r in range(self.count()) if self.card(r) is card), None)
        if source is None:
            return
        to = self.drop_row(pos)
        if to > source:
            to -= 1
        if to != source:
            block_id = card.block.id
            QTimer.singleShot(0, lambda: self.block_moved.emit(block_id, to))

    def resizeEvent(self, event: QResizeEvent) -> None:  # noqa: N802 - Qt override
        super().resizeEvent(event)
        self.fit()


class ReportPage(QWidget):
    """The tab of one report (by id: it keeps its tab through a rename)."""

    def __init__(self, state: AppState, report_id: int, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.state = state
        self.report_id = report_id
        self.report: reports.Report | None = None
        self.export_job: Worker | None = None
        self.exported: Path | None = None
        """The file the last export wrote."""
        self.refreshing: dict[int, Worker] = {}
        self.title = QLabel()
        self.title.setObjectName("pageTitle")
        font = self.title.font()
        font.setPointSizeF(font.pointSizeF() * 1.5)
        font.setBold(True)
        self.title.setFont(font)
        self.info = mute(QLabel())
        self.add_text_button = QPushButton(icon("file-text"), "Add text")
        self.add_text_button.setToolTip("Add a Markdown text block at the end")
        self.html_button = QPushButton(icon("export"), "Export HTML…")
        self.html_button.setToolTip("One self-contained HTML file: opens offline anywhere")
        self.pdf_button = QPushButton(icon("export"), "Export PDF…")
        self.add_text_button.clicked.connect(lambda: self.add_text())
        self.html_button.clicked.connect(lambda: self.export_html())
        self.pdf_button.clicked.connect(lambda: self.export_pdf())
        head = QHBoxLayout()
        titles = QVBoxLayout()
        titles.addWidget(self.title)
        titles.addWidget(self.info)
        head.addLayout(titles, 1)
        for button in (self.add_text_button, self.html_button, self.pdf_button):
            head.addWidget(button, 0, Qt.AlignmentFlag.AlignBottom)
        self.blocks = BlockList(self)
        self.empty = mute(
            QLabel(
                "This report is empty. Add a table or a chart with its “Add to report…” "
                "button, or add text here."
            )
        )
        self.empty.setWordWrap(True)
        self.empty.setAlignment(Qt.AlignmentFlag.AlignCenter)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(16, 12, 16, 8)
        layout.addLayout(head)
        layout.addWidget(self.empty)
        layout.addWidget(self.blocks, 1)
        self.blocks.block_moved.connect(self.move_block)
        report_events.changed.connect(self._report_changed)
        state.cache_changed.connect(self.reload)
        self.reload()

    # -- what it shows ----------------------------------------------------------------------------
    @property
    def name(self) -> str:
        """The report's name (its tab's text)."""
        return self.report.name if self.report is not None else "(deleted report)"

    def cards(self) -> list[BlockCard]:
        """The cards, in order."""
        return [self.blocks.card(row) for row in range(self.blocks.count())]

    def card_of(self, block_id: int) -> BlockCard | None:
        """The card of a block."""
        return next((c for c in self.cards() if c.block.id == block_id), None)

    def reload(self) -> None:
        """Show the report as the cache has it now (open editors are closed)."""
        try:
            self.report = reports.get(self.state.cache, self.report_id)
        except NotFoundError:
            self.report = None
        report = self.report
        scroll = self.blocks.verticalScrollBar().value()
        self.blocks.clear()
        for button in (self.add_text_button, self.html_button, self.pdf_button):
            button.setEnabled(report is not None)
        if report is None:
            self.title.setText("This report was deleted")
            self.info.setText("")
            self.empty.hide()
            return
        self.title.setText(report.name)
        count = len(report.blocks)
        self.info.setText(
            f"Report of project {report.project} · {count} block{'s' * (count != 1)} · "
            f"updated {timestamp_text(report.updated_at)[:16]}"
        )
        self.empty.setVisible(not report.blocks)
        ratio = self.devicePixelRatioF()
        for block in report.blocks:
            picture = None
            if block.kind == reports.PANEL:
                png = reports.panel_image(self.state.cache, block)
                if png is not None:
                    picture = QPixmap()
                    picture.loadFromData(png, "PNG")
                elif block.svg is not None:
                    picture = svg_pixmap(block.svg, ratio)
            card = BlockCard(block, picture)
            card.text_saved.connect(self.save_text)
            card.remove_requested.connect(self.remove_block)
            card.refresh_requested.connect(self.refresh_block)
            card.size_changed.connect(self.blocks.fit)
            if block.id in self.refreshing:
                card.set_refreshing(True)
            item = QListWidgetItem()
            item.setFlags(Qt.ItemFlag.ItemIsEnabled)
            self.blocks.addItem(item)
            self.blocks.setItemWidget(item, card)
        self.blocks.fit()
        self.blocks.verticalScrollBar().setValue(scroll)

    def _report_changed(self, report_id: int) -> None:
        if report_id == self.report_id:
            self.reload()

    def _changed(self) -> None:
        self.reload()
        report_events.changed.emit(self.report_id)

    def _try(self, what: str, fn, *args, **kwargs) -> object:  # noqa: ANN001, ANN003
        """``fn(*args, **kwargs)``; a failure of ours is said in the status bar (None)."""
        try:
            return fn(*args, **kwargs)
        except DesktopvizError as e:
            self.state.status_message.emit(f"{what} failed: {e}")
            return None

    # -- editing ----------------------------------------------------------------------------------
    def add_text(self, text: str = NEW_TEXT, *, edit: bool = True) -> BlockCard | None:
        """Add a Markdown text block at the end (its editor open, all selected, when ``edit``)."""
        block = self._try("Add text", reports.add_text, self.state.cache, self.report_id, text)
        if block is None:
            return None
        self._changed()
        card = self.card_of(block.id)
        if card is not None:
            self.blocks.scrollToItem(self.blocks.item(self.blocks.count() - 1))
            if edit:
                card.start_edit()
                card.editor.selectAll()
        return card

    def save_text(self, block_id: int, text: str) -> None:
        """Keep a text block's new Markdown."""
        if self._try("Save", reports.set_text, self.state.cache, block_id, text) is not None:
            self._changed()

    def remove_block(self, block_id: int) -> None:
        """Remove a block from the report."""
        if self._try("Remove", reports.remove, self.state.cache, block_id) is not None:
            self._changed()
            self.state.status_message.emit("Block removed from the report")

    def move_block(self, block_id: int, position: int) -> None:
        """Move a block to ``position`` (0 first)."""
        if self._try("Move", reports.move, self.state.cache, block_id, position) is not None:
            self._changed()

    def refresh_block(self, block_id: int) -> Worker | None:
        """Run a panel's query again in a worker; its new drawing (SVG) replaces the picture."""
        card = self.card_of(block_id)
        if card is None or not card.block.query or block_id in self.refreshing:
            return None
        cache = self.state.cache
        query = card.block.query
        card.set_refreshing(True)

        def done(svg: str) -> None:
            self._try("Refresh", reports.set_snapshot, cache, block_id, svg=svg)
            self.state.status_message.emit(f"Refreshed {card.block.text!r}")

        def failed(error: BaseException) -> None:
            self.state.status_message.emit(f"Refresh failed: {error}")

        def over() -> None:
            self.refreshing.pop(block_id, None)
            self._changed()

        worker = run_in_worker(
            reports.render_query, cache, query, self.state.engine,
            on_result=done, on_error=failed, on_finished=over, owner=self,
        )  # fmt: skip
        self.refreshing[block_id] = worker
        return worker

    # -- export -----------------------------------------------------------------------------------
    def _ask_path(self, suffix: str, kind: str) -> Path | None:
        stem = "".join(c if c.isalnum() or c in "-_ " else "-" for c in self.name).strip()
        path, _ = QFileDialog.getSaveFileName(
            self, f"Export report as {kind}", str(Path.home() / f"{stem or 'report'}.{suffix}"),
            f"{kind} (*.{suffix})",
        )  # fmt: skip
        if not path:
            return None
        path = Path(path)
        return (
            path if path.suffix.lower() == f".{suffix}" else path.with_name(f"{path.name}.{suffix}")
        )

    def export_html(self, path: Path | None = None) -> Worker | None:
        """Export as one self-contained HTML file (asking where when ``path`` is None)."""
        return self._export(path, "html", "HTML", reports.export_html)

    def export_pdf(self, path: Path | None = None) -> Worker | None:
        """Export as an A4 PDF (asking where when ``path`` is None)."""
        from desktopviz.app.report_pdf import export_pdf

        return self._export(path, "pdf", "PDF", export_pdf)

    def _export(self, path: Path | None, suffix: str, kind: str, fn) -> Worker | None:  # noqa: ANN001
        if self.report is None or (self.export_job is not None and not self.export_job.is_done):
            return None
        path = path or self._ask_path(suffix, kind)
        if path is None:
            return None
        self.exported = None

        def done(out: Path) -> None:
            self.exported = Path(out)
            self.state.status_message.emit(f"Exported report {self.name!r} to {out}")

        self.export_job = run_job(
            self, "Export", f"Report {self.name!r} as {kind} to {path}", fn,
            self.state.cache, self.report_id, path,
            on_done=done, status=self.state.status_message.emit,
        )  # fmt: skip
        return self.export_job
