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
    return (
        buf.count("[", start, end)
        - buf.count("]", start, end)
        + buf.count("{", start, end)
        - buf.count("}", start, end)
    )


def _row_end(buf: str, start: int, end: int) -> int:
    """The last ``]`` in ``buf[start:end]`` that ends a row begun at ``start``, brackets in
    strings not counted (-1 if none)."""
    import numpy as np

    a = np.frombuffer(buf[start:end].encode("utf-32-le"), np.uint32)
    pos = np.flatnonzero((a == 34) | (a == 91) | (a == 93) | (a == 123) | (a == 125))
    c = a[pos]
    quotes = np.flatnonzero(c == 34)
    escaped = escaped_quotes(a, pos[quotes])
    if escaped is not None:
        c[quotes[escaped]] = 0
    outside = np.cumsum(c == 34) % 2 == 0
    pos, c = pos[outside & (c != 34)], c[outside & (c != 34)]
    depth = np.cumsum(np.where((c == 91) | (c == 123), 1, -1))
    negative = np.flatnonzero(depth < 0)
    upto = int(negative[0]) if len(negative) else len(depth)  # (past the end of the data)
    ends = np.flatnonzero((depth[:upto] == 0) & (c[:upto] == 93))
    return start + int(pos[ends[-1]]) if len(ends) else -1


def escaped_quotes(b: Any, quotes: Any) -> Any:
    """Which of ``quotes`` (positions in the numpy array ``b`` of characters) are escaped: after
    an odd run of backslashes; None if none is."""
    import numpy as np

    cand = np.flatnonzero(b[quotes - 1] == 92)
    if not len(cand):
        return None
    back = np.flatnonzero(b == 92)
    new_run = np.diff(back, prepend=-2) != 1
    run_start = np.flatnonzero(new_run)
    run_of = np.cumsum(new_run) - 1
    k = np.searchsorted(back, quotes[cand] - 1)
    run_len = k - run_start[run_of[k]] + 1
    return cand[run_len % 2 == 1]


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


class Slab:
    """Whole rows of a ``data`` array: their text (``row, row, ...``) to be parsed by whoever
    reads them (:meth:`rows` in Python; :mod:`desktopviz.formats.fast_table` in C), or rows
    already read one by one (``text`` is None). Valid only until the reader moves on."""

    __slots__ = ("text", "_rows", "_reader", "_start", "first_row", "num_rows")

    def __init__(
        self,
        text: str | None,
        rows: list[Any] | None,
        reader: _Reader | None = None,
        start: int = 0,
        first_row: int = 0,
    ) -> None:
        self.text = text
        self._rows = rows
        self._reader = reader
        self._start = start
        self.first_row = first_row
        self.num_rows: int | None = None if rows is None else len(rows)
        """How many rows the slab holds, once parsed (by :meth:`rows` or in C)."""

    def rows(self) -> list[Any]:
        """The rows parsed; where the text does not parse (a cut inside a string, malformed or
        too deep rows), the reader goes back and reads rows one by one from here, so the first
        row alone is returned (and errors name its line and column)."""
        if self._rows is None:
            rows = _parse_array("[" + (self.text or "") + "]")
            r = self._reader
            assert r is not None
            if rows is None and self.text:  # a cut in a string? cut again, counting outside them
                cut = _row_end(r.buf, self._start, self._start + len(self.text))
                if cut > self._start:
                    text = r.buf[self._start : cut + 1]
                    rows = _parse_array("[" + text + "]")
                    if rows is not None:
                        self.text, r.pos = text, cut + 1
            if rows is None:
                r.pos = self._start
                r.rowwise_left = ROWWISE_AFTER_MISS
                rows = [r.located_value(self.first_row)]
                self.text = None
            self._rows = rows
            self.num_rows = len(rows)
        return self._rows


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

    def slab(self, first_row: int) -> Slab:
        """As many whole rows as the buffer holds, not parsed yet (see :class:`Slab`); at least
        one row.

        The cut is the last ``],`` after which brackets balance (so it ends a row, not a nested
        list); where strings hold brackets, the last row end with brackets counted outside
        strings; rows longer than the window are read one by one.
        """
        self.peek()
        if self.rowwise_left > 0:
            self.rowwise_left -= 1
            return Slab(None, [self.located_value(first_row)])
        while len(self.buf) - self.pos < SLAB_MIN_CHARS and self.more():
            pass
        buf, start = self.buf, self.pos
        # rows cut from a window no longer than the row limit are under it
        window = min(len(buf), start + min(SLAB_MAX_CHARS, self.max_value))
        cut = buf.rfind("],", start, window)
        if cut > start:
            balance = _balance(buf, start, cut + 1)
            if balance == -1:  # the "]," after the data array: cut after its last row
                last = len(buf[start:cut].rstrip(_WS)) + start - 1
                if last > start and buf[last] == "]":
                    cut, balance = last, 0
            for _ in range(64):
                if balance == 0:
                    break
                prev = buf.rfind("],", start, cut)
                if prev <= start:
                    break
                balance -= _balance(buf, prev + 1, cut + 1)
                cut = prev
            if balance == 0:
                self.pos = cut + 1
                return Slab(buf[start : cut + 1], None, self, start, first_row)
        cut = _row_end(buf, start, window)  # brackets in strings (or no "],"): count outside
        if cut > start:
            self.pos = cut + 1
            return Slab(buf[start : cut + 1], None, self, start, first_row)
        self.rowwise_left = ROWWISE_AFTER_MISS
        return Slab(None, [self.located_value(first_row)])

    def located_value(self, row: int) -> Any:
        """The next value (a row), its limit errors naming the row."""
        try:
            return self.value()
        except LimitError as e:
            raise e.located(row=row) from None

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
    header, slabs = read_table_json_slabs(path, header_only=header_only)
    return header, (slab.rows() for slab in slabs)


def read_table_json_slabs(
    path: Path, *, header_only: bool = False
) -> tuple[TableHeader, Iterator[Slab]]:
    """Like :func:`read_table_json`, but the iterator yields :class:`Slab` s of rows not parsed
    yet (each must be used before asking for the next)."""
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

    def slabs() -> Iterator[Slab]:
        done = 0
        try:
            if header_only:
                return
            r.expect("[", "'[' starting the 'data' array")
            if r.peek() == "]":
                r.pos += 1
            else:
                while True:
                    slab = r.slab(done)
                    header.bytes_read = r.bytes_read
                    yield slab
                    done += slab.num_rows if slab.num_rows is not None else len(slab.rows())
                    if r.expect(",]", "',' or ']' between rows") == "]":
                        break
            if r.expect(",}", "',' or '}' after 'data'") == ",":
                _read_keys(r, header, stop_at_data=False)
            if r.peek():
                raise r.error("extra text after the table")
        finally:
            r.close()

    return header, slabs()


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
