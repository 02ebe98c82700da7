"""Bounded JSON reading: files over a size limit are refused with a clear message."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from desktopviz.errors import FormatError, LimitError

DEFAULT_MAX_JSON_BYTES = 256 * 1024 * 1024


def max_json_bytes() -> int:
    """Largest small-JSON file (manifest, classes, joined-table...) we load whole."""
    return int(os.environ.get("DESKTOPVIZ_MAX_JSON_BYTES", DEFAULT_MAX_JSON_BYTES))


def load_json_file(path: Path, *, limit: int | None = None) -> Any:
    """Load a JSON file whole, refusing files over ``limit`` bytes; errors name file and line."""
    limit = max_json_bytes() if limit is None else limit
    try:
        size = path.stat().st_size
    except OSError as e:
        raise FormatError(f"cannot read: {e.strerror or e}", file=path) from e
    if size > limit:
        raise LimitError(
            f"JSON file is {size:,} bytes, over the {limit:,}-byte limit for this kind of file",
            file=path,
        )
    raw = path.read_bytes()
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as e:
        raise FormatError(f"not UTF-8 at byte {e.start}", file=path) from e
    try:
        return json.loads(text)
    except json.JSONDecodeError as e:
        raise FormatError(
            f"malformed JSON at line {e.lineno}, column {e.colno}: {e.msg}", file=path
        ) from e
