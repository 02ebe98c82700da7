"""A zoomable, pannable image view with optional box / mask overlays.

Public API: :class:`ImageView` -- ``set_image(QImage | str | Path)`` (files decode in a worker
thread, within the pixel limit), ``set_overlays(cell, settings, masks)``, ``zoom_in()``,
``zoom_out()``, ``fit()``, ``set_zoom(factor)``, ``zoom``, ``make_toolbar()``. Wheel zooms
around the pointer, drag pans, ``+``/``-`` zoom, ``0`` fits, ``1`` shows actual pixels,
double-click toggles between fit and actual pixels.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

from PySide6.QtCore import QRectF, QSize, Qt, Signal
from PySide6.QtGui import (
    QBrush,
    QColor,
    QImage,
    QKeyEvent,
    QMouseEvent,
    QPainter,
    QPalette,
    QPixmap,
    QResizeEvent,
    QWheelEvent,
)
from PySide6.QtWidgets import (
    QFrame,
    QGraphicsPixmapItem,
    QGraphicsScene,
    QGraphicsView,
    QToolBar,
    QWidget,
)

from desktopviz.app.icons import icon
from desktopviz.app.state import OverlaySettings
from desktopviz.app.thumbnail_loader import load_full_image
from desktopviz.app.widgets.overlays import paint_overlays
from desktopviz.app.workers import run_in_worker
from desktopviz.formats.image_cells import Box, ImageCell

ZOOM_STEP = 1.25
MIN_ZOOM, MAX_ZOOM = 0.02, 64.0


class ImageView(QGraphicsView):
    """Shows one image; zoom with the wheel or keys, pan by dragging; overlays on top."""

    image_loaded = Signal(QSize)
    """The image is shown (its size in pixels)."""
    load_failed = Signal(str)
    """The file could not be decoded (the message is also drawn in the view)."""
    zoom_changed = Signal(float)
    """The zoom factor (1.0 = one image pixel per screen pixel)."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._scene = QGraphicsScene(self)
        self.setScene(self._scene)
        self._item = QGraphicsPixmapItem()
        self._item.setTransformationMode(Qt.TransformationMode.SmoothTransformation)
        self._scene.addItem(self._item)
        self._image = QImage()
        self._message = ""
        self._fitting = True
        self._load_token = 0
        self._cell: ImageCell | None = None
        self._settings = OverlaySettings()
        self._masks: Mapping[str, QImage] = {}
        self._highlight: Box | None = None
        self.setFrameShape(QFrame.Shape.NoFrame)
        self.setDragMode(QGraphicsView.DragMode.ScrollHandDrag)
        self.setTransformationAnchor(QGraphicsView.ViewportAnchor.AnchorUnderMouse)
        self.setResizeAnchor(QGraphicsView.ViewportAnchor.AnchorViewCenter)
        self.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform)
        self.setViewportUpdateMode(QGraphicsView.ViewportUpdateMode.FullViewportUpdate)
        self.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        self.setMinimumSize(120, 90)
        self._update_background()

    # -- content ------------------------------------------------------------------------------
    def set_image(self, image: QImage | str | Path) -> None:
        """Show an image: a QImage at once, a file once a worker has decoded it."""
        self._load_token += 1
        if isinstance(image, QImage):
            self._show(image)
            return
        token = self._load_token
        self._show(QImage(), message="Loading…")
        run_in_worker(
            load_full_image,
            Path(image),
            on_result=lambda decoded: self._loaded(token, decoded),
            on_error=lambda exc: self._failed(token, str(exc)),
        )

    def clear(self, message: str = "") -> None:
        """Show nothing (or a message)."""
        self._load_token += 1
        self._cell = None
        self._show(QImage(), message=message)

    def show_message(self, message: str) -> None:
        """Show a message instead of an image (an error, "no image")."""
        self.clear(message)

    def _loaded(self, token: int, image: QImage) -> None:
        if token == self._load_token:
            self._show(image)

    def _failed(self, token: int, message: str) -> None:
        if token == self._load_token:
            self._show(QImage(), message=message)
            self.load_failed.emit(message)

    def _show(self, image: QImage, *, message: str = "") -> None:
        self._image = image
        self._message = message
        self._item.setPixmap(QPixmap.fromImage(image) if not image.isNull() else QPixmap())
        self._scene.setSceneRect(QRectF(self._item.pixmap().rect()))
        self._fitting = True
        self.fit()
        self.viewport().update()
        if not image.isNull():
            self.image_loaded.emit(image.size())

    def image(self) -> QImage:
        """The image shown (null when none)."""
        return self._image

    def has_image(self) -> bool:
        """Whether an image is shown."""
        return not self._image.isNull()

    def message(self) -> str:
        """The message drawn instead of an image ("" when an image is shown)."""
        return self._message

    def set_overlays(
        self,
        cell: ImageCell | None,
        settings: OverlaySettings | None = None,
        masks: Mapping[str, QImage] | None = None,
        highlight: Box | None = None,
    ) -> None:
        """Draw ``cell``'s boxes and masks over the image (None: no overlays)."""
        self._cell = cell
        if settings is not None:
            self._settings = settings
        self._masks = dict(masks or {})
        self._highlight = highlight
        self.viewport().update()

    # -- zoom -----------------------------------------------------------------------------------
    @property
    def zoom(self) -> float:
        """Screen pixels per image pixel."""
        return self.transform().m11()

    def set_zoom(self, factor: float) -> None:
        """Zoom to ``factor`` (1.0: actual pixels) around the view's centre."""
        factor = max(MIN_ZOOM, min(MAX_ZOOM, factor))
        self._fitting = False
        anchor = self.transformationAnchor()
        self.setTransformationAnchor(QGraphicsView.ViewportAnchor.AnchorViewCenter)
        self.resetTransform()
        self.scale(factor, factor)
        self.setTransformationAnchor(anchor)
        self._zoomed()

    def zoom_in(self) -> None:
        """Zoom in one step."""
        self._zoom_by(ZOOM_STEP)

    def zoom_out(self) -> None:
        """Zoom out one step."""
        self._zoom_by(1 / ZOOM_STEP)

    def fit(self) -> None:
        """Fit the whole image in the view (and keep fitting when the view is resized)."""
        self._fitting = True
        if self._image.isNull():
            self.resetTransform()
            return
        self.fitInView(self._item, Qt.AspectRatioMode.KeepAspectRatio)
        self._zoomed()

    def _zoom_by(self, step: float) -> None:
        target = max(MIN_ZOOM, min(MAX_ZOOM, self.zoom * step))
        if self._image.isNull() or target == self.zoom:
            return
        self._fitting = False
        self.scale(target / self.zoom, target / self.zoom)
        self._zoomed()

    def _zoomed(self) -> None:
        pixelated = self.zoom >= 2.0
        self._item.setTransformationMode(
            Qt.TransformationMode.FastTransformation
            if pixelated
            else Qt.TransformationMode.SmoothTransformation
        )
        self.zoom_changed.emit(self.zoom)
        self.viewport().update()

    def make_toolbar(self, parent: QWidget | None = None) -> QToolBar:
        """A small tool bar with zoom out, fit, actual size and zoom in for this view."""
        bar = QToolBar(parent)
        bar.setIconSize(QSize(16, 16))
        bar.addAction(icon("zoom-out"), "Zoom out (-)", self.zoom_out)
        bar.addAction(icon("zoom-fit"), "Fit (0)", self.fit)
        bar.addAction("1:1", lambda: self.set_zoom(1.0)).setToolTip("Actual pixels (1)")
        bar.addAction(icon("zoom-in"), "Zoom in (+)", self.zoom_in)
        return bar

    # -- events ---------------------------------------------------------------------------------
    def wheelEvent(self, event: QWheelEvent) -> None:  # noqa: N802 - Qt override
        delta = event.angleDelta().y()
        if delta:
            self._zoom_by(ZOOM_STEP ** (delta / 120))
        event.accept()

    def keyPressEvent(self, event: QKeyEvent) -> None:  # noqa: N802 - Qt override
        key = event.key()
        if key in (Qt.Key.Key_Plus, Qt.Key.Key_Equal):
            self.zoom_in()
        elif key in (Qt.Key.Key_Minus, Qt.Key.Key_Underscore):
            self.zoom_out()
        elif key == Qt.Key.Key_0:
            self.fit()
        elif key == Qt.Key.Key_1:
            self.set_zoom(1.0)
        else:
            super().keyPressEvent(event)

    def mouseDoubleClickEvent(self, event: QMouseEvent) -> None:  # noqa: N802 - Qt override
        if self._fitting:
            self.set_zoom(1.0)
        else:
            self.fit()
        event.accept()

    def resizeEvent(self, event: QResizeEvent) -> None:  # noqa: N802 - Qt override
        super().resizeEvent(event)
        if self._fitting:
            self.fit()

    def changeEvent(self, event: object) -> None:  # noqa: N802 - Qt override
        super().changeEvent(event)  # type: ignore[arg-type]
        self._update_background()

    def _update_background(self) -> None:
        base = self.palette().color(QPalette.ColorRole.Base)
        shade = base.darker(108) if base.lightness() > 128 else base.lighter(125)
        self.setBackgroundBrush(QBrush(shade))

    def drawForeground(self, painter: QPainter, rect: QRectF) -> None:  # noqa: N802 - Qt override
        """Overlays in screen pixels over the image, the zoom factor, or the message."""
        painter.save()
        painter.resetTransform()
        if self._image.isNull():
            if self._message:
                painter.setPen(self.palette().color(QPalette.ColorRole.PlaceholderText))
                area = QRectF(self.viewport().rect()).adjusted(12, 12, -12, -12)
                flags = Qt.AlignmentFlag.AlignCenter | Qt.TextFlag.TextWordWrap
                painter.drawText(area, int(flags), self._message)
            painter.restore()
            return
        target = self.viewportTransform().mapRect(self._item.sceneBoundingRect())
        if self._cell is not None:
            paint_overlays(
                painter,
                target,
                self._cell,
                self._settings,
                self._masks,
                source_size=self._image.size(),
                highlight=self._highlight,
            )
        self._paint_zoom_label(painter)
        painter.restore()

    def _paint_zoom_label(self, painter: QPainter) -> None:
        text = f"{self.zoom * 100:.0f}%"
        metrics = painter.fontMetrics()
        width = metrics.horizontalAdvance(text) + 12
        height = metrics.height() + 4
        area = self.viewport().rect()
        box = QRectF(area.right() - width - 6, area.bottom() - height - 6, width, height)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        painter.setPen(Qt.PenStyle.NoPen)
        painter.setBrush(QColor(0, 0, 0, 120))
        painter.drawRoundedRect(box, 4, 4)
        painter.setPen(QColor("#ffffff"))
        painter.drawText(box, Qt.AlignmentFlag.AlignCenter, text)


if __name__ == "__main__":
    import sys

    from PySide6.QtWidgets import QApplication

    app = QApplication(sys.argv)
    view = ImageView()
    view.resize(640, 480)
    if len(sys.argv) > 1:
        view.set_image(sys.argv[1])
    else:
        view.show_message("usage: python -m desktopviz.app.widgets.image_view IMAGE")
    view.show()
    sys.exit(app.exec())
