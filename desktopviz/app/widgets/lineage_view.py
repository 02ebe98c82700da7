"""The Lineage tab: runs and artifact versions around the open version, left to right (inputs,
the runs that used them, their outputs; a long chain wraps into bands, top to bottom, shaped like
the view), artifacts as rounded boxes coloured by type, runs as pills, the open version
highlighted. Nodes are as wide as their names (up to :data:`NODE_W_MAX`, then elided in the
middle; the tooltip has the full name). Wheel zooms, dragging pans, "Fit" shows it all unless
that would make text illegible (then it shows the open version at the smallest legible scale and
the rest scrolls); depth and "explode" (each run, or one node per job type) are controls;
clicking a node opens it. Where nodes go is :mod:`desktopviz.lineage_layout`.

Public API: :class:`LineageView` -- ``LineageView(state, version)``, :meth:`LineageView.rebuild`,
:meth:`LineageView.arrange`, :meth:`LineageView.fit`, ``graph``, ``items`` (node key -> its
graphics item), ``style`` (its fonts, node box and legible scale), :meth:`LineageView.open_node`.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Sequence

from PySide6.QtCore import QPointF, QRectF, Qt, Signal
from PySide6.QtGui import (
    QBrush,
    QColor,
    QFont,
    QFontInfo,
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
from desktopviz.lineage_layout import VIEW, Placement, Route, place, route
from desktopviz.model import Version

NODE_W_MIN, NODE_W_MAX, NODE_H = 150, 320, 44
"""Nodes are as wide as the longest name of the scene needs, within these bounds."""
PAD_X = 14
GAP_X, GAP_Y = 44, 18
MARGIN = 40
TYPE_COLOURS = {"dataset": "#0072B2", "model": "#009E73", "predictions": "#CC79A7"}
RUN_COLOUR = "#5F6B7A"
FOCUS_COLOUR = "#E69F00"
FOCUS_BRUSH = QBrush(QColor(FOCUS_COLOUR))
TITLE, DETAIL = 0, 1
LEGIBLE_PX = 8, 7
"""The smallest font pixel sizes (title, detail) Fit may shrink the text to."""
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
    rebuild, not one per paint), the node box ``rect`` (as wide as the longest of ``labels``
    needs, within :data:`NODE_W_MIN`..:data:`NODE_W_MAX`), the scale below which nodes are
    drawn without text, and ``min_scale``, the smallest at which their text is legible."""

    def __init__(
        self, font: QFont, labels: Sequence[str] = (), text_lod: float = TEXT_LOD[0]
    ) -> None:
        self.text_lod = text_lod
        title, detail = QFont(font), QFont(font)
        title.setBold(True)
        detail.setPointSizeF(max(7.0, font.pointSizeF() * 0.85))
        self.fonts = title, detail
        self.metrics = QFontMetricsF(title), QFontMetricsF(detail)
        text = max((self.metrics[TITLE].horizontalAdvance(t) for t in labels), default=0.0)
        width = min(NODE_W_MAX, max(NODE_W_MIN, math.ceil(text) + 2 * PAD_X + 2))
        self.rect = QRectF(0, 0, width, NODE_H)
        self.bounds = self.rect.adjusted(-3, -3, 3, 3)
        self.pixels = tuple(QFontInfo(f).pixelSize() for f in self.fonts)
        self.min_scale = max(px / size for px, size in zip(LEGIBLE_PX, self.pixels, strict=True))

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
        inner = style.rect.adjusted(PAD_X, 4, -PAD_X, -4)
        half = inner.height() / 2
        title_h, detail_h = (m.height() for m in style.metrics)
        elide = Qt.TextElideMode
        self.title = style.line(node.label, TITLE, inner.width(), elide.ElideMiddle)
        detail = node.detail or (node.type if version else "")
        self.detail = style.line(detail, DETAIL, inner.width(), elide.ElideRight)
        self.title_at = QPointF(inner.left(), inner.top() + (half + 2 - title_h) / 2)
        self.detail_at = QPointF(inner.left(), inner.top() + half + (half - detail_h) / 2)

    def boundingRect(self) -> QRectF:  # noqa: N802 - Qt override
        return self.style.bounds

    def paint(self, painter: QPainter, option: QStyleOptionGraphicsItem, _w: object = None) -> None:
        lod = option.levelOfDetailFromTransform(painter.worldTransform())
        rect, radius = self.style.rect, self.radius
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
        self.edges: list[EdgeBundle] = []
        self.placement: Placement | None = None
        self.style = NodeStyle(self.font())
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
        self.view.resized.connect(self._resized)
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
        self.edges = []
        self.placement = None
        labels = [n.label for n in graph.nodes.values()]
        self.style = NodeStyle(self.view.font(), labels, TEXT_LOD[len(graph.nodes) > MANY_NODES])
        for key, node in graph.nodes.items():
            item = NodeItem(key, node, key == graph.focus, self.style)
            item.setZValue(1)
            self.scene.addItem(item)
            self.items[key] = item
        runs = sum(1 for n in graph.nodes.values() if n.kind != "version")
        versions = len(graph.nodes) - runs
        self.summary.setText(
            f"{versions} version{'s' * (versions != 1)}, {runs} "
            f"{'run' if self.explode.isChecked() else 'job type'}{'s' * (runs != 1)}, "
            f"{len(graph.edges)} edges"
            + ("" if graph.edges else " — no run produced or used this version yet")
        )
        self.arrange()

    def arrange(self) -> bool:
        """Place the nodes (wrapped into bands shaped like the view) and draw the edges; nothing
        to do when the bands would not change. True if it placed them."""
        graph, rect = self.graph, self.style.rect
        if graph is None:
            return False
        size = self.view.viewport().size()
        view = (size.width() - 2 * MARGIN, size.height() - 2 * MARGIN)
        node = rect.width(), rect.height()
        if not self.isVisible():  # not laid out yet: shaped for a typical view
            view = VIEW
        placement = place(graph.layer, graph.row, node, (GAP_X, GAP_Y), view)
        if self.placement is not None and placement.bands == self.placement.bands:
            return False
        self.placement = placement
        for key, (x, y) in placement.pos.items():
            self.items[key].setPos(x, y)
        for item in self.edges:
            self.scene.removeItem(item)
        self.edges = self._edge_items(placement)
        for item in self.edges:
            self.scene.addItem(item)
        bounds = self.scene.itemsBoundingRect()
        self.scene.setSceneRect(bounds.adjusted(-MARGIN, -MARGIN, MARGIN, MARGIN))
        self.fit()
        return True

    def _edge_items(self, placement: Placement) -> list[EdgeBundle]:
        """The edges as one bundle per layer and kind of path (a dashed one for the edges that
        close a cycle: a run that used what it logged)."""
        assert self.graph is not None
        bundles: dict[tuple[str, int], QPainterPath] = defaultdict(QPainterPath)
        for a, b in self.graph.edges:
            way = route(placement, a, b)
            _add_route(bundles[way.kind, self.graph.layer[a]], way)
        colour = self.palette().color(QPalette.ColorRole.PlaceholderText)
        pens = {}
        for kind in ("curve", "wrap", "loop"):
            pen = QPen(colour, 1, Qt.PenStyle.DashLine if kind == "loop" else Qt.PenStyle.SolidLine)
            pen.setCosmetic(True)  # a hairline at every zoom: legible, and fast to draw
            pens[kind] = pen
        return [EdgeBundle(path, pens[kind]) for (kind, _), path in bundles.items()]

    def fit(self) -> None:
        """Zoom to show the whole graph, never larger than actual size nor so small that its
        text is illegible (then the open version is centred and the rest scrolls); later
        resizes fit it again until the user zooms."""
        self.view.resetTransform()
        rect = self.scene.sceneRect()
        viewport = self.view.viewport().rect()
        whole = min(1.0, viewport.width() / rect.width(), viewport.height() / rect.height())
        scale = max(whole, self.style.min_scale)
        self.view.scale(scale, scale)
        focus = self.items.get(self.graph.focus) if self.graph else None
        if scale > whole and focus is not None:
            self.view.centerOn(focus.sceneBoundingRect().center())
        else:
            self.view.centerOn(rect.center())

    def _resized(self) -> None:
        if self.auto_fit and not self.arrange():
            self.fit()

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


def _add_route(path: QPainterPath, way: Route) -> None:
    """An edge's path with an arrowhead: a curve from a node's right side to a later one's left
    side; a polyline with rounded corners down to a later band; a loop under both nodes."""
    points = [QPointF(*p) for p in way.points]
    start, end = points[0], points[-1]
    path.moveTo(start)
    if way.kind == "curve":
        bend = max(30.0, (end.x() - start.x()) / 2)
        path.cubicTo(start + QPointF(bend, 0), end - QPointF(bend, 0), end)
        tip = QPointF(-8, -4), QPointF(-8, 4)
    elif way.kind == "wrap":
        for before, corner, after in zip(points, points[1:], points[2:], strict=False):
            path.lineTo(_towards(corner, before))
            path.quadTo(corner, _towards(corner, after))
        path.lineTo(end)
        tip = QPointF(-8, -4), QPointF(-8, 4)
    else:
        drop = QPointF(0, GAP_Y * 1.2)
        path.cubicTo(start + drop, end + drop, end)
        tip = QPointF(-4, 8), QPointF(4, 8)
    for side in tip:
        path.moveTo(end)
        path.lineTo(end + side)


def _towards(corner: QPointF, other: QPointF, radius: float = 10.0) -> QPointF:
    """The point ``radius`` (at most half way) from ``corner`` towards ``other``."""
    step = other - corner
    length = math.hypot(step.x(), step.y())
    return corner if length == 0 else corner + step * (min(radius, length / 2) / length)
