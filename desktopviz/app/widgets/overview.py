"""A version's Overview tab: name, type, aliases, description, metadata, digest, size, created
time, the run that produced it and the runs that used it (links ask for the run's page:
``state.run_requested``), usage snippets with copy buttons.

Public API: :class:`Overview` (``Overview(state, version)``, ``set_version``), :class:`JsonTree`,
:func:`link`, :func:`usage_snippets`, :func:`visible_tables`.
"""

from __future__ import annotations

import json
from typing import Any

from PySide6.QtCore import QSize, Qt, Signal
from PySide6.QtGui import QGuiApplication, QPainter, QPaintEvent
from PySide6.QtWidgets import (
    QFormLayout,
    QFrame,
    QGridLayout,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QPlainTextEdit,
    QPushButton,
    QScrollArea,
    QSizePolicy,
    QTabWidget,
    QTreeWidget,
    QTreeWidgetItem,
    QVBoxLayout,
    QWidget,
)

from desktopviz.app.icons import icon, type_icon
from desktopviz.app.state import AppState
from desktopviz.app.theme import chips_width, draw_chips, monospace_font
from desktopviz.errors import NotFoundError
from desktopviz.humanize import age_text, human_size, local_time_text
from desktopviz.model import TableInfo, Version
from desktopviz.store.cache import Cache, table_name

LAZY_CHILD = "…"
"""Placeholder child of a JSON node not expanded yet."""


class JsonTree(QTreeWidget):
    """A collapsible Key | Value tree of a JSON value; containers fill in when first expanded."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setColumnCount(2)
        self.setHeaderLabels(["Key", "Value"])
        self.setUniformRowHeights(True)
        self.setAlternatingRowColors(True)
        self.header().setSectionResizeMode(0, QHeaderView.ResizeMode.Interactive)
        self.header().setStretchLastSection(True)
        self.itemExpanded.connect(self._fill)
        self._values: dict[int, Any] = {}

    def set_value(self, value: Any, expand_depth: int = 1) -> None:
        """Show ``value`` (dict, list or scalar), expanded ``expand_depth`` levels."""
        self.clear()
        self._values.clear()
        items = value.items() if isinstance(value, dict) else enumerate(value)
        if isinstance(value, dict | list):
            for key, child in items:
                self.addTopLevelItem(self._node(str(key), child))
        else:
            self.addTopLevelItem(self._node("", value))
        self.setRootIsDecorated(bool(self._values))
        self._expand(self.invisibleRootItem(), expand_depth)
        self.resizeColumnToContents(0)
        self.setColumnWidth(0, min(max(self.columnWidth(0) + 12, 120), 320))
        self.updateGeometry()

    def content_height(self) -> int:
        """Pixels the visible rows and the header take (for sizing to fit)."""
        rows = 0
        it = self.invisibleRootItem()
        stack = [it.child(i) for i in range(it.childCount())]
        while stack:
            item = stack.pop()
            rows += 1
            if item.isExpanded():
                stack.extend(item.child(i) for i in range(item.childCount()))
        row_height = self.sizeHintForRow(0) if self.topLevelItemCount() else 20
        return self.header().height() + rows * max(row_height, 1) + 2 * self.frameWidth() + 2

    def _expand(self, parent: QTreeWidgetItem, depth: int) -> None:
        if depth <= 0:
            return
        for i in range(parent.childCount()):
            child = parent.child(i)
            if child.childCount():
                child.setExpanded(True)
                self._expand(child, depth - 1)

    def _node(self, key: str, value: Any) -> QTreeWidgetItem:
        item = QTreeWidgetItem([key, _summary(value)])
        item.setToolTip(1, item.text(1)[:2000])
        if isinstance(value, dict | list) and value:
            self._values[id(item)] = value
            item.addChild(QTreeWidgetItem([LAZY_CHILD]))
        return item

    def _fill(self, item: QTreeWidgetItem) -> None:
        value = self._values.pop(id(item), None)
        if value is None:
            return
        item.takeChildren()
        pairs = value.items() if isinstance(value, dict) else enumerate(value)
        item.addChildren([self._node(str(k), v) for k, v in pairs])


INLINE_JSON_CHARS = 60
"""Containers whose JSON is at most this long show it inline (``{"id": 0, "name": "car"}``)."""


def _summary(value: Any) -> str:
    if isinstance(value, dict | list) and value:
        text = json.dumps(value, ensure_ascii=False, default=str)
        if len(text) <= INLINE_JSON_CHARS:
            return text
    if isinstance(value, dict):
        return f"{{{len(value)} key{'s' if len(value) != 1 else ''}}}"
    if isinstance(value, list):
        return f"[{len(value)} item{'s' if len(value) != 1 else ''}]"
    if isinstance(value, str):
        return value
    return json.dumps(value)


def visible_tables(tables: list[TableInfo]) -> list[TableInfo]:
    """The tables a user sees: without the sides of joined tables and the parts of partitioned
    ones (both are also materialised, hence listed, on their own)."""
    hidden: set[str] = set()
    for t in tables:
        wandb = json.loads(t.schema or "{}").get("wandb") or {}
        if t.kind == "joined-table":
            hidden.update(p for p in (wandb.get("table1"), wandb.get("table2")) if p)
        elif t.kind == "partitioned-table":
            hidden.update(wandb.get("parts") or ())
    return [t for t in tables if t.path not in hidden]


class ChipRow(QWidget):
    """A row of alias chips (the sidebar's chips, as a widget)."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.aliases: tuple[str, ...] = ()
        self.setSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Fixed)

    def set_aliases(self, aliases: tuple[str, ...]) -> None:
        """Show these aliases."""
        self.aliases = aliases
        self.setToolTip(", ".join(aliases))
        self.updateGeometry()
        self.update()

    def sizeHint(self) -> QSize:  # noqa: N802 - Qt override
        return QSize(chips_width(self.aliases, self.font()), self.fontMetrics().height() + 6)

    def paintEvent(self, event: QPaintEvent) -> None:  # noqa: N802 - Qt override
        painter = QPainter(self)
        draw_chips(painter, 0, self.height() / 2, self.aliases, self.font(), self.palette())


def usage_snippets(version: Version, tables: list[str]) -> dict[str, str]:
    """Code that uses ``version``: with desktopviz and with wandb (same API, other import)."""
    ref = f"{version.name}:{version.tag}"
    name = table_name(tables[0]) if tables else None
    out = {}
    for module, alias in (("desktopviz", "dv"), ("wandb", "wandb")):
        lines = [
            f"import {module} as {alias}" if alias != module else f"import {module}",
            "",
            f'run = {alias}.init(project="{version.project}", job_type="analysis")',
            f'artifact = run.use_artifact("{ref}")',
        ]
        if name is not None:
            lines.append(f'table = artifact.get("{name}")')
        else:
            lines.append("folder = artifact.download()")
        if module == "desktopviz" and name is not None:
            lines += [
                "",
                "# or query it without a run:",
                f'query = dv.open_cache().table("{version.ref}", "{name}")',
                "rows = query.rows(0, 100)",
            ]
        out[module] = "\n".join(lines)
    return out


def link(text: str, href: str) -> str:
    """Rich text of a link (``href`` is what ``linkActivated`` gives)."""
    return f'<a href="{href}">{text}</a>'


class Overview(QScrollArea):
    """The Overview tab of one version."""

    table_requested = Signal(str)
    """A table link was clicked: its path in the version."""

    def __init__(self, state: AppState, version: Version, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.state = state
        self.setWidgetResizable(True)
        self.setFrameShape(QFrame.Shape.NoFrame)
        body = QWidget()
        body.setObjectName("overviewBody")
        self.setWidget(body)
        outer = QVBoxLayout(body)
        outer.setContentsMargins(24, 18, 24, 24)
        outer.setSpacing(10)

        header = QHBoxLayout()
        header.setSpacing(10)
        self.type_icon = QLabel()
        self.title = QLabel()
        self.title.setObjectName("pageTitle")
        self.title.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.chips = ChipRow()
        header.addWidget(self.type_icon)
        header.addWidget(self.title)
        header.addWidget(self.chips, 0, Qt.AlignmentFlag.AlignVCenter)
        header.addStretch(1)
        outer.addLayout(header)
        self.subtitle = QLabel()
        self.subtitle.setObjectName("dimText")
        outer.addWidget(self.subtitle)
        self.description = QLabel()
        self.description.setTextFormat(Qt.TextFormat.PlainText)
        self.description.setWordWrap(True)
        self.description.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        outer.addWidget(self.description)

        columns = QGridLayout()
        columns.setHorizontalSpacing(32)
        columns.setVerticalSpacing(8)
        self.details = QFormLayout()
        self.details.setLabelAlignment(Qt.AlignmentFlag.AlignLeft)
        self.details.setHorizontalSpacing(16)
        self.details.setVerticalSpacing(6)
        self.reference = self._value_label(selectable=True)
        self.digest = self._value_label(selectable=True)
        self.digest.setFont(monospace_font())
        self.size_label = self._value_label()
        self.created = self._value_label()
        self.source = self._value_label(selectable=True)
        self.tables_label = self._value_label()
        self.tables_label.linkActivated.connect(self.table_requested.emit)
        self.producer = self._value_label()
        self.producer.linkActivated.connect(self._open_link)
        self.consumers = self._value_label()
        self.consumers.linkActivated.connect(self._open_link)
        for label, widget in (
            ("Reference", self.reference),
            ("Digest", self.digest),
            ("Size", self.size_label),
            ("Created", self.created),
            ("Source", self.source),
            ("Tables", self.tables_label),
            ("Produced by", self.producer),
            ("Used by", self.consumers),
        ):
            name = QLabel(label)
            name.setObjectName("dimText")
            self.details.addRow(name, widget)
        columns.addLayout(self.details, 0, 0, Qt.AlignmentFlag.AlignTop)

        meta_box = QVBoxLayout()
        meta_box.addWidget(self._section("Metadata"))
        self.metadata = JsonTree()
        meta_box.addWidget(self.metadata)
        meta_box.addStretch(1)
        columns.addLayout(meta_box, 0, 1)
        columns.setColumnStretch(0, 1)
        columns.setColumnStretch(1, 1)
        outer.addLayout(columns)

        outer.addWidget(self._section("Use it"))
        self.snippet_tabs = QTabWidget()
        self.snippet_tabs.setDocumentMode(True)
        self.snippets: dict[str, QPlainTextEdit] = {}
        self.copy_buttons: dict[str, QPushButton] = {}
        for module in ("desktopviz", "wandb"):
            page = QWidget()
            row = QHBoxLayout(page)
            row.setContentsMargins(0, 6, 0, 0)
            text = QPlainTextEdit()
            text.setObjectName("snippet")
            text.setReadOnly(True)
            text.setFont(monospace_font())
            text.setLineWrapMode(QPlainTextEdit.LineWrapMode.NoWrap)
            text.setVerticalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
            scrollbar = text.horizontalScrollBar().sizeHint().height()
            text.setFixedHeight(text.fontMetrics().lineSpacing() * 9 + 20 + scrollbar)
            copy = QPushButton(icon("copy"), "Copy")
            copy.setToolTip(f"Copy the {module} snippet")
            copy.clicked.connect(lambda _=False, m=module: self.copy_snippet(m))
            row.addWidget(text, 1)
            row.addWidget(copy, 0, Qt.AlignmentFlag.AlignTop)
            self.snippets[module] = text
            self.copy_buttons[module] = copy
            self.snippet_tabs.addTab(page, module)
        outer.addWidget(self.snippet_tabs)
        outer.addStretch(1)
        self.set_version(version)

    @staticmethod
    def _value_label(selectable: bool = False) -> QLabel:
        label = QLabel()
        label.setWordWrap(True)
        label.setTextFormat(Qt.TextFormat.RichText)
        flags = Qt.TextInteractionFlag.LinksAccessibleByMouse
        flags |= Qt.TextInteractionFlag.LinksAccessibleByKeyboard
        if selectable:
            label.setTextFormat(Qt.TextFormat.PlainText)
            flags = Qt.TextInteractionFlag.TextSelectableByMouse
        label.setTextInteractionFlags(flags)
        return label

    @staticmethod
    def _section(text: str) -> QLabel:
        label = QLabel(text)
        label.setObjectName("sectionTitle")
        return label

    def set_version(self, version: Version) -> None:
        """Show ``version`` (also after its aliases changed)."""
        self.version = version
        cache = self.state.cache
        self.type_icon.setPixmap(type_icon(version.type).pixmap(28, 28))
        self.title.setText(f"{version.name} <span style='font-weight:400'>{version.tag}</span>")
        self.chips.set_aliases(version.aliases)
        self.subtitle.setText(f"{version.type} · project {version.project}")
        self.description.setText(version.description or "")
        self.description.setVisible(bool(version.description))
        self.reference.setText(version.ref)
        self.digest.setText(version.digest)
        files = f"{version.file_count:,} file{'s' if version.file_count != 1 else ''}"
        self.size_label.setText(f"{human_size(version.size)} in {files}")
        self.created.setText(
            f"{local_time_text(version.created_at)} ({age_text(version.created_at)})"
        )
        self.source.setText(version.source or "—")
        all_tables = cache.tables(version)
        tables = [t.path for t in visible_tables(all_tables)]
        parts = len(all_tables) - len(tables)
        links = ", ".join(link(table_name(p), p) for p in tables) or "—"
        if parts:
            links += f" <span>(made of {parts} more)</span>"
        self.tables_label.setText(links)
        producer = cache.producer(version)
        self.producer.setText(self._run_link(cache, producer) if producer else "unknown")
        consumers = cache.consumers(version)
        self.consumers.setText(
            "<br>".join(self._run_link(cache, r) for r in consumers) if consumers else "no runs yet"
        )
        self.metadata.set_value(version.metadata or {}, expand_depth=2)
        self.metadata.setFixedHeight(min(max(self.metadata.content_height(), 60), 320))
        for module, text in usage_snippets(version, tables).items():
            self.snippets[module].setPlainText(text)

    @staticmethod
    def _run_link(cache: Cache, run_id: str) -> str:
        try:
            run = cache.run(run_id)
        except NotFoundError:
            return run_id
        job = f" <span>({run.job_type})</span>" if run.job_type else ""
        return link(run.name or run.id, f"run:{run.id}") + job

    def _open_link(self, href: str) -> None:
        if href.startswith("run:"):
            self.state.run_requested.emit(href[4:])

    def copy_snippet(self, module: str) -> None:
        """Put the ``module`` snippet on the clipboard."""
        QGuiApplication.clipboard().setText(self.snippets[module].toPlainText())
        self.state.status_message.emit(f"Copied the {module} snippet")
