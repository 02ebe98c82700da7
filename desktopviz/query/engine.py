"""Run query specs on a cache's Parquet tables with DuckDB; page through results by position.

A filtered or sorted result is kept as the ordered list of source row numbers (a DuckDB temp
table), so fetching rows 9,999,000.. costs one indexed lookup, not a re-sort.
"""

from __future__ import annotations

import json
import os
import threading
import time
import weakref
from collections import OrderedDict, deque
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Generic, TypeVar

import duckdb
import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from desktopviz.errors import Cancelled, DesktopvizError
from desktopviz.model import TableInfo, Version
from desktopviz.progress import CancelFn, check_cancel
from desktopviz.query.charts import bin_sql
from desktopviz.query.comparison import ComparisonSchema, Role
from desktopviz.query.expr import ExprError
from desktopviz.query.expr import Path as PathNode
from desktopviz.query.parquet_file import column_ranges, fetch_rows, read_rows
from desktopviz.query.spec import QuerySpec, parse_filter
from desktopviz.query.sql import JSON, MACROS, Column, Compiler, is_numeric, quote
from desktopviz.sandbox import sandboxed
from desktopviz.store.cache import Cache

if TYPE_CHECKING:
    from desktopviz.query.compare import PairsPlan


@dataclass(frozen=True)
class TableSource:
    """A materialised table: its Parquet file, Arrow schema and column kinds."""

    version: Version
    info: TableInfo
    parquet: Path
    schema: pa.Schema
    kinds: dict[str, str]

    def columns(self) -> dict[str, Column]:
        """Columns a filter can name."""
        return {
            f.name: Column(quote(f.name), f.type, self.kinds.get(f.name, "plain"))
            for f in self.schema
        }


def open_source(cache: Cache, version: Version, table: str | None) -> TableSource:
    """The table ``table`` (path or name) of ``version``."""
    info = cache.table_info(version, table)
    path = cache.parquet_path(info)
    kinds = {d["name"]: d.get("kind", "plain") for d in json.loads(info.schema)["columns"]}
    return TableSource(version, info, path, pq.read_schema(path), kinds)


def connect(cache: Cache) -> duckdb.DuckDBPyConnection:
    """A DuckDB connection that reads only the cache's tables, spills to the cache's temp folder
    within a memory limit, and cannot be changed afterwards (see :func:`sandboxed`)."""
    spill = cache.tmp_dir / "duckdb"
    spill.mkdir(parents=True, exist_ok=True)
    limit = os.environ.get("DESKTOPVIZ_QUERY_MEMORY", DEFAULT_QUERY_MEMORY)
    return sandboxed(
        [cache.derived_dir, cache.tmp_dir],
        {
            "memory_limit": _memory_limit(limit),
            "temp_directory": str(spill),
            "preserve_insertion_order": True,
            # DuckDB's own bar goes to stdout (into a command's rows): our callers show progress
            "enable_progress_bar": False,
        },
        MACROS,
    )


DEFAULT_QUERY_MEMORY = "min(25%, 2GB)"
"""DuckDB's memory limit unless ``DESKTOPVIZ_QUERY_MEMORY`` says otherwise (``4GB``, ``50%``,
``min(25%, 2GB)``). Beyond it DuckDB spills to the cache's temp folder. At 10M rows with a list of
boxes per row the engine's peak RSS is 2.4 GB with it (1.9x the table's Arrow size) against
5.4 GB under a 60% limit, at the same speed."""


def _query_error(e: duckdb.Error) -> DesktopvizError:
    """Our error for a failed DuckDB statement (an interrupted one is :class:`Cancelled`)."""
    if isinstance(e, duckdb.InterruptException):
        return Cancelled("query cancelled")
    return DesktopvizError(f"query failed: {str(e).splitlines()[0]}")


def _memory_limit(text: str) -> str:
    """DuckDB's setting for ``text``: ``2GB`` as it is, ``25%`` of this machine's memory, or the
    smallest of several: ``min(25%, 2GB)``."""
    text = text.strip()
    if text.startswith("min(") and text.endswith(")"):
        sizes = [_megabytes(_memory_limit(part)) for part in text[4:-1].split(",")]
        return f"{min(sizes)}MB"
    if text.endswith("%"):
        total = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
        return f"{int(total * float(text[:-1]) / 100 / 2**20)}MB"
    return text


def _megabytes(size: str) -> int:
    """``2GB`` / ``512MB`` / ``1.5GiB`` in MB."""
    number = size.rstrip("BbIiKkMmGgTt ")
    unit = size[len(number) :].strip().upper().replace("I", "")
    scale = {"": 1 / 2**20, "B": 1 / 2**20, "KB": 1 / 1024, "MB": 1, "GB": 1024, "TB": 2**20}
    try:
        return int(float(number) * scale[unit])
    except (KeyError, ValueError):
        raise DesktopvizError(
            f"DESKTOPVIZ_QUERY_MEMORY: cannot read the size {size!r} (write 2GB, 512MB or 25%)"
        ) from None


TOP_ROWS = 10_000
"""Pages within the first TOP_ROWS rows of a sorted or filtered result use a top-N query."""
TEMP_PREFIX = "__result_"
"""The names of the engine's temp tables start with it."""
TOP_BLOCK = 2_048
"""Rows a sorted result's first top-N keeps (the first screens; it costs about what one page
would: the scan, not the rows kept, is the cost)."""


@dataclass
class Relation:
    """What a result reads from: a Parquet scan or a temp table, with a row-position column."""

    sql: str
    row_col: str
    columns: dict[int, dict[str, Column]]
    names: list[str]
    num_rows: int
    kinds: dict[str, str]
    schema_json: str = ""
    contiguous: bool = True
    """True when ``row_col`` numbers the rows 0..n-1 in order (a page is a range of it)."""
    pairs: PairsPlan | None = None
    """For a comparison joined on a key or row position: its narrow pairs table."""
    parquet: Path | None = None
    """The Parquet file when the relation is one table as it is stored (pages read row groups)."""
    comparison: ComparisonSchema = None  # type: ignore[assignment]  # made plain below
    """What each column is (a side's value, a delta, a mark...); plain when none is given."""

    def __post_init__(self) -> None:
        if self.comparison is None:
            self.comparison = ComparisonSchema.plain(self.names)

    def types(self) -> dict[str, pa.DataType]:
        """The Arrow type of each output column (``names``)."""
        by_sql = {col.sql: col.type for side in self.columns.values() for col in side.values()}
        return {n: by_sql[quote(n)] for n in self.names if quote(n) in by_sql}


def parquet_relation(source: TableSource) -> Relation:
    """A table's Parquet file, rows numbered by their position in the file."""
    return Relation(
        f"read_parquet({_lit(source.parquet)}, file_row_number = true)",
        "file_row_number",
        {0: source.columns()},
        [f.name for f in source.schema],
        source.info.num_rows,
        dict(source.kinds),
        source.info.schema,
        parquet=source.parquet,
    )


class Result:
    """The rows a spec selects, addressable by position."""

    def __init__(self, engine: QueryEngine, relation: Relation, spec: QuerySpec) -> None:
        self.engine, self.relation, self.spec = engine, relation, spec
        self._scan, self._row = relation.sql, relation.row_col
        self.columns = list(spec.select) if spec.select else list(relation.names)
        for name in self.columns:
            if name not in relation.names:
                raise ExprError(f"unknown column {name!r} in the selection")
        self.comparison = relation.comparison.over(self.columns)
        """What each of ``columns`` is (see :mod:`desktopviz.query.comparison`)."""
        comp = Compiler(relation.columns)
        where = [comp.predicate(parse_filter(f)) for f in spec.filters]
        only = spec.compare.only if spec.compare else None
        if only:
            where.append(_ONLY[only])
        where_params = len(comp.params)
        order = []
        for key in spec.sort:
            if key.column in relation.names:
                expr = quote(key.column)
            else:
                path = comp.compile(PathNode(tuple(key.column.split("."))), {})
                # a JSON value sorts numbers by value, then strings, ...
                expr = f"__dv_sortkey({path.sql})" if path.type == JSON else path.sql
            order.append(f"{expr} {'DESC' if key.descending else 'ASC'} NULLS LAST")
        self.kinds = dict(relation.kinds)
        # parameters of the filters, then of the sort keys (a path into a map or into JSON)
        self._params = comp.params[:where_params]
        self._sorted_params = list(comp.params)
        self._where = " AND ".join(where) or None
        self._order = order
        self._table: str | None = None
        self._top: np.ndarray | None = None
        self._top_asked = 0
        # a comparison that is only paged (or quick-filtered) reads its narrow pairs table
        self._pairs = relation.pairs if not spec.filters and not order else None
        self.num_rows = self._count()

    def _count(self) -> int:
        if self._pairs is not None:
            cond = self._pairs.condition(self.spec.compare.only if self.spec.compare else None)
            n = self.engine.fetch_one(
                f"SELECT count(*) FROM {self._pairs.build(self.engine)} WHERE {cond}", []
            )
        elif self._where is None and self.relation.num_rows >= 0:
            n = self.relation.num_rows
        else:  # a count needs no sort
            where = f"WHERE {self._where}" if self._where else ""
            n = self.engine.fetch_one(f"SELECT count(*) FROM {self._scan} {where}", self._params)
        return n if self.spec.limit is None else min(n, self.spec.limit)

    def _materialize(self) -> None:
        """Keep the result's order in a temp table whose ``rowid`` is the position, so that a page
        is a rowid range DuckDB finds without reading the rest (large results spill to disk).

        For a stored table only the source row numbers are kept (a narrow sort: the rows are
        fetched by position per page); any other relation keeps its rows themselves."""
        if self._table is not None:
            return
        name = self.engine.temp_name()
        where = f"WHERE {self._where}" if self._where else ""
        order = ", ".join(self._order + [self._row])
        limit = f"LIMIT {int(self.spec.limit)}" if self.spec.limit is not None else ""
        if self.relation.parquet is not None:
            cols = f"{self._row} AS __src"
        else:
            cols = ", ".join(quote(c) for c in self.relation.names)
        self.engine.execute(
            f"CREATE TABLE {name} AS SELECT {cols} FROM {self._scan} {where} ORDER BY {order} {limit}",
            self._sorted_params,
        )
        self._keep_table(name)

    def _keep_table(self, name: str) -> None:
        """Keep the temp table ``name`` as the result's order, dropped with the result."""
        self._table = name
        self._dropper = self.engine.drop_with(self, name)

    def _source_rows(self, offset: int, count: int) -> np.ndarray:
        """The stored table's row numbers at result positions ``offset .. offset+count``."""
        if self._table is None and offset + count <= TOP_ROWS:
            if self._order:  # a top-N scans the whole table: one scan serves the first screens
                return self._top_rows(offset + count)[offset : offset + count]
            where = f"WHERE {self._where}" if self._where else ""
            # unsorted, the scan's own order is the result's (insertion order is preserved), and
            # a LIMIT without ORDER BY stops reading at the page instead of scanning the table
            sql = (
                f"SELECT {self._row} FROM {self._scan} {where} "
                f"LIMIT {int(count)} OFFSET {int(offset)}"
            )
            params = self._params
        else:
            self._materialize()
            sql = f"SELECT __src FROM {self._table} WHERE rowid >= ? AND rowid < ? ORDER BY rowid"
            params = [offset, offset + count]
        return self.engine.arrow(sql, params).column(0).to_numpy()

    def _top_rows(self, end: int) -> np.ndarray:
        """The source row numbers of the sorted result's first rows, at least up to ``end``:
        a top-N of ``TOP_BLOCK`` rows (or more, doubling) kept for the pages within it."""
        top = self._top
        if top is not None and (len(top) >= end or len(top) < self._top_asked):
            return top  # it reaches ``end``, or it is the whole result
        asked = min(TOP_ROWS, max(TOP_BLOCK, end, 2 * len(top) if top is not None else 0))
        where = f"WHERE {self._where}" if self._where else ""
        order = ", ".join(self._order + [self._row])
        top = (
            self.engine.arrow(
                f"SELECT {self._row} FROM {self._scan} {where} ORDER BY {order} LIMIT {asked}",
                self._sorted_params,
            )
            .column(0)
            .to_numpy()
        )
        self._top, self._top_asked = top, asked
        return top

    def rows(self, offset: int, count: int, columns: list[str] | None = None) -> pa.Table:
        """Rows ``offset .. offset+count`` of the result as Arrow.

        Any window costs about the same: a stored table is read by row group (unfiltered) or by
        the row numbers of the result's positions (a narrow top-N for the first screens, then a
        kept order); other relations page through a materialised copy.
        """
        offset = max(0, offset)
        count = max(0, min(count, self.num_rows - offset))
        names = columns or self.columns
        cols = ", ".join(f"t.{quote(c)}" for c in names)
        row = self._row
        if self._pairs is not None:
            pairs, only = self._pairs, self.spec.compare.only if self.spec.compare else None
            kept = pairs.ordered if only is None and self.spec.limit is None else self._table
            if kept is None and offset + count <= TOP_ROWS:
                # the first screens: a top-N over the pairs (about 0.1 s at 10M pairs), not the
                # copy in result order that deeper pages read (about 0.6 s to build)
                page = self.engine.arrow(
                    f"SELECT __p0, __p1, __m FROM {pairs.build(self.engine)} "
                    f"WHERE {pairs.condition(only)} ORDER BY __o LIMIT {int(count)} OFFSET {int(offset)}",
                    [],
                )
            else:
                page = self.engine.arrow(
                    f"SELECT __p0, __p1, __m FROM {self._pairs_in_order()} "
                    "WHERE rowid >= ? AND rowid < ? ORDER BY rowid",
                    [offset, offset + count],
                )
            return pairs.assemble(page, names)
        if count == 0:
            return self.engine.arrow(f"SELECT {cols} FROM {self._scan} t LIMIT 0", [])
        parquet = self.relation.parquet
        if parquet is not None and self._where is None and not self._order:
            return read_rows(parquet, offset, count, names)
        if parquet is not None:
            return fetch_rows(parquet, self._source_rows(offset, count), names)
        if self._where is None and not self._order and self.relation.contiguous:
            return self.engine.arrow(
                f"SELECT {cols} FROM {self._scan} t WHERE {row} >= ? AND {row} < ? ORDER BY {row}",
                [offset, offset + count],
            )
        if self._table is None and offset + count <= TOP_ROWS:
            where = f"WHERE {self._where}" if self._where else ""
            order = ", ".join(self._order + [row])
            return self.engine.arrow(
                f"SELECT {cols} FROM {self._scan} t {where} ORDER BY {order} "
                f"LIMIT {int(count)} OFFSET {int(offset)}",
                self._sorted_params,
            )
        self._materialize()
        return self.engine.arrow(
            f"SELECT {cols} FROM {self._table} t WHERE rowid >= ? AND rowid < ? ORDER BY rowid",
            [offset, offset + count],
        )

    def _pairs_in_order(self) -> str:
        """The comparison's pairs in result order, quick filter applied (``rowid`` = position)."""
        assert self._pairs is not None
        ordered = self._pairs.build(self.engine, ordered=True)
        only = self.spec.compare.only if self.spec.compare else None
        if only is None and self.spec.limit is None:
            return ordered
        if self._table is None:
            name = self.engine.temp_name()
            limit = f"LIMIT {int(self.spec.limit)}" if self.spec.limit is not None else ""
            self.engine.execute(
                f"CREATE TABLE {name} AS SELECT __p0, __p1, __m FROM {ordered} "
                f"WHERE {self._pairs.condition(only)} ORDER BY rowid {limit}",
                [],
            )
            self._keep_table(name)
        return self._table

    def batches(
        self, columns: list[str] | None = None, batch_rows: int = 65536
    ) -> Iterator[pa.RecordBatch]:
        """The whole result as a stream of record batches (one query, for export)."""
        names = columns or self.columns
        if self._pairs is not None:
            for offset in range(0, max(self.num_rows, 1), batch_rows):
                yield from self.rows(offset, batch_rows, names).to_batches()
            return
        if self.num_rows == 0:
            yield from self.rows(0, 0, names).to_batches()
            return
        cols = ", ".join(f"t.{quote(c)}" for c in names)
        where = f"WHERE {self._where}" if self._where else ""
        order = ", ".join(self._order + [self._row])
        limit = f"LIMIT {int(self.spec.limit)}" if self.spec.limit is not None else ""
        yield from self.engine.stream(
            f"SELECT {cols} FROM {self._scan} t {where} ORDER BY {order} {limit}",
            self._sorted_params,
            batch_rows,
        )

    def to_arrow(self) -> pa.Table:
        """The whole result (mind its size)."""
        schema = self.rows(0, 0).schema
        return pa.Table.from_batches(list(self.batches()), schema=schema)

    def where_sql(self) -> str:
        """``WHERE ...`` of the result's filters ("" when there are none), over ``relation.sql``."""
        return f"WHERE {self._where}" if self._where else ""

    def params(self) -> list[Any]:
        """The values :meth:`where_sql` binds."""
        return list(self._params)

    def explain(self) -> str:
        """The SQL the result runs, with its parameters."""
        where = f" WHERE {self._where}" if self._where else ""
        order = f" ORDER BY {', '.join(self._order)}" if self._order else ""
        return f"SELECT * FROM {self._scan}{where}{order}\n-- parameters: {self._sorted_params!r}"

    def close(self) -> None:
        """Drop the result's temp table (a later page makes it again)."""
        if self._table is not None:
            self._dropper.detach()
            self.engine.execute(f"DROP TABLE IF EXISTS {self._table}", [])
            self._table = None


_ONLY = {
    "both": "__status = 'both'",
    "only_0": "__status = 'only_0'",
    "only_1": "__status = 'only_1'",
    "changed": "__changed",
}


class GroupResult(Result):
    """One row per group: count, per numeric column min/mean/max and a histogram whose bins are
    shared by every group (and by both sides when comparing), top values of strings, the first
    media items of media columns."""

    def __init__(self, engine: QueryEngine, relation: Relation, spec: QuerySpec) -> None:
        assert spec.group is not None
        g = spec.group
        wcomp, kcomp = Compiler(relation.columns), Compiler(relation.columns)
        where = [wcomp.predicate(parse_filter(f)) for f in spec.filters]
        if spec.compare and spec.compare.only:
            where.append(_ONLY[spec.compare.only])
        where_sql = f"WHERE {' AND '.join(where)}" if where else ""
        keys = []
        by_names: set[str] = set()
        for by in g.by:
            side0 = relation.columns[0].get(by)  # in a comparison a key names side 0's column
            if by in relation.names or side0 is not None:
                sql = quote(by) if by in relation.names else side0.sql  # type: ignore[union-attr]
                by_names.add(next((n for n in relation.names if quote(n) == sql), by))
            else:
                sql = kcomp.compile(parse_filter(by), {}).sql
            by_names.add(by)
            keys.append((by, sql))
        types = relation.types()
        self.bins: dict[str, tuple[float, float, int]] = {}
        schema = relation.comparison
        # a comparison's marks, status and side are not summarised
        shown = [n for n in relation.names if n not in by_names and not schema.column(n).tag]
        numeric = [n for n in shown if n in types and is_numeric(types[n])]
        if numeric:
            # unfiltered, a stored table's footer knows each column's range: no extra pass
            ranges: dict[str, tuple[float, float] | None] = {}
            if relation.parquet is not None and not where:
                ranges = column_ranges(relation.parquet, numeric)
            missing = [n for n in numeric if ranges.get(n) is None]
            if missing:
                found = engine.arrow(
                    "SELECT "
                    + ", ".join(
                        f"min({_finite(n, types[n])}) AS {quote('lo:' + n)}, max({_finite(n, types[n])}) AS {quote('hi:' + n)}"
                        for n in missing
                    )
                    + f" FROM {relation.sql} {where_sql}",
                    wcomp.params,
                ).to_pylist()[0]
                for n in missing:
                    lo, hi = found[f"lo:{n}"], found[f"hi:{n}"]
                    ranges[n] = None if lo is None else (float(lo), float(hi))
            # both sides' values of a column share their bins (a delta has its own)
            shared: dict[tuple[Role, str], tuple[float, float]] = {}
            for n in numeric:
                found_range = ranges.get(n)
                if found_range is None:
                    continue
                lo, hi = found_range
                old = shared.get(_bin_key(schema, n))
                shared[_bin_key(schema, n)] = (
                    (min(lo, old[0]), max(hi, old[1])) if old else (lo, hi)
                )
            for n in numeric:
                if _bin_key(schema, n) in shared:
                    self.bins[n] = (*shared[_bin_key(schema, n)], g.bins)
        # aggregates in an inner query, shaped into per-column structs outside it (an aggregate
        # inside a lambda would be evaluated once per bin)
        inner = ["count(*) AS count"]
        outer = ["count"]
        for i, n in enumerate(numeric):
            q, v = quote(n), _finite(n, types[n])
            inner += [f"min({v}) AS __mn{i}", f"avg({v}) AS __av{i}", f"max({v}) AS __mx{i}"]
            fields = [f"min := __mn{i}", f"mean := __av{i}", f"max := __mx{i}"]
            if n in self.bins:
                lo, hi, b = self.bins[n]
                width = (hi - lo) / b if hi > lo else 1.0
                bucket = bin_sql(v, lo, width, b)
                inner.append(f"histogram({bucket}) AS __h{i}")
                fields.append(
                    f"histogram := list_transform(range({b}), lambda __i: coalesce(__h{i}[__i], 0))"
                )
            outer.append(f"struct_pack({', '.join(fields)}) AS {q}")
        for n in shown:
            if n in numeric:
                continue
            t = types.get(n)
            kind = relation.kinds.get(n, "plain")
            if kind == "media":
                inner.append(
                    f"min_by({quote(n)}, {relation.row_col}, {int(g.media_items)}) AS {quote(n)}"
                )
                outer.append(quote(n))
            elif (
                kind == "plain"
                and t is not None
                and (pa.types.is_string(t) or pa.types.is_boolean(t))
            ):
                inner.append(f"approx_top_k({quote(n)}, {int(g.top_values)}) AS {quote(n)}")
                outer.append(quote(n))
        key_sql = ", ".join(f"{sql} AS {quote(by)}" for by, sql in keys)
        key_names = ", ".join(quote(by) for by, _ in keys)
        order = ", ".join(f"{quote(by)} NULLS LAST" for by, _ in keys)
        self.table = engine.arrow(
            f"SELECT {key_names}, {', '.join(outer)} FROM (SELECT {key_sql}, {', '.join(inner)} "
            f"FROM {relation.sql} {where_sql} GROUP BY ALL) ORDER BY {order}",
            kcomp.params + wcomp.params,
        )
        self.engine, self.relation, self.spec = engine, relation, spec
        if spec.sort:
            for key in spec.sort:
                if key.column not in self.table.column_names:
                    raise ExprError(
                        f"cannot sort groups by {key.column!r} (columns: {', '.join(self.table.column_names)})"
                    )
            self.table = self.table.sort_by(
                [(k.column, "descending" if k.descending else "ascending") for k in spec.sort],
                null_placement="at_end",
            )
        if spec.limit is not None:
            self.table = self.table.slice(0, spec.limit)
        self.kinds = {
            n: "media_list" for n in self.table.column_names if relation.kinds.get(n) == "media"
        }
        self.columns = self.table.column_names
        self.comparison = relation.comparison.over(self.columns)
        self.num_rows = self.table.num_rows
        self._table = None

    def rows(self, offset: int, count: int, columns: list[str] | None = None) -> pa.Table:
        page = self.table.slice(max(0, offset), max(0, count))
        return page.select(columns) if columns else page

    def batches(
        self, columns: list[str] | None = None, batch_rows: int = 65536
    ) -> Iterator[pa.RecordBatch]:
        table = self.table.select(columns) if columns else self.table
        yield from table.to_batches(batch_rows)

    def explain(self) -> str:
        return f"group by {', '.join(self.spec.group.by)} over {self.relation.sql}"  # type: ignore[union-attr]


def _bin_key(schema: ComparisonSchema, name: str) -> tuple[Role, str]:
    """Columns whose histograms share bins: a column's values on both sides."""
    column = schema.column(name)
    return column.role, column.base


def _finite(name: str, t: pa.DataType) -> str:
    """The column with NaN read as null (NaN would win every max and spoil every mean)."""
    return f"nullif({quote(name)}, 'NaN'::DOUBLE)" if pa.types.is_floating(t) else quote(name)


def _kv(part: str) -> str:
    expr, _, name = part.rpartition(" AS ")
    return f"{name} := {expr}"


RESULTS_KEPT = 32
"""Results the engine keeps for reuse: the most recently asked for (a live filter count, a
brush count, a sort). Older ones are let go; their temp tables (a kept order) are dropped once
nothing else holds them either: a result a table shows stays until the table lets it go."""
RELATIONS_KEPT = 4
"""Comparisons kept for reuse (their pairs tables), likewise."""

K = TypeVar("K")
V = TypeVar("V")


class Kept(Generic[K, V]):
    """A bounded cache: the ``size`` values used last are held (least recently used first out);
    a value let go is still found while something else holds it (then it is held again)."""

    def __init__(self, size: int) -> None:
        self.size = max(1, size)
        self.held: OrderedDict[K, V] = OrderedDict()
        self.alive: weakref.WeakValueDictionary[K, V] = weakref.WeakValueDictionary()

    def __len__(self) -> int:
        return len(self.held)

    def __iter__(self) -> Iterator[K]:
        """The keys held (a copy: safe while others use the cache)."""
        return iter(list(self.held))

    def __contains__(self, key: object) -> bool:
        return key in self.held

    def pop(self, key: K) -> V:
        """Forget ``key``'s value (it stays alive while others hold it, but is not found)."""
        self.alive.pop(key, None)
        return self.held.pop(key)

    def get(self, key: K) -> V | None:
        """The value for ``key`` if anyone holds it (the order of use unchanged: :meth:`keep`
        counts it as used)."""
        found = self.held.get(key)
        return found if found is not None else self.alive.get(key)

    def keep(self, key: K, value: V) -> None:
        """Hold ``value`` as the most recently used; let the least recently used go."""
        self.alive[key] = value
        self.held[key] = value
        self.held.move_to_end(key)
        while len(self.held) > self.size:
            self.held.popitem(last=False)

    def clear(self) -> None:
        self.held.clear()
        self.alive.clear()


CANCEL_POLL = 0.02
"""Seconds between two looks at a job's ``cancel()`` while its statement runs."""
T = TypeVar("T")


class _Running:
    """One statement running on its own cursor (an interrupt reaches it and no other)."""

    def __init__(self, cursor: duckdb.DuckDBPyConnection) -> None:
        self.cursor = cursor
        self.thread = threading.get_ident()
        self._over = threading.Event()
        self._guard = threading.Lock()
        self._watcher: threading.Thread | None = None

    def watch(self, cancel: CancelFn | None) -> None:
        """Interrupt the statement once ``cancel()`` turns true (a helper thread looks every
        :data:`CANCEL_POLL` seconds until :meth:`close`)."""
        if cancel is None:
            return

        def watch() -> None:
            while not self._over.wait(CANCEL_POLL):
                if cancel():
                    self.interrupt()
                    return

        self._watcher = threading.Thread(target=watch, name="desktopviz-cancel", daemon=True)
        self._watcher.start()

    def interrupt(self) -> None:
        """Interrupt until the statement is over, in this thread: DuckDB drops an interrupt that
        arrives before the statement has started executing (a few ms; at most 5 s)."""
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline:
            with self._guard:
                if self._over.is_set():
                    return
                self.cursor.interrupt()
            self._over.wait(0.01)

    def close(self) -> None:
        """The statement is over: stop watching and close the cursor."""
        with self._guard:
            self._over.set()
        if self._watcher is not None:
            self._watcher.join()
        self.cursor.close()


class QueryEngine:
    """Executes specs on one cache; the results used last are kept per (table, spec) (at most
    ``max_results``, see :data:`RESULTS_KEPT`)."""

    def __init__(self, cache: Cache, max_results: int = RESULTS_KEPT) -> None:
        self.cache = cache
        self.con = connect(cache)
        self.lock = threading.RLock()
        self._running: _Running | None = None
        """The statement running now (statements take turns: :attr:`lock`)."""
        self._job = threading.local()
        """``cancel``: the cancel callable of the job this thread runs (see :meth:`cancelling`)."""
        self._results: Kept[tuple[int, str, QuerySpec], Result] = Kept(max_results)
        self._relations: Kept[tuple[Any, ...], Relation] = Kept(RELATIONS_KEPT)
        self._sources: dict[tuple[int, str | None], TableSource] = {}
        self._n = 0
        self._released: deque[str] = deque()
        """Temp tables whose owner is gone, to drop (see :meth:`drop_with`)."""

    def temp_name(self) -> str:
        """A fresh name for a temp table."""
        self._n += 1
        return f"{TEMP_PREFIX}{self._n}"

    def drop_with(self, owner: object, table: str) -> weakref.finalize:
        """Drop the temp table ``table`` once ``owner`` (a result, a comparison) is gone: when
        neither the engine's cache of results nor anyone else (a table on screen) holds it. The
        drop runs at the engine's next :meth:`result` (an owner may go in any thread, at any
        moment). ``detach()`` the returned finalizer when dropping the table yourself."""
        return weakref.finalize(owner, self._released.append, table)

    def _drop_released(self) -> None:
        """Drop the temp tables of results and comparisons that are gone (with the lock held)."""
        while self._released:
            name = self._released.popleft()
            try:
                self.con.execute(f"DROP TABLE IF EXISTS {quote(name)}")
            except duckdb.Error:  # a closed connection: nothing left to drop
                return

    def execute(self, sql: str, params: list[Any], *, cancel: CancelFn | None = None) -> None:
        """Run a statement to completion (see :meth:`cancelling` for ``cancel``)."""
        self._statement(lambda cursor: cursor.execute(sql, params).fetchall(), cancel)

    def fetch_one(self, sql: str, params: list[Any], *, cancel: CancelFn | None = None) -> Any:
        """The single value a query returns."""
        return self._statement(lambda cursor: cursor.execute(sql, params).fetchall(), cancel)[0][0]

    def arrow(self, sql: str, params: list[Any], *, cancel: CancelFn | None = None) -> pa.Table:
        """A query's result as Arrow."""
        return self._statement(
            lambda cursor: cursor.sql(sql, params=params).to_arrow_table(), cancel
        )

    @contextmanager
    def cancelling(self, cancel: CancelFn | None) -> Iterator[None]:
        """Run the statements this thread starts inside the block as one job under ``cancel``
        (the ``cancel`` of :mod:`desktopviz.progress`): once ``cancel()`` turns true the running
        one is interrupted within about :data:`CANCEL_POLL` seconds and no other starts; they
        raise :class:`~desktopviz.errors.Cancelled`. Blocks nest (either one cancels)."""
        outer = self._cancel(None)
        self._job.cancel = _either(cancel, outer)
        try:
            yield
        finally:
            self._job.cancel = outer

    def _cancel(self, cancel: CancelFn | None) -> CancelFn | None:
        """``cancel`` and this thread's job's (:meth:`cancelling`) together."""
        return _either(cancel, getattr(self._job, "cancel", None))

    def interrupt(self) -> bool:
        """Stop the statement running now, from any thread (for :meth:`close`: a job is stopped
        by its ``cancel``, see :meth:`cancelling`); it raises :class:`~desktopviz.errors.Cancelled`.
        Returns at once, True if there was one to stop."""
        running = self._running
        if running is None:
            return False
        threading.Thread(target=running.interrupt, name="desktopviz-interrupt", daemon=True).start()
        return True

    def stream(
        self, sql: str, params: list[Any], batch_rows: int, *, cancel: CancelFn | None = None
    ) -> Iterator[pa.RecordBatch]:
        """A query's result as record batches, read as they are consumed (on its own cursor: other
        statements run meanwhile); ``cancel`` as for :meth:`cancelling`."""
        cancel = self._cancel(cancel)
        with self.lock:
            check_cancel(cancel)
            try:
                running = _Running(self.con.cursor())
            except duckdb.Error as e:
                raise _query_error(e) from e
        running.watch(cancel)
        try:
            try:
                reader = running.cursor.sql(sql, params=params).to_arrow_reader(batch_rows)
                yield from reader
            except duckdb.Error as e:
                raise _query_error(e) from e
            except OSError:  # an interrupt while reading says "INTERRUPT Error" through Arrow
                check_cancel(cancel)
                raise
        finally:
            running.close()

    def _statement(
        self, run: Callable[[duckdb.DuckDBPyConnection], T], cancel: CancelFn | None
    ) -> T:
        """``run(cursor)`` on a cursor of its own, in turn with the other statements, under
        ``cancel`` and the job's (:meth:`cancelling`); DuckDB's errors become ours."""
        cancel = self._cancel(cancel)
        with self.lock:
            check_cancel(cancel)  # cancelled while it waited for its turn: it runs nothing
            running: _Running | None = None
            try:
                running = self._running = _Running(self.con.cursor())
                running.watch(cancel)
                return run(running.cursor)
            except duckdb.Error as e:
                raise _query_error(e) from e
            finally:
                self._running = None
                if running is not None:
                    running.close()

    def result(
        self,
        version: Version,
        table: str | None,
        spec: QuerySpec,
        *,
        cancel: CancelFn | None = None,
    ) -> Result:
        """The (cached) result of ``spec`` on a table of ``version``; ``cancel`` stops the
        statements that make it (see :meth:`cancelling`)."""
        source = self._source(version, table)
        key = (version.id, source.info.path, spec)
        with self.lock, self.cancelling(cancel):
            check_cancel(self._cancel(None))
            self._drop_released()
            found = self._results.get(key)
            if found is None:
                relation = self.relation(source, spec)
                kind = GroupResult if spec.group else Result
                found = kind(self, relation, spec)
            self._results.keep(key, found)  # the least recently used beyond the bound go
            self._drop_released()
            return found

    def check_filter(self, version: Version, table: str | None, spec: QuerySpec, text: str) -> None:
        """Raise :class:`ExprError` (with the position) when ``text`` is not a valid filter on the
        rows ``spec`` selects; runs no query on the rows and waits for none (the UI thread
        checks as the user types, while workers query)."""
        source = self._source(version, table)
        base = spec.with_(filters=(), group=None)
        shown = self._results.get((version.id, source.info.path, base))  # no lock: no waiting
        relation = shown.relation if shown is not None else self.relation(source, base)
        Compiler(relation.columns).predicate(parse_filter(text))

    def add_source(self, source: TableSource, table: str | None) -> None:
        """Serve ``source`` as ``table`` of ``source.version`` (a table that is no version's file,
        such as a project's runs: :mod:`desktopviz.query.runs_table`), replacing what was served
        there before."""
        self._sources[(source.version.id, table)] = source

    def _source(self, version: Version, table: str | None) -> TableSource:
        source_key = (version.id, table)
        if source_key not in self._sources:
            self._sources[source_key] = open_source(self.cache, version, table)
        return self._sources[source_key]

    def relation(self, source: TableSource, spec: QuerySpec) -> Relation:
        """What ``spec`` reads: the table itself, or its comparison with another table."""
        if spec.compare is None:
            return parquet_relation(source)
        from desktopviz.query.compare import compare_relation

        other_version = self.cache.resolve(spec.compare.ref)
        name = spec.compare.table
        if name is None and _has_table(self.cache, other_version, source.info.path):
            name = source.info.path  # the same table in the other version
        other = open_source(self.cache, other_version, name)
        key = (
            source.version.id,
            source.info.path,
            other_version.id,
            other.info.path,
            spec.compare.key,
            spec.compare.mode,
        )
        found = self._relations.get(key)
        if found is None:
            found = compare_relation(self, source, other, spec.compare)
        self._relations.keep(key, found)
        return found

    def clear(self) -> None:
        """Forget cached results and drop every temp table made for them (results' kept
        orders, a comparison's pairs, a concatenation)."""
        with self.lock:
            self._results.clear()
            self._relations.clear()
            self._released.clear()
            made = self.arrow(
                "SELECT table_name FROM duckdb_tables() WHERE starts_with(table_name, ?)",
                [TEMP_PREFIX],
            )
            for name in made.column(0).to_pylist():
                self.execute(f"DROP TABLE IF EXISTS {quote(name)}", [])

    def close(self) -> None:
        """Stop what runs (a worker's count or page) and close the DuckDB connection; later
        queries fail with an error instead of reaching a closed connection."""
        self.interrupt()
        with self.lock:
            self.con.close()


def _either(a: CancelFn | None, b: CancelFn | None) -> CancelFn | None:
    """A cancel callable true when ``a()`` or ``b()`` is (None when both are)."""
    if a is None or b is None:
        return a or b
    return lambda: a() or b()


def _has_table(cache: Cache, version: Version, table: str | None) -> bool:
    try:
        cache.table_info(version, table)
    except DesktopvizError:
        return False
    return True


def _lit(p: Path) -> str:
    return "'" + str(p).replace("'", "''") + "'"
