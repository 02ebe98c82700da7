"""Thumbnails: decoded once with Pillow, cached on disk by content, masks keep class ids."""

from __future__ import annotations

import io

import numpy as np
import pytest
from PIL import Image

from desktopviz.errors import FormatError, LimitError
from desktopviz.store.cache import NewFile, NewVersion, VersionHeader
from desktopviz.store.thumbnails import (
    IMAGE,
    MASK,
    ThumbnailStore,
    bucket_for,
    decode_image,
    media_file,
    prune_thumbnails,
)


def png_bytes(array: np.ndarray, mode: str) -> bytes:
    buf = io.BytesIO()
    Image.fromarray(array, mode).save(buf, "PNG")
    return buf.getvalue()


def gradient(width: int, height: int) -> np.ndarray:
    x = np.linspace(0, 255, width, dtype=np.uint8)
    rgb = np.zeros((height, width, 3), np.uint8)
    rgb[..., 0] = x
    rgb[..., 1] = x[::-1]
    return rgb


def test_bucket_is_the_smallest_that_holds_the_size():
    assert bucket_for(10) == 64
    assert bucket_for(64) == 64
    assert bucket_for(65) == 128
    assert bucket_for(300) == 512
    assert bucket_for(5000) == 512


def test_thumbnail_is_written_once_then_read_from_disk(cache):
    info = cache.blobs.put_bytes(png_bytes(gradient(400, 200), "RGB"))
    source = cache.blobs.path(info.sha256)
    store = ThumbnailStore.of(cache)

    first = store.thumbnail(source, info.sha256, 128)
    assert first.is_file()
    assert cache.root / "derived" / "thumbs" in first.parents
    with Image.open(first) as im:
        assert im.size == (128, 64)  # longest side is the bucket, aspect kept
        left, right = im.getpixel((2, 32)), im.getpixel((125, 32))
    assert left[0] < 30 and right[0] > 220  # the gradient survived the downscale
    assert store.stats.decoded == 1

    source.unlink()  # the second load does not need the source: it reads the cached file
    again = ThumbnailStore.of(cache).thumbnail(source, info.sha256, 128)
    assert again == first


def test_a_second_store_on_the_same_cache_decodes_nothing(cache):
    info = cache.blobs.put_bytes(png_bytes(gradient(300, 300), "RGB"))
    source = cache.blobs.path(info.sha256)
    ThumbnailStore.of(cache).thumbnail(source, info.sha256, 64)
    store = ThumbnailStore.of(cache)
    store.thumbnail(source, info.sha256, 64)
    assert (store.stats.decoded, store.stats.read) == (0, 1)


def test_images_with_alpha_keep_it(cache):
    rgba = np.zeros((100, 100, 4), np.uint8)
    rgba[..., 2] = 255
    rgba[:50, :, 3] = 255  # top half opaque, bottom half transparent
    info = cache.blobs.put_bytes(png_bytes(rgba, "RGBA"))
    path = ThumbnailStore.of(cache).thumbnail(cache.blobs.path(info.sha256), info.sha256, 64)
    with Image.open(path) as im:
        assert im.mode == "RGBA"
        assert im.getpixel((32, 5))[3] == 255
        assert im.getpixel((32, 60))[3] == 0


def test_mask_thumbnails_keep_class_ids(cache):
    mask = np.zeros((256, 256), np.uint8)
    mask[:, 128:] = 3
    mask[100:140, 20:60] = 7
    info = cache.blobs.put_bytes(png_bytes(mask, "L"))
    path = ThumbnailStore.of(cache).thumbnail(cache.blobs.path(info.sha256), info.sha256, 64, MASK)
    with Image.open(path) as im:
        assert im.size == (64, 64)
        values = set(np.unique(np.asarray(im)).tolist())
    assert values == {0, 3, 7}  # nearest-neighbour: no blended ids in between


def test_palette_masks_are_read_as_indices(tmp_path):
    mask = Image.fromarray(np.array([[0, 1], [2, 5]], np.uint8), "L").convert("P")
    mask.putpalette([255, 255, 255] * 256)  # a palette that would turn every id white
    buf = io.BytesIO()
    mask.save(buf, "PNG")
    path = tmp_path / "mask.png"
    path.write_bytes(buf.getvalue())
    out = decode_image(path, None, MASK)
    assert np.asarray(out).tolist() == [[0, 1], [2, 5]]


def test_corrupt_blob_is_a_format_error_naming_the_file(cache):
    data = png_bytes(gradient(64, 64), "RGB")
    info = cache.blobs.put_bytes(data[: len(data) // 2])  # truncated PNG
    source = cache.blobs.path(info.sha256)
    with pytest.raises(FormatError) as err:
        ThumbnailStore.of(cache).thumbnail(source, info.sha256, 64)
    assert str(source) in str(err.value)
    assert not list((cache.root / "derived").rglob("*.jpg"))  # nothing half-made was kept

    junk = cache.blobs.put_bytes(b"not an image at all")
    with pytest.raises(FormatError, match="not an image"):
        ThumbnailStore.of(cache).thumbnail(cache.blobs.path(junk.sha256), junk.sha256, 64)


def test_pixel_limit_refuses_bombs(cache, monkeypatch):
    info = cache.blobs.put_bytes(png_bytes(gradient(300, 300), "RGB"))
    monkeypatch.setenv("DESKTOPVIZ_MAX_IMAGE_PIXELS", "10000")
    with pytest.raises(LimitError, match="pixel"):
        ThumbnailStore.of(cache).thumbnail(cache.blobs.path(info.sha256), info.sha256, 64)


def test_missing_source_is_a_format_error(cache):
    with pytest.raises(FormatError, match="missing"):
        ThumbnailStore.of(cache).thumbnail(cache.root / "nope", "ab" * 32, 64)


def test_full_decode_caps_the_size(tmp_path):
    path = tmp_path / "wide.png"
    path.write_bytes(png_bytes(gradient(600, 300), "RGB"))
    assert decode_image(path, None, IMAGE).size == (600, 300)
    assert decode_image(path, 200, IMAGE).size == (200, 100)


def test_media_file_follows_digest_then_path(cache):
    info = cache.blobs.put_bytes(png_bytes(gradient(8, 8), "RGB"))
    version = cache.add_version(
        NewVersion(
            VersionHeader("p", "imgs", "dataset"),
            info.sha256,
            [NewFile("media/a.png", info.size, info.sha256, info.md5_b64)],
        )
    ).version
    assert media_file(cache, version, info.sha256, None) == cache.blobs.path(info.sha256)
    assert media_file(cache, version, None, "media/a.png") == cache.blobs.path(info.sha256)


def test_prune_removes_thumbnails_of_removed_blobs(cache):
    keep = cache.blobs.put_bytes(png_bytes(gradient(80, 80), "RGB"))
    gone = cache.blobs.put_bytes(png_bytes(gradient(90, 90), "RGB"))
    store = ThumbnailStore.of(cache)
    kept = store.thumbnail(cache.blobs.path(keep.sha256), keep.sha256, 64)
    removed = store.thumbnail(cache.blobs.path(gone.sha256), gone.sha256, 64)
    cache.blobs.remove(gone.sha256)
    assert prune_thumbnails(cache) == 1
    assert kept.is_file() and not removed.exists()
