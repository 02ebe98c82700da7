"""Image checks with Pillow's decompression-bomb limit: headers, truncation, size."""

from __future__ import annotations

import io
import os
import warnings
from pathlib import Path

from PIL import Image, UnidentifiedImageError

from desktopviz.errors import FormatError, LimitError

IMAGE_SUFFIXES = frozenset({".png", ".jpg", ".jpeg", ".bmp", ".gif", ".webp", ".tif", ".tiff"})


def max_image_pixels() -> int:
    """Pixel limit (``DESKTOPVIZ_MAX_IMAGE_PIXELS``, default Pillow's bomb limit)."""
    default = Image.MAX_IMAGE_PIXELS or 89_478_485
    return int(os.environ.get("DESKTOPVIZ_MAX_IMAGE_PIXELS", default))


def check_image(
    path: Path | bytes, *, verify: bool = True, name: str | None = None
) -> tuple[int, int, str]:
    """``(width, height, format)`` of an image file (or its bytes); refuse bombs, truncated and non-images."""
    label = name or ("<image bytes>" if isinstance(path, bytes) else str(path))
    source = io.BytesIO(path) if isinstance(path, bytes) else path
    limit = max_image_pixels()
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(source) as im:
                width, height = im.size
                fmt = (im.format or "").lower()
                if width * height > limit:
                    raise LimitError(
                        f"image is {width}x{height} = {width * height:,} pixels, over the "
                        f"{limit:,}-pixel limit (decompression bomb?)",
                        file=label,
                    )
                if verify:
                    im.verify()
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
