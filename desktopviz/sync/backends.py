"""Open the backend a store URL names: a folder path or ``file://`` URL, ``http(s)://``, ``s3://``.

Public API: :func:`open_backend`.
"""

from __future__ import annotations

from urllib.parse import unquote, urlparse

from desktopviz.errors import DesktopvizError
from desktopviz.sync.backend import Backend


def open_backend(url: str, token: str | None = None) -> Backend:
    """The backend of ``url``: :class:`~desktopviz.sync.folder.FolderBackend` for a folder path
    or ``file://`` URL, ``HttpBackend`` for ``http(s)://``, ``S3Backend`` for ``s3://``."""
    scheme = urlparse(url).scheme.lower()
    if scheme in ("http", "https"):
        from desktopviz.sync.http import HttpBackend

        return HttpBackend(url, token)
    if scheme == "s3":
        from desktopviz.sync.s3 import S3Backend

        return S3Backend(url)
    from desktopviz.sync.folder import FolderBackend

    if scheme == "file":
        parsed = urlparse(url)
        if parsed.netloc not in ("", "localhost"):
            raise DesktopvizError(f"file URL {url!r} names another host; mount it as a folder")
        return FolderBackend(unquote(parsed.path))
    if scheme and len(scheme) > 1:  # "c:" is a Windows drive, not a scheme
        raise DesktopvizError(
            f"unknown store URL {url!r}: use a folder, file://, http(s):// or s3://"
        )
    return FolderBackend(url)
