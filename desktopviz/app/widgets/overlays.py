"""Image overlays: boxes (class colours, captions, scores) and class-id masks blended in the class
palette, painted by ONE function (:func:`paint_overlays`) for table thumbnails, the inspector and
the image view; and the legend that toggles classes and layers and sets the score threshold.

The image cells they paint (:class:`~desktopviz.formats.image_cells.ImageCell`) are plain data
built in worker threads: see ``desktopviz/formats/image_cells.py``.

Public API:

* :func:`box_visible`, :func:`paint_overlays`, :func:`coloured_mask`;
* :class:`OverlayLegend`: class chips, box / mask layer toggles, score threshold, mask opacity,
  bound to ``AppState.overlay_settings``.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Iterable, Mapping

from PySide6.QtCore import QPoint, QRect, QRectF, QSize, Qt, Signal
from PySide6.QtGui import QColor, QFont, QFontMetricsF, QImage, QPainter, QPalette, QPen
from PySide6.QtWidgets import (
    QAbstractButton,
    QCheckBox,
    QComboBox,
    QHBoxLayout,
    QLabel,
    QLayout,
    QLayoutItem,
    QSizePolicy,
    QSlider,
    QWidget,
    QWidgetItem,
)

from desktopviz.app.palette import class_colour, mute, text_colour_on
from desktopviz.app.state import AppState, OverlaySettings
from desktopviz.formats.image_cells import Box, ImageCell

COMPACT_CAPTIONS_FROM = 150
"""Thumbnails at least this tall (pixels) show box captions; smaller ones only outlines."""


def box_visible(box: Box, settings: OverlaySettings) -> bool:
    """Whether ``settings`` show this box (its class, layer and score)."""
    if not settings.show_boxes or box.layer in settings.hidden_box_layers:
        return False
    if box.label in settings.hidden_classes:
        return False
    score = box.score(settings.score_key) if settings.score_key else None
    return score is None or score >= settings.min_score


def mask_colour_table(class_names: Mapping[int, str], settings: OverlaySettings) -> list[int]:
    """256 ARGB entries: each class id in its colour at the mask opacity, hidden ones clear."""
    alpha = round(max(0.0, min(1.0, settings.mask_opacity)) * 255)
    table = []
    for class_id in range(256):
        if class_names.get(class_id, str(class_id)) in settings.hidden_classes:
            table.append(0)
            continue
        c = class_colour(class_id)
        table.append(QColor(c.red(), c.green(), c.blue(), alpha).rgba())
    return table


_coloured: OrderedDict[tuple[int, tuple[int, ...]], QImage] = OrderedDict()
_COLOURED_KEEP = 16


def coloured_mask(mask: QImage, table: list[int]) -> QImage:
    """A class-id mask (8-bit gray) in class colours, as ARGB (a few recent ones are kept)."""
    key = (mask.cacheKey(), tuple(table))
    found = _coloured.get(key)
    if found is not None:
        _coloured.move_to_end(key)
        return found
    indexed = mask.convertToFormat(QImage.Format.Format_Grayscale8)
    indexed.reinterpretAsFormat(QImage.Format.Format_Indexed8)
    indexed.setColorTable(table)
    out = indexed.convertToFormat(QImage.Format.Format_ARGB32_Premultiplied)
    _coloured[key] = out
    while len(_coloured) > _COLOURED_KEEP:
        _coloured.popitem(last=False)
    return out


def paint_overlays(
    painter: QPainter,
    target: QRectF,
    cell: ImageCell,
    settings: OverlaySettings,
    masks: Mapping[str, QImage] | None = None,
    *,
    source_size: QSize | None = None,
    compact: bool = False,
    highlight: Box | None = None,
) -> None:
    """Paint ``cell``'s masks and boxes over an image drawn in ``target`` (painter coordinates).

    ``source_size`` is the image's size in pixels, for pixel-domain boxes of cells that do not
    record it. ``compact`` is for thumbnails: thinner lines, small captions only where they fit.
    ``highlight`` draws one box stronger and the others faded.
    """
    painter.save()
    if settings.show_masks and masks:
        table = mask_colour_table(cell.class_names, settings)
        painter.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform, False)
        for ref in cell.masks:
            image = masks.get(ref.layer)
            if image is None or image.isNull() or ref.layer in settings.hidden_mask_layers:
                continue
            painter.drawImage(target, coloured_mask(image, table))
    width = float(cell.width or (source_size.width() if source_size else 0))
    height = float(cell.height or (source_size.height() if source_size else 0))
    line = max(1.0, min(2.5, target.width() / 90)) if compact else 2.0
    font = QFont(painter.font())
    font.setPixelSize(9 if compact else 11)
    font.setWeight(QFont.Weight.DemiBold)
    metrics = QFontMetricsF(font)
    painter.setFont(font)
    painter.setRenderHint(QPainter.RenderHint.Antialiasing, True)
    captions = settings.show_captions and (not compact or target.height() >= COMPACT_CAPTIONS_FROM)
    for box in cell.boxes:
        if not box_visible(box, settings) or (box.pixel and not (width and height)):
            continue
        x0, y0, x1, y1 = box.normalised(width, height)
        rect = QRectF(
            target.left() + x0 * target.width(),
            target.top() + y0 * target.height(),
            (x1 - x0) * target.width(),
            (y1 - y0) * target.height(),
        ).intersected(target)
        if rect.isEmpty():
            continue
        colour = class_colour(box.class_id if box.class_id is not None else 0)
        faded = highlight is not None and box != highlight
        if faded:
            colour.setAlphaF(0.35)
        pen = QPen(colour, line * (1.8 if box == highlight else 1.0))
        pen.setJoinStyle(Qt.PenJoinStyle.MiterJoin)
        painter.setPen(pen)
        painter.setBrush(Qt.BrushStyle.NoBrush)
        half = pen.widthF() / 2
        painter.drawRect(rect.adjusted(half, half, -half, -half))
        if captions and not faded:
            _paint_caption(painter, rect, target, box.text(settings.score_key), colour, metrics)
    painter.restore()


def _paint_caption(
    painter: QPainter,
    box: QRectF,
    target: QRectF,
    text: str,
    colour: QColor,
    metrics: QFontMetricsF,
) -> None:
    """A filled tag with the caption on the box's top edge (inside when there is no room above)."""
    pad = 2.0
    height = metrics.height() + 1
    shown = metrics.elidedText(text, Qt.TextElideMode.ElideRight, target.width() - 2 * pad)
    width = metrics.horizontalAdvance(shown) + 2 * pad
    top = box.top() - height if box.top() - height >= target.top() else box.top()
    tag = QRectF(max(target.left(), min(box.left(), target.right() - width)), top, width, height)
    painter.fillRect(tag, colour)
    painter.setPen(text_colour_on(colour))
    painter.drawText(tag.adjusted(pad, 0, -pad, 0), Qt.AlignmentFlag.AlignVCenter, shown)


# -- the legend -------------------------------------------------------------------------------
class FlowLayout(QLayout):
    """Lays widgets out left to right, wrapping to new lines (Qt's flow layout example)."""

    def __init__(self, parent: QWidget | None = None, spacing: int = 6) -> None:
        super().__init__(parent)
        self._items: list[QLayoutItem] = []
        self._spacing = spacing
        self.setContentsMargins(0, 0, 0, 0)

    def addItem(self, item: QLayoutItem) -> None:  # noqa: N802 - Qt override
        self._items.append(item)

    def add(self, widget: QWidget, index: int | None = None) -> None:
        """Append a widget (or insert it at ``index``)."""
        self.addChildWidget(widget)
        item = QWidgetItem(widget)
        self._items.insert(len(self._items) if index is None else index, item)
        self.invalidate()

    def count(self) -> int:
        return len(self._items)

    def itemAt(self, index: int) -> QLayoutItem | None:  # noqa: N802 - Qt override
        return self._items[index] if 0 <= index < len(self._items) else None

    def takeAt(self, index: int) -> QLayoutItem | None:  # noqa: N802 - Qt override
        return self._items.pop(index) if 0 <= index < len(self._items) else None

    def expandingDirections(self) -> Qt.Orientation:  # noqa: N802 - Qt override
        return Qt.Orientation(0)

    def hasHeightForWidth(self) -> bool:  # noqa: N802 - Qt override
        return True

    def heightForWidth(self, width: int) -> int:  # noqa: N802 - Qt override
        return self._arrange(QRect(0, 0, width, 0), apply=False)

    def setGeometry(self, rect: QRect) -> None:  # noqa: N802 - Qt override
        super().setGeometry(rect)
        self._arrange(rect, apply=True)

    def sizeHint(self) -> QSize:  # noqa: N802 - Qt override
        return self.minimumSize()

    def minimumSize(self) -> QSize:  # noqa: N802 - Qt override
        size = QSize()
        for item in self._items:
            size = size.expandedTo(item.minimumSize())
        m = self.contentsMargins()
        return size + QSize(m.left() + m.right(), m.top() + m.bottom())

    def _arrange(self, rect: QRect, *, apply: bool) -> int:
        """Place items in lines (each line's items centred vertically); return the height."""
        m = self.contentsMargins()
        area = rect.adjusted(m.left(), m.top(), -m.right(), -m.bottom())
        lines: list[list[tuple[QLayoutItem, QSize]]] = [[]]
        x = area.x()
        for item in self._items:
            if item.widget() is not None and item.widget().isHidden():
                continue
            hint = item.sizeHint()
            if x + hint.width() > area.right() + 1 and lines[-1]:
                lines.append([])
                x = area.x()
            lines[-1].append((item, hint))
            x += hint.width() + self._spacing
        y = area.y()
        for line in lines:
            height = max((hint.height() for _, hint in line), default=0)
            x = area.x()
            for item, hint in line:
                if apply:
                    top = y + (height - hint.height()) // 2
                    item.setGeometry(QRect(QPoint(x, top), hint))
                x += hint.width() + self._spacing
            y += height + self._spacing
        return max(0, y - self._spacing - rect.y() + m.bottom())


class ClassChip(QAbstractButton):
    """A checkable chip: the class colour, its name; unchecked means hidden (hollow, dimmed)."""

    def __init__(self, class_id: int, name: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.class_id = class_id
        self.name = name
        self.setCheckable(True)
        self.setChecked(True)
        self.setText(name)
        self.setCursor(Qt.CursorShape.PointingHandCursor)
        self.setToolTip(f"class {class_id}: {name} (click to show or hide)")
        self.setSizePolicy(QSizePolicy.Policy.Fixed, QSizePolicy.Policy.Fixed)

    def sizeHint(self) -> QSize:  # noqa: N802 - Qt override
        fm = self.fontMetrics()
        return QSize(fm.horizontalAdvance(self.name) + fm.height() + 18, fm.height() + 8)

    def paintEvent(self, event: object) -> None:  # noqa: N802 - Qt override
        painter = QPainter(self)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        palette = self.palette()
        rect = QRectF(self.rect()).adjusted(0.5, 0.5, -0.5, -0.5)
        border = palette.color(QPalette.ColorRole.Mid)
        if self.underMouse():
            border = palette.color(QPalette.ColorRole.Highlight)
        painter.setPen(QPen(border, 1))
        painter.setBrush(palette.color(QPalette.ColorRole.Base))
        painter.drawRoundedRect(rect, rect.height() / 2, rect.height() / 2)
        colour = class_colour(self.class_id)
        d = self.fontMetrics().height() * 0.7
        swatch = QRectF(rect.left() + 7, rect.center().y() - d / 2, d, d)
        painter.setPen(QPen(colour, 2))
        painter.setBrush(colour if self.isChecked() else Qt.BrushStyle.NoBrush)
        painter.drawEllipse(swatch)
        text_role = QPalette.ColorRole.Text
        group = QPalette.ColorGroup.Active if self.isChecked() else QPalette.ColorGroup.Disabled
        painter.setPen(palette.color(group, text_role))
        text_rect = rect.adjusted(swatch.right() - rect.left() + 5, 0, -6, 0)
        font = self.font()
        font.setStrikeOut(not self.isChecked())
        painter.setFont(font)
        painter.drawText(text_rect, Qt.AlignmentFlag.AlignVCenter, self.name)


class OverlayLegend(QWidget):
    """Class chips, box and mask layer toggles, the box score threshold and mask opacity.

    Register what a table holds with :meth:`add_cells`; every change goes to
    ``state.set_overlay_settings`` and the legend follows ``state.overlay_settings_changed``.
    """

    changed = Signal(object)
    """The new OverlaySettings after a user change (also set on the state)."""

    def __init__(self, state: AppState, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.state = state
        self.classes: dict[int, str] = {}
        self.box_layers: list[str] = []
        self.mask_layers: list[str] = []
        self.score_keys: list[str] = []
        self._chips: dict[int, ClassChip] = {}
        self._layer_boxes: dict[tuple[str, str], QCheckBox] = {}
        self._flow = FlowLayout(self, spacing=6)
        self._classes_label = self._caption("Classes")
        self._flow.add(self._classes_label)
        # layer toggles, the score group and the opacity group are separate flow items, so a
        # narrow legend (the inspector's) wraps them instead of widening its dock
        self._score_group = QWidget(self)
        self._score_label = self._caption("Score ≥")
        self._score_key = QComboBox(self._score_group)
        self._score_key.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToContents)
        self._score_key.setToolTip("The box score the threshold applies to")
        self._score = QSlider(Qt.Orientation.Horizontal, self._score_group)
        self._score.setRange(0, 100)
        self._score.setFixedWidth(110)
        self._score.setToolTip("Hide boxes scoring below this")
        self._score_value = QLabel("0.00", self._score_group)
        self._score_value.setMinimumWidth(self.fontMetrics().horizontalAdvance("0.00") + 2)
        self._opacity_group = QWidget(self)
        self._opacity_label = self._caption("Mask")
        self._opacity = QSlider(Qt.Orientation.Horizontal, self._opacity_group)
        self._opacity.setRange(0, 100)
        self._opacity.setFixedWidth(80)
        self._opacity.setToolTip("Mask opacity")
        for group, widgets in (
            (
                self._score_group,
                (self._score_label, self._score_key, self._score, self._score_value),
            ),
            (self._opacity_group, (self._opacity_label, self._opacity)),
        ):
            row = QHBoxLayout(group)
            row.setContentsMargins(8, 0, 0, 0)
            row.setSpacing(6)
            for w in widgets:
                row.addWidget(w)
            self._flow.add(group)
        self._score.valueChanged.connect(self._on_score)
        self._score_key.currentTextChanged.connect(self._on_score_key)
        self._opacity.valueChanged.connect(self._on_opacity)
        state.overlay_settings_changed.connect(self._show_settings)
        self._show_settings(state.overlay_settings)
        self._update_visibility()

    def _caption(self, text: str) -> QLabel:
        return mute(QLabel(text, self))

    # -- what the table holds ---------------------------------------------------------------
    def add_cells(self, cells: Iterable[ImageCell]) -> None:
        """Learn the classes, layers and score names of some image cells (new ones get toggles)."""
        for cell in cells:
            for class_id, name in sorted(cell.class_names.items()):
                if class_id not in self.classes:
                    self.classes[class_id] = name
                    self._add_class_chip(class_id, name)
            for layer in cell.box_layers:
                if layer not in self.box_layers:
                    self.box_layers.append(layer)
                    self._add_layer_chip("boxes", layer)
            for ref in cell.masks:
                if ref.layer not in self.mask_layers:
                    self.mask_layers.append(ref.layer)
                    self._add_layer_chip("masks", ref.layer)
            for key in cell.score_keys:
                if key not in self.score_keys:
                    self.score_keys.append(key)
                    self._score_key.addItem(key)
        self._update_visibility()

    def _add_class_chip(self, class_id: int, name: str) -> None:
        chip = ClassChip(class_id, name, self)
        chip.setChecked(name not in self.state.overlay_settings.hidden_classes)
        chip.toggled.connect(lambda on, n=name: self._toggle_class(n, on))
        self._chips[class_id] = chip
        # keep chips ordered by class id, before the controls
        self._flow.add(chip, 1 + sorted(self._chips).index(class_id))
        chip.show()

    def _add_layer_chip(self, kind: str, layer: str) -> None:
        box = QCheckBox(f"{'box' if kind == 'boxes' else 'mask'}: {layer}", self)
        box.setToolTip(f"Show the {layer!r} {kind}")
        hidden = self._hidden_layers(kind, self.state.overlay_settings)
        box.setChecked(layer not in hidden)
        box.toggled.connect(lambda on, k=kind, name=layer: self._toggle_layer(k, name, on))
        self._layer_boxes[(kind, layer)] = box
        self._flow.add(box, self._flow.indexOf(self._score_group))
        box.show()

    @staticmethod
    def _hidden_layers(kind: str, settings: OverlaySettings) -> frozenset[str]:
        return settings.hidden_box_layers if kind == "boxes" else settings.hidden_mask_layers

    def _update_visibility(self) -> None:
        has_scores = bool(self.score_keys)
        self._score_key.setVisible(len(self.score_keys) > 1)
        self._classes_label.setVisible(bool(self.classes))
        self._score_group.setVisible(has_scores)
        self._opacity_group.setVisible(bool(self.mask_layers))
        self._flow.invalidate()
        self.updateGeometry()
        settings = self.state.overlay_settings
        if has_scores and settings.score_key not in self.score_keys:
            self._set(settings.with_(score_key=self.score_keys[0]))

    # -- changes -------------------------------------------------------------------------------
    def _set(self, settings: OverlaySettings) -> None:
        self.state.set_overlay_settings(settings)
        self.changed.emit(settings)

    def _toggle_class(self, name: str, visible: bool) -> None:
        hidden = set(self.state.overlay_settings.hidden_classes)
        (hidden.discard if visible else hidden.add)(name)
        self._set(self.state.overlay_settings.with_(hidden_classes=frozenset(hidden)))

    def _toggle_layer(self, kind: str, layer: str, visible: bool) -> None:
        settings = self.state.overlay_settings
        hidden = set(self._hidden_layers(kind, settings))
        (hidden.discard if visible else hidden.add)(layer)
        field_name = "hidden_box_layers" if kind == "boxes" else "hidden_mask_layers"
        self._set(settings.with_(**{field_name: frozenset(hidden)}))

    def _on_score(self, value: int) -> None:
        self._score_value.setText(f"{value / 100:.2f}")
        self._set(self.state.overlay_settings.with_(min_score=value / 100))

    def _on_score_key(self, key: str) -> None:
        if key:
            self._set(self.state.overlay_settings.with_(score_key=key))

    def _on_opacity(self, value: int) -> None:
        self._set(self.state.overlay_settings.with_(mask_opacity=value / 100))

    def set_min_score(self, value: float) -> None:
        """Move the score threshold slider (as a user would)."""
        self._score.setValue(round(value * 100))

    def chip(self, name: str) -> ClassChip:
        """The chip of a class, by name."""
        for chip in self._chips.values():
            if chip.name == name:
                return chip
        raise KeyError(name)

    def layer_toggle(self, kind: str, layer: str) -> QAbstractButton:
        """The check box of a box (``"boxes"``) or mask (``"masks"``) layer."""
        return self._layer_boxes[(kind, layer)]

    def _show_settings(self, settings: OverlaySettings) -> None:
        """Follow settings changed elsewhere without echoing them back."""
        for chip in self._chips.values():
            chip.blockSignals(True)
            chip.setChecked(chip.name not in settings.hidden_classes)
            chip.blockSignals(False)
            chip.update()
        for (kind, layer), box in self._layer_boxes.items():
            box.blockSignals(True)
            box.setChecked(layer not in self._hidden_layers(kind, settings))
            box.blockSignals(False)
        for slider, value in (
            (self._score, settings.min_score),
            (self._opacity, settings.mask_opacity),
        ):
            slider.blockSignals(True)
            slider.setValue(round(value * 100))
            slider.blockSignals(False)
        self._score_value.setText(f"{settings.min_score:.2f}")
        if settings.score_key and self._score_key.currentText() != settings.score_key:
            self._score_key.blockSignals(True)
            self._score_key.setCurrentText(settings.score_key)
            self._score_key.blockSignals(False)
