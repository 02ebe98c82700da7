"""Image checks with Pillow's decompression-bomb limit: headers, truncation, size."""

from __future__ import annotations

import io
import os
import struct
import warnings
from pathlib import Path

from PIL import Image, UnidentifiedImageError

from desktopviz.errors import FormatError, LimitError

IMAGE_SUFFIXES = frozenset({".png", ".jpg", ".jpeg", ".bmp", ".gif", ".webp", ".tif", ".tiff"})
_BOMB = " (decompression bomb?)"


def max_image_pixels() -> int:
    """Pixel limit (``DESKTOPVIZ_MAX_IMAGE_PIXELS``, default Pillow's bomb limit)."""
    default = Image.MAX_IMAGE_PIXELS or 89_478_485
    return int(os.environ.get("DESKTOPVIZ_MAX_IMAGE_PIXELS", default))


def check_pixels(
    width: int,
    height: int,
    what: str,
    *,
    file: str | None,
    limit: int | None = None,
    note: str = "",
) -> None:
    """Refuse ``width`` x ``height`` pixels over ``limit`` (default :func:`max_image_pixels`)
    with a :class:`LimitError` "``what`` WxH = N pixels, over the L-pixel limit``note``"."""
    limit = max_image_pixels() if limit is None else limit
    if width * height > limit:
        raise LimitError(
            f"{what} {width}x{height} = {width * height:,} pixels, over the "
            f"{limit:,}-pixel limit{note}",
            file=file,
        )


def check_image(
    path: Path | bytes, *, verify: bool = True, name: str | None = None, decode: bool = False
) -> tuple[int, int, str]:
    """``(width, height, format)`` of an image file (or its bytes); refuse bombs, truncated and
    non-images. ``decode`` also decodes every pixel (which finds truncation in formats whose
    ``verify`` does not look at the pixel data, such as GIF, BMP and progressive JPEG)."""
    label = name or ("<image bytes>" if isinstance(path, bytes) else str(path))

    def source() -> Path | io.BytesIO:
        return io.BytesIO(path) if isinstance(path, bytes) else path

    limit = max_image_pixels()
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(source()) as im:
                width, height = im.size
                fmt = (im.format or "").lower()
                check_pixels(width, height, "image is", file=label, limit=limit, note=_BOMB)
                if verify:
                    im.verify()
            if decode:
                with Image.open(source()) as im:
                    im.load()
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as e:
        raise LimitError(f"image over the pixel limit (decompression bomb): {e}", file=label) from e
    except UnidentifiedImageError as e:
        raise FormatError("not an image Pillow can read", file=label) from e
    except FileNotFoundError as e:
        raise FormatError("image file is missing", file=label) from e
    except PermissionError as e:  # the system refused it: nothing is wrong inside
        raise FormatError(f"cannot read file: {e.strerror or e}", file=e.filename or label) from e
    except (OSError, SyntaxError, ValueError) as e:
        raise FormatError(f"broken or truncated image: {e}", file=label) from e
    return width, height, fmt


_PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
_PNG_END = b"\x00\x00\x00\x00IEND\xaeB`\x82"
_JPEG_SOF = frozenset(range(0xC0, 0xD0)) - {0xC4, 0xC8, 0xCC}


def image_header(data: bytes, *, name: str = "<image bytes>") -> tuple[int, int, str] | None:
    """``(width, height, format)`` read from a whole file's header and its final chunk or marker
    (PNG, JPEG, GIF, BMP, WebP), with the pixel limit applied; None when the bytes do not show a
    complete file of those formats (then :func:`check_image` decides, with Pillow's full check).
    """
    size = _header_size(data)
    if size is None:
        return None
    width, height, fmt = size
    check_pixels(width, height, "image is", file=name, note=_BOMB)
    return size if width > 0 and height > 0 else None


def _header_size(data: bytes) -> tuple[int, int, str] | None:
    if data.startswith(_PNG_SIGNATURE):
        if data[12:16] == b"IHDR" and data.endswith(_PNG_END):
            w, h = struct.unpack(">II", data[16:24])
            return w, h, "png"
        return None
    if data.startswith(b"\xff\xd8"):
        return _jpeg_size(data) if data.endswith(b"\xff\xd9") else None
    if data[:6] in (b"GIF87a", b"GIF89a") and data.endswith(b"\x3b") and len(data) > 13:
        w, h = struct.unpack("<HH", data[6:10])
        return w, h, "gif"
    if data.startswith(b"BM") and len(data) >= 26:
        (declared,) = struct.unpack("<I", data[2:6])
        (header,) = struct.unpack("<I", data[14:18])
        if declared == len(data) and header >= 40:
            w, h = struct.unpack("<ii", data[18:26])
            return abs(w), abs(h), "bmp"
        return None
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP" and len(data) >= 30:
        (declared,) = struct.unpack("<I", data[4:8])
        if declared + 8 != len(data):
            return None
        chunk = data[12:16]
        if chunk == b"VP8X":
            w = int.from_bytes(data[24:27], "little") + 1
            h = int.from_bytes(data[27:30], "little") + 1
            return w, h, "webp"
        if chunk == b"VP8 " and data[23:26] == b"\x9d\x01\x2a":
            w, h = struct.unpack("<HH", data[26:30])
            return w & 0x3FFF, h & 0x3FFF, "webp"
        if chunk == b"VP8L" and data[20] == 0x2F:
            bits = int.from_bytes(data[21:25], "little")
            return (bits & 0x3FFF) + 1, ((bits >> 14) & 0x3FFF) + 1, "webp"
    return None


def _jpeg_size(data: bytes) -> tuple[int, int, str] | None:
    i, n = 2, len(data)
    while i + 4 <= n:
        if data[i] != 0xFF:
            return None
        marker = data[i + 1]
        if marker == 0xFF:  # fill byte
            i += 1
            continue
        if marker in (0x01, *range(0xD0, 0xD8)):  # markers without a length
            i += 2
            continue
        length = int.from_bytes(data[i + 2 : i + 4], "big")
        if marker in _JPEG_SOF:
            if i + 9 > n:
                return None
            h, w = struct.unpack(">HH", data[i + 5 : i + 9])
            return w, h, "jpeg"
        if marker == 0xDA or length < 2:  # scan data before any frame header: let Pillow judge
            return None
        i += 2 + length
    return None
