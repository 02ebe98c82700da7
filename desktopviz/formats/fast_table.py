"""Rows of a table.json converted in C, without a Python object per cell.

A :class:`~desktopviz.formats.table_json.Slab` (the text ``row, row, ...`` of whole rows) is
indexed with numpy: quotes (less those escaped by backslashes) give the strings, brackets and
commas outside strings give each row's cells. Each row ``[c0, c1, ...]`` is rewritten in place as
the JSON object ``{"0":c0,"1":c1,...}`` on a line of its own, which pyarrow's JSON reader parses
into typed columns. A column becomes an Arrow array only where that gives exactly what
:class:`~desktopviz.formats.cells.BatchConverter` gives from the same cells (see
:meth:`BatchConverter.fast_type`); other columns (media, mixed types, dicts whose keys differ,
integers beyond 2**53 among floats, NaN...) are converted from Python objects as before, and a
slab the index or the reader cannot take (a row that is not a list, a control character in a
string, nesting past the depth limit, JSON that pyarrow refuses) goes the Python way whole,
errors included.
"""

from __future__ import annotations

import os
import re
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pyarrow as pa

from desktopviz.formats.cells import BatchConverter
from desktopviz.formats.jsonio import max_json_depth
from desktopviz.formats.table_json import Slab, escaped_quotes

HALVES_FROM = 1 << 18
"""Slabs (with their keys) longer than this are parsed in two threads, half of the rows each."""
_pool: ThreadPoolExecutor | None = None

GIVE_UP_AFTER = 4
"""Slabs in a row the fast path could not take before it stops trying for the table."""

_QUOTE, _OPEN, _OPEN_OBJ, _CLOSE, _CLOSE_OBJ, _COMMA, _COLON, _CONTROL = range(1, 9)
_CLASS = np.zeros(256, np.uint8)
_CLASS[:32] = _CONTROL  # (tabs and newlines between values become spaces: a row per line)
_WHITESPACE = np.array([9, 10, 13], np.uint8)
for _ch, _cls in zip(b'"[{]},:', range(1, 8), strict=True):
    _CLASS[_ch] = _cls
_CLASS_BYTES = _CLASS.tobytes()
_DELTA = np.zeros(9, np.int8)
_DELTA[[_OPEN, _OPEN_OBJ]] = 1
_DELTA[[_CLOSE, _CLOSE_OBJ]] = -1

_COLUMN = re.compile(r"Column\(/([0-9]+)[/)]")
_MINUS_ZERO = re.compile(rb"-0[,\]}\s]")
"""The integer -0 (0 in Python, -0.0 from pyarrow where it reads a double)."""


def fast_tables_enabled() -> bool:
    """False when ``DESKTOPVIZ_FAST_TABLES=0``: every cell is converted in Python (the same
    Parquet file and descriptors, slower)."""
    return os.environ.get("DESKTOPVIZ_FAST_TABLES", "1") != "0"


class FastTables:
    """Converts slabs for one :class:`BatchConverter` (or says it cannot: ``None``)."""

    def __init__(self, conv: BatchConverter) -> None:
        self.conv = conv
        self.n = len(conv.columns)
        width = len(str(max(self.n - 1, 0)))
        self.keys = [f"{k:0{width}d}" for k in range(self.n)]
        self.key_bytes = np.frombuffer("".join(f'"{k}":' for k in self.keys).encode(), np.uint8)
        self.misses = 0
        self.python: set[int] = set()
        """Columns whose cells pyarrow would not read as one type (converted in Python)."""
        self.buffers: dict[str, np.ndarray] = {}

    def convert(self, slab: Slab, first_row: int) -> pa.RecordBatch | None:
        """The slab's rows as a record batch, or None (nothing changed) to convert them in Python."""
        if slab.text is None or self.n == 0 or self.misses >= GIVE_UP_AFTER:
            return None
        parsed = self._parse(slab.text)
        if parsed is None:
            self.misses += 1
            return None
        self.misses = 0
        table, minus_zero = parsed
        conv = self.conv
        arrays: list[pa.Array | None] = []
        types: list[pa.DataType | None] = []
        for i, (st, key) in enumerate(zip(conv.state, self.keys, strict=True)):
            arr = None if i in self.python else _combined(table.column(key))
            t = None if arr is None else conv.fast_type(st, arr, minus_zero)
            arrays.append(arr if t is not None else None)
            types.append(t)
        rows = None
        if any(a is None for a in arrays):
            rows = slab.rows()
            if len(rows) != table.num_rows:  # Python reads these rows otherwise: follow it
                return None
        out = []
        for i, (st, arr, t) in enumerate(zip(conv.state, arrays, types, strict=True)):
            if arr is None:
                assert rows is not None
                out.append(conv.column([r[i] for r in rows], i, first_row))
            else:
                conv.fast_accept(st, arr, t)
                out.append(arr)
        slab.num_rows = table.num_rows
        return pa.RecordBatch.from_arrays(out, names=[s.name for s in conv.state])

    def _scratch(self, name: str, size: int, dtype: type) -> np.ndarray:
        """A reused buffer of ``size`` items (fresh memory for each slab costs page faults)."""
        buf = self.buffers.get(name)
        if buf is None or len(buf) < size:
            buf = self.buffers[name] = np.empty(size + size // 4, dtype)
        return buf[:size]

    def _insert(self, b: np.ndarray, at: np.ndarray, rows: int) -> np.ndarray:
        """``b`` with the column keys inserted at positions ``at`` (ascending: each row's cell
        starts in turn)."""
        width = len(self.key_bytes) // self.n
        key_at = ((at + width * np.arange(len(at)))[:, None] + np.arange(width)).ravel()
        out = self._scratch("rows", len(b) + len(key_at), np.uint8)
        rest = self._scratch("rest", len(out), np.bool_)
        rest[:] = True
        rest[key_at] = False
        out[key_at] = np.tile(self.key_bytes, rows)
        out[rest] = b
        return out

    def _parse(self, text: str) -> tuple[pa.Table, bool] | None:
        """The rows as a table with one column per key, and whether the integer ``-0`` may be
        in the text; None where the text is not rows of ``n`` cells on one line (or pyarrow
        refuses it)."""
        raw = text.encode()
        b = np.frombuffer(raw, np.uint8)
        classes = np.frombuffer(raw.translate(_CLASS_BYTES), np.uint8)
        pos = np.flatnonzero(classes != 0)
        cls = classes[pos]
        quotes = np.flatnonzero(cls == _QUOTE)
        escaped = escaped_quotes(b, pos[quotes])
        if escaped is not None:
            cls[quotes[escaped]] = 0  # (inside a string: not structural either)
        is_quote = cls == _QUOTE
        inside = np.cumsum(is_quote, dtype=np.int32)
        if len(inside) and inside[-1] % 2:
            return None
        structural = ~is_quote & (inside % 2 == 0)
        control = cls == _CONTROL
        blank = None
        if control.any():  # in a string: not JSON; between values: whitespace or not JSON
            if (control & ~structural).any():
                return None
            blank = pos[control]
            if not np.isin(b[blank], _WHITESPACE).all():
                return None
            structural &= ~control
        pos, cls = pos[structural], cls[structural]
        after = np.cumsum(_DELTA[cls], dtype=np.int64)
        before = after - _DELTA[cls]
        if not len(after) or after.min() < 0 or after[-1] != 0:
            return None
        if after.max() > max_json_depth() + 1:
            return None  # Python says which row is too deep
        top = before == 0
        if not np.all((cls[top] == _OPEN) | (cls[top] == _COMMA)):
            return None
        opens = pos[top & (cls == _OPEN)]
        seps = pos[top & (cls == _COMMA)]
        level1 = before == 1
        closing = level1 & (after == 0)
        if not np.all(cls[closing] == _CLOSE) or (level1 & (cls == _COLON)).any():
            return None
        closes = pos[closing]
        rows = len(opens)
        if rows == 0 or len(seps) != rows - 1 or opens[0] != 0 or closes[-1] != len(b) - 1:
            return None
        if rows > 1 and not (np.all(closes[:-1] < seps) and np.all(seps < opens[1:])):
            return None
        if not _gaps_blank(raw, b, closes[:-1], opens[1:]):
            return None
        cells = pos[level1 & (cls == _COMMA)]
        if len(cells) != rows * (self.n - 1):
            return None
        if self.n > 1:
            cells = cells.reshape(rows, self.n - 1)
            if not (np.all(cells[:, 0] > opens) and np.all(cells[:, -1] < closes)):
                return None
        out = self._scratch("text", len(b), np.uint8)
        out[:] = b
        if blank is not None:
            out[blank] = ord(" ")  # rows on one line each
        out[opens] = ord("{")
        out[closes] = ord("}")
        out[seps] = ord("\n")
        starts = np.empty((rows, self.n), np.int64)
        starts[:, 0] = opens + 1
        if self.n > 1:
            starts[:, 1:] = cells + 1
        ends = np.empty((rows, self.n), np.int64)
        ends[:, -1] = closes
        if self.n > 1:
            ends[:, :-1] = cells
        while True:
            if self.python:
                _blank(out, starts[:, sorted(self.python)], ends[:, sorted(self.python)])
            lines = self._insert(out, starts.ravel(), rows)
            # the halves' row between them: after row j, (j + 1) * n keys have been inserted
            j = rows // 2 - 1
            mid = int(seps[j]) + (j + 1) * len(self.key_bytes) if j >= 0 else 0
            try:
                table = _read_halves(lines, mid) if mid > HALVES_FROM else _read(lines)
                break
            except (pa.ArrowInvalid, pa.ArrowNotImplementedError) as e:
                # a column whose cells differ in type: Python converts it, pyarrow reads the rest
                bad = _COLUMN.search(str(e))
                k = self.keys.index(bad[1]) if bad and bad[1] in self.keys else None
                if k is None or k in self.python:
                    return None
                self.python.add(k)
        if table.num_rows != rows or table.column_names != self.keys:
            return None
        return table, b"-0" in raw and _MINUS_ZERO.search(raw) is not None


def _read(lines: np.ndarray) -> pa.Table:
    import pyarrow.json as pj

    options = pj.ReadOptions(use_threads=False, block_size=len(lines) + 1)
    return pj.read_json(pa.py_buffer(lines), read_options=options)


def _read_halves(lines: np.ndarray, mid: int) -> pa.Table:
    """:func:`_read` in two threads, each half of the rows: the same table where the halves
    come out with one schema (else read whole)."""
    global _pool
    if _pool is None:
        _pool = ThreadPoolExecutor(1, thread_name_prefix="table-json")
    first = _pool.submit(_read, lines[:mid])
    try:
        second = _read(lines[mid + 1 :])
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
        if not first.cancel():
            first.exception()  # (waits: the buffer is reused for the next slab)
        return _read(lines)
    try:
        head = first.result()
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
        return _read(lines)
    if head.schema != second.schema:
        return _read(lines)
    return pa.concat_tables([head, second])


def _blank(b: np.ndarray, starts: np.ndarray, ends: np.ndarray) -> None:
    """Cells from ``starts`` to ``ends`` (exclusive) made ``0`` and spaces (so they parse alone)."""
    starts, ends = starts.ravel(), ends.ravel()
    mark = np.zeros(len(b) + 1, np.int8)
    np.add.at(mark, starts, 1)
    np.add.at(mark, ends, -1)
    b[np.cumsum(mark[:-1], dtype=np.int32) > 0] = ord(" ")
    b[starts] = ord("0")


def _gaps_blank(raw: bytes, b: np.ndarray, ends: np.ndarray, starts: np.ndarray) -> bool:
    """True when only a comma and whitespace lie between each row's end and the next row."""
    gap = starts - ends - 1
    one, two = gap == 1, gap == 2
    first = b[ends[one | two] + 1]
    if not np.all((first == 44) | ((first == 32) & two[one | two])):
        return False
    e2 = ends[two]
    second = b[e2 + 2]
    if not np.all(((b[e2 + 1] == 44) != (second == 44)) & ((second == 44) | (second == 32))):
        return False
    for e, s in zip(ends[~(one | two)].tolist(), starts[~(one | two)].tolist(), strict=True):
        if raw[e + 1 : s].strip(b" \t\r\n") != b",":
            return False
    return True


def _combined(column: pa.ChunkedArray) -> pa.Array | None:
    """The column as one array, or None where pyarrow cannot join its chunks (a column of nulls
    beside lists of nulls once gave "array slice would exceed array length"): Python takes it."""
    try:
        return column.combine_chunks()
    except pa.ArrowException:
        return None
