"""The Inspector's players and viewers of non-image media: a video player (play/pause and a
scrubber over decoded frames), an audio player (waveform with a playhead, play/pause through
miniaudio) and a 3D view that turns with the mouse (point clouds with boxes, molecules with
labels), drawn by :mod:`desktopviz.media.render3d`.

Public API: :class:`VideoPlayer`, :class:`WaveformView`, :class:`AudioPlayer`,
:class:`SceneView`, ``AUDIO_OUTPUT_ENV``.
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Callable

import numpy as np
from PIL import Image
from PySide6.QtCore import QPointF, QRectF, QSize, Qt, QTimer, Signal
from PySide6.QtGui import QImage, QMouseEvent, QPainter, QPalette, QPen, QWheelEvent
from PySide6.QtWidgets import (
    QCheckBox,
    QHBoxLayout,
    QLabel,
    QSlider,
    QStyle,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from desktopviz.app.palette import mute
from desktopviz.app.thumbnail_loader import pil_to_qimage
from desktopviz.media.av_media import Clip, Sound
from desktopviz.media.molecule import Molecule
from desktopviz.media.render3d import MOLECULE_CAMERA, Camera, render_molecule, render_scene
from desktopviz.media.scene import Scene

AUDIO_OUTPUT_ENV = "DESKTOPVIZ_AUDIO_OUTPUT"
"""``null``: play audio to miniaudio's null device (no sound; for machines without one)."""
DRAG_POINTS = 120_000
"""Points drawn while the view turns (all of them once it stops)."""
TICK_MS = 30


def _clock(seconds: float) -> str:
    return f"{int(seconds // 60)}:{seconds % 60:04.1f}"


def _play_button(parent: QWidget) -> QToolButton:
    button = QToolButton(parent)
    button.setIcon(parent.style().standardIcon(QStyle.StandardPixmap.SP_MediaPlay))
    button.setToolTip("Play (Space)")
    button.setAutoRaise(True)
    return button


def _show_playing(player: QWidget, button: QToolButton, playing: bool) -> None:
    """Make ``player``'s play/pause ``button`` offer Pause (while playing) or Play."""
    pixmap = QStyle.StandardPixmap.SP_MediaPause if playing else QStyle.StandardPixmap.SP_MediaPlay
    button.setIcon(player.style().standardIcon(pixmap))
    button.setToolTip("Pause" if playing else "Play")


# -- video -------------------------------------------------------------------------------------
class FrameView(QWidget):
    """A picture scaled to fit, aspect kept, centred."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.image: QImage | None = None
        self.setMinimumSize(160, 120)

    def set_image(self, image: QImage | None) -> None:
        """Show this picture."""
        self.image = image
        self.update()

    def sizeHint(self) -> QSize:  # noqa: N802 - Qt override
        return QSize(320, 240)

    def paintEvent(self, event: object) -> None:  # noqa: N802 - Qt override
        painter = QPainter(self)
        painter.fillRect(self.rect(), self.palette().color(QPalette.ColorRole.Base))
        if self.image is None or self.image.isNull():
            return
        size = self.image.size().scaled(self.size(), Qt.AspectRatioMode.KeepAspectRatio)
        target = QRectF(0, 0, size.width(), size.height())
        target.moveCenter(QRectF(self.rect()).center())
        painter.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform)
        painter.drawImage(target, self.image)


class VideoPlayer(QWidget):
    """Plays a decoded :class:`Clip`: its frames at their times, a play/pause button and a
    scrubber (dragging it shows that frame)."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.clip: Clip | None = None
        self.frame_index = 0
        self._images: dict[int, QImage] = {}
        self._started: tuple[float, float] | None = None  # (wall clock, clip time) at play
        self.view = FrameView(self)
        self.play_button = _play_button(self)
        self.play_button.clicked.connect(self.toggle)
        self.scrubber = QSlider(Qt.Orientation.Horizontal, self)
        self.scrubber.setToolTip("Drag to a frame")
        self.scrubber.valueChanged.connect(self._scrubbed)
        self.time_label = mute(QLabel("", self))
        self.timer = QTimer(self)
        self.timer.setInterval(TICK_MS)
        self.timer.timeout.connect(self._tick)
        controls = QHBoxLayout()
        controls.setContentsMargins(0, 0, 0, 0)
        controls.addWidget(self.play_button)
        controls.addWidget(self.scrubber, 1)
        controls.addWidget(self.time_label)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.view, 1)
        layout.addLayout(controls)

    def set_clip(self, clip: Clip | None) -> None:
        """Show ``clip``'s first frame (None: nothing), paused."""
        self.pause()
        self.clip = clip
        self._images.clear()
        count = len(clip.frames) if clip is not None else 0
        self.scrubber.blockSignals(True)
        self.scrubber.setRange(0, max(0, count - 1))
        self.scrubber.setValue(0)
        self.scrubber.blockSignals(False)
        self.play_button.setEnabled(count > 1)
        self.scrubber.setEnabled(count > 1)
        self.show_frame(0)

    @property
    def playing(self) -> bool:
        """Whether the clip is playing."""
        return self.timer.isActive()

    def show_frame(self, index: int) -> None:
        """Show frame ``index`` (and move the scrubber there)."""
        clip = self.clip
        if clip is None or not clip.frames:
            self.view.set_image(None)
            self.time_label.setText("")
            return
        index = min(max(index, 0), len(clip.frames) - 1)
        self.frame_index = index
        image = self._images.get(index)
        if image is None:
            frame = np.ascontiguousarray(clip.frames[index])
            h, w = frame.shape[:2]
            image = QImage(frame.data, w, h, 3 * w, QImage.Format.Format_RGB888).copy()
            self._images[index] = image
        self.view.set_image(image)
        if self.scrubber.value() != index:
            self.scrubber.blockSignals(True)
            self.scrubber.setValue(index)
            self.scrubber.blockSignals(False)
        self.time_label.setText(f"{_clock(clip.times[index])} / {_clock(clip.duration)}")

    def toggle(self) -> None:
        """Play, or pause when playing."""
        if self.playing:
            self.pause()
        else:
            self.play()

    def play(self) -> None:
        """Play from the frame shown (from the start when at the end)."""
        clip = self.clip
        if clip is None or len(clip.frames) < 2:
            return
        if self.frame_index >= len(clip.frames) - 1:
            self.show_frame(0)
        self._started = (time.monotonic(), clip.times[self.frame_index])
        self.timer.start()
        _show_playing(self, self.play_button, True)

    def pause(self) -> None:
        """Stop at the frame shown."""
        self.timer.stop()
        _show_playing(self, self.play_button, False)

    def _tick(self) -> None:
        clip = self.clip
        if clip is None or self._started is None:
            self.pause()
            return
        wall, start = self._started
        now = start + time.monotonic() - wall
        index = clip.frame_at(now)
        if index != self.frame_index:
            self.show_frame(index)
        if now >= clip.times[-1] + 1.0 / max(clip.fps, 1.0):
            self.pause()

    def _scrubbed(self, index: int) -> None:
        self.show_frame(index)
        if self.playing and self.clip is not None:
            self._started = (time.monotonic(), self.clip.times[self.frame_index])


# -- audio -------------------------------------------------------------------------------------
class WaveformView(QWidget):
    """Draws an audio envelope (min/max per column) and a playhead; a click seeks there."""

    seek = Signal(float)
    """A click asks to play from this fraction (0..1) of the sound."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.envelope = np.zeros((0, 2), np.float32)
        self.playhead: float | None = None
        self.setMinimumHeight(120)
        self.setCursor(Qt.CursorShape.PointingHandCursor)

    def set_envelope(self, envelope: np.ndarray) -> None:
        """Show this envelope."""
        self.envelope = envelope
        self.update()

    def set_playhead(self, fraction: float | None) -> None:
        """Where the playhead stands (0..1; None: hidden)."""
        self.playhead = fraction
        self.update()

    def sizeHint(self) -> QSize:  # noqa: N802 - Qt override
        return QSize(300, 160)

    def mousePressEvent(self, event: QMouseEvent) -> None:  # noqa: N802 - Qt override
        if event.button() == Qt.MouseButton.LeftButton and self.width() > 8:
            self.seek.emit(min(max((event.position().x() - 4) / (self.width() - 8), 0.0), 1.0))

    def paintEvent(self, event: object) -> None:  # noqa: N802 - Qt override
        painter = QPainter(self)
        rect = QRectF(self.rect()).adjusted(4, 8, -4, -8)
        painter.fillRect(self.rect(), self.palette().color(QPalette.ColorRole.Base))
        mid = rect.center().y()
        painter.setPen(QPen(self.palette().color(QPalette.ColorRole.Mid), 1))
        painter.drawLine(int(rect.left()), int(mid), int(rect.right()), int(mid))
        n = len(self.envelope)
        if n:
            painter.setPen(QPen(self.palette().color(QPalette.ColorRole.Highlight), 1))
            half = rect.height() / 2
            for i, (low, high) in enumerate(self.envelope):
                x = rect.left() + i * rect.width() / n
                painter.drawLine(int(x), int(mid - high * half), int(x), int(mid - low * half))
        if self.playhead is not None:
            x = rect.left() + self.playhead * rect.width()
            painter.setPen(QPen(self.palette().color(QPalette.ColorRole.Text), 1.5))
            painter.drawLine(QPointF(x, rect.top() - 6), QPointF(x, rect.bottom() + 6))


def _backends() -> list | None:
    import miniaudio

    if os.environ.get(AUDIO_OUTPUT_ENV, "").lower() == "null":
        return [miniaudio.Backend.NULL]
    return None


class _Output:
    """A sound played on miniaudio's thread from a frame position the UI may move."""

    def __init__(self, sound: Sound) -> None:
        import miniaudio

        self.sound = sound
        self.position = 0
        self.finished = False
        self._lock = threading.Lock()
        self._device = miniaudio.PlaybackDevice(
            output_format=miniaudio.SampleFormat.FLOAT32,
            nchannels=sound.channels,
            sample_rate=sound.sample_rate,
            backends=_backends(),
            app_name="desktopviz",
        )

    def _stream(self):  # noqa: ANN202 - miniaudio's generator protocol
        wanted = yield b""
        samples = self.sound.samples
        while True:
            with self._lock:
                start = self.position
                chunk = samples[start : start + wanted]
                self.position = start + len(chunk)
            if not len(chunk):
                self.finished = True
                return
            wanted = yield np.ascontiguousarray(chunk, np.float32).tobytes()

    def start(self) -> None:
        stream = self._stream()
        next(stream)
        self._device.start(stream)

    def seek(self, frame: int) -> None:
        with self._lock:
            self.position = min(max(frame, 0), len(self.sound.samples))
            self.finished = False

    def close(self) -> None:
        self._device.close()


class AudioPlayer(QWidget):
    """A sound's waveform with a playhead, a play/pause button and the time; plays through the
    system's audio output (miniaudio), or says why it cannot."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.sound: Sound | None = None
        self._output: _Output | None = None
        self._position = 0
        self.waveform = WaveformView(self)
        self.waveform.seek.connect(self.seek)
        self.play_button = _play_button(self)
        self.play_button.clicked.connect(self.toggle)
        self.time_label = mute(QLabel("", self))
        self.status = mute(QLabel("", self))
        self.status.setWordWrap(True)
        self.timer = QTimer(self)
        self.timer.setInterval(TICK_MS)
        self.timer.timeout.connect(self._tick)
        controls = QHBoxLayout()
        controls.setContentsMargins(0, 0, 0, 0)
        controls.addWidget(self.play_button)
        controls.addWidget(self.time_label)
        controls.addStretch(1)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.waveform, 1)
        layout.addLayout(controls)
        layout.addWidget(self.status)

    def set_sound(self, sound: Sound | None, envelope: np.ndarray | None = None) -> None:
        """Show ``sound`` (its ``envelope`` when already computed), stopped at its start."""
        self.stop()
        self.sound = sound
        self._position = 0
        self.waveform.set_envelope(envelope if envelope is not None else np.zeros((0, 2)))
        self.play_button.setEnabled(sound is not None and len(sound.samples) > 0)
        self.status.setText("")
        self._show_time()

    @property
    def playing(self) -> bool:
        """Whether the sound is playing."""
        return self._output is not None

    @property
    def position(self) -> float:
        """Where playback stands, in seconds."""
        frames = self._output.position if self._output is not None else self._position
        return frames / self.sound.sample_rate if self.sound is not None else 0.0

    def toggle(self) -> None:
        """Play, or pause when playing."""
        if self.playing:
            self.stop()
        else:
            self.play()

    def play(self) -> None:
        """Play from the playhead (from the start when at the end)."""
        sound = self.sound
        if sound is None or self.playing:
            return
        if self._position >= len(sound.samples):
            self._position = 0
        try:
            output = _Output(sound)
            output.seek(self._position)
            output.start()
        except Exception as e:  # noqa: BLE001 - miniaudio raises plain exceptions for devices
            self.status.setText(f"Cannot play: no audio output ({e})")
            return
        self._output = output
        self.timer.start()
        _show_playing(self, self.play_button, True)

    def stop(self) -> None:
        """Pause (the playhead stays)."""
        self.timer.stop()
        if self._output is not None:
            self._position = self._output.position
            self._output.close()
            self._output = None
        _show_playing(self, self.play_button, False)

    def seek(self, fraction: float) -> None:
        """Move the playhead to ``fraction`` of the sound (playing on if playing)."""
        if self.sound is None:
            return
        frame = int(fraction * len(self.sound.samples))
        self._position = frame
        if self._output is not None:
            self._output.seek(frame)
        self._show_time()

    def _tick(self) -> None:
        if self._output is not None and self._output.finished:
            self.stop()
            self._position = len(self.sound.samples) if self.sound is not None else 0
        self._show_time()

    def _show_time(self) -> None:
        sound = self.sound
        if sound is None:
            self.time_label.setText("")
            self.waveform.set_playhead(None)
            return
        now = self.position
        self.time_label.setText(f"{_clock(now)} / {_clock(sound.duration)}")
        self.waveform.set_playhead(now / sound.duration if sound.duration else None)


# -- 3D ----------------------------------------------------------------------------------------
Renderer = Callable[[tuple[int, int], Camera, bool, bool], Image.Image]
"""Draws the view: (size, camera, labels, quick) -> picture."""


class _Canvas(QWidget):
    """Where a :class:`SceneView` draws; drag turns, the wheel zooms, a double-click resets."""

    def __init__(self, view: SceneView) -> None:
        super().__init__(view)
        self.owner = view
        self.setMinimumSize(200, 200)
        self.setCursor(Qt.CursorShape.OpenHandCursor)
        self._last: QPointF | None = None

    def sizeHint(self) -> QSize:  # noqa: N802 - Qt override
        return QSize(360, 320)

    def paintEvent(self, event: object) -> None:  # noqa: N802 - Qt override
        painter = QPainter(self)
        image = self.owner.rendered(self.size(), self.devicePixelRatioF())
        if image is not None:
            painter.drawImage(QRectF(self.rect()), image)
        else:
            painter.fillRect(self.rect(), self.palette().color(QPalette.ColorRole.Base))

    def mousePressEvent(self, event: QMouseEvent) -> None:  # noqa: N802 - Qt override
        if event.button() == Qt.MouseButton.LeftButton:
            self._last = event.position()
            self.setCursor(Qt.CursorShape.ClosedHandCursor)

    def mouseMoveEvent(self, event: QMouseEvent) -> None:  # noqa: N802 - Qt override
        if self._last is None:
            return
        delta = event.position() - self._last
        self._last = event.position()
        self.owner.turn(delta.x() * 0.01, delta.y() * 0.01, quick=True)

    def mouseReleaseEvent(self, event: QMouseEvent) -> None:  # noqa: N802 - Qt override
        if self._last is not None:
            self._last = None
            self.setCursor(Qt.CursorShape.OpenHandCursor)
            self.owner.turn(0.0, 0.0)

    def mouseDoubleClickEvent(self, event: QMouseEvent) -> None:  # noqa: N802 - Qt override
        self.owner.reset()

    def wheelEvent(self, event: QWheelEvent) -> None:  # noqa: N802 - Qt override
        self.owner.zoom(1.15 ** (event.angleDelta().y() / 120))


class SceneView(QWidget):
    """A rotatable 3D view of a point cloud or a molecule (software rendered)."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.camera = Camera()
        self._default = Camera()
        self._render: Renderer | None = None
        self._image: QImage | None = None
        self._key: tuple | None = None
        self._quick = False
        self.canvas = _Canvas(self)
        self.labels = QCheckBox("Labels", self)
        self.labels.setChecked(True)
        self.labels.toggled.connect(lambda _on: self._redraw())
        self.hint = mute(QLabel("Drag to turn · wheel to zoom · double-click to reset", self))
        self.info = mute(QLabel("", self))
        self.info.setWordWrap(True)
        bar = QHBoxLayout()
        bar.setContentsMargins(0, 0, 0, 0)
        bar.addWidget(self.hint, 1)
        bar.addWidget(self.labels)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.canvas, 1)
        layout.addLayout(bar)
        layout.addWidget(self.info)

    def set_scene(self, scene: Scene) -> None:
        """Show a point cloud (its boxes drawn and labelled)."""
        quick = scene.subset(DRAG_POINTS)

        def render(size: tuple[int, int], camera: Camera, labels: bool, fast: bool) -> Image.Image:
            return render_scene(quick if fast else scene, size, camera, labels=labels)

        shown = f"{scene.total_points:,} points"
        if scene.total_points > len(scene.points):
            shown += f" ({len(scene.points):,} drawn)"
        self._show(render, Camera(), f"{shown} · {len(scene.boxes)} boxes")

    def set_molecule(self, mol: Molecule) -> None:
        """Show a molecule (element colours, symbols as labels)."""

        def render(size: tuple[int, int], camera: Camera, labels: bool, fast: bool) -> Image.Image:
            return render_molecule(mol, size, camera, labels=labels)

        title = f"{mol.title} · " if mol.title else ""
        text = f"{title}{mol.formula} · {len(mol.elements):,} atoms · {len(mol.bonds):,} bonds"
        self._show(render, MOLECULE_CAMERA, text)

    def _show(self, render: Renderer, camera: Camera, info: str) -> None:
        self._render = render
        self.camera = self._default = camera
        self.info.setText(info)
        self._redraw()

    def turn(self, dyaw: float, dpitch: float, *, quick: bool = False) -> None:
        """Turn the view (``quick``: while dragging, fewer points)."""
        self.camera = self.camera.turned(dyaw, dpitch)
        self._quick = quick
        self._redraw()

    def zoom(self, factor: float) -> None:
        """Zoom in (factor > 1) or out."""
        self.camera = self.camera.zoomed(factor)
        self._redraw()

    def reset(self) -> None:
        """Back to the first view."""
        self.camera = self._default
        self._redraw()

    def rendered(self, size: QSize, dpr: float = 1.0) -> QImage | None:
        """The view drawn at ``size`` (kept until the camera, size or labels change)."""
        if self._render is None:
            return None
        pixels = (max(1, round(size.width() * dpr)), max(1, round(size.height() * dpr)))
        key = (pixels, self.camera, self.labels.isChecked(), self._quick)
        if key != self._key:
            im = self._render(pixels, self.camera, self.labels.isChecked(), self._quick)
            self._image = pil_to_qimage(im)
            self._image.setDevicePixelRatio(dpr)
            self._key = key
        return self._image

    def _redraw(self) -> None:
        self.canvas.update()
