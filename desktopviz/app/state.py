"""AppState: the one object widgets share (glue's habit): the open cache, query engine, current
version / table / cell, emitting ``<noun>_changed`` signals. Widgets never reach into siblings."""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

from PySide6.QtCore import QObject, Signal

from desktopviz.model import Version
from desktopviz.query.engine import QueryEngine
from desktopviz.store.cache import Cache


@dataclass(frozen=True)
class CellRef:
    """A selected cell of a table view: which table, which row of the result, which column, its
    value (as Python, from Arrow) and the column's kind (plain, media, json, ndarray...)."""

    version: Version
    table: str
    row: int
    column: str
    value: Any
    kind: str
    arrow_type: str
    other: Any = None
    """In a comparison, the other side's value of a changed cell (None otherwise)."""
    side: int | None = None
    """In a comparison, the side (0 or 1) whose value the cell is (None for other columns)."""


@dataclass(frozen=True)
class TableStatus:
    """What the status bar shows of the focused table: rows shown (after the query), total rows,
    and how many cells are selected."""

    shown: int
    total: int
    selected: int
    grouped: bool = False
    """The rows shown are groups (of ``total`` rows)."""


@dataclass(frozen=True)
class OverlaySettings:
    """What image overlays show, in every table, inspector and image view: hidden classes (by
    name), hidden box and mask layers, a minimum box score (on ``score_key``), mask opacity."""

    hidden_classes: frozenset[str] = frozenset({"background"})
    hidden_box_layers: frozenset[str] = frozenset()
    hidden_mask_layers: frozenset[str] = frozenset()
    score_key: str | None = None
    min_score: float = 0.0
    show_boxes: bool = True
    show_masks: bool = True
    show_captions: bool = True
    mask_opacity: float = 0.45

    def with_(self, **changes: Any) -> OverlaySettings:
        """A copy with some fields changed."""
        return replace(self, **changes)


class AppState(QObject):
    """Current cache, version, table and cell; signals for each."""

    cache_changed = Signal()
    """A different cache was opened (or its contents changed: an import finished)."""
    version_changed = Signal(object)
    """The version the user is looking at (a Version, or None)."""
    open_version_requested = Signal(object, str)
    """Open (or focus) a version's page on a tab: (Version, "overview"|"files"|"table")."""
    table_changed = Signal(object, str)
    """The focused table: (Version, table path)."""
    cell_changed = Signal(object)
    """The selected cell (a CellRef, or None)."""
    table_status_changed = Signal(object)
    """A TableStatus for the status bar."""
    import_finished = Signal(object)
    """A Version just imported (or None when nothing new was made)."""
    import_requested = Signal(list)
    """Import these paths (a list of ``Path``) into the cache, with progress and cancel."""
    demo_requested = Signal()
    """Build the built-in demo project into the cache."""
    run_requested = Signal(str)
    """Show a run (by id): its config, summary and the versions it logged and used."""
    file_requested = Signal(object, str)
    """Open a version's Files tab on one file: (Version, file path)."""
    compare_requested = Signal(object, object)
    """Open the first version's table compared with the second version: (Version, Version)."""
    status_message = Signal(str)
    """A short note for the status bar ("Copied street-scenes/x:v1")."""
    overlay_settings_changed = Signal(object)
    """New OverlaySettings (class / layer toggles, score threshold) for every image view."""
    table_focused = Signal(object)
    """The table in front changed: its TableState, or None when no table is in front."""

    def __init__(self, cache: Cache, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.cache = cache
        self.engine = QueryEngine(cache)
        self.version: Version | None = None
        self.cell: CellRef | None = None
        self.overlay_settings = OverlaySettings()
        self.table: Any = None
        """The TableState of the table in front (None when no table is in front)."""

    def set_cache(self, cache: Cache) -> None:
        """Switch to another cache (closing the old engine)."""
        self.engine.close()
        self.cache = cache
        self.engine = QueryEngine(cache)
        self.version = None
        self.cache_changed.emit()

    def set_version(self, version: Version | None) -> None:
        """Make ``version`` the current one."""
        self.version = version
        self.version_changed.emit(version)

    def set_cell(self, cell: CellRef | None) -> None:
        """Make ``cell`` the selected one."""
        self.cell = cell
        self.cell_changed.emit(cell)

    def focus_table(self, table: Any) -> None:
        """Make ``table`` (a TableState, or None) the table in front: the selected cell is its
        cell from now on (the Inspector and the Charts dock follow it)."""
        if table is self.table:
            return
        if self.table is not None:
            self.table.cell_changed.disconnect(self.set_cell)
        self.table = table
        if table is not None:
            table.cell_changed.connect(self.set_cell)
        self.table_focused.emit(table)
        self.set_cell(table.cell if table is not None else None)

    def set_overlay_settings(self, settings: OverlaySettings) -> None:
        """Change what image overlays show (every view repaints)."""
        if settings != self.overlay_settings:
            self.overlay_settings = settings
            self.overlay_settings_changed.emit(settings)

    def refresh(self) -> None:
        """Reload what depends on the cache's contents (after an import, alias change, delete)."""
        self.cache_changed.emit()
