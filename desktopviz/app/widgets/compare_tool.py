"""The Compare button of a table and the compare bar it drives: the menu lists the other
versions to compare with; the bar (sides, key, quick filters, the diff summary counted in a
worker) shows while comparing. Comparing keeps the filter and the grouping.

Public API: :class:`CompareTool` -- ``CompareTool(state, table_state, bar, parent)``;
``compare_menu``; :func:`side_labels`.
"""

from __future__ import annotations

from dataclasses import replace

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QMenu, QToolButton, QWidget

from desktopviz.app.icons import icon
from desktopviz.app.state import AppState
from desktopviz.app.table_state import TableState
from desktopviz.app.widgets.compare_bar import CompareBar, compare_targets
from desktopviz.app.workers import Worker, run_in_worker
from desktopviz.query import spec_rules
from desktopviz.query.compare import DiffSummary, diff_summary
from desktopviz.query.spec import QuerySpec


def side_labels(table: TableState) -> dict[int, str]:
    """What the header and the bar call each side (``v1`` against ``v0``)."""
    compare = table.spec.compare
    other = "" if compare is None else (compare.ref.rpartition(":")[2] or compare.ref)
    return {0: table.version.tag, 1: other}


class CompareTool(QToolButton):
    """The Compare button, bound to a TableState; it shows and fills ``bar``."""

    def __init__(
        self, state: AppState, table: TableState, bar: CompareBar, parent: QWidget | None = None
    ) -> None:
        super().__init__(parent)
        self.state, self.table, self.bar = state, table, bar
        self.setIcon(icon("compare"))
        self.setText("Compare")
        self.setPopupMode(QToolButton.ToolButtonPopupMode.InstantPopup)
        self.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextBesideIcon)
        self.setAutoRaise(True)
        self.setToolTip("Compare this table with another version's, row by row")
        self.compare_menu = QMenu(self)
        self.compare_menu.aboutToShow.connect(self.fill_menu)
        self.setMenu(self.compare_menu)
        self.summary_worker: Worker | None = None
        self.summary_for: QuerySpec | None = None
        bar.hide()
        bar.only_changed.connect(self._set_only)
        bar.key_changed.connect(self._set_key)
        bar.closed.connect(self.stop_compare)
        table.result_changed.connect(self._show)

    def _set_only(self, only: str | None) -> None:
        self.table.edit(spec_rules.compare_only, only)

    def _set_key(self, key: tuple[str, str] | None) -> None:
        self.table.edit(spec_rules.compare_key, key)

    def stop_compare(self) -> None:
        """Back to the table alone."""
        self.table.edit(spec_rules.stop_compare)

    def compare_with(self, ref: str, table: str | None = None) -> None:
        """Compare with ``ref``'s table (side 1)."""
        self.table.edit(spec_rules.compare_with, ref, table)

    def fill_menu(self) -> None:
        """The other versions of this artifact that have a table, and Stop comparing."""
        menu = self.compare_menu
        menu.clear()
        cache = self.state.cache
        others = [v for v in compare_targets(cache, self.table.version) if cache.tables(v)]
        compare = self.table.spec.compare
        current = compare.ref if compare is not None else None
        for other in others:
            aliases = f"  ({', '.join(other.aliases)})" if other.aliases else ""
            action = menu.addAction(
                f"with {other.tag}{aliases}", lambda o=other: self.compare_with(o.ref)
            )
            action.setCheckable(True)
            action.setChecked(current in (other.ref, f"{other.name}:{other.tag}"))
        if not others:
            menu.addAction("No other version of this artifact has a table").setEnabled(False)
        if compare is not None:
            menu.addSeparator()
            menu.addAction(
                icon("tab-close"),
                "Stop comparing",
                lambda: self.table.edit(spec_rules.stop_compare),
            )

    def _show(self, *_: object) -> None:
        """The bar and the diff summary follow the rows shown."""
        table, bar = self.table, self.bar
        spec = table.result.spec if table.result is not None else table.spec
        comparing = spec.compare is not None
        bar.setVisible(comparing)
        self.setText("Comparing" if comparing else "Compare")
        if not comparing:
            return
        assert spec.compare is not None
        bar.show_sides(side_labels(table), {0: table.version.ref, 1: spec.compare.ref})
        bar.set_keys(table.result.relation.comparison.common(), spec.compare.key)
        bar.set_only(spec.compare.only)
        whole = QuerySpec(compare=replace(spec.compare, only=None))
        if whole == self.summary_for:
            return
        self.summary_for = whole
        bar.set_summary(None, "counting differences…")
        engine, version, name = self.state.engine, table.version, table.table

        def summarize() -> DiffSummary:
            return diff_summary(engine, engine.result(version, name, whole).relation)

        self.summary_worker = run_in_worker(
            summarize,
            on_result=lambda s, w=whole: self._summary_ready(w, s),
            on_error=lambda e, w=whole: self._summary_ready(w, None, str(e)),
            owner=self,
        )

    def _summary_ready(
        self, whole: QuerySpec, summary: DiffSummary | None, error: str = ""
    ) -> None:
        if whole == self.summary_for:
            self.bar.set_summary(summary, error)
