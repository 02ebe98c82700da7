"""The Group button of a table: its menu ticks the columns the rows are grouped by (strings,
booleans and numbers); grouping works on a comparison too (the keys name side 0's columns).

Public API: :class:`GroupTool` -- ``GroupTool(table_state, parent)``; ``group_menu``;
:func:`groupable_columns`.
"""

from __future__ import annotations

import pyarrow as pa
from PySide6.QtWidgets import QMenu, QToolButton, QWidget

from desktopviz.app.table_state import TableState
from desktopviz.query import spec_rules
from desktopviz.query.comparison import Role


def groupable_columns(table: TableState) -> list[str]:
    """Columns a group can be keyed on: strings, booleans and numbers of the rows (not media or
    nested values); in a comparison, side 0's columns (by their own names) and the key."""
    result = table.result
    if result is None:
        return []
    relation = result.relation
    types = relation.types()
    out = []
    for column in relation.comparison.columns:
        if not (column.role is Role.KEY or (column.role is Role.VALUE and column.side != 1)):
            continue
        t = types.get(column.name)
        if relation.kinds.get(column.name, "plain") != "plain" or t is None:
            continue
        if pa.types.is_dictionary(t):
            t = t.value_type
        if pa.types.is_string(t) or pa.types.is_large_string(t) or pa.types.is_boolean(t):
            out.append(column.base)
        elif pa.types.is_integer(t) or pa.types.is_floating(t):
            out.append(column.base)
    return out


class GroupTool(QToolButton):
    """The Group button and its menu, bound to a TableState."""

    def __init__(self, table: TableState, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.table = table
        self.setText("Group")
        self.setPopupMode(QToolButton.ToolButtonPopupMode.InstantPopup)
        self.setAutoRaise(True)
        self.setToolTip(
            "One row per group: counts, histograms with shared bins, top values, galleries"
        )
        self.group_menu = QMenu(self)
        self.group_menu.aboutToShow.connect(self.fill_menu)
        self.setMenu(self.group_menu)
        table.spec_changed.connect(self._show)
        self._show()

    def _show(self, *_: object) -> None:
        group = self.table.spec.group
        self.setText(f"Grouped by {', '.join(group.by)}" if group is not None else "Group")

    def fill_menu(self) -> None:
        """A checkable entry per groupable column, and Show rows when grouped."""
        menu = self.group_menu
        menu.clear()
        group = self.table.spec.group
        current = group.by if group is not None else ()
        columns = groupable_columns(self.table)
        for name in columns:
            action = menu.addAction(name)
            action.setCheckable(True)
            action.setChecked(name in current)
            action.toggled.connect(
                lambda on, n=name: self.table.edit(spec_rules.toggle_group_column, n, on)
            )
        if not columns:
            menu.addAction("No column to group by").setEnabled(False)
        if current:
            menu.addSeparator()
            menu.addAction(
                "Show rows (no grouping)", lambda: self.table.edit(spec_rules.group_by, ())
            )
