"""A stored Parquet table: rows by position (decoding only the row groups that hold them) and
column ranges from its footer."""

from __future__ import annotations

import functools
import threading
from pathlib import Path

import duckdb
import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq


def read_rows(path: Path, offset: int, count: int, columns: list[str]) -> pa.Table:
    """Rows ``offset .. offset+count`` of a Parquet file, reading only the row groups that hold them."""
    starts = _row_group_starts(path)
    first = max(0, int(np.searchsorted(starts, offset, side="right")) - 1)
    last = min(int(np.searchsorted(starts, offset + count, side="left")), len(starts) - 1)
    pf = _parquet_file(path)
    if count <= 0 or offset >= starts[-1]:
        return pf.schema_arrow.empty_table().select(columns)
    table = pf.read_row_groups(list(range(first, last)), columns=columns)
    return table.slice(offset - int(starts[first]), count)


DECODED_GROUPS = 4
"""Rows spread over more row groups than this are fetched by DuckDB, which decodes only the pages
that hold them (decoding whole groups of a sorted page's scattered rows is ~8x slower)."""


def fetch_rows(path: Path, positions: np.ndarray, columns: list[str]) -> pa.Table:
    """The rows at ``positions`` (file row numbers, any order, repeats allowed), in that order."""
    pf = _parquet_file(path)
    if len(positions) == 0:
        return pf.schema_arrow.empty_table().select(columns)
    positions = np.asarray(positions, dtype=np.int64)
    starts = _row_group_starts(path)
    groups = np.searchsorted(starts, positions, side="right") - 1
    needed = np.unique(groups)
    if len(needed) > DECODED_GROUPS:
        return _fetch_scattered(path, positions, columns)
    table = pf.read_row_groups(needed.tolist(), columns=columns)
    sizes = starts[needed + 1] - starts[needed]
    base = np.concatenate([[0], np.cumsum(sizes)[:-1]])
    index = base[np.searchsorted(needed, groups)] + (positions - starts[groups])
    return table.take(pa.array(index))


_local = threading.local()


def _fetch_scattered(path: Path, positions: np.ndarray, columns: list[str]) -> pa.Table:
    """Rows at scattered ``positions`` through DuckDB's row-number filter, in ``positions`` order
    and with the file's own Arrow types."""
    wanted = np.unique(positions)
    cols = ", ".join('"' + c.replace('"', '""') + '"' for c in columns)
    source = "'" + str(path).replace("'", "''") + "'"
    found = (
        _connection(_folder(path))
        .sql(
            f"SELECT {cols + ', ' if cols else ''}file_row_number AS __pos "
            f"FROM read_parquet({source}, file_row_number = true) "
            "WHERE file_row_number = ANY($1::BIGINT[])",
            params=[wanted.tolist()],
        )
        .to_arrow_table()
    )
    got = found.column("__pos").to_numpy()
    order = np.argsort(got, kind="stable")
    index = order[np.searchsorted(got[order], positions)]
    table = found.select(columns).take(pa.array(index))
    try:
        schema = _parquet_file(path).schema_arrow
        return table.cast(pa.schema([schema.field(c) for c in columns]))
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
        return table


def _folder(path: Path) -> Path:
    """The folder whose files a page's connection may read: the cache's ``derived/`` folder
    holding ``path`` (one connection serves all its tables), else ``path``'s own folder."""
    for parent in path.parents:
        if parent.name == "derived":
            return parent
    return path.parent


def _connection(folder: Path) -> duckdb.DuckDBPyConnection:
    """This thread's DuckDB connection for reading the Parquet files of ``folder`` (and no other
    file): no spilling (DuckDB's default spill folder is ./.tmp in the working directory), a
    small memory budget."""
    from desktopviz.sandbox import sandboxed

    cons: dict[Path, duckdb.DuckDBPyConnection] = _local.__dict__.setdefault("cons", {})
    con = cons.pop(folder, None)
    if con is None:
        if len(cons) >= PAGE_CONNECTIONS:  # the one used longest ago goes
            cons.pop(next(iter(cons))).close()
        con = sandboxed(
            [folder], {"temp_directory": "", "memory_limit": "1GB", "enable_progress_bar": False}
        )
    cons[folder] = con  # the most recently used last
    return con


PAGE_CONNECTIONS = 4
"""Caches a thread keeps a page connection for (one is made in about 50 ms)."""


def column_ranges(path: Path, columns: list[str]) -> dict[str, tuple[float, float] | None]:
    """Each numeric top-level column's (min, max) from the row groups' statistics (NaN left out,
    as Parquet writers do); None where the footer cannot say."""
    md = _parquet_file(path).metadata
    index = {md.schema.column(i).path: i for i in range(md.num_columns)}
    return {name: _range(md, index[name]) if name in index else None for name in columns}


def _range(md: pq.FileMetaData, column: int) -> tuple[float, float] | None:
    lo = hi = None
    for g in range(md.num_row_groups):
        chunk = md.row_group(g).column(column)
        stats = chunk.statistics
        if stats is not None and stats.has_null_count and stats.null_count == chunk.num_values:
            continue  # only nulls in this group
        if stats is None or not stats.has_min_max or isinstance(stats.min, (str, bytes)):
            return None
        lo = stats.min if lo is None else min(lo, stats.min)
        hi = stats.max if hi is None else max(hi, stats.max)
    return None if lo is None else (float(lo), float(hi))


@functools.lru_cache(maxsize=64)
def _row_group_starts(path: Path) -> np.ndarray:
    """The first row of each row group, and the row count last (cache tables are immutable)."""
    md = _parquet_file(path).metadata
    sizes = [md.row_group(i).num_rows for i in range(md.num_row_groups)]
    return np.concatenate([[0], np.cumsum(sizes, dtype=np.int64)]).astype(np.int64)


@functools.lru_cache(maxsize=64)
def _parquet_file(path: Path) -> pq.ParquetFile:
    return pq.ParquetFile(path)
