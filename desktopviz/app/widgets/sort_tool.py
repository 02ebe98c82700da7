"""The Sort button of a table: its text says the sort keys; its menu lists the keys (flip, move,
remove) and every column to sort by, ascending or descending, or to add as another key.

Public API: :class:`SortTool` -- ``SortTool(table_state, parent)``; ``sort_menu``.
"""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QMenu, QToolButton, QWidget

from desktopviz.app.icons import icon
from desktopviz.app.table_state import TableState
from desktopviz.query import spec_rules
from desktopviz.query.spec import QuerySpec, SortKey

MEDIA_KINDS = ("media", "media_list")


def sortable_columns(table: TableState) -> list[str]:
    """The columns of the rows shown a sort can use: not media, not a comparison's hidden
    marks."""
    result = table.result
    if result is None:
        return []
    schema = result.comparison
    return [
        name
        for name in result.columns
        if result.kinds.get(name, "plain") not in MEDIA_KINDS and not schema.column(name).hidden
    ]


def sort_text(spec: QuerySpec) -> str:
    """``Sorted by score ▼ +1`` or ``Sort``."""
    if not spec.sort:
        return "Sort"
    first = spec.sort[0]
    text = f"Sorted by {first.column} {'▼' if first.descending else '▲'}"
    return text + (f" +{len(spec.sort) - 1}" if len(spec.sort) > 1 else "")


class SortTool(QToolButton):
    """The Sort button and its menu, bound to a TableState."""

    def __init__(self, table: TableState, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.table = table
        self.setPopupMode(QToolButton.ToolButtonPopupMode.InstantPopup)
        self.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextBesideIcon)
        self.setAutoRaise(True)
        self.setToolTip("Sort keys (click a column header to sort, Shift+click to add a key)")
        self.sort_menu = QMenu(self)
        self.sort_menu.aboutToShow.connect(self.fill_menu)
        self.setMenu(self.sort_menu)
        table.spec_changed.connect(self._show)
        table.result_changed.connect(self._show)
        self._show()

    def _show(self, *_: object) -> None:
        self.setText(sort_text(self.table.spec))

    def _edit(self, rule: object, *args: object) -> None:
        self.table.edit(rule, *args)  # type: ignore[arg-type]

    def fill_menu(self) -> None:
        """The sort keys in order (each with flip / move / remove), then the columns."""
        menu, keys = self.sort_menu, list(self.table.spec.sort)
        menu.clear()
        for i, key in enumerate(keys):
            arrow = "▼ descending" if key.descending else "▲ ascending"
            sub = menu.addMenu(f"{i + 1}. {key.column}  {arrow}")
            sub.addAction(
                "Ascending" if key.descending else "Descending",
                lambda i=i: self._edit(spec_rules.flip_sort_key, i),
            )
            up = sub.addAction("Move up", lambda i=i: self._edit(spec_rules.move_sort_key, i, -1))
            up.setEnabled(i > 0)
            down = sub.addAction(
                "Move down", lambda i=i: self._edit(spec_rules.move_sort_key, i, 1)
            )
            down.setEnabled(i < len(keys) - 1)
            sub.addAction(
                icon("delete"), "Remove", lambda i=i: self._edit(spec_rules.remove_sort_key, i)
            )
        if keys:
            menu.addAction("Clear sort", lambda: self._edit(spec_rules.with_sort, ()))
            menu.addSeparator()
        columns = sortable_columns(self.table)
        if not columns:
            menu.addAction("No column to sort by yet").setEnabled(False)
            return
        for title, descending in (("Sort ascending by", False), ("Sort descending by", True)):
            sub = menu.addMenu(title)
            for name in columns:
                sub.addAction(
                    name, lambda n=name, d=descending: self._edit(
                        spec_rules.with_sort, (SortKey(n, d),)
                    )
                )  # fmt: skip
        if keys:
            then = menu.addMenu("Then by")
            used = {k.column for k in keys}
            for name in columns:
                if name not in used:
                    then.addAction(
                        name, lambda n=name: self._edit(
                            spec_rules.with_sort, (*self.table.spec.sort, SortKey(n))
                        )
                    )  # fmt: skip
