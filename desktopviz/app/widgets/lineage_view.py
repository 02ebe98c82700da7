"""The Lineage tab: runs and artifact versions around the open version, left to right (inputs,
the runs that used them, their outputs), artifacts as rounded boxes coloured by type, runs as
pills, the open version highlighted. Wheel zooms, dragging pans, "Fit" shows it all; depth and
"explode" (each run, or one node per job type) are controls; clicking a node opens it.

Public API: :class:`LineageView` -- ``LineageView(state, version)``, :meth:`LineageView.rebuild`,
``graph``, ``items`` (node key -> its graphics item), :meth:`LineageView.open_node`.
"""

from __future__ import annotations

from collections import defaultdict

from PySide6.QtCore import QPointF, QRectF, Qt, Signal
from PySide6.QtGui import (
    QBrush,
    QColor,
    QFont,
    QFontMetricsF,
    QPainter,
    QPainterPath,
    QPalette,
    QPen,
    QStaticText,
    QWheelEvent,
)
from PySide6.QtWidgets import (
    QCheckBox,
    QGraphicsItem,
    QGraphicsScene,
    QGraphicsView,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QSpinBox,
    QStyleOptionGraphicsItem,
    QVBoxLayout,
    QWidget,
)

from desktopviz.app.icons import icon
from desktopviz.app.palette import class_colour, mute, text_colour_on
from desktopviz.app.state import AppState
from desktopviz.lineage import Graph, Node, lineage_graph
from desktopviz.model import Version

NODE_W, NODE_H = 160, 44
GAP_X, GAP_Y = 44, 18
TYPE_COLOURS = {"dataset": "#0072B2", "model": "#009E73", "predictions": "#CC79A7"}
RUN_COLOUR = "#5F6B7A"
FOCUS_COLOUR = "#E69F00"
FOCUS_BRUSH = QBrush(QColor(FOCUS_COLOUR))
NODE_RECT = QRectF(0, 0, NODE_W, NODE_H)
BOUNDS = NODE_RECT.adjusted(-3, -3, 3, 3)
TITLE, DETAIL = 0, 1
TEXT_LOD = 0.3, 0.45
"""Below this scale nodes are drawn without text: small graphs keep their (tiny) labels down to
0.3; graphs over :data:`MANY_NODES` drop them at 0.45, where a thousand labels cost a frame."""
MANY_NODES = 200


def type_colour(kind: str) -> QColor:
    """The colour of an artifact type (stable for types not listed)."""
    if kind in TYPE_COLOURS:
        return QColor(TYPE_COLOURS[kind])
    return class_colour(3 + sum(map(ord, kind)) % 40)


class NodeStyle:
    """The fonts of every node of a scene, ``fonts[TITLE]`` and ``fonts[DETAIL]`` (one set per
    rebuild, not one per paint), and the scale below which nodes are drawn without text."""

    def __init__(self, font: QFont, text_lod: float = TEXT_LOD[0]) -> None:
        self.text_lod = text_lod
        title, detail = QFont(font), QFont(font)
        title.setBold(True)
        detail.setPointSizeF(max(7.0, font.pointSizeF() * 0.85))
        self.fonts = title, detail
        self.metrics = QFontMetricsF(title), QFontMetricsF(detail)

    def line(self, text: str, which: int, width: float, elide: Qt.TextElideMode) -> QStaticText:
        """``text`` elided to ``width`` in font ``which``, laid out when first drawn (then
        drawn from that layout)."""
        out = QStaticText(self.metrics[which].elidedText(text, elide, width))
        out.setTextFormat(Qt.TextFormat.PlainText)
        return out


class NodeItem(QGraphicsItem):
    """One node: a rounded box (version) or a pill (run, job type) with a title and a detail.
    Zoomed out below the style's ``text_lod``, only the shape (text that small is not legible)."""

    def __init__(self, key: tuple[str, str], node: Node, focus: bool, style: NodeStyle) -> None:
        super().__init__()
        self.key, self.node, self.focus, self.style = key, node, focus, style
        self.setAcceptHoverEvents(True)
        self.setCursor(Qt.CursorShape.PointingHandCursor)
        self.setToolTip(f"{node.label}\n{node.detail}".strip() + "\n(click to open)")
        self.hovered = False
        version = node.kind == "version"
        fill = type_colour(node.type) if version else QColor(RUN_COLOUR)
        self.brushes = QBrush(fill), QBrush(fill.lighter(115))
        self.pen = QPen(FOCUS_BRUSH, 4) if focus else QPen(fill.darker(130), 1)
        self.text_pen = QPen(text_colour_on(fill))
        self.radius = 8 if version else NODE_H / 2
        inner = NODE_RECT.adjusted(14, 4, -14, -4)
        half = inner.height() / 2
        title_h, detail_h = (m.height() for m in style.metrics)
        elide = Qt.TextElideMode
        self.title = style.line(node.label, TITLE, inner.width(), elide.ElideMiddle)
        detail = node.detail or (node.type if version else "")
        self.detail = style.line(detail, DETAIL, inner.width(), elide.ElideRight)
        self.title_at = QPointF(inner.left(), inner.top() + (half + 2 - title_h) / 2)
        self.detail_at = QPointF(inner.left(), inner.top() + half + (half - detail_h) / 2)

    def boundingRect(self) -> QRectF:  # noqa: N802 - Qt override
        return BOUNDS

    def paint(self, painter: QPainter, option: QStyleOptionGraphicsItem, _w: object = None) -> None:
        lod = option.levelOfDetailFromTransform(painter.worldTransform())
        rect, radius = NODE_RECT, self.radius
        if (
            lod < self.style.text_lod
        ):  # the shape only; the open version ringed 2 px wide inside its edge
            painter.setPen(Qt.PenStyle.NoPen)
            if self.focus:
                painter.setBrush(FOCUS_BRUSH)
                painter.drawRoundedRect(rect, radius, radius)
                inset = min(2 / lod, NODE_H / 4)
                rect = rect.adjusted(inset, inset, -inset, -inset)
            painter.setBrush(self.brushes[self.hovered])
            painter.drawRoundedRect(rect, radius, radius)
            return
        painter.setPen(self.pen)
        painter.setBrush(self.brushes[self.hovered])
        painter.drawRoundedRect(rect, radius, radius)
        painter.setPen(self.text_pen)
        painter.setFont(self.style.fonts[TITLE])
        painter.drawStaticText(self.title_at, self.title)
        painter.setFont(self.style.fonts[DETAIL])
        painter.drawStaticText(self.detail_at, self.detail)

    def hoverEnterEvent(self, event: object) -> None:  # noqa: N802 - Qt override
        self.hovered = True
        self.update()

    def hoverLeaveEvent(self, event: object) -> None:  # noqa: N802 - Qt override
        self.hovered = False
        self.update()


class EdgeBundle(QGraphicsItem):
    """The edges leaving one layer, drawn as one path of hairlines; the pointer passes through
    them (no shape to hit, no hover)."""

    def __init__(self, path: QPainterPath, pen: QPen) -> None:
        super().__init__()
        self.path, self.pen = path, pen
        self.rect = path.controlPointRect().adjusted(-2, -2, 2, 2)
        self.setAcceptedMouseButtons(Qt.MouseButton.NoButton)

    def boundingRect(self) -> QRectF:  # noqa: N802 - Qt override
        return self.rect

    def shape(self) -> QPainterPath:
        return QPainterPath()

    def paint(self, painter: QPainter, _option: object, _w: object = None) -> None:
        painter.setPen(self.pen)
        painter.setBrush(Qt.BrushStyle.NoBrush)
        painter.drawPath(self.path)


class GraphView(QGraphicsView):
    """Pans by dragging, zooms with the wheel (around the pointer), reports clicked nodes."""

    node_clicked = Signal(object)
    resized = Signal()
    zoomed = Signal()

    def __init__(self, scene: QGraphicsScene, parent: QWidget | None = None) -> None:
        super().__init__(scene, parent)
        self.setRenderHints(QPainter.RenderHint.Antialiasing | QPainter.RenderHint.TextAntialiasing)
        self.setDragMode(QGraphicsView.DragMode.ScrollHandDrag)
        self.setTransformationAnchor(QGraphicsView.ViewportAnchor.AnchorUnderMouse)
        self.setViewportUpdateMode(QGraphicsView.ViewportUpdateMode.SmartViewportUpdate)
        self.setOptimizationFlags(  # every item sets the pen, brush and font it draws with
            QGraphicsView.OptimizationFlag.DontSavePainterState
            | QGraphicsView.OptimizationFlag.DontAdjustForAntialiasing
        )
        self._pressed_at: QPointF | None = None

    def wheelEvent(self, event: QWheelEvent) -> None:  # noqa: N802 - Qt override
        factor = 1.15 if event.angleDelta().y() > 0 else 1 / 1.15
        scale = self.transform().m11() * factor
        if 0.05 <= scale <= 4:
            self.scale(factor, factor)
            self.zoomed.emit()

    def resizeEvent(self, event: object) -> None:  # noqa: N802 - Qt override
        super().resizeEvent(event)  # type: ignore[arg-type]
        self.resized.emit()

    def mousePressEvent(self, event: object) -> None:  # noqa: N802 - Qt override
        self._pressed_at = event.position()  # type: ignore[attr-defined]
        super().mousePressEvent(event)  # type: ignore[arg-type]

    def mouseReleaseEvent(self, event: object) -> None:  # noqa: N802 - Qt override
        super().mouseReleaseEvent(event)  # type: ignore[arg-type]
        pos = event.position()  # type: ignore[attr-defined]
        if self._pressed_at is not None and (pos - self._pressed_at).manhattanLength() < 4:
            item = self.itemAt(pos.toPoint())
            while item is not None and not isinstance(item, NodeItem):
                item = item.parentItem()
            if isinstance(item, NodeItem):
                self.node_clicked.emit(item.key)
        self._pressed_at = None


class LineageView(QWidget):
    """Controls (depth, explode, fit) above the graph of the version's lineage."""

    def __init__(self, state: AppState, version: Version, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.state, self.version = state, version
        self.graph: Graph | None = None
        self.items: dict[tuple[str, str], NodeItem] = {}
        self.depth = QSpinBox(self)
        self.depth.setRange(1, 20)
        self.depth.setValue(2)
        self.depth.setPrefix("depth ")
        self.depth.setToolTip("Run hops from this version (version → run → version is one)")
        self.explode = QCheckBox("Each run", self)
        self.explode.setChecked(True)
        self.explode.setToolTip("Show each run, or one node per job type")
        self.fit_button = QPushButton(icon("zoom-fit"), "Fit", self)
        self.summary = mute(QLabel("", self))
        self.scene = QGraphicsScene(self)
        self.view = GraphView(self.scene, self)
        bar = QHBoxLayout()
        bar.setContentsMargins(8, 6, 8, 2)
        bar.addWidget(self.summary, 1)
        bar.addWidget(self.depth)
        bar.addWidget(self.explode)
        bar.addWidget(self.fit_button)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(bar)
        layout.addWidget(self.view, 1)
        self.depth.valueChanged.connect(lambda _v: self.rebuild())
        self.explode.toggled.connect(lambda _on: self.rebuild())
        self.fit_button.clicked.connect(self._fit_clicked)
        self.view.node_clicked.connect(self.open_node)
        self.auto_fit = True
        """Fit the graph to the view on resize, until the user zooms."""
        self.view.resized.connect(lambda: self.auto_fit and self.fit())
        self.view.zoomed.connect(lambda: setattr(self, "auto_fit", False))
        self.rebuild()

    def rebuild(self) -> None:
        """Read the lineage again and draw it."""
        graph = lineage_graph(
            self.state.cache, self.version, self.depth.value(), self.explode.isChecked()
        )
        self.graph = graph
        self.scene.clear()
        self.items = {}
        style = NodeStyle(self.view.font(), TEXT_LOD[len(graph.nodes) > MANY_NODES])
        for key, node in graph.nodes.items():
            item = NodeItem(key, node, key == graph.focus, style)
            item.setPos(graph.layer[key] * (NODE_W + GAP_X), graph.row[key] * (NODE_H + GAP_Y))
            item.setZValue(1)
            self.scene.addItem(item)
            self.items[key] = item
        bundles: dict[int, QPainterPath] = defaultdict(QPainterPath)
        for a, b in graph.edges:
            _add_edge(
                bundles[graph.layer[a]],
                self.items[a].pos() + QPointF(NODE_W, NODE_H / 2),
                self.items[b].pos() + QPointF(0, NODE_H / 2),
            )
        edge_pen = QPen(self.palette().color(QPalette.ColorRole.PlaceholderText), 1)
        edge_pen.setCosmetic(True)  # a hairline at every zoom: legible, and fast to draw
        for path in bundles.values():
            self.scene.addItem(EdgeBundle(path, edge_pen))
        runs = sum(1 for n in graph.nodes.values() if n.kind != "version")
        versions = len(graph.nodes) - runs
        self.summary.setText(
            f"{versions} version{'s' * (versions != 1)}, {runs} "
            f"{'run' if self.explode.isChecked() else 'job type'}{'s' * (runs != 1)}, "
            f"{len(graph.edges)} edges"
            + ("" if graph.edges else " — no run produced or used this version yet")
        )
        self.scene.setSceneRect(self.scene.itemsBoundingRect().adjusted(-40, -40, 40, 40))
        self.fit()

    def fit(self) -> None:
        """Zoom to show the whole graph (never larger than actual size); later resizes fit it
        again until the user zooms."""
        self.view.resetTransform()
        rect = self.scene.sceneRect()
        viewport = self.view.viewport().rect()
        if rect.width() > viewport.width() or rect.height() > viewport.height():
            self.view.fitInView(rect, Qt.AspectRatioMode.KeepAspectRatio)
        self.view.centerOn(rect.center())

    def _fit_clicked(self) -> None:
        self.auto_fit = True
        self.fit()

    def open_node(self, key: tuple[str, str]) -> None:
        """Open what a node stands for: a version's page, a run's page."""
        kind, value = key
        if kind == "version":
            version = self.state.cache.version_by_id(int(value))
            self.state.open_version_requested.emit(version, "lineage")
        elif kind == "run":
            self.state.run_requested.emit(value)
        elif self.graph is not None:  # a job type: its first run
            members = self.graph.nodes[key].members
            if members:
                self.state.run_requested.emit(members[0])

    def showEvent(self, event: object) -> None:  # noqa: N802 - Qt override
        super().showEvent(event)  # type: ignore[arg-type]
        self.fit()


def _add_edge(path: QPainterPath, start: QPointF, end: QPointF) -> None:
    """A curve from ``start`` (a node's right side) to ``end`` (a left side) with an arrowhead."""
    bend = max(30.0, (end.x() - start.x()) / 2)
    path.moveTo(start)
    path.cubicTo(start + QPointF(bend, 0), end - QPointF(bend, 0), end)
    path.lineTo(end + QPointF(-8, -4))
    path.moveTo(end)
    path.lineTo(end + QPointF(-8, 4))
