"""Painting table cells by type: numbers (right-aligned), text (elided), bools, nested values
(compact, muted), images (thumbnails with boxes and masks), other media (a typed entry), nulls,
loading placeholders and errors.

Public API: :class:`CellDelegate` (``thumb_size``, ``image_requests(index, rect)``).
Thumbnails come from a :class:`~desktopviz.app.thumbnail_loader.ThumbnailLoader` (never waited
for); composed thumbnails (image + overlays at a size) are kept in a small pixmap cache.
"""

from __future__ import annotations

import math
from collections import OrderedDict
from collections.abc import Hashable

from PySide6.QtCore import (
    QEvent,
    QModelIndex,
    QPersistentModelIndex,
    QPointF,
    QRect,
    QRectF,
    QSize,
    Qt,
)
from PySide6.QtGui import (
    QColor,
    QFont,
    QFontMetrics,
    QHelpEvent,
    QIcon,
    QPainter,
    QPainterPath,
    QPalette,
    QPen,
    QPixmap,
)
from PySide6.QtWidgets import (
    QAbstractItemView,
    QApplication,
    QStyle,
    QStyledItemDelegate,
    QStyleOptionViewItem,
    QToolTip,
    QWidget,
)

from desktopviz.app.models.table_model import (
    CELL_ROLE,
    OTHER_TEXT_ROLE,
    PAINT_ROLE,
    RENDER_ROLE,
    SIDE_ROLE,
    VALUE_ROLE,
    PairCell,
)
from desktopviz.app.palette import SIDE_COLOURS, text_colour_on
from desktopviz.app.state import AppState
from desktopviz.app.thumbnail_loader import ImageRequest, LoadedImage, ThumbnailLoader
from desktopviz.app.widgets.overlays import paint_overlays
from desktopviz.formats.image_cells import ImageCell
from desktopviz.media.thumbs import flavour_of
from desktopviz.query.compare import text_diff
from desktopviz.query.comparison import Role
from desktopviz.query.display import short_number
from desktopviz.store.thumbnails import IMAGE, MASK, bucket_for

PAD = 3
DEFAULT_THUMB = 96
COMPOSED_KEEP = 600
MEDIA_BADGES = {
    "audio-file": "AUDIO",
    "video-file": "VIDEO",
    "html-file": "HTML",
    "object3D-file": "3D",
    "molecule-file": "MOL",
    "bokeh-file": "BOKEH",
    "plotly-file": "PLOT",
    "graph-file": "GRAPH",
    "table-file": "TABLE",
    "pytorch-model-file": "MODEL",
    "sklearn-model-file": "MODEL",
    "tfkeras-model-file": "MODEL",
    "wb_trace_tree": "TRACE",
    "image-file": "IMAGE",
}


MAX_DIFF_CHARS = 2000
"""Longer changed strings are tinted without a character diff (the diff costs O(n*m))."""
TEXT_PAD = 4
"""Pixels between a cell's edge and its text."""
GALLERY_ITEMS = 4
"""Images a group's gallery cell shows."""
PAIR_BARS = 90
"""Width a numeric pair's cell gives its bars (beside the numbers)."""
MIN_BARS = 12
"""Narrower than this, a pair's cell shows its numbers without bars."""
HISTOGRAM_WIDTH = 170
"""Width of a grouped numeric column (its histogram)."""
# looked up once: enum arithmetic costs microseconds a cell in PySide6
_SELECTED = QStyle.StateFlag.State_Selected
_HAS_FOCUS = QStyle.StateFlag.State_HasFocus
_ALTERNATE = QStyleOptionViewItem.ViewItemFeature.Alternate
_SELECTED_BIT, _HAS_FOCUS_BIT, _ALTERNATE_BIT = _SELECTED.value, _HAS_FOCUS.value, _ALTERNATE.value
_HIGHLIGHT = QPalette.ColorRole.Highlight
_HIGHLIGHTED_TEXT = QPalette.ColorRole.HighlightedText
_TEXT = QPalette.ColorRole.Text
CHANGED_TINT = QColor(230, 159, 0, 70)
"""Behind a cell whose value differs between the two sides of a comparison (amber, readable in
light and dark themes)."""
_ALTERNATE_BASE = QPalette.ColorRole.AlternateBase
_RIGHT = int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
_LEFT = int(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter)


LABEL_GAP = 6
"""Pixels at least between two labels of a cell (a histogram's min and max)."""


def fit_labels(metrics: QFontMetrics, left: str, right: str, width: int) -> tuple[str, str]:
    """The labels to draw at the left and right of ``width`` pixels without overlapping: both
    when they fit with a gap, else the left one alone (elided when even it does not fit)."""
    if metrics.horizontalAdvance(left) + LABEL_GAP + metrics.horizontalAdvance(right) <= width:
        return left, right
    return metrics.elidedText(left, Qt.TextElideMode.ElideRight, width), ""


def _bar_extent(
    value: object, span: tuple[float, float] | None, width: float
) -> tuple[float, float] | None:
    """Where a pair's bar goes along ``width`` pixels: from zero (or the range's low end when
    the range does not reach zero) to the value; None for no bar (no number, no range yet)."""
    if span is None or not isinstance(value, int | float) or isinstance(value, bool):
        return None
    lo, hi = span
    if not (math.isfinite(value) and hi > lo):
        return None
    base = min(max(0.0, lo), hi)

    def at(v: float) -> float:
        return (min(max(v, lo), hi) - lo) / (hi - lo) * width

    a, b = sorted((at(base), at(float(value))))
    return a, b


class CellDelegate(QStyledItemDelegate):
    """Paints every cell of a table view according to its ``RENDER_ROLE``."""

    def __init__(
        self,
        state: AppState,
        loader: ThumbnailLoader,
        version_id: int,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.state = state
        self.loader = loader
        self.version_id = version_id
        self.thumb_size = DEFAULT_THUMB
        self._composed: OrderedDict[Hashable, QPixmap] = OrderedDict()

    # -- sizes ----------------------------------------------------------------------------------
    def sizeHint(
        self, option: QStyleOptionViewItem, index: QModelIndex | QPersistentModelIndex
    ) -> QSize:  # noqa: N802
        render = index.data(RENDER_ROLE)
        if render in ("image", "media") and index.data(CELL_ROLE) is not None:
            return QSize(self.thumb_size + 2 * PAD, self.thumb_size + 2 * PAD)
        if render == "gallery":
            return QSize(GALLERY_ITEMS * (self.thumb_size + PAD) + PAD, self.thumb_size + 2 * PAD)
        hint = super().sizeHint(option, index)
        if render == "pair":  # the numbers and room for their bars
            return QSize(min(hint.width() + 8, 200) + PAIR_BARS, hint.height())
        return QSize(min(hint.width() + 8, 360), hint.height())

    # -- painting -------------------------------------------------------------------------------
    def paint(
        self,
        painter: QPainter,
        option: QStyleOptionViewItem,
        index: QModelIndex | QPersistentModelIndex,
    ) -> None:
        model = index.model()
        paint_at = getattr(model, "paint_at", None)
        if paint_at is not None:
            render, text, changed = paint_at(index.row(), index.column())
        else:
            render, text, changed = index.data(PAINT_ROLE) or ("loading", "", False)
        if getattr(model, "brush", None) is not None and model.brushed(index.row()):
            option.state |= _SELECTED  # rows a scatter's brush holds are drawn selected
        if changed and render == "text":
            other = index.data(OTHER_TEXT_ROLE)
            side = index.model().headerData(index.column(), Qt.Orientation.Horizontal, SIDE_ROLE)
            if other is not None and side is not None and len(text) + len(other) < MAX_DIFF_CHARS:
                self._paint_diff_text(painter, option, text, other, side)
                return
        if render == "number" or render == "text":
            self._paint_text(painter, option, text, right=render == "number", changed=changed)
            return
        if render == "status":
            self._paint_status(painter, option, index, text)
            return
        if render == "pair":
            self._paint_background(painter, option, index)
            if changed and not option.state & _SELECTED:
                painter.fillRect(option.rect, CHANGED_TINT)
            self._paint_pair(painter, option, model.pair_cell(index.row(), index.column()))
            return
        self._paint_background(painter, option, index)
        if changed and not option.state & _SELECTED:
            painter.fillRect(option.rect, CHANGED_TINT)
        rect = option.rect
        if render == "loading":
            self._paint_loading(painter, option)
        elif render == "null":
            self._paint_muted(painter, option, "null", italic=True)
        elif render == "bool":
            self._paint_bool(painter, option, bool(index.data(VALUE_ROLE)))
        elif render == "nested":
            self._paint_muted(painter, option, text or "")
        elif render == "image":
            self._paint_image(painter, option, index.data(CELL_ROLE), rect)
        elif render == "gallery":
            self._paint_gallery(painter, option, index.data(CELL_ROLE) or [], rect)
        elif render == "histogram":
            self._paint_histogram(painter, option, [index.data(VALUE_ROLE) or {}], index)
        elif render == "histograms":
            pair = model.pair_cell(index.row(), index.column())
            values = [v or {} for v in pair.values] if pair is not None else []
            self._paint_histogram(painter, option, values, index)
        elif render == "media":
            self._paint_media(painter, option, index.data(VALUE_ROLE))
        elif render == "error":
            self._paint_error(painter, option, QRectF(rect), "⚠ " + (index.data() or "error"))

    def _paint_text(
        self,
        painter: QPainter,
        option: QStyleOptionViewItem,
        text: str,
        *,
        right: bool,
        changed: bool = False,
    ) -> None:
        """Numbers and strings, drawn directly: one model lookup a cell instead of the ten the
        style's item painter makes (scrolling a screen of text rows is Python-bound). A cell
        that differs between the sides of a comparison gets the changed tint."""
        palette, rect = option.palette, option.rect
        state = option.state.value  # plain ints: enum flag arithmetic costs ~2 ms a screen
        selected = state & _SELECTED_BIT
        if selected:
            painter.fillRect(rect, palette.brush(_HIGHLIGHT))
        elif changed:
            painter.fillRect(rect, CHANGED_TINT)
        elif option.features.value & _ALTERNATE_BIT:
            painter.fillRect(rect, palette.brush(_ALTERNATE_BASE))
        area = rect.adjusted(TEXT_PAD, 0, -TEXT_PAD, 0)
        metrics = option.fontMetrics
        if metrics.horizontalAdvance(text) > area.width():
            text = metrics.elidedText(text, Qt.TextElideMode.ElideRight, area.width())
        painter.setPen(palette.color(_HIGHLIGHTED_TEXT if selected else _TEXT))
        painter.drawText(area, _RIGHT if right else _LEFT, text)
        if state & _HAS_FOCUS_BIT:
            painter.save()
            painter.setPen(palette.color(_HIGHLIGHT))
            painter.drawRect(rect.adjusted(0, 0, -1, -1))
            painter.restore()

    def _paint_gallery(
        self, painter: QPainter, option: QStyleOptionViewItem, cells: list, rect: QRect
    ) -> None:
        """A group's first images side by side (as many as fit)."""
        side = max(16, min(rect.height() - 2 * PAD, self.thumb_size))
        x = rect.left() + PAD
        for cell in cells[:GALLERY_ITEMS]:
            if x + side > rect.right():
                break
            slot = QRect(x, rect.top() + (rect.height() - side) // 2, side, side)
            self._paint_image(painter, option, cell, slot)
            x += side + PAD

    def _paint_histogram(
        self,
        painter: QPainter,
        option: QStyleOptionViewItem,
        values: list[dict],
        index: QModelIndex | QPersistentModelIndex,
    ) -> None:
        """A grouped numeric column: bars of its bin counts (bins shared by every group, so
        bars compare down the column), the range below. Two ``values`` are a comparison's sides
        on shared bins, overlaid in their colours (one side alone: its colour)."""
        rect = option.rect.adjusted(6, 4, -6, -4)
        metrics = option.fontMetrics
        text_height = metrics.height()
        plot = QRectF(rect.left(), rect.top(), rect.width(), rect.height() - text_height - 2)
        if len(values) == 2:
            colours = [QColor(c) for c in SIDE_COLOURS]
            for colour in colours:
                colour.setAlpha(150)  # both sides show where they overlap
        else:
            model = index.model()
            side = model.headerData(index.column(), Qt.Orientation.Horizontal, SIDE_ROLE)
            colours = [QColor(SIDE_COLOURS[side] if side is not None else SIDE_COLOURS[0])]
            if _is_delta(model, index.column()):  # a difference is neither side's: neutral
                colours = [option.palette.color(QPalette.ColorRole.PlaceholderText)]
            if option.state & _SELECTED:
                colours = [option.palette.color(_HIGHLIGHTED_TEXT)]
        counts = [[int(c or 0) for c in v.get("histogram") or []] for v in values]
        painter.save()
        top = max((max(c, default=0) for c in counts), default=0)
        if top > 0 and plot.height() > 4:
            painter.setPen(Qt.PenStyle.NoPen)
            for bins, colour in zip(counts, colours, strict=True):
                painter.setBrush(colour)
                width = plot.width() / max(1, len(bins))
                for i, count in enumerate(bins):
                    if count:
                        h = max(1.0, plot.height() * count / top)
                        bar = QRectF(plot.left() + i * width, plot.bottom() - h, width - 1, h)
                        painter.drawRect(bar.adjusted(0, 0, max(0.0, 1 - bar.width()), 0))
        painter.setPen(self._text_colour(option, muted=True))
        small = QFont(option.font)
        small.setPointSizeF(max(7.0, option.font.pointSizeF() * 0.85))
        painter.setFont(small)
        lows = [v["min"] for v in values if v.get("min") is not None]
        highs = [v["max"] for v in values if v.get("max") is not None]
        labels = QRectF(rect.left(), rect.bottom() - text_height, rect.width(), text_height)
        if lows and highs:
            left, right = fit_labels(
                painter.fontMetrics(),
                short_number(min(lows)),
                short_number(max(highs)),
                int(labels.width()),
            )
            painter.drawText(labels, int(_LEFT), left)
            if right:
                painter.drawText(labels, int(_RIGHT), right)
        painter.restore()

    def _paint_pair(
        self, painter: QPainter, option: QStyleOptionViewItem, pair: PairCell | None
    ) -> None:
        """Both sides of a numeric column in one cell, as W&B's tables compare them: a lane
        per side (side 0 above), each a bar in the side's colour scaled to the column's range
        over both tables, and its number right of it."""
        if pair is None:
            self._paint_loading(painter, option)
            return
        rect = QRectF(option.rect.adjusted(TEXT_PAD, 2, -TEXT_PAD, -2))
        lane = min(rect.height() / 2, option.fontMetrics.height() + 4.0)  # centred in tall rows
        rect = QRectF(rect.left(), rect.center().y() - lane, rect.width(), 2 * lane)
        small = QFont(option.font)
        small.setPixelSize(max(8, min(int(lane), option.fontMetrics.height()) - 1))
        painter.save()
        painter.setFont(small)
        metrics = painter.fontMetrics()
        texts = [
            t if v is not None else "null" for t, v in zip(pair.texts, pair.values, strict=True)
        ]
        # the numbers first (whole where they fit), the bars in the room left
        number_width = min(max(metrics.horizontalAdvance(t) for t in texts) + 2, rect.width())
        bars = rect.adjusted(0, 0, -number_width - TEXT_PAD, 0)
        selected = option.state & _SELECTED
        text_colour = option.palette.color(_HIGHLIGHTED_TEXT if selected else _TEXT)
        for side, (value, text) in enumerate(zip(pair.values, texts, strict=True)):
            y = rect.top() + side * lane
            number = QRectF(rect.right() - number_width, y, number_width, lane)
            painter.setPen(text_colour if value is not None else self._text_colour(option, True))
            shown = metrics.elidedText(text, Qt.TextElideMode.ElideRight, int(number_width))
            painter.drawText(number, _RIGHT, shown)
            extent = _bar_extent(value, pair.span, bars.width())
            if extent is not None and bars.width() >= MIN_BARS:
                x0, x1 = extent
                bar = QRectF(bars.left() + x0, y + 1.5, max(1.0, x1 - x0), max(2.0, lane - 3))
                painter.fillRect(bar, QColor(SIDE_COLOURS[side]))
        painter.restore()

    def _paint_diff_text(
        self, painter: QPainter, option: QStyleOptionViewItem, text: str, other: str, side: int
    ) -> None:
        """A changed string of a comparison: the characters only this side has are marked in
        the side's colour (character-level diff against the other side)."""
        self._paint_text(painter, option, "", right=False, changed=True)
        rect = option.rect
        area = QRectF(rect.adjusted(TEXT_PAD, 0, -TEXT_PAD, 0))
        metrics = option.fontMetrics
        mark = QColor(SIDE_COLOURS[side])
        mark.setAlpha(110)
        selected = option.state & _SELECTED
        painter.save()
        painter.setPen(option.palette.color(_HIGHLIGHTED_TEXT if selected else _TEXT))
        x = area.left()
        for op, piece in text_diff(other, text):
            if op == "delete":
                continue
            width = metrics.horizontalAdvance(piece)
            if x + width > area.right():
                piece = metrics.elidedText(
                    piece, Qt.TextElideMode.ElideRight, int(area.right() - x)
                )
                width = metrics.horizontalAdvance(piece)
            box = QRectF(x, area.top(), width, area.height())
            if op == "insert" and not selected:  # a marker pen's height behind the text
                line = metrics.height() + 2
                painter.fillRect(QRectF(x, area.center().y() - line / 2, width, line), mark)
            painter.drawText(box, _LEFT, piece)
            x += width
            if x >= area.right():
                break
        painter.restore()

    def _paint_status(
        self,
        painter: QPainter,
        option: QStyleOptionViewItem,
        index: QModelIndex | QPersistentModelIndex,
        status: str,
    ) -> None:
        """A comparison row's status as a chip: both (neutral), only in one side (its colour)."""
        self._paint_background(painter, option, index)
        labels = getattr(index.model(), "side_labels", {0: "0", 1: "1"})
        side = {"only_0": 0, "only_1": 1}.get(status)
        text = "both" if side is None else f"only {labels.get(side) or side}"
        colour = (
            QColor(SIDE_COLOURS[side])
            if side is not None
            else option.palette.color(QPalette.ColorRole.Mid)
        )
        painter.save()
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        metrics = option.fontMetrics
        chip = QRectF(
            option.rect.left() + 5,
            option.rect.center().y() - metrics.height() / 2 - 2,
            metrics.horizontalAdvance(text) + 14,
            metrics.height() + 4,
        )
        painter.setPen(Qt.PenStyle.NoPen)
        painter.setBrush(colour)
        painter.drawRoundedRect(chip, chip.height() / 2, chip.height() / 2)
        painter.setPen(text_colour_on(colour))
        painter.drawText(chip, int(Qt.AlignmentFlag.AlignCenter), text)
        painter.restore()

    def _paint_background(
        self,
        painter: QPainter,
        option: QStyleOptionViewItem,
        index: QModelIndex | QPersistentModelIndex,
    ) -> None:
        """Selection, hover and focus as the style draws them, without text."""
        opt = QStyleOptionViewItem(option)
        self.initStyleOption(opt, index)
        opt.text = ""
        opt.icon = QIcon()
        style = opt.widget.style() if opt.widget else QApplication.style()
        style.drawControl(QStyle.ControlElement.CE_ItemViewItem, opt, painter, opt.widget)

    @staticmethod
    def _text_colour(option: QStyleOptionViewItem, muted: bool = False) -> QColor:
        selected = bool(option.state & QStyle.StateFlag.State_Selected)
        if selected:
            return option.palette.color(QPalette.ColorRole.HighlightedText)
        role = QPalette.ColorRole.PlaceholderText if muted else QPalette.ColorRole.Text
        return option.palette.color(role)

    def _paint_muted(
        self, painter: QPainter, option: QStyleOptionViewItem, text: str, *, italic: bool = False
    ) -> None:
        painter.save()
        font = QFont(option.font)
        font.setItalic(italic)
        painter.setFont(font)
        painter.setPen(self._text_colour(option, muted=True))
        area = option.rect.adjusted(4, 0, -4, 0)
        shown = painter.fontMetrics().elidedText(text, Qt.TextElideMode.ElideRight, area.width())
        painter.drawText(
            area, int(Qt.AlignmentFlag.AlignVCenter | Qt.AlignmentFlag.AlignLeft), shown
        )
        painter.restore()

    def _paint_loading(self, painter: QPainter, option: QStyleOptionViewItem) -> None:
        """A faint bar where the text will be."""
        colour = option.palette.color(QPalette.ColorRole.Mid)
        colour.setAlpha(70)
        height = min(8, option.rect.height() - 6)
        bar = QRectF(option.rect.left() + 6, option.rect.center().y() - height / 2, 0, height)
        bar.setWidth(max(10.0, option.rect.width() * 0.55))
        painter.save()
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        painter.setPen(Qt.PenStyle.NoPen)
        painter.setBrush(colour)
        painter.drawRoundedRect(bar, height / 2, height / 2)
        painter.restore()

    def _paint_bool(self, painter: QPainter, option: QStyleOptionViewItem, value: bool) -> None:
        """A check box look: filled with a tick for true, an empty frame for false."""
        side = min(14, option.rect.height() - 6)
        box = QRectF(0, 0, side, side)
        box.moveCenter(QRectF(option.rect).center())
        accent = option.palette.color(QPalette.ColorRole.Highlight)
        if option.state & QStyle.StateFlag.State_Selected:
            accent = option.palette.color(QPalette.ColorRole.HighlightedText)
        painter.save()
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        if value:
            painter.setPen(Qt.PenStyle.NoPen)
            painter.setBrush(accent)
            painter.drawRoundedRect(box, 3, 3)
            tick = QPainterPath(QPointF(box.left() + side * 0.24, box.top() + side * 0.52))
            tick.lineTo(box.left() + side * 0.43, box.top() + side * 0.72)
            tick.lineTo(box.left() + side * 0.78, box.top() + side * 0.30)
            selected = bool(option.state & QStyle.StateFlag.State_Selected)
            pen = QPen(
                option.palette.color(
                    QPalette.ColorRole.Highlight if selected else QPalette.ColorRole.Base
                ),
                max(1.6, side / 7),
            )
            pen.setCapStyle(Qt.PenCapStyle.RoundCap)
            pen.setJoinStyle(Qt.PenJoinStyle.RoundJoin)
            painter.setPen(pen)
            painter.setBrush(Qt.BrushStyle.NoBrush)
            painter.drawPath(tick)
        else:
            painter.setPen(QPen(self._text_colour(option, muted=True), 1.2))
            painter.setBrush(Qt.BrushStyle.NoBrush)
            painter.drawRoundedRect(box.adjusted(0.6, 0.6, -0.6, -0.6), 3, 3)
        painter.restore()

    def _paint_media(
        self, painter: QPainter, option: QStyleOptionViewItem, value: dict | None
    ) -> None:
        """A video's poster frame, an audio waveform, a rendered point cloud or molecule with
        its type's badge; other media (and those that cannot be decoded) as a typed entry: a
        badge with the media type, then the caption or file name."""
        value = value or {}
        media_type = value.get("_type") or "file"
        badge = MEDIA_BADGES.get(media_type, media_type.removesuffix("-file").upper()[:6])
        request = self.media_request(value, option.rect, self._dpr(painter))
        if request is not None:
            loaded = self.loader.get(request)
            target = self._media_target(option.rect, loaded)
            if loaded is None:
                self._paint_image_placeholder(painter, option, target)
                self._paint_badge(painter, option, badge, target)
                return
            if loaded.image is not None:
                painter.drawPixmap(target.topLeft(), self._media_pixmap(request, loaded, target))
                self._paint_badge(painter, option, badge, target)
                return
        name = value.get("caption") or (value.get("path") or "").rsplit("/", 1)[-1] or media_type
        painter.save()
        chip = self._paint_badge(painter, option, badge, QRectF(option.rect), centre=True)
        painter.setFont(option.font)
        painter.setPen(self._text_colour(option))
        area = QRect(option.rect)
        area.setLeft(int(chip.right()) + 6)
        area.setRight(option.rect.right() - 4)
        shown = painter.fontMetrics().elidedText(name, Qt.TextElideMode.ElideMiddle, area.width())
        painter.drawText(
            area, int(Qt.AlignmentFlag.AlignVCenter | Qt.AlignmentFlag.AlignLeft), shown
        )
        painter.restore()

    def _paint_badge(
        self,
        painter: QPainter,
        option: QStyleOptionViewItem,
        badge: str,
        area: QRectF,
        *,
        centre: bool = False,
    ) -> QRectF:
        """A media type's chip: at the left of ``area``, centred vertically (``centre``), or in
        the lower left corner of a thumbnail (filled, readable on any picture)."""
        painter.save()
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        small = QFont(option.font)
        small.setPixelSize(max(8, round(option.fontMetrics.height() * 0.62)))
        small.setWeight(QFont.Weight.Bold)
        painter.setFont(small)
        metrics = painter.fontMetrics()
        chip = QRectF(0, 0, metrics.horizontalAdvance(badge) + 10, metrics.height() + 4)
        accent = option.palette.color(QPalette.ColorRole.Link)
        if centre:
            chip.moveTopLeft(QPointF(area.left() + 5, area.center().y() - chip.height() / 2))
            painter.setPen(QPen(accent, 1))
            painter.setBrush(Qt.BrushStyle.NoBrush)
        else:
            chip.moveBottomLeft(QPointF(area.left() + 2, area.bottom() - 2))
            painter.setPen(Qt.PenStyle.NoPen)
            painter.setBrush(QColor(0, 0, 0, 150))
        painter.drawRoundedRect(chip, 3, 3)
        painter.setPen(accent if centre else QColor("white"))
        painter.drawText(chip, Qt.AlignmentFlag.AlignCenter, badge)
        painter.restore()
        return chip

    @staticmethod
    def _dpr(painter: QPainter) -> float:
        return painter.device().devicePixelRatioF() if painter.device() else 1.0

    def media_request(self, value: dict, rect: QRect, dpr: float = 1.0) -> ImageRequest | None:
        """The thumbnail request of a video, audio, point-cloud or molecule cell (None for
        other media)."""
        flavour = flavour_of(value.get("_type"), value.get("path"))
        if flavour is None or not (value.get("sha256") or value.get("path")):
            return None
        side = min(rect.width(), rect.height(), self.thumb_size + 2 * PAD) - 2 * PAD
        bucket = bucket_for(max(side, 16) * dpr)
        return ImageRequest(
            self.version_id, value.get("sha256"), value.get("path"), bucket, flavour
        )

    def _media_target(self, rect: QRect, loaded: LoadedImage | None) -> QRectF:
        """Where a media thumbnail goes: as large as fits (aspect kept), centred."""
        area = QRectF(rect).adjusted(PAD, PAD, -PAD, -PAD)
        side = min(area.width(), area.height(), float(self.thumb_size))
        size = loaded.size if loaded is not None and loaded.image is not None else QSize(1, 1)
        w, h = float(max(size.width(), 1)), float(max(size.height(), 1))
        scale = side / max(w, h)
        target = QRectF(0, 0, w * scale, h * scale)
        target.moveCenter(area.center())
        return target

    def _media_pixmap(self, request: ImageRequest, loaded: LoadedImage, target: QRectF) -> QPixmap:
        """A media thumbnail scaled to ``target`` (kept with the composed image thumbnails)."""
        key = (request, target.size().toSize())
        pixmap = self._composed.get(key)
        if pixmap is None:
            pixmap = QPixmap.fromImage(
                loaded.image.scaled(
                    target.size().toSize(),
                    Qt.AspectRatioMode.IgnoreAspectRatio,
                    Qt.TransformationMode.SmoothTransformation,
                )
            )
            self._composed[key] = pixmap
            while len(self._composed) > COMPOSED_KEEP:
                self._composed.popitem(last=False)
        else:
            self._composed.move_to_end(key)
        return pixmap

    def _paint_error(
        self, painter: QPainter, option: QStyleOptionViewItem, rect: QRectF, text: str
    ) -> None:
        painter.save()
        colour = (
            QColor("#d1242f")
            if option.palette.color(QPalette.ColorRole.Base).lightness() > 128
            else QColor("#ff7b72")
        )
        painter.setPen(colour)
        area = rect.adjusted(4, 2, -4, -2)
        flags = Qt.AlignmentFlag.AlignCenter | Qt.TextFlag.TextWordWrap
        painter.drawText(area, int(flags), text)
        painter.restore()

    # -- images ---------------------------------------------------------------------------------
    def image_target(self, rect: QRect, cell: ImageCell) -> QRectF:
        """Where a cell's thumbnail goes in ``rect``: as large as fits, aspect kept, centred."""
        area = QRectF(rect).adjusted(PAD, PAD, -PAD, -PAD)
        side = min(area.width(), area.height(), float(self.thumb_size))
        w, h = float(cell.width or 1), float(cell.height or 1)
        scale = side / max(w, h)
        target = QRectF(0, 0, w * scale, h * scale)
        target.moveCenter(area.center())
        return target

    def image_requests(
        self, cell: ImageCell, target: QRectF, dpr: float = 1.0
    ) -> list[ImageRequest]:
        """The image request (first) and mask requests of a thumbnail drawn at ``target``."""
        bucket = bucket_for(max(target.width(), target.height()) * dpr)
        image = ImageRequest(self.version_id, cell.sha256, cell.path, bucket, IMAGE)
        masks = [ImageRequest(self.version_id, m.sha256, m.path, bucket, MASK) for m in cell.masks]
        return [image, *masks]

    def _paint_image(
        self, painter: QPainter, option: QStyleOptionViewItem, cell: ImageCell, rect: QRect
    ) -> None:
        target = self.image_target(rect, cell)
        dpr = painter.device().devicePixelRatioF() if painter.device() else 1.0
        requests = self.image_requests(cell, target, dpr)
        loaded = self.loader.get(requests[0])
        if loaded is None:
            self._paint_image_placeholder(painter, option, target)
            return
        if loaded.image is None:
            self._paint_broken(painter, option, target)
            return
        masks = {}
        for ref, request in zip(cell.masks, requests[1:], strict=True):
            mask = self.loader.get(request)
            if mask is not None and mask.image is not None:
                masks[ref.layer] = mask
        settings = self.state.overlay_settings
        key = (requests[0], tuple(sorted(masks)), settings, target.size().toSize(), dpr)
        pixmap = self._composed.get(key)
        if pixmap is None:
            pixmap = self._compose(cell, loaded, masks, target, dpr)
            self._composed[key] = pixmap
            while len(self._composed) > COMPOSED_KEEP:
                self._composed.popitem(last=False)
        else:
            self._composed.move_to_end(key)
        painter.drawPixmap(target.topLeft(), pixmap)

    def _compose(
        self,
        cell: ImageCell,
        loaded: LoadedImage,
        masks: dict[str, LoadedImage],
        target: QRectF,
        dpr: float,
    ) -> QPixmap:
        """The thumbnail with its overlays, at the target size."""
        size = target.size().toSize()
        pixmap = QPixmap(size * dpr)
        pixmap.setDevicePixelRatio(dpr)
        pixmap.fill(Qt.GlobalColor.transparent)
        p = QPainter(pixmap)
        p.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform)
        local = QRectF(0, 0, size.width(), size.height())
        p.drawImage(local, loaded.image)
        paint_overlays(
            p,
            local,
            cell,
            self.state.overlay_settings,
            {layer: m.image for layer, m in masks.items() if m.image is not None},
            source_size=loaded.image.size() if not cell.width else None,
            compact=True,
        )
        p.end()
        return pixmap

    def _paint_image_placeholder(
        self, painter: QPainter, option: QStyleOptionViewItem, target: QRectF
    ) -> None:
        colour = option.palette.color(QPalette.ColorRole.Mid)
        colour.setAlpha(45)
        painter.fillRect(target, colour)

    def _paint_broken(
        self, painter: QPainter, option: QStyleOptionViewItem, target: QRectF
    ) -> None:
        """A crossed frame and "cannot show" (the tooltip says why)."""
        error = (
            QColor("#d1242f")
            if option.palette.color(QPalette.ColorRole.Base).lightness() > 128
            else QColor("#ff7b72")
        )
        painter.save()
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        fill = QColor(error)
        fill.setAlpha(28)
        painter.fillRect(target, fill)
        painter.setPen(QPen(error, 1.2))
        painter.drawRect(target.adjusted(0.5, 0.5, -0.5, -0.5))
        with_text = target.height() >= 48
        r = min(target.width(), target.height()) * 0.12
        c = target.center() - QPointF(0, r if with_text else 0)
        painter.drawLine(QPointF(c.x() - r, c.y() - r), QPointF(c.x() + r, c.y() + r))
        painter.drawLine(QPointF(c.x() + r, c.y() - r), QPointF(c.x() - r, c.y() + r))
        if with_text:
            font = QFont(option.font)
            font.setPixelSize(max(9, round(target.height() * 0.1)))
            painter.setFont(font)
            text_area = QRectF(
                target.left(), c.y() + r, target.width(), target.bottom() - c.y() - r
            )
            painter.drawText(text_area, int(Qt.AlignmentFlag.AlignCenter), "cannot decode")
        painter.restore()

    def image_error(self, index: QModelIndex, rect: QRect) -> str | None:
        """Why an image cell shows the broken placeholder (None when it does not)."""
        cell = index.data(CELL_ROLE)
        if not isinstance(cell, ImageCell):
            value = index.data(VALUE_ROLE) if index.data(RENDER_ROLE) == "media" else None
            request = self.media_request(value, rect) if isinstance(value, dict) else None
            loaded = self.loader.get(request) if request is not None else None
            return loaded.error if loaded is not None else None
        loaded = self.loader.get(self.image_requests(cell, self.image_target(rect, cell))[0])
        return loaded.error if loaded is not None else None

    def helpEvent(  # noqa: N802 - Qt override
        self,
        event: QHelpEvent,
        view: QAbstractItemView,
        option: QStyleOptionViewItem,
        index: QModelIndex | QPersistentModelIndex,
    ) -> bool:
        if event.type() == QEvent.Type.ToolTip:
            error = self.image_error(index, option.rect)  # type: ignore[arg-type]
            if error:
                what = "image" if isinstance(index.data(CELL_ROLE), ImageCell) else "file"
                QToolTip.showText(event.globalPos(), f"Cannot show this {what}:\n{error}", view)
                return True
        return super().helpEvent(event, view, option, index)

    def retain_visible(self, view: QAbstractItemView, first_row: int, last_row: int) -> None:
        """Drop queued thumbnail decodes of cells no longer between these model rows."""
        model = view.model()
        wanted = []
        for column in range(model.columnCount()):
            if view.isColumnHidden(column):
                continue
            for row in range(first_row, last_row + 1):
                index = model.index(row, column)
                cell = index.data(CELL_ROLE)
                if isinstance(cell, ImageCell):
                    target = self.image_target(view.visualRect(index), cell)
                    wanted.extend(self.image_requests(cell, target, view.devicePixelRatioF()))
                elif index.data(RENDER_ROLE) == "media":
                    value = index.data(VALUE_ROLE)
                    request = self.media_request(
                        value or {}, view.visualRect(index), view.devicePixelRatioF()
                    )
                    if request is not None:
                        wanted.append(request)
        self.loader.retain(wanted)

    def clear_composed(self) -> None:
        """Forget composed thumbnails (overlay colours changed, palette switched)."""
        self._composed.clear()


def _is_delta(model: object, column: int) -> bool:
    """Whether ``column`` of a table model is a comparison's delta (side 1 - side 0)."""
    schema, columns = getattr(model, "comparison", None), getattr(model, "columns", None)
    if schema is None or not columns or column >= len(columns):
        return False
    return schema.column(columns[column].name).role is Role.DELTA
