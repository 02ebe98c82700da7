"""Reading a media file (or bytes already read) within a byte limit, for the decoders here.

Public API: :func:`read_within`.
"""

from __future__ import annotations

from pathlib import Path

from desktopviz.errors import FormatError, LimitError


def read_within(
    source: Path | bytes, limit: int, what: str, *, missing: str | None = None, name: str | None
) -> bytes:
    """The bytes of ``source`` (a file, or its bytes), refused when over ``limit`` bytes (a
    :class:`LimitError` "``what`` is N bytes, over the L-byte limit") or when the file is gone
    (a :class:`FormatError` "``missing`` (default ``what``) is missing"), naming ``name``."""
    try:
        size = len(source) if isinstance(source, bytes) else source.stat().st_size
        if size > limit:
            raise LimitError(f"{what} is {size:,} bytes, over the {limit:,}-byte limit", file=name)
        return source if isinstance(source, bytes) else source.read_bytes()
    except FileNotFoundError as e:
        raise FormatError(f"{missing or what} is missing", file=name) from e
