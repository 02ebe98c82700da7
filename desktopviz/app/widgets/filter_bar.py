"""The filter bar above a table: an editor for both filter forms (Mongo expressions pasted from the
W&B docs, and ``row["score"] > 0.5``) with syntax highlighting, completion of columns, nested
paths and operators, inline errors at their position, a live count of matching rows (in a worker,
cancellable) and a history.

Public API: :class:`FilterBar` -- ``FilterBar(state, table_state)`` (applying sets the
TableState's filter; signal ``applied(str)`` says so), :meth:`FilterBar.set_text`,
:meth:`FilterBar.apply`, :meth:`FilterBar.focus_editor`; :func:`filter_suggestions`. A query that
fails is said at the box (where in the text, when known); the rows shown stay the previous ones.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

import pyarrow as pa
from PySide6.QtCore import QSettings, QStringListModel, Qt, QTimer, Signal
from PySide6.QtGui import (
    QColor,
    QKeyEvent,
    QPalette,
    QResizeEvent,
    QSyntaxHighlighter,
    QTextCharFormat,
    QTextCursor,
    QTextFormat,
)
from PySide6.QtWidgets import (
    QCompleter,
    QHBoxLayout,
    QLabel,
    QPlainTextEdit,
    QTextEdit,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from desktopviz.app.icons import icon
from desktopviz.app.palette import mute
from desktopviz.app.state import AppState
from desktopviz.app.table_state import QueryFailure, TableState
from desktopviz.app.workers import Worker, run_in_worker
from desktopviz.errors import Cancelled, DesktopvizError
from desktopviz.progress import CancelFn
from desktopviz.query.expr import OPERATORS, ExprError
from desktopviz.query.spec import QuerySpec
from desktopviz.query.spec_rules import filter_text

HISTORY_KEY = "filter/history"
HISTORY_SIZE = 30
COUNT_DELAY_MS = 300
"""Typing pauses this long before the matching rows are counted."""
MAX_PATH_DEPTH = 3
SIMPLE_WORDS = ("and", "or", "not", "in", "not in", "len(", "contains(", "None", "True", "False")

_TOKEN = re.compile(
    r"""(?P<string>"(?:[^"\\]|\\.)*"?|'(?:[^'\\]|\\.)*'?)"""
    r"|(?P<operator>\$[A-Za-z]+)"
    r"|(?P<number>-?\b\d+(?:\.\d*)?(?:[eE][-+]?\d+)?\b)"
    r"|(?P<keyword>\b(?:and|or|not|in|True|False|None|true|false|null)\b)"
    r"|(?P<row>\brow[01]?\b)"
    r"|(?P<function>\b[a-z_][a-z0-9_]*(?=\())"
)
_PREFIX = re.compile(r"""[\w$.'"\[\]]*$""")


def _paths(name: str, t: pa.DataType, depth: int = 0) -> Iterable[tuple[str, ...]]:
    """``(name,)`` and the nested paths below it (struct fields, lists of structs)."""
    yield (name,)
    if depth >= MAX_PATH_DEPTH:
        return
    while pa.types.is_list(t) or pa.types.is_large_list(t):
        t = t.value_type
    if pa.types.is_struct(t):
        for field in t:
            for sub in _paths(field.name, field.type, depth + 1):
                yield (name, *sub)


def filter_suggestions(types: dict[str, pa.DataType], compare: bool = False) -> list[str]:
    """What the editor completes: every column and nested path in both forms
    (``row["image"]["width"]`` and ``'$0.image.width'``), the Mongo operators and the simple form's
    words."""
    out: list[str] = []
    sides = ("0", "1") if compare else ("0",)
    for name, t in types.items():
        for path in _paths(name, t):
            rows = ("row0", "row1") if compare else ("row",)
            for row in rows:
                out.append(row + "".join(f'["{p}"]' for p in path))
            for side in sides:
                out.append(f"'${side}.{'.'.join(path)}'")
    out += sorted(f"${op}" for op in OPERATORS)
    out += SIMPLE_WORDS
    return out


class FilterHighlighter(QSyntaxHighlighter):
    """Colours strings, numbers, operators, keywords and ``row`` paths (palette aware)."""

    def __init__(self, editor: QPlainTextEdit) -> None:
        super().__init__(editor.document())
        self.editor = editor
        self.formats: dict[str, QTextCharFormat] = {}
        self.update_colours()

    def update_colours(self) -> None:
        """Pick colours that read on the editor's background (light or dark)."""
        dark = self.editor.palette().color(QPalette.ColorRole.Base).lightness() < 128
        colours = {
            "string": "#7ee787" if dark else "#0a7f3f",
            "operator": "#79c0ff" if dark else "#0550ae",
            "number": "#ffa657" if dark else "#b35900",
            "keyword": "#d2a8ff" if dark else "#8250df",
            "row": "#ff7b72" if dark else "#b3261e",
            "function": "#79c0ff" if dark else "#0550ae",
        }
        for name, colour in colours.items():
            fmt = QTextCharFormat()
            fmt.setForeground(QColor(colour))
            if name in ("keyword", "operator"):
                fmt.setFontWeight(600)
            self.formats[name] = fmt
        self.rehighlight()

    def highlightBlock(self, text: str) -> None:  # noqa: N802 - Qt override
        for match in _TOKEN.finditer(text):
            kind = match.lastgroup
            if kind:
                self.setFormat(match.start(), match.end() - match.start(), self.formats[kind])


class FilterEdit(QPlainTextEdit):
    """A one-to-three line editor: Enter applies (Shift+Enter breaks the line), Escape reverts,
    Up/Down walk the history, typing completes columns, paths and operators."""

    submitted = Signal()
    escaped = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setTabChangesFocus(True)
        self.setLineWrapMode(QPlainTextEdit.LineWrapMode.WidgetWidth)
        self.setPlaceholderText(
            """Filter: row["score"] > 0.5   or   {$gt: ['$0.score', 0.5]}   (Ctrl+Space completes)"""
        )
        self.setAccessibleName("Filter")
        self.highlighter = FilterHighlighter(self)
        self.history: list[str] = []
        self._history_at = -1
        self.completions = QStringListModel(self)
        self.completer = QCompleter(self.completions, self)
        self.completer.setWidget(self)
        self.completer.setCaseSensitivity(Qt.CaseSensitivity.CaseInsensitive)
        self.completer.setFilterMode(Qt.MatchFlag.MatchContains)
        self.completer.setCompletionMode(QCompleter.CompletionMode.PopupCompletion)
        self.completer.setMaxVisibleItems(12)
        self.completer.activated.connect(self.insert_completion)
        self.setVerticalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAsNeeded)
        self.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.document().contentsChanged.connect(self._fit_height)
        self._fit_height()

    def resizeEvent(self, event: QResizeEvent) -> None:  # noqa: N802 - Qt override
        super().resizeEvent(event)
        self._fit_height()

    # -- size -----------------------------------------------------------------------------------
    def _fit_height(self) -> None:
        """One line high, growing to three as the text wraps."""
        lines, block = 0, self.document().begin()
        while block.isValid():
            layout = block.layout()
            lines += max(1, layout.lineCount() if layout is not None else 1)
            block = block.next()
        lines = max(1, min(3, lines))
        metrics = self.fontMetrics()
        margins = self.contentsMargins()
        frame = 2 * self.frameWidth() + margins.top() + margins.bottom()
        self.setFixedHeight(
            int(lines * metrics.lineSpacing() + 2 * self.document().documentMargin() + frame)
        )

    # -- completion -----------------------------------------------------------------------------
    def set_suggestions(self, words: list[str]) -> None:
        """What completion offers."""
        self.completions.setStringList(words)

    def completion_prefix(self) -> str:
        """The text before the cursor that completion would replace."""
        cursor = self.textCursor()
        before = self.toPlainText()[: cursor.position()]
        match = _PREFIX.search(before)
        return match.group(0) if match else ""

    def insert_completion(self, word: str) -> None:
        """Replace the text being completed with ``word``."""
        cursor = self.textCursor()
        prefix = self.completion_prefix()
        cursor.movePosition(
            QTextCursor.MoveOperation.Left, QTextCursor.MoveMode.KeepAnchor, len(prefix)
        )
        cursor.insertText(word)
        self.setTextCursor(cursor)
        self.completer.popup().hide()

    def _update_completion(self) -> None:
        prefix = self.completion_prefix()
        if len(prefix.strip("'\"[")) < 1:
            self.completer.popup().hide()
            return
        self.completer.setCompletionPrefix(prefix)
        if self.completer.completionCount() == 0 or (
            self.completer.completionCount() == 1 and self.completer.currentCompletion() == prefix
        ):
            self.completer.popup().hide()
            return
        rect = self.cursorRect()
        rect.setWidth(max(320, self.completer.popup().sizeHintForColumn(0) + 24))
        self.completer.complete(rect)

    # -- keys -----------------------------------------------------------------------------------
    def keyPressEvent(self, event: QKeyEvent) -> None:  # noqa: N802 - Qt override
        popup = self.completer.popup()
        key = event.key()
        if popup.isVisible() and key in (
            Qt.Key.Key_Return, Qt.Key.Key_Enter, Qt.Key.Key_Tab, Qt.Key.Key_Escape,
            Qt.Key.Key_Up, Qt.Key.Key_Down, Qt.Key.Key_PageUp, Qt.Key.Key_PageDown,
        ):  # fmt: skip
            if key in (Qt.Key.Key_Return, Qt.Key.Key_Enter, Qt.Key.Key_Tab):
                index = popup.currentIndex()
                if index.isValid():
                    self.insert_completion(index.data())
                    return
                popup.hide()
            else:
                event.ignore()  # the popup handles its own navigation and Escape
                return
        if key in (Qt.Key.Key_Return, Qt.Key.Key_Enter) and not (
            event.modifiers() & Qt.KeyboardModifier.ShiftModifier
        ):
            self.submitted.emit()
            return
        if key == Qt.Key.Key_Escape:
            self.escaped.emit()
            return
        if key in (Qt.Key.Key_Up, Qt.Key.Key_Down) and self._walk_history(
            1 if key == Qt.Key.Key_Up else -1
        ):
            return
        if key == Qt.Key.Key_Space and event.modifiers() & Qt.KeyboardModifier.ControlModifier:
            self._update_completion()
            return
        super().keyPressEvent(event)
        if event.text() and (event.text().isprintable() or key == Qt.Key.Key_Backspace):
            self._update_completion()

    def _walk_history(self, step: int) -> bool:
        """Show an older (``step`` 1) or newer (-1) filter; False at either end."""
        at = self._history_at + step
        if not self.history or at < -1 or at >= len(self.history):
            return False
        self._history_at = at
        self.setPlainText("" if at == -1 else self.history[at])
        self.moveCursor(QTextCursor.MoveOperation.End)
        return True

    def reset_history_position(self) -> None:
        """The next Up shows the newest filter again."""
        self._history_at = -1

    # -- errors ---------------------------------------------------------------------------------
    def mark_error(self, pos: int | None) -> None:
        """Underline the character at ``pos`` (a red wave); None clears it."""
        if pos is None:
            self.setExtraSelections([])
            return
        text = self.toPlainText()
        pos = max(0, min(pos, max(0, len(text) - 1)))
        selection = QTextEdit.ExtraSelection()
        fmt = QTextCharFormat()
        fmt.setUnderlineStyle(QTextCharFormat.UnderlineStyle.WaveUnderline)
        fmt.setUnderlineColor(QColor("#d1242f"))
        fmt.setBackground(QColor(209, 36, 47, 40))
        selection.format = fmt
        cursor = QTextCursor(self.document())
        cursor.setPosition(pos)
        end = pos + 1
        while end < len(text) and (text[end].isalnum() or text[end] in "$_"):
            end += 1
        cursor.setPosition(min(end, len(text)), QTextCursor.MoveMode.KeepAnchor)
        selection.cursor = cursor
        selection.format.setProperty(QTextFormat.Property.FullWidthSelection, False)
        self.setExtraSelections([selection])


class FilterBar(QWidget):
    """Editor, live count, apply / clear buttons and the error line for one table; bound to
    the table's TableState (applying sets its filter, its query and result show here)."""

    applied = Signal(str)
    """The filter applied ("" for none)."""

    def __init__(
        self,
        state: AppState,
        table: TableState,
        parent: QWidget | None = None,
        *,
        settings: QSettings | None = None,
    ) -> None:
        super().__init__(parent)
        self.state = state
        self.table_state = table
        self.version = table.version
        self.table = table.table
        self.settings = settings or QSettings()
        self.current = table.filter
        """The filter the table shows now."""
        self.count: int | None = None
        """Rows the text in the editor matches (None while counting or when it is invalid)."""
        self.error: ExprError | None = None
        self.failure: QueryFailure | None = None
        """The applied filter's query failed (the rows shown are the previous filter's)."""
        self._count_worker: Worker | None = None
        self._counted_text: str | None = None

        self.editor = FilterEdit(self)
        self.editor.history = self._load_history()
        self.count_label = mute(QLabel("", self))
        self.count_label.setAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        self.cancel_button = QToolButton(self)
        self.cancel_button.setIcon(icon("cancel"))
        self.cancel_button.setToolTip("Stop counting")
        self.cancel_button.setAutoRaise(True)
        self.cancel_button.hide()
        self.apply_button = QToolButton(self)
        self.apply_button.setText("Apply")
        self.apply_button.setToolTip("Show only the matching rows (Enter)")
        self.clear_button = QToolButton(self)
        self.clear_button.setIcon(icon("tab-close"))
        self.clear_button.setToolTip("Clear the filter (Escape twice)")
        self.clear_button.setAutoRaise(True)
        self.error_label = QLabel("", self)
        self.error_label.setObjectName("filterError")
        self.error_label.setWordWrap(True)
        self.error_label.setStyleSheet("color: #d1242f;")
        self.error_label.hide()

        row = QHBoxLayout()
        row.setContentsMargins(0, 0, 0, 0)
        row.setSpacing(6)
        search = QLabel(self)
        search.setPixmap(icon("search").pixmap(16, 16))
        row.addWidget(search, 0, Qt.AlignmentFlag.AlignTop | Qt.AlignmentFlag.AlignHCenter)
        row.addWidget(self.editor, 1)
        row.addWidget(self.count_label)
        row.addWidget(self.cancel_button)
        row.addWidget(self.apply_button)
        row.addWidget(self.clear_button)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(8, 6, 8, 2)
        layout.setSpacing(2)
        layout.addLayout(row)
        layout.addWidget(self.error_label)

        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setInterval(COUNT_DELAY_MS)
        self._timer.timeout.connect(self._check_and_count)
        self.editor.textChanged.connect(self._text_changed)
        self.editor.submitted.connect(self.apply)
        self.editor.escaped.connect(self._escape)
        self.apply_button.clicked.connect(self.apply)
        self.clear_button.clicked.connect(self.clear)
        self.cancel_button.clicked.connect(self.cancel_count)
        table.spec_changed.connect(self._spec_changed)
        table.result_changed.connect(self._result_changed)
        table.query_failed.connect(self._query_failed)
        table.cancelled.connect(self._query_cancelled)
        self.set_text(self.current)
        self._update_buttons()

    # -- public -----------------------------------------------------------------------------------
    @property
    def base_spec(self) -> QuerySpec:
        """The rest of the query (sort, compare, ...) the filter counts within: the rows."""
        return self.table_state.spec.with_(filters=(), group=None)

    def set_columns(self, types: dict[str, pa.DataType], compare: bool = False) -> None:
        """The table's columns (for completion)."""
        self.editor.set_suggestions(filter_suggestions(types, compare))

    def show_count(self, matching: int) -> None:
        """The applied filter's matching rows, from the table's result; only the rows it is
        counted among are counted here (in a worker; usually known already)."""
        text = self.current
        if not text or self.text() != text:
            return
        self.cancel_count()
        engine, version, table, base = self.state.engine, self.version, self.table, self.base_spec
        self._count_worker = run_in_worker(
            lambda: engine.result(version, table, base).num_rows,
            on_result=lambda total, t=text: self._counted(t, matching, total),
            on_error=lambda exc, t=text: self._count_failed(t, exc),
            owner=self,
        )

    def text(self) -> str:
        """The editor's text, stripped."""
        return self.editor.toPlainText().strip()

    def set_text(self, text: str, *, apply: bool = False) -> None:
        """Put ``text`` in the editor (and apply it)."""
        self.editor.setPlainText(text)
        self.editor.moveCursor(QTextCursor.MoveOperation.End)
        if apply:
            self.apply()

    def focus_editor(self) -> None:
        """Put the keyboard in the editor with its text selected (Ctrl+F)."""
        self.editor.setFocus(Qt.FocusReason.ShortcutFocusReason)
        self.editor.selectAll()

    def apply(self) -> bool:
        """Show the rows the editor's filter matches; False (and the error shown) if it is
        invalid."""
        text = self.text()
        if text and not self._validate(text):
            return False
        self.editor.completer.popup().hide()
        if text:
            self._remember(text)
        self.editor.reset_history_position()
        if text != self.current or self.failure is not None:
            self.current = text
            self.failure = None
            self.table_state.set_filter(text)
            self.applied.emit(text)
        self._update_buttons()
        return True

    def clear(self) -> None:
        """Remove the filter (the table shows every row)."""
        self.editor.setPlainText("")
        self.apply()

    def cancel_count(self) -> None:
        """Stop the running count (its statement only: other queries go on)."""
        worker, self._count_worker = self._count_worker, None
        if worker is not None and not worker.is_done:
            worker.cancel()  # its cancel() interrupts the count's statement
        self.cancel_button.hide()

    # -- what the table says ----------------------------------------------------------------------
    def _spec_changed(self, spec: QuerySpec) -> None:
        """A new query (a view, a drill-down, a chart's filter, a revert after a failure): the
        box shows its filter, unless it holds the text of a filter that just failed."""
        self._counted_text = None
        text = filter_text(spec)
        failed = self.failure is not None and self.text() == filter_text(self.failure.spec)
        self.current = text
        if self.text() != text and not failed:
            self.set_text(text)
        self._update_buttons()
        if failed:
            return
        if text and self.text() == text:
            # the applied filter: the table's own result counts it (show_count), not a second
            # count that would hold the engine while the table waits for its rows
            self.cancel_count()
            self.count_label.setText("counting…")
            return
        self._check_and_count()

    def _result_changed(self, result: Any) -> None:
        relation = result.relation
        types = relation.types()
        schema = relation.comparison
        if schema.comparing:  # row / row0 / row1 name the sides' own columns
            types = {c.base: types[c.name] for c in schema.columns if c.side is not None}
        self.set_columns(types, schema.comparing)
        if self.failure is None:
            self.error_label.hide()
            self.editor.mark_error(None)
        if result.spec.group is None and result.spec.limit is None:
            self.show_count(result.num_rows)
        elif self.count_label.text() == "counting…":
            self.count_label.setText("")

    def _query_failed(self, failure: QueryFailure) -> None:
        """The filter (or the query around it) could not run: say why at the box, where in the
        text when that is known, and that the rows shown are the previous query's."""
        self.failure = failure
        self.cancel_count()
        self.count = None
        self.count_label.setText("")
        shown = filter_text(self.table_state.result.spec) if self.table_state.result else ""
        kept = (
            f"the table shows the rows of the previous filter ({shown})"
            if shown
            else "the table shows every row"
        )
        self.error_label.setText(
            f"This query failed: {failure.message.rstrip('. ')}. Until it is fixed, {kept}."
        )
        self.error_label.show()
        lead = len(self.editor.toPlainText()) - len(self.editor.toPlainText().lstrip())
        same = self.text() == filter_text(failure.spec)
        self.editor.mark_error(
            failure.position + lead if same and failure.position is not None else None
        )

    def _query_cancelled(self) -> None:
        if self.count_label.text() == "counting…":
            self.count_label.setText("")

    # -- editing --------------------------------------------------------------------------------
    def _text_changed(self) -> None:
        if self.failure is not None and self.text() != filter_text(self.failure.spec):
            self.failure = None
        self._update_buttons()
        self._timer.start()

    def _escape(self) -> None:
        if self.text() != self.current:
            self.set_text(self.current)  # revert to what is applied
        elif self.current:
            self.clear()

    def _update_buttons(self) -> None:
        pending = self.text() != self.current or self.failure is not None
        self.apply_button.setEnabled(pending)
        self.clear_button.setEnabled(bool(self.text() or self.current))

    def _validate(self, text: str) -> bool:
        lead = len(self.editor.toPlainText()) - len(self.editor.toPlainText().lstrip())
        try:
            self.state.engine.check_filter(self.version, self.table, self.base_spec, text)
        except ExprError as e:
            self.error = e
            self.error_label.setText(str(e))
            self.error_label.show()
            self.editor.mark_error(None if e.pos is None else e.pos + lead)
            self.count_label.setText("")
            return False
        except DesktopvizError as e:
            self.error = ExprError(str(e))
            self.error_label.setText(str(e))
            self.error_label.show()
            self.editor.mark_error(None)
            return False
        self.error = None
        if self.failure is None or text != filter_text(self.failure.spec):
            self.error_label.hide()  # (not the failure of this very text, said at its query)
            self.editor.mark_error(None)
        return True

    def _check_and_count(self) -> None:
        """Validate the editor's text and count its matching rows in a worker."""
        text = self.text()
        self.cancel_count()
        if not text:
            self.error = None
            self.error_label.hide()
            self.editor.mark_error(None)
            self.count = None
            self.count_label.setText("")
            return
        if not self._validate(text) or text == self._counted_text:
            return
        if self.failure is not None and text == filter_text(self.failure.spec):
            return  # its query failed: counting it would fail again
        self.count = None
        self.count_label.setText("counting…")
        self.cancel_button.show()
        spec = self.base_spec.with_(filters=(*self.base_spec.filters, text))
        engine, version, table, base = self.state.engine, self.version, self.table, self.base_spec

        def count(cancel: CancelFn) -> tuple[int, int]:
            with engine.cancelling(cancel):
                return (
                    engine.result(version, table, spec).num_rows,
                    engine.result(version, table, base).num_rows,
                )

        self._count_worker = run_in_worker(
            count,
            on_result=lambda counts, t=text: self._counted(t, *counts),
            on_error=lambda exc, t=text: self._count_failed(t, exc),
            owner=self,
        )

    def _counted(self, text: str, matching: int, total: int) -> None:
        if text != self.text():
            return
        self.cancel_button.hide()
        self._counted_text = text
        self.count = matching
        self.count_label.setText(f"{matching:,} of {total:,} rows")

    def _count_failed(self, text: str, exc: BaseException) -> None:
        if text != self.text():
            return
        self.cancel_button.hide()
        if isinstance(exc, Cancelled):
            self.count_label.setText("count stopped")
            return
        self.count_label.setText("")
        if self.failure is not None:  # the table's own query said it already, and more
            return
        self.error_label.setText(str(exc))
        self.error_label.show()

    # -- history --------------------------------------------------------------------------------
    def _load_history(self) -> list[str]:
        value = self.settings.value(HISTORY_KEY, [])
        if isinstance(value, str):
            value = [value]
        return [str(v) for v in (value or [])][:HISTORY_SIZE]

    def _remember(self, text: str) -> None:
        history = [text] + [h for h in self._load_history() if h != text]
        history = history[:HISTORY_SIZE]
        self.settings.setValue(HISTORY_KEY, history)
        self.editor.history = history
