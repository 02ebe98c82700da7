"""The Views button of a table: save what the table shows (filter, sort, group, compare and the
columns' order, widths and visibility) under a name for every version of the artifact, and
show a saved view again.

Public API: :class:`ViewsTool` -- ``ViewsTool(state, table_state, layout, parent)``;
``views_menu``, ``current_view``; :meth:`save_view`, :meth:`apply_view`, :meth:`clear_view`,
:meth:`delete_view`; :func:`view_spec`.
"""

from __future__ import annotations

from PySide6.QtWidgets import QInputDialog, QMenu, QToolButton, QWidget

from desktopviz.app.state import AppState
from desktopviz.app.table_state import TableState
from desktopviz.app.widgets.column_layout import ColumnLayout
from desktopviz.errors import DesktopvizError
from desktopviz.query.spec import QuerySpec, spec_from_dict, spec_to_dict


def view_spec(data: dict) -> QuerySpec:
    """A saved view's spec; a view saved by a newer or broken build shows the plain table."""
    try:
        return spec_from_dict(data)
    except (KeyError, TypeError, ValueError):
        return QuerySpec()


class ViewsTool(QToolButton):
    """The Views button and its menu, bound to a TableState and the table's column layout."""

    def __init__(
        self,
        state: AppState,
        table: TableState,
        layout: ColumnLayout,
        parent: QWidget | None = None,
        *,
        current_view: str | None = None,
    ) -> None:
        super().__init__(parent)
        self.state, self.table, self.layout = state, table, layout
        self.current_view = current_view
        """The saved view shown (None: the table as set up by hand)."""
        self.setPopupMode(QToolButton.ToolButtonPopupMode.InstantPopup)
        self.setAutoRaise(True)
        self.setToolTip("Saved views: filter, sort, group, compare and columns, for every version")
        self.views_menu = QMenu(self)
        self.views_menu.aboutToShow.connect(self.fill_menu)
        self.setMenu(self.views_menu)
        self._show_name()

    def save_view(self, name: str) -> None:
        """Save what the table shows now (query and columns) as view ``name`` for every version
        of this artifact."""
        table = self.table
        try:
            self.state.cache.save_view(
                table.version, table.table, name, spec_to_dict(table.spec),
                self.layout.layout_state(),
            )  # fmt: skip
        except DesktopvizError as e:
            self.state.status_message.emit(str(e))
            return
        self.current_view = name.strip()
        self._show_name()
        self.state.status_message.emit(f"Saved view {self.current_view!r}")

    def apply_view(self, name: str) -> None:
        """Show saved view ``name`` (its query, then its columns once the rows are there)."""
        table = self.table
        try:
            saved = self.state.cache.view(table.version, table.table, name)
        except DesktopvizError as e:
            self.state.status_message.emit(str(e))
            return
        self.state.cache.use_view(table.version, table.table, name)
        self.current_view = name
        spec = view_spec(saved.spec)
        if spec == table.spec:
            self.layout.restore(saved.layout)
        else:
            self.layout.pending = saved.layout
            table.set_spec(spec)
        self._show_name()

    def clear_view(self) -> None:
        """Back to the plain table (no view, no query)."""
        self.state.cache.use_view(self.table.version, self.table.table, None)
        self.current_view = None
        self.table.set_spec(QuerySpec())
        self._show_name()

    def delete_view(self, name: str) -> None:
        """Delete saved view ``name`` (the table keeps showing what it shows)."""
        self.state.cache.delete_view(self.table.version, self.table.table, name)
        if self.current_view == name:
            self.current_view = None
        self._show_name()

    def ask_save_view(self) -> None:
        """Views > Save view as…: ask for a name."""
        name, ok = QInputDialog.getText(
            self, "Save view", "Name (the view applies to every version of this artifact):",
            text=self.current_view or "",
        )  # fmt: skip
        if ok and name.strip():
            self.save_view(name)

    def fill_menu(self) -> None:
        """The saved views (the one shown ticked), save, update, delete, plain table."""
        menu = self.views_menu
        menu.clear()
        saved = self.state.cache.views(self.table.version, self.table.table)
        for v in saved:
            action = menu.addAction(v.name, lambda n=v.name: self.apply_view(n))
            action.setCheckable(True)
            action.setChecked(v.name == self.current_view)
        if not saved:
            menu.addAction("No saved views yet").setEnabled(False)
        menu.addSeparator()
        menu.addAction("Save view as…", self.ask_save_view)
        if self.current_view:
            menu.addAction(
                f"Update {self.current_view!r}", lambda: self.save_view(self.current_view or "")
            )
        remove = menu.addMenu("Delete view")
        remove.setEnabled(bool(saved))
        for v in saved:
            remove.addAction(v.name, lambda n=v.name: self.delete_view(n))
        menu.addAction("Plain table (no view)", self.clear_view)

    def _show_name(self) -> None:
        self.setText(f"View: {self.current_view}" if self.current_view else "Views")
