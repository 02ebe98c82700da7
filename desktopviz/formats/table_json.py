"""Streaming reader of W&B ``*.table.json`` files.

The file is read in chunks: the small top-level keys (``columns``, ``column_types``...) are
decoded whole, the ``data`` array row by row, so memory stays bounded whatever the file size.
"""

from __future__ import annotations

import codecs
import json
import os
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from desktopviz.errors import FormatError, LimitError
from desktopviz.formats.jsonio import check_depth, depth_error, max_cell_bytes

try:
    import orjson as _orjson
except ImportError:  # pragma: no cover - orjson is a dependency; the stdlib is the fallback
    _orjson = None

CHUNK_CHARS = 1 << 21
SLAB_MIN_CHARS = 1 << 20
SLAB_MAX_CHARS = 1 << 20
ROWWISE_AFTER_MISS = 256
DEFAULT_MAX_TABLE_BYTES = 64 * 1024**3
_WS = " \t\r\n"
_decoder = json.JSONDecoder()
_DIGITS = bytes(48 if 48 <= i < 58 else 32 for i in range(256))
_LONG_INT = b"0" * 19
"""An integer of 19 digits or more may be beyond 64 bits, which orjson reads as a rounded float."""


def _balance(buf: str, start: int, end: int) -> int:
    seg = buf[start:end]
    return seg.count("[") - seg.count("]") + seg.count("{") - seg.count("}")


def _parse_array(text: str) -> list[Any] | None:
    """Parse a JSON array of rows (orjson when it can, else the stdlib for NaN/Infinity tokens
    and for long integers, which the stdlib keeps exact)."""
    if _orjson is not None and text.encode().translate(_DIGITS).find(_LONG_INT) < 0:
        try:
            return _orjson.loads(text)
        except _orjson.JSONDecodeError:
            pass
    try:
        return json.loads(text)
    except (json.JSONDecodeError, RecursionError):
        return None  # a cut inside a row or a string, a malformed or too deep row: row by row


def max_table_bytes() -> int:
    """The largest table.json we accept (``DESKTOPVIZ_MAX_TABLE_BYTES``, default 64 GiB)."""
    return int(os.environ.get("DESKTOPVIZ_MAX_TABLE_BYTES", DEFAULT_MAX_TABLE_BYTES))


@dataclass
class TableHeader:
    """The top-level keys of a table.json other than ``data``."""

    keys: dict[str, Any] = field(default_factory=dict)
    size: int = 0
    bytes_read: int = 0
    """How far into the file the reader is (for progress)."""

    @property
    def columns(self) -> list[str] | None:
        """The ``columns`` list, if read yet."""
        return self.keys.get("columns")


class _Reader:
    def __init__(self, path: Path) -> None:
        self.path = path
        self.f = open(path, "rb")  # noqa: SIM115 - closed in close()
        self.dec = codecs.getincrementaldecoder("utf-8")()
        self.buf = ""
        self.pos = 0
        self.lines_before = 0
        self.bytes_read = 0
        self.eof = False
        self.rowwise_left = 0
        self.max_value = max_cell_bytes()

    def close(self) -> None:
        self.f.close()

    def more(self) -> bool:
        if self.eof:
            return False
        raw = self.f.read(CHUNK_CHARS)
        self.bytes_read += len(raw)
        try:
            text = self.dec.decode(raw, final=not raw)
        except UnicodeDecodeError as e:
            raise FormatError(
                f"not UTF-8 near byte {self.bytes_read - len(raw) + e.start}", file=self.path
            ) from e
        if not raw:
            self.eof = True
        if self.pos > len(self.buf) // 2:
            self.lines_before += self.buf.count("\n", 0, self.pos)
            self.buf = self.buf[self.pos :]
            self.pos = 0
        self.buf += text
        return bool(raw)

    def peek(self) -> str:
        while True:
            buf, pos = self.buf, self.pos
            n = len(buf)
            while pos < n and buf[pos] in _WS:
                pos += 1
            self.pos = pos
            if pos < n:
                return buf[pos]
            if not self.more():
                return ""

    def expect(self, chars: str, what: str) -> str:
        c = self.peek()
        if not c or c not in chars:
            raise self.error(
                f"expected {what}, found {c!r}" if c else f"unexpected end of file, expected {what}"
            )
        self.pos += 1
        return c

    def value(self) -> Any:
        """The next JSON value, at most ``max_value`` characters long (else a LimitError)."""
        self.peek()
        while True:
            try:
                obj, end = _decoder.raw_decode(self.buf, self.pos)
            except json.JSONDecodeError as e:
                if self.more_for_value():
                    continue
                raise self.error(e.msg, e.pos) from None
            except RecursionError:
                raise depth_error(file=self.path) from None
            if end >= len(self.buf) and not self.eof:
                # a number at the very end of the buffer may continue in the next chunk
                if self.more_for_value():
                    continue
            if end - self.pos > self.max_value:
                raise self.too_long()
            self.pos = end
            return obj

    def more_for_value(self) -> bool:
        """Read on for a value that does not end in the buffer yet, up to the size limit."""
        if len(self.buf) - self.pos > self.max_value:
            raise self.too_long()
        return self.more()

    def too_long(self) -> LimitError:
        return LimitError(
            f"a value is over the {self.max_value:,}-byte limit for one row or cell "
            "(DESKTOPVIZ_MAX_CELL_BYTES)",
            file=self.path,
        )

    def slab(self) -> list[Any]:
        """As many whole rows as the buffer holds, parsed in one call; at least one row.

        The cut is the last ``],`` after which brackets balance (so it ends a row, not a nested
        list); where strings hold brackets no cut balances and rows are parsed one by one.
        """
        self.peek()
        if self.rowwise_left > 0:
            self.rowwise_left -= 1
            return [self.value()]
        while len(self.buf) - self.pos < SLAB_MIN_CHARS and self.more():
            pass
        buf, start = self.buf, self.pos
        # rows cut from a window no longer than the row limit are under it
        cut = buf.rfind("],", start, start + min(SLAB_MAX_CHARS, self.max_value))
        if cut > start:
            balance = _balance(buf, start, cut + 1)
            for _ in range(64):
                if balance == 0:
                    break
                prev = buf.rfind("],", start, cut)
                if prev <= start:
                    break
                balance -= _balance(buf, prev + 1, cut + 1)
                cut = prev
            if balance == 0:
                rows = _parse_array("[" + buf[start : cut + 1] + "]")
                if rows is not None:
                    self.pos = cut + 1
                    return rows
        self.rowwise_left = ROWWISE_AFTER_MISS
        return [self.value()]

    def error(self, msg: str, at: int | None = None) -> FormatError:
        at = self.pos if at is None else at
        line = self.lines_before + self.buf.count("\n", 0, at) + 1
        col = at - (self.buf.rfind("\n", 0, at) + 1) + 1
        return FormatError(f"malformed JSON at line {line}, column {col}: {msg}", file=self.path)


def read_table_json(
    path: Path, *, header_only: bool = False
) -> tuple[TableHeader, Iterator[list[Any]]]:
    """Open a table.json; return its header (keys before ``data``) and an iterator of rows.

    Keys after ``data`` (``log_mode``, ``ncols``, ``nrows`` in W&B files) are added to the
    header as the iterator finishes.
    """
    header, batches = read_table_json_batches(path, header_only=header_only)
    return header, (row for batch in batches for row in batch)


def read_table_json_batches(
    path: Path, *, header_only: bool = False
) -> tuple[TableHeader, Iterator[list[Any]]]:
    """Like :func:`read_table_json`, but the iterator yields lists of rows (cheaper per row)."""
    size = path.stat().st_size
    if size > max_table_bytes():
        raise LimitError(
            f"table file is {size:,} bytes, over the {max_table_bytes():,}-byte limit", file=path
        )
    r = _Reader(path)
    header = TableHeader(size=size)
    try:
        r.expect("{", "'{' at the start of a table")
        found_data = _read_keys(r, header, stop_at_data=True)
    except BaseException:
        r.close()
        raise
    if not found_data:
        r.close()
        raise FormatError("table has no 'data' array", file=path)

    def rows() -> Iterator[list[Any]]:
        done = 0
        try:
            if header_only:
                return
            r.expect("[", "'[' starting the 'data' array")
            if r.peek() == "]":
                r.pos += 1
            else:
                while True:
                    try:
                        rows = r.slab()
                    except LimitError as e:
                        raise e.located(row=done) from None
                    header.bytes_read = r.bytes_read
                    done += len(rows)
                    yield rows
                    if r.expect(",]", "',' or ']' between rows") == "]":
                        break
            if r.expect(",}", "',' or '}' after 'data'") == ",":
                _read_keys(r, header, stop_at_data=False)
            if r.peek():
                raise r.error("extra text after the table")
        finally:
            r.close()

    return header, rows()


def _read_keys(r: _Reader, header: TableHeader, *, stop_at_data: bool) -> bool:
    if r.peek() == "}":
        r.pos += 1
        return False
    while True:
        key = r.value()
        if not isinstance(key, str):
            raise r.error("expected a key")
        r.expect(":", "':' after a key")
        if key == "data" and stop_at_data:
            return True
        header.keys[key] = check_depth(r.value(), file=r.path, field=key)
        if r.expect(",}", "',' or '}'") == "}":
            return False
