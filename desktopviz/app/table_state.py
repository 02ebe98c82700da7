"""TableState: what one open table shows, owned in one place (glue's habit): the query asked
for, the result shown, a failure, the selected cell and the scatter brush, each with a
``<noun>_changed`` signal. The filter bar, the tool buttons, the table model, the Charts dock and
the Inspector bind to a TableState and never to each other; edits go through the pure rules of
:mod:`desktopviz.query.spec_rules`.

Public API: :class:`TableState`, :class:`QueryFailure`, :data:`Brush`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from PySide6.QtCore import QObject, Signal

from desktopviz.app.state import CellRef
from desktopviz.model import Version
from desktopviz.query.expr import ExprError
from desktopviz.query.spec import QuerySpec
from desktopviz.query.spec_rules import add_filter, filter_text, with_filter

Brush = tuple[str, tuple[float, float], str, tuple[float, float]]
"""A scatter brush: x column and range, y column and range."""


@dataclass(frozen=True)
class QueryFailure:
    """A query that could not run: its spec, what went wrong, and where in the filter text when
    that is known (the rows shown stay the previous query's)."""

    spec: QuerySpec
    message: str
    position: int | None = None


class TableState(QObject):
    """One open table's query, result, selection and brush."""

    spec_changed = Signal(object)
    """The QuerySpec asked for (its rows follow with ``result_changed`` or ``query_failed``)."""
    result_changed = Signal(object)
    """The result now shown (a query engine Result)."""
    query_failed = Signal(object)
    """A QueryFailure: the spec asked for could not run; ``spec`` is back to the shown one."""
    cancelled = Signal()
    """The query being opened was cancelled; ``spec`` is back to the shown one."""
    cell_changed = Signal(object)
    """The selected cell (a CellRef) or None."""
    brush_changed = Signal(object)
    """The scatter brush (a :data:`Brush`) or None."""

    def __init__(
        self,
        version: Version,
        table: str,
        spec: QuerySpec | None = None,
        parent: QObject | None = None,
    ) -> None:
        super().__init__(parent)
        self.version = version
        self.table = table
        self.spec = spec or QuerySpec()
        """The query asked for (the rows shown may still be the previous query's)."""
        self.result: Any = None
        """The result shown (None until the table is open)."""
        self.failure: QueryFailure | None = None
        self.cell: CellRef | None = None
        self.brush: Brush | None = None

    # -- the query ------------------------------------------------------------------------------
    @property
    def shown_spec(self) -> QuerySpec | None:
        """The spec of the rows shown (None before the first result)."""
        return self.result.spec if self.result is not None else None

    @property
    def filter(self) -> str:
        """The filter text of the query asked for."""
        return filter_text(self.spec)

    @property
    def opening(self) -> bool:
        """Whether the rows shown are not yet those of the query asked for."""
        return self.result is None or self.result.spec != self.spec

    def set_spec(self, spec: QuerySpec) -> None:
        """Ask for another query of this table."""
        if spec == self.spec:
            return
        self.spec = spec
        self.failure = None
        self.spec_changed.emit(spec)

    def edit(self, rule: Callable[..., QuerySpec], *args: Any, **kwargs: Any) -> str | None:
        """Apply an editing rule (``rule(spec, *args, **kwargs)``, see
        :mod:`desktopviz.query.spec_rules`); returns the error message when the rule refuses."""
        try:
            self.set_spec(rule(self.spec, *args, **kwargs))
        except ExprError as e:
            return str(e)
        return None

    def set_filter(self, text: str) -> None:
        """Show only the rows ``text`` (either filter form) matches; "" shows every row."""
        self.set_spec(with_filter(self.spec, text))

    def add_filter(self, expr: str) -> str | None:
        """Narrow the filter shown by ``expr`` (the simple form); the error when it cannot."""
        return self.edit(add_filter, expr)

    # -- what the engine says -------------------------------------------------------------------
    def show_result(self, result: Any) -> None:
        """The rows of ``result`` are shown now (its spec is the one asked for). The selected
        cell is cleared: its row is another one now."""
        self.result = result  # (a failure stays said until another query is asked for)
        if result.spec != self.spec:
            self.spec = result.spec
            self.spec_changed.emit(self.spec)
        self.set_cell(None)
        self.result_changed.emit(result)

    def fail(self, message: str, position: int | None = None) -> None:
        """The query asked for failed: the rows shown stay, and ``spec`` goes back to theirs."""
        message = message.removeprefix("query failed: ")  # (said by whoever shows it)
        failure = QueryFailure(self.spec, message, position)
        self.failure = failure
        self.query_failed.emit(failure)  # (before the revert: the filter box keeps the text)
        if self.result is not None and self.spec != self.result.spec:
            self.spec = self.result.spec
            self.spec_changed.emit(self.spec)

    def fail_with(self, error: BaseException) -> None:
        """:meth:`fail` with an exception's message (and position, for a filter's error)."""
        self.fail(str(error), getattr(error, "pos", None))

    def cancel_done(self) -> None:
        """The query being opened was cancelled: ``spec`` goes back to the rows shown."""
        if self.result is not None and self.spec != self.result.spec:
            self.spec = self.result.spec
            self.spec_changed.emit(self.spec)
        self.cancelled.emit()

    # -- selection ------------------------------------------------------------------------------
    def set_cell(self, cell: CellRef | None) -> None:
        """Make ``cell`` the selected one (None: no cell)."""
        if cell is not self.cell:
            self.cell = cell
            self.cell_changed.emit(cell)

    def set_brush(self, brush: Brush | None) -> None:
        """Select the rows inside a scatter rectangle (None: none)."""
        if brush != self.brush:
            self.brush = brush
            self.brush_changed.emit(brush)
