"""A row of tool buttons that gives up room gracefully: the tools that do not fit are hidden
from the right and listed in the menu of a chevron (») at the end, each as its own menu.

(Qt's QToolBar does this only inside a main window: elsewhere its chevron lists the hidden
actions, and a tool that is a widget shows as nothing there.)

Public API: :class:`ToolStrip` -- ``add(widget, overflow=None)``, ``chevron``, ``hidden()``.
"""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import QSize
from PySide6.QtGui import QResizeEvent
from PySide6.QtWidgets import QHBoxLayout, QMenu, QSizePolicy, QToolButton, QWidget

Overflow = Callable[[QMenu], None]
"""Adds a hidden tool's entries to the chevron's menu."""


class ToolStrip(QWidget):
    """Tools in a row, the ones without room behind a chevron menu."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._tools: list[tuple[QWidget, Overflow | None]] = []
        self._shown: dict[QWidget, bool] = {}
        """Whether each tool is wanted at all (``set_tool_visible``), room permitting."""
        self._row = QHBoxLayout(self)
        self._row.setContentsMargins(0, 0, 0, 0)
        self._row.setSpacing(2)
        self.chevron = QToolButton(self)
        self.chevron.setText("»")
        self.chevron.setAutoRaise(True)
        self.chevron.setToolTip("More tools")
        self.chevron.setAccessibleName("More tools")
        self.chevron.setPopupMode(QToolButton.ToolButtonPopupMode.InstantPopup)
        self.chevron.setStyleSheet("QToolButton::menu-indicator { image: none; }")
        self.menu = QMenu(self.chevron)
        self.menu.aboutToShow.connect(self._fill_menu)
        self.chevron.setMenu(self.menu)
        self._row.addStretch(1)  # the tools sit together at the right
        self._row.addWidget(self.chevron)
        self.chevron.hide()
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Preferred)

    def add(self, widget: QWidget, overflow: Overflow | None = None) -> None:
        """Add a tool at the end; ``overflow`` puts its entries in the chevron's menu when it is
        hidden (default: a tool button's own menu, under its text)."""
        self._tools.append((widget, overflow))
        self._shown[widget] = True
        self._row.insertWidget(self._row.count() - 1, widget)
        self._fit()

    def set_tool_visible(self, widget: QWidget, visible: bool) -> None:
        """Show or hide a tool for good (not for lack of room)."""
        self._shown[widget] = visible
        self._fit()

    def hidden(self) -> list[QWidget]:
        """The wanted tools hidden for lack of room, in order."""
        return [w for w, _ in self._tools if self._shown[w] and w.isHidden()]

    def sizeHint(self) -> QSize:  # noqa: N802 - Qt override
        wanted = [w for w, _ in self._tools if self._shown[w]]
        width = sum(w.sizeHint().width() for w in wanted) + self._row.spacing() * len(wanted)
        height = max([w.sizeHint().height() for w in wanted] + [self.chevron.sizeHint().height()])
        return QSize(width, height)

    def minimumSizeHint(self) -> QSize:  # noqa: N802 - Qt override
        return QSize(self.chevron.sizeHint().width(), self.sizeHint().height())

    def resizeEvent(self, event: QResizeEvent) -> None:  # noqa: N802 - Qt override
        super().resizeEvent(event)
        self._fit()

    def _fit(self) -> None:
        """Show the tools from the left while they fit, the chevron when some do not."""
        spacing = self._row.spacing()
        wanted = [w for w, _ in self._tools if self._shown[w]]
        needed = sum(w.sizeHint().width() + spacing for w in wanted)
        room = self.width()
        if needed > room:
            room -= self.chevron.sizeHint().width() + spacing
        used, full = 0, False
        for widget, _ in self._tools:
            if not self._shown[widget]:
                widget.hide()
                continue
            used += widget.sizeHint().width() + spacing
            full = full or used > room
            widget.setVisible(not full)
        self.chevron.setVisible(needed > self.width())

    def _fill_menu(self) -> None:
        self.menu.clear()
        for widget, overflow in self._tools:
            if not (self._shown[widget] and widget.isHidden()):
                continue
            if overflow is not None:
                overflow(self.menu)
            elif isinstance(widget, QToolButton) and widget.menu() is not None:
                sub = widget.menu()
                sub.aboutToShow.emit()  # filled as when its button opens it
                sub.setTitle(widget.text())
                sub.setIcon(widget.icon())
                self.menu.addMenu(sub)
