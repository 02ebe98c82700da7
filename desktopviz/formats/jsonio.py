"""Input limits, and bounded JSON reading: what is over a limit is refused with a clear message.

Every limit is a module constant that an environment variable overrides (tests use small ones):

========================  ==============================  ======================================
limit                     environment variable            what it bounds
========================  ==============================  ======================================
256 MiB                   ``DESKTOPVIZ_MAX_JSON_BYTES``   a JSON file read whole (manifest,
                                                          joined/partitioned table, class set)
16 MiB                    ``DESKTOPVIZ_MAX_LINE_BYTES``   one JSON Lines line, one CSV row
16 MiB                    ``DESKTOPVIZ_MAX_CELL_BYTES``   one row of a table.json's ``data`` (so
                                                          any cell or string in it), one header key
100 levels                ``DESKTOPVIZ_MAX_JSON_DEPTH``   nesting of a JSON value: a cell, a JSON
                                                          Lines line, a whole small JSON file
========================  ==============================  ======================================
"""

from __future__ import annotations

import json
import os
from itertools import chain
from pathlib import Path
from typing import Any

from desktopviz.errors import FormatError, LimitError

DEFAULT_MAX_JSON_BYTES = 256 * 1024 * 1024
DEFAULT_MAX_LINE_BYTES = 16 * 1024 * 1024
DEFAULT_MAX_CELL_BYTES = 16 * 1024 * 1024
DEFAULT_MAX_JSON_DEPTH = 100


def _limit(name: str, default: int) -> int:
    raw = os.environ.get(name)
    if not raw:
        return default
    try:
        value = int(raw)
    except ValueError:
        raise FormatError(f"{name}={raw!r} is not a whole number") from None
    if value < 1:
        raise FormatError(f"{name}={raw!r} must be at least 1")
    return value


def max_json_bytes() -> int:
    """Largest small-JSON file (manifest, classes, joined-table...) we load whole."""
    return _limit("DESKTOPVIZ_MAX_JSON_BYTES", DEFAULT_MAX_JSON_BYTES)


def max_line_bytes() -> int:
    """Longest JSON Lines line or CSV row (``DESKTOPVIZ_MAX_LINE_BYTES``)."""
    return _limit("DESKTOPVIZ_MAX_LINE_BYTES", DEFAULT_MAX_LINE_BYTES)


def max_cell_bytes() -> int:
    """Largest table.json row (and so cell or string) or header value (``DESKTOPVIZ_MAX_CELL_BYTES``)."""
    return _limit("DESKTOPVIZ_MAX_CELL_BYTES", DEFAULT_MAX_CELL_BYTES)


def max_json_depth() -> int:
    """Deepest nesting of lists and objects in a JSON value (``DESKTOPVIZ_MAX_JSON_DEPTH``)."""
    return _limit("DESKTOPVIZ_MAX_JSON_DEPTH", DEFAULT_MAX_JSON_DEPTH)


def depth_error(limit: int | None = None, **where: Any) -> LimitError:
    """The error for JSON nested deeper than the limit."""
    limit = max_json_depth() if limit is None else limit
    return LimitError(
        f"JSON nested more than {limit} levels deep (limit: DESKTOPVIZ_MAX_JSON_DEPTH)", **where
    )


def json_depth(value: Any, limit: int) -> int:
    """Nesting depth of a parsed JSON value (a scalar is 0, ``[]`` is 1), counted up to ``limit + 1``.

    Walks level by level (no recursion), stopping as soon as the depth passes ``limit``.
    """
    level, depth = [value], 0
    while depth <= limit:
        nxt = [v for v in level if type(v) is list or type(v) is dict]
        if not nxt:
            return depth
        depth += 1
        level = list(chain.from_iterable(v.values() if type(v) is dict else v for v in nxt))
    return depth


def check_depth(value: Any, **where: Any) -> Any:
    """``value`` if it is nested no deeper than :func:`max_json_depth`, else a :class:`LimitError`."""
    limit = max_json_depth()
    if json_depth(value, limit) > limit:
        raise depth_error(limit, **where)
    return value


def load_json_file(path: Path, *, limit: int | None = None) -> Any:
    """Load a JSON file whole, refusing files over ``limit`` bytes; errors name file and line."""
    limit = max_json_bytes() if limit is None else limit
    try:
        size = path.stat().st_size
    except OSError as e:
        raise FormatError(f"cannot read: {e.strerror or e}", file=path) from e
    if size > limit:
        raise LimitError(
            f"JSON file is {size:,} bytes, over the {limit:,}-byte limit for this kind of file "
            "(DESKTOPVIZ_MAX_JSON_BYTES)",
            file=path,
        )
    raw = path.read_bytes()
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as e:
        raise FormatError(f"not UTF-8 at byte {e.start}", file=path) from e
    return check_depth(loads(text, file=path), file=path)


def loads(text: str, **where: Any) -> Any:
    """``json.loads`` whose errors (malformed, nested too deep for the parser) name the place."""
    try:
        return json.loads(text)
    except json.JSONDecodeError as e:
        raise FormatError(
            f"malformed JSON at line {e.lineno}, column {e.colno}: {e.msg}", **where
        ) from e
    except RecursionError:
        raise depth_error(**where) from None
