"""The compare bar of a table in compare mode: which two versions (in their side colours), the
join key, the quick filters (all, both, only in one side, changed) and the diff summary (rows
added, removed, changed, and changed cells per column).

Public API: :class:`CompareBar` -- ``CompareBar(parent)``, signals ``only_changed(str | None)``,
``key_changed(object)`` (a ``(key0, key1)`` pair or None for the default), ``closed()``;
:meth:`CompareBar.show_sides`, :meth:`CompareBar.set_keys`, :meth:`CompareBar.set_summary`,
:meth:`CompareBar.set_only`; :func:`summary_text`; :func:`compare_targets`.
"""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QButtonGroup,
    QComboBox,
    QHBoxLayout,
    QLabel,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from desktopviz.app.icons import icon
from desktopviz.app.palette import SIDE_COLOURS, mute
from desktopviz.model import Version
from desktopviz.query.compare import DiffSummary
from desktopviz.store.cache import Cache

QUICK_FILTERS = (None, "both", "only_0", "only_1", "changed")
ROW_POSITION = "#"
"""The key that pairs rows by their position."""


def summary_text(summary: DiffSummary, labels: dict[int, str]) -> str:
    """``+12 added · −3 removed · 40 changed · 945 unchanged`` (side 1 against side 0, as
    ``diff`` prints it), then the columns that changed most."""
    parts = [
        f"+{summary.added:,} only in {labels[1]}",
        f"−{summary.removed:,} only in {labels[0]}",
        f"{summary.changed:,} changed",
        f"{summary.unchanged:,} unchanged",
    ]
    columns = sorted(
        ((n, c) for n, c in summary.columns.items() if c), key=lambda item: (-item[1], item[0])
    )
    text = " · ".join(parts)
    if columns:
        shown = ", ".join(f"{n} {c:,}" for n, c in columns[:4])
        more = f" (+{len(columns) - 4} more)" if len(columns) > 4 else ""
        text += f"   changed cells: {shown}{more}"
    return text


def compare_targets(cache: Cache, version: Version) -> list[Version]:
    """Versions to compare ``version`` with: the other versions of its artifact, newest first."""
    same = cache.versions(version.project, version.name)
    return [v for v in sorted(same, key=lambda v: -v.index) if v.id != version.id]


class CompareBar(QWidget):
    """Sides, key chooser, quick filters and the diff summary of a comparison."""

    only_changed = Signal(object)
    """A quick filter was picked: ``both``, ``only_0``, ``only_1``, ``changed`` or None (all)."""
    key_changed = Signal(object)
    """A join key was picked: ``(key0, key1)``, ``("#", "#")`` for row position, None default."""
    closed = Signal()
    """Stop comparing."""
    side_by_side_changed = Signal(bool)
    """Show the two sides in two tables scrolled together (True) or merged in one (False)."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.labels = {0: "0", 1: "1"}
        self.sides = QLabel(self)
        self.sides.setTextFormat(Qt.TextFormat.RichText)
        self.key_box = QComboBox(self)
        self.key_box.setToolTip("The column that pairs rows of the two versions")
        self.key_box.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToContents)
        self.filters = QButtonGroup(self)
        self.filters.setExclusive(True)
        self.filter_buttons: dict[str | None, QToolButton] = {}
        row = QHBoxLayout()
        row.setContentsMargins(8, 2, 8, 2)
        row.setSpacing(6)
        row.addWidget(self.sides)
        row.addWidget(mute(QLabel("key", self)))
        row.addWidget(self.key_box)
        row.addSpacing(8)
        for i, only in enumerate(QUICK_FILTERS):
            button = QToolButton(self)
            button.setCheckable(True)
            button.setAutoRaise(True)
            button.setChecked(only is None)
            self.filters.addButton(button, i)
            self.filter_buttons[only] = button
            row.addWidget(button)
        row.addStretch(1)
        self.side_by_side = QToolButton(self)
        self.side_by_side.setText("Side by side")
        self.side_by_side.setCheckable(True)
        self.side_by_side.setAutoRaise(True)
        self.side_by_side.setToolTip(
            "Each side in its own table, rows aligned and scrolled together "
            "(filter and sort apply to both)"
        )
        self.side_by_side.toggled.connect(self.side_by_side_changed.emit)
        row.addWidget(self.side_by_side)
        self.summary = mute(QLabel("", self))
        self.summary.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.summary.setWordWrap(True)
        self.summary.setContentsMargins(14, 0, 8, 4)
        self.close_button = QToolButton(self)
        self.close_button.setIcon(icon("tab-close"))
        self.close_button.setAutoRaise(True)
        self.close_button.setToolTip("Stop comparing")
        row.addWidget(self.close_button)
        lines = QVBoxLayout(self)
        lines.setContentsMargins(0, 0, 0, 0)
        lines.setSpacing(0)
        lines.addLayout(row)
        lines.addWidget(self.summary)
        self._set_button_texts()
        self.filters.idClicked.connect(lambda i: self.only_changed.emit(QUICK_FILTERS[i]))
        self.key_box.activated.connect(self._key_picked)
        self.close_button.clicked.connect(self.closed.emit)

    def _set_button_texts(self) -> None:
        texts = {
            None: "All",
            "both": "In both",
            "only_0": f"Only in {self.labels[0]}",
            "only_1": f"Only in {self.labels[1]}",
            "changed": "Changed",
        }
        for only, button in self.filter_buttons.items():
            button.setText(texts[only])

    def show_sides(self, labels: dict[int, str], refs: dict[int, str]) -> None:
        """Name the two sides (``v1`` against ``v0``) in their colours."""
        self.labels = dict(labels)
        dots = [
            f"<span style='color:{SIDE_COLOURS[i]}'>●</span>&nbsp;<b>{labels[i]}</b>"
            for i in (0, 1)
        ]
        self.sides.setText(f"{dots[0]} &nbsp;vs&nbsp; {dots[1]}")
        self.sides.setToolTip(f"side 0: {refs[0]}\nside 1: {refs[1]}")
        self._set_button_texts()

    def set_keys(self, common: list[str], current: tuple[str, str] | None) -> None:
        """The key choices: the default (``id`` when both sides have it, else position), row
        position and every column both sides have."""
        self.key_box.blockSignals(True)
        self.key_box.clear()
        self.key_box.addItem("default", "")
        self.key_box.addItem("row position", ROW_POSITION)
        for name in common:
            self.key_box.addItem(name, name)
        if current is not None and current[0] != current[1]:
            self.key_box.addItem(f"{current[0]} = {current[1]}", ",".join(current))
        wanted = (
            ""
            if current is None
            else (current[0] if current[0] == current[1] else ",".join(current))
        )
        self.key_box.setCurrentIndex(max(0, self.key_box.findData(wanted)))
        self.key_box.blockSignals(False)

    def _key_picked(self, index: int) -> None:
        data = str(self.key_box.itemData(index) or "")
        if not data:
            self.key_changed.emit(None)
        else:
            first, _, second = data.partition(",")
            self.key_changed.emit((first, second or first))

    def set_only(self, only: str | None) -> None:
        """Show which quick filter is on."""
        self.filter_buttons[only].setChecked(True)

    def set_summary(self, summary: DiffSummary | None, message: str = "") -> None:
        """Show the diff summary (or ``message`` while it is computed or when it cannot be)."""
        if summary is None:
            self.summary.setText(message)
            self.summary.setToolTip("")
            return
        self.summary.setText(summary_text(summary, self.labels))
        self.summary.setToolTip("\n".join(summary.lines()))
        counts = {
            None: None,
            "both": summary.rows_0 - summary.removed,
            "only_0": summary.removed,
            "only_1": summary.added,
            "changed": summary.changed,
        }
        for only, button in self.filter_buttons.items():
            if counts[only] is not None:
                button.setToolTip(f"{counts[only]:,} rows")
