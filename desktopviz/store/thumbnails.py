"""Thumbnails of image and mask blobs, decoded with Pillow and cached under ``derived/thumbs``.

A thumbnail is named by its source's sha256, its flavour (``image`` or ``mask``) and a size
bucket: ``derived/thumbs/<flavour>/<bucket>/<ab>/<sha256>.<jpg|png>``. Sources are immutable
blobs, so a thumbnail never goes stale; ``prune_thumbnails`` removes those whose blob is gone.

Writes go to a temp file renamed into place (a reader never sees half a file). They are not
fsynced: thumbnails are rebuildable, and one that does not decode is simply made again.

Masks keep their pixel values (class ids): they are resized with nearest-neighbour sampling and
stored as 8-bit grayscale PNG.
"""

from __future__ import annotations

import io
import os
import tempfile
import threading
import warnings
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image

from desktopviz.errors import FormatError, LimitError, NotFoundError
from desktopviz.formats.images import check_image
from desktopviz.model import Version
from desktopviz.store.cache import Cache

BUCKETS = (64, 128, 256, 512)
"""Thumbnail sizes on disk (longest side, pixels); a view scales the nearest larger one."""
FULL_IMAGE_MAX_SIDE = 8192
"""Longest side of an image decoded for a full view (larger ones are downscaled)."""
IMAGE, MASK = "image", "mask"
JPEG_QUALITY = 90


def bucket_for(pixels: float) -> int:
    """The smallest bucket at least ``pixels`` wide (the largest bucket beyond it)."""
    for b in BUCKETS:
        if b >= pixels:
            return b
    return BUCKETS[-1]


def decode_image(source: Path | bytes, max_side: int | None, flavour: str = IMAGE) -> Image.Image:
    """Decode an image (or a class-id mask) no larger than ``max_side``, within the pixel limit.

    Raises :class:`FormatError` (missing, broken or not an image) or :class:`LimitError`.
    """
    label = None if isinstance(source, bytes) else source
    check_image(source, verify=False)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(source) if isinstance(source, bytes) else source) as im:
                if max_side and flavour == IMAGE:
                    im.draft("RGB", (max_side, max_side))  # JPEG: decode at a reduced scale
                im.load()
                out = _as_mask(im) if flavour == MASK else _as_picture(im)
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as e:
        raise LimitError(f"image over the pixel limit: {e}", file=label) from e
    except FileNotFoundError as e:
        raise FormatError("image file is missing", file=label) from e
    except (OSError, SyntaxError, ValueError) as e:
        raise FormatError(f"broken or truncated image: {e}", file=label) from e
    if max_side and max(out.size) > max_side:
        resample = Image.Resampling.NEAREST if flavour == MASK else Image.Resampling.BILINEAR
        out.thumbnail((max_side, max_side), resample, reducing_gap=None)
    return out


def _as_picture(im: Image.Image) -> Image.Image:
    if im.mode in ("RGB", "RGBA"):
        return im.copy()
    has_alpha = im.mode in ("LA", "PA") or "transparency" in im.info
    return im.convert("RGBA" if has_alpha else "RGB")


def _as_mask(im: Image.Image) -> Image.Image:
    """8-bit class ids: palette indices and gray values as they are, wider ints clipped."""
    if im.mode in ("L", "P"):
        return Image.frombytes("L", im.size, im.tobytes())
    if im.mode.startswith("I") or im.mode == "F":
        return Image.fromarray(np.clip(np.asarray(im), 0, 255).astype(np.uint8), "L")
    return im.getchannel(0) if im.mode in ("RGB", "RGBA", "LA") else im.convert("L")


@dataclass(frozen=True)
class ThumbnailStats:
    """How thumbnails were obtained since the store was opened."""

    decoded: int
    read: int


class ThumbnailStore:
    """The on-disk thumbnail cache of one desktopviz cache (safe to share between threads)."""

    def __init__(self, root: Path, tmp_dir: Path) -> None:
        self.root = root
        self.tmp_dir = tmp_dir
        self._lock = threading.Lock()
        self._decoded = 0
        self._read = 0

    @classmethod
    def of(cls, cache: Cache) -> ThumbnailStore:
        """The thumbnail store under ``cache``'s ``derived/thumbs``."""
        return cls(cache.derived_dir / "thumbs", cache.tmp_dir)

    @property
    def stats(self) -> ThumbnailStats:
        """How many thumbnails were decoded from sources and how many were read from disk."""
        with self._lock:
            return ThumbnailStats(self._decoded, self._read)

    def _stem(self, sha256: str, bucket: int, flavour: str) -> Path:
        if len(sha256) < 8 or not sha256.isalnum():
            raise FormatError(f"bad content digest {sha256!r}")
        return self.root / flavour / str(bucket) / sha256[:2] / sha256

    def existing(self, sha256: str, bucket: int, flavour: str = IMAGE) -> Path | None:
        """The cached thumbnail file, if there is one."""
        stem = self._stem(sha256, bucket, flavour)
        for suffix in (".jpg", ".png"):
            p = stem.with_suffix(suffix)
            if p.is_file() and p.stat().st_size > 0:
                return p
        return None

    def thumbnail(
        self, source: Path | bytes, sha256: str, bucket: int, flavour: str = IMAGE
    ) -> Path:
        """The thumbnail file of ``source`` (content ``sha256``), made and cached if missing."""
        found = self.existing(sha256, bucket, flavour)
        if found is not None:
            with self._lock:
                self._read += 1
            return found
        im = decode_image(source, bucket, flavour)
        opaque = flavour == IMAGE and im.mode == "RGB"
        buf = io.BytesIO()
        if opaque:
            im.save(buf, "JPEG", quality=JPEG_QUALITY)
        else:
            im.save(buf, "PNG", compress_level=1)
        path = self._stem(sha256, bucket, flavour).with_suffix(".jpg" if opaque else ".png")
        self._write(path, buf.getvalue())
        with self._lock:
            self._decoded += 1
        return path

    def forget(self, path: Path) -> None:
        """Remove a cached thumbnail that turned out unreadable (it is made again next time)."""
        path.unlink(missing_ok=True)

    def _write(self, path: Path, data: bytes) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.tmp_dir.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=self.tmp_dir, prefix="thumb-")
        try:
            with os.fdopen(fd, "wb") as f:
                f.write(data)
            os.replace(tmp, path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise


def media_source(
    cache: Cache, version: Version | int, sha256: str | None, path: str | None
) -> tuple[Path | bytes, str]:
    """A media cell's bytes to decode and their digest: a packed blob's bytes as they are (no
    file is written for them), else the file :func:`media_file` names (NotFoundError as it
    raises) and its name."""
    digest = sha256 if sha256 and cache.blobs.has(sha256) else None
    if digest is None and path:  # cells that record no digest (an image folder's) name a path
        digest = cache.file_sha256(version, path)
    if digest is not None and cache.blobs.locate(digest) is not None:
        return cache.blobs.read(digest), digest
    source = media_file(cache, version, sha256, path)
    return source, digest or source.name


def media_file(cache: Cache, version: Version | int, sha256: str | None, path: str | None) -> Path:
    """The local file of a media cell's bytes: its blob by digest, else the version's file."""
    if sha256 and cache.blobs.has(sha256):
        return cache.blobs.local_path(sha256)
    if path:
        return cache.file_path(version, path)
    raise NotFoundError("media cell names no file")


def prune_thumbnails(cache: Cache) -> int:
    """Remove thumbnails whose source blob is no longer in the cache; return how many."""
    root = cache.derived_dir / "thumbs"
    if not root.exists():
        return 0
    present = cache.blobs.all_digests()
    removed = 0
    for p in root.rglob("*.*"):
        if p.is_file() and p.stem not in present:
            p.unlink(missing_ok=True)
            removed += 1
    return removed
