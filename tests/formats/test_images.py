"""Image checks from a file's bytes: the header and the final chunk or marker show an image whole
(PNG, JPEG, GIF, BMP, WebP); anything they cannot vouch for goes to Pillow's full check."""

from __future__ import annotations

import io

import pytest
from PIL import Image

from desktopviz.errors import FormatError, LimitError
from desktopviz.formats.images import check_image, image_header

FORMATS = [
    ("PNG", "RGB", {}),
    ("PNG", "L", {}),
    ("PNG", "RGB", {"interlace": 1}),
    ("JPEG", "RGB", {}),
    ("JPEG", "RGB", {"progressive": True}),
    ("GIF", "P", {}),
    ("BMP", "RGB", {}),
    ("WEBP", "RGB", {}),
    ("WEBP", "RGBA", {"lossless": True}),
]


def encoded(fmt: str, mode: str, size=(37, 23), **kw) -> bytes:
    buf = io.BytesIO()
    Image.new(mode, size).save(buf, fmt, **kw)
    return buf.getvalue()


@pytest.mark.parametrize("fmt,mode,kw", FORMATS)
def test_the_header_gives_what_pillow_gives(fmt, mode, kw):
    data = encoded(fmt, mode, **kw)
    assert image_header(data) == check_image(data) == (37, 23, fmt.lower())


@pytest.mark.parametrize("fmt,mode,kw", FORMATS)
def test_a_cut_file_is_left_to_pillow_whose_full_decode_refuses_it(fmt, mode, kw):
    data = encoded(fmt, mode, (64, 48), **kw)
    cut = data[: len(data) * 2 // 3]
    assert image_header(cut) is None
    with pytest.raises(FormatError, match="cut.img: broken or truncated image"):
        check_image(cut, name="cut.img", decode=True)


def test_formats_the_header_cannot_vouch_for_go_to_pillow():
    tiff = encoded("TIFF", "RGB")
    assert image_header(tiff) is None and check_image(tiff) == (37, 23, "tiff")
    assert image_header(b"not an image at all") is None


def test_the_pixel_limit_is_read_from_the_header(monkeypatch):
    data = encoded("PNG", "L", (300, 200))
    monkeypatch.setenv("DESKTOPVIZ_MAX_IMAGE_PIXELS", "50000")
    with pytest.raises(LimitError, match="300x200 = 60,000 pixels, over the 50,000-pixel limit"):
        image_header(data, name="big.png")
