"""Decoding and drawing the media of W&B tables that are not images (no Qt): video frames and
audio samples through PyAV (:mod:`.av_media`), point clouds with 3D boxes (:mod:`.scene`),
molecules (:mod:`.molecule`), a software 3D renderer for both (:mod:`.render3d`) and the cell
thumbnails made from all of them (:mod:`.thumbs`); :mod:`.files` reads their files within a
byte limit.

Everything here runs in worker threads; each decoder keeps to a size limit (pixels, frames,
samples, points, bytes) and raises :class:`~desktopviz.errors.FormatError` (or its
:class:`~desktopviz.errors.LimitError`) for input it cannot or will not read.
"""
