"""Cell thumbnails of video, audio, point-cloud and molecule cells (a poster frame, a waveform,
a rendered view), made in worker threads and cached as PNG beside the image thumbnails
(``derived/thumbs/<flavour>/<bucket>/...``).

Public API: ``VIDEO``, ``AUDIO``, ``OBJECT3D``, ``MOLECULE``, ``MEDIA_FLAVOURS``,
:func:`flavour_of`, :func:`media_thumbnail`, :class:`MediaThumbnailStore`.
"""

from __future__ import annotations

import io
from pathlib import Path

from PIL import Image

from desktopviz.errors import FormatError
from desktopviz.media.av_media import decode_audio, video_poster, waveform_image
from desktopviz.media.molecule import load_molecule
from desktopviz.media.render3d import render_molecule, render_scene
from desktopviz.media.scene import load_scene
from desktopviz.store.thumbnails import ThumbnailStore

VIDEO, AUDIO, OBJECT3D, MOLECULE = "video", "audio", "object3d", "molecule"
MEDIA_FLAVOURS = {
    "video-file": VIDEO,
    "audio-file": AUDIO,
    "object3D-file": OBJECT3D,
    "molecule-file": MOLECULE,
}
"""The thumbnail flavour of each media type drawn here."""
THUMB_AUDIO_SECONDS = 120.0
"""A waveform thumbnail shows at most this much of a sound."""


def flavour_of(media_type: str | None, path: str | None) -> str | None:
    """The thumbnail flavour of a media cell (None: no thumbnail for it). An ``object3D-file``
    other than a ``.pts.json`` point cloud (W&B's run files: glTF, OBJ...) has none."""
    flavour = MEDIA_FLAVOURS.get(media_type or "")
    if flavour == OBJECT3D and not (path or "").lower().endswith(".json"):
        return None
    return flavour


def media_thumbnail(
    source: Path | bytes, flavour: str, bucket: int, path: str | None = None
) -> Image.Image:
    """The thumbnail picture of a media file (at most ``bucket`` pixels a side)."""
    label = path
    if flavour == VIDEO:
        return video_poster(source, bucket, label=label)
    if flavour == AUDIO:
        sound = decode_audio(source, max_seconds=THUMB_AUDIO_SECONDS, label=label)
        return waveform_image(sound.samples, (bucket, max(16, bucket * 5 // 8)))
    if flavour == OBJECT3D:
        return render_scene(load_scene(source, label), (bucket, bucket))
    if flavour == MOLECULE:
        return render_molecule(load_molecule(source, path or "", label), (bucket, bucket))
    raise FormatError(f"no thumbnail for {flavour!r} media", file=label)


class MediaThumbnailStore(ThumbnailStore):
    """The thumbnail store, making media thumbnails with :func:`media_thumbnail`."""

    def media(
        self, source: Path | bytes, sha256: str, bucket: int, flavour: str, path: str | None
    ) -> Path:
        """The cached thumbnail file of a media file, made if missing."""
        found = self.existing(sha256, bucket, flavour)
        if found is not None:
            return found
        im = media_thumbnail(source, flavour, bucket, path)
        buf = io.BytesIO()
        im.save(buf, "PNG", compress_level=1)
        target = self._stem(sha256, bucket, flavour).with_suffix(".png")
        self._write(target, buf.getvalue())
        return target
