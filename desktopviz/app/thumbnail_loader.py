"""Decode images off the UI thread: a latest-first job queue and the thumbnail loader on top of it.

Public API:

* :class:`JobQueue`: runs ``fn(key)`` on a few threads, most recently submitted first, one job per
  key at a time; results arrive as signals on the UI thread; :meth:`JobQueue.retain` drops pending
  jobs nobody wants any more (rows scrolled away). The table model fetches pages with it too.
* :class:`ImageRequest`, :class:`LoadedImage`, :class:`ThumbnailLoader`: images and masks of media
  cells at a size bucket (from the on-disk thumbnail cache, made there if missing) or at full size,
  kept in a bounded memory cache; ``get()`` never waits.
* :func:`pil_to_qimage`, :func:`load_full_image`.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from PIL import Image
from PySide6.QtCore import QObject, QRunnable, QSize, QThreadPool, Signal
from PySide6.QtGui import QImage

from desktopviz.media.thumbs import MEDIA_FLAVOURS, MediaThumbnailStore
from desktopviz.store.cache import Cache
from desktopviz.store.thumbnails import (
    BUCKETS,
    FULL_IMAGE_MAX_SIDE,
    IMAGE,
    decode_image,
    media_source,
)

_MEDIA = frozenset(MEDIA_FLAVOURS.values())


class JobQueue(QObject):
    """Runs ``fn(key)`` for submitted keys on ``threads`` threads, newest first.

    A key already pending or running is not queued twice (a pending one moves to the front).
    ``done(key, result)`` or ``failed(key, exception)`` follow on the UI thread.
    """

    done = Signal(object, object)
    failed = Signal(object, object)

    def __init__(
        self,
        fn: Callable[[Any], Any],
        *,
        threads: int = 2,
        max_pending: int = 1024,
        parent: QObject | None = None,
    ) -> None:
        super().__init__(parent)
        self._fn = fn
        self._lock = threading.Lock()
        self._pending: OrderedDict[Hashable, None] = OrderedDict()
        self._running: set[Hashable] = set()
        self._workers = 0
        self._threads = threads
        self._max_pending = max_pending
        self._closed = False
        self._pool = QThreadPool(self)
        self._pool.setMaxThreadCount(threads)
        # a key stays "running" until its answer is delivered on the UI thread, so that asking
        # again in between (a repaint) does not run it twice
        self.done.connect(self._delivered)
        self.failed.connect(self._delivered)

    def submit(self, key: Hashable) -> None:
        """Queue ``fn(key)`` (first in line) unless it is already queued or running."""
        with self._lock:
            if self._closed or key in self._running:
                return
            self._pending[key] = None
            self._pending.move_to_end(key)
            while len(self._pending) > self._max_pending:
                self._pending.popitem(last=False)
            start = self._workers < self._threads
            if start:
                self._workers += 1
        if start:
            self._pool.start(_Drain(self))

    def retain(self, keep: Callable[[Any], bool]) -> int:
        """Drop pending jobs whose key ``keep`` refuses; return how many were dropped."""
        with self._lock:
            stale = [k for k in self._pending if not keep(k)]
            for k in stale:
                del self._pending[k]
        return len(stale)

    def pending(self) -> list[Hashable]:
        """Keys waiting for a thread, oldest first."""
        with self._lock:
            return list(self._pending)

    def is_busy(self) -> bool:
        """Whether any job is queued or running."""
        with self._lock:
            return bool(self._pending or self._running)

    def wait(self, timeout_ms: int = -1) -> bool:
        """Block until the queue is drained (shutdown, benchmarks); True if it was."""
        return self._pool.waitForDone(timeout_ms)

    def close(self) -> None:
        """Drop pending jobs and wait for running ones; no signals after this returns."""
        with self._lock:
            self._closed = True
            self._pending.clear()
        self._pool.waitForDone()

    def _next(self) -> Hashable | None:
        with self._lock:
            if self._closed or not self._pending:
                self._workers -= 1
                return None
            key, _ = self._pending.popitem(last=True)
            self._running.add(key)
            return key

    def _run(self, key: Hashable) -> None:
        try:
            result = self._fn(key)
        except Exception as exc:  # noqa: BLE001 - every failure is reported to the UI
            self._emit(self.failed, key, exc)
        else:
            self._emit(self.done, key, result)

    def _emit(self, signal: Any, key: Hashable, value: Any) -> None:
        try:
            if not self._closed:
                signal.emit(key, value)
                return
        except RuntimeError:  # the queue's Qt object is gone (window closed mid-job)
            pass
        with self._lock:
            self._running.discard(key)

    def _delivered(self, key: Hashable, _value: Any) -> None:
        with self._lock:
            self._running.discard(key)


class _Drain(QRunnable):
    """Runs queued jobs until the queue is empty."""

    def __init__(self, queue: JobQueue) -> None:
        super().__init__()
        self._queue = queue

    def run(self) -> None:
        while (key := self._queue._next()) is not None:
            self._queue._run(key)


# -- images ------------------------------------------------------------------------------------
@dataclass(frozen=True)
class ImageRequest:
    """An image (or a class-id mask) of a media cell, at a thumbnail bucket or full size (None);
    or the thumbnail of a video, audio, point-cloud or molecule cell (``flavour`` one of
    :data:`desktopviz.media.thumbs.MEDIA_FLAVOURS`' values)."""

    version_id: int
    sha256: str | None
    path: str | None
    bucket: int | None
    flavour: str = IMAGE


@dataclass(frozen=True)
class LoadedImage:
    """A decoded image, or why it could not be decoded."""

    image: QImage | None
    error: str | None = None

    @property
    def size(self) -> QSize:
        """The decoded image's size (empty for an error)."""
        return self.image.size() if self.image is not None else QSize()


def pil_to_qimage(im: Image.Image) -> QImage:
    """A QImage copy of a Pillow image in mode RGB, RGBA or L."""
    formats = {
        "RGB": (QImage.Format.Format_RGB888, 3),
        "RGBA": (QImage.Format.Format_RGBA8888, 4),
        "L": (QImage.Format.Format_Grayscale8, 1),
    }
    if im.mode not in formats:
        im = im.convert("RGBA")
    fmt, depth = formats[im.mode]
    data = im.tobytes()
    return QImage(data, im.width, im.height, im.width * depth, fmt).copy()


def load_full_image(source: Path | bytes, flavour: str = IMAGE) -> QImage:
    """Decode a whole image file (within the pixel limit, at most ``FULL_IMAGE_MAX_SIDE``)."""
    return pil_to_qimage(decode_image(source, FULL_IMAGE_MAX_SIDE, flavour))


class ThumbnailLoader(QObject):
    """Images of media cells for painting: ``get()`` answers from memory or queues a decode.

    Thumbnails come from (and go to) the cache's ``derived/thumbs``; full-size images are decoded
    each time they are not in memory. ``ready(request)`` is emitted when a request has an answer
    (an image or an error).
    """

    ready = Signal(object)

    def __init__(
        self,
        cache: Cache,
        *,
        threads: int = 2,
        memory_bytes: int = 128 * 2**20,
        parent: QObject | None = None,
    ) -> None:
        super().__init__(parent)
        self.cache = cache
        self.store = MediaThumbnailStore.of(cache)
        self._memory: OrderedDict[ImageRequest, LoadedImage] = OrderedDict()
        self._memory_bytes = 0
        self._memory_limit = memory_bytes
        self.jobs = JobQueue(self._load, threads=threads, parent=self)
        self.jobs.done.connect(self._on_done)
        self.jobs.failed.connect(self._on_failed)

    def get(self, request: ImageRequest) -> LoadedImage | None:
        """The loaded image (or its error) if in memory; else queue it and return None."""
        found = self._memory.get(request)
        if found is not None:
            self._memory.move_to_end(request)
            return found
        self.jobs.submit(request)
        return None

    def retain(self, wanted: Iterable[ImageRequest]) -> int:
        """Drop queued requests not in ``wanted`` (what is on screen now)."""
        keep = set(wanted)
        return self.jobs.retain(lambda r: r in keep)

    def cached(self, request: ImageRequest) -> bool:
        """Whether the answer to ``request`` is in memory."""
        return request in self._memory

    def close(self) -> None:
        """Stop decoding (pending requests are dropped)."""
        self.jobs.close()

    def _load(self, request: ImageRequest) -> QImage:
        """Runs in a worker thread."""
        source, sha = media_source(self.cache, request.version_id, request.sha256, request.path)
        if request.flavour in _MEDIA:  # a poster frame, a waveform, a rendered 3D view
            bucket, path = request.bucket or BUCKETS[-1], request.path
            thumb = self.store.media(source, sha, bucket, request.flavour, path)
            image = QImage(str(thumb))
            if image.isNull():
                self.store.forget(thumb)
                image = QImage(str(self.store.media(source, sha, bucket, request.flavour, path)))
            return image
        if request.bucket is None:
            return load_full_image(source, request.flavour)
        thumb = self.store.thumbnail(source, sha, request.bucket, request.flavour)
        image = QImage(str(thumb))
        if image.isNull():  # a torn or foreign file: make it again
            self.store.forget(thumb)
            image = QImage(str(self.store.thumbnail(source, sha, request.bucket, request.flavour)))
        return image

    def _remember(self, request: ImageRequest, loaded: LoadedImage) -> None:
        self._memory[request] = loaded
        self._memory_bytes += loaded.image.sizeInBytes() if loaded.image is not None else 64
        while self._memory_bytes > self._memory_limit and len(self._memory) > 1:
            _, old = self._memory.popitem(last=False)
            self._memory_bytes -= old.image.sizeInBytes() if old.image is not None else 64
        self.ready.emit(request)

    def _on_done(self, request: ImageRequest, image: QImage) -> None:
        self._remember(request, LoadedImage(image))

    def _on_failed(self, request: ImageRequest, error: Exception) -> None:
        self._remember(request, LoadedImage(None, str(error) or type(error).__name__))
