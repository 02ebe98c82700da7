"""Run query specs on a cache's Parquet tables with DuckDB; page through results by position.

A filtered or sorted result is kept as the ordered list of source row numbers (a DuckDB temp
table), so fetching rows 9,999,000.. costs one indexed lookup, not a re-sort.
"""

from __future__ import annotations

import json
import os
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq

from desktopviz.errors import DesktopvizError
from desktopviz.model import TableInfo, Version
from desktopviz.query.expr import ExprError
from desktopviz.query.expr import Path as PathNode
from desktopviz.query.spec import QuerySpec, parse_filter
from desktopviz.query.sql import Column, Compiler, quote
from desktopviz.store.cache import Cache


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
    """A DuckDB connection that spills to the cache's temp folder within a memory limit."""
    con = duckdb.connect()
    spill = cache.tmp_dir / "duckdb"
    spill.mkdir(parents=True, exist_ok=True)
    limit = os.environ.get("DESKTOPVIZ_QUERY_MEMORY", "60%")
    con.execute(f"SET memory_limit = '{_memory_limit(limit)}'")
    con.execute(f"SET temp_directory = '{str(spill).replace(chr(39), chr(39) * 2)}'")
    con.execute("SET preserve_insertion_order = true")
    return con


def _memory_limit(text: str) -> str:
    if text.endswith("%"):
        total = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
        return f"{int(total * float(text[:-1]) / 100 / 2**20)}MB"
    return text


class Result:
    """The rows a spec selects, addressable by position."""

    def __init__(self, engine: QueryEngine, source: TableSource, spec: QuerySpec) -> None:
        self.engine, self.source, self.spec = engine, source, spec
        self._scan = f"read_parquet({_lit(source.parquet)}, file_row_number = true)"
        columns = source.columns()
        self.columns = list(spec.select) if spec.select else [f.name for f in source.schema]
        for name in self.columns:
            if name not in columns:
                raise ExprError(f"unknown column {name!r} in the selection")
        comp = Compiler({0: columns})
        where = " AND ".join(comp.predicate(parse_filter(f)) for f in spec.filters) or None
        order = []
        for key in spec.sort:
            parts = key.column.split(".") if key.column not in columns else [key.column]
            expr = comp.compile(PathNode(tuple(parts)), {}).sql
            order.append(f"{expr} {'DESC' if key.descending else 'ASC'} NULLS LAST")
        self._params = comp.params
        self._where = where
        self._order = order
        self._table: str | None = None
        self.num_rows = self._count()

    def _count(self) -> int:
        if self._where is None and not self._order:
            n = self.source.info.num_rows
        elif not self._order:
            n = self.engine.fetch_one(
                f"SELECT count(*) FROM {self._scan} WHERE {self._where}", self._params
            )
        else:
            self._materialize()
            n = self.engine.fetch_one(f"SELECT count(*) FROM {self._table}", [])
        return n if self.spec.limit is None else min(n, self.spec.limit)

    def _materialize(self) -> None:
        if self._table is not None:
            return
        name = self.engine.temp_name()
        where = f"WHERE {self._where}" if self._where else ""
        order = ", ".join(self._order + ["file_row_number"])
        self.engine.execute(
            f"CREATE TEMP TABLE {name} AS SELECT file_row_number AS rn, "
            f"row_number() OVER (ORDER BY {order}) - 1 AS pos FROM {self._scan} {where}",
            self._params,
        )
        self._table = name

    def rows(self, offset: int, count: int, columns: list[str] | None = None) -> pa.Table:
        """Rows ``offset .. offset+count`` of the result as Arrow."""
        offset = max(0, offset)
        count = max(0, min(count, self.num_rows - offset))
        cols = ", ".join(f"t.{quote(c)}" for c in (columns or self.columns))
        if count == 0:
            return self.engine.arrow(f"SELECT {cols} FROM {self._scan} t LIMIT 0", [])
        if self._where is None and not self._order:
            return self.engine.arrow(
                f"SELECT {cols} FROM {self._scan} t WHERE file_row_number >= ? AND file_row_number < ? "
                "ORDER BY file_row_number",
                [offset, offset + count],
            )
        if not self._order:
            return self.engine.arrow(
                f"SELECT {cols} FROM {self._scan} t WHERE {self._where} ORDER BY file_row_number "
                f"LIMIT {int(count)} OFFSET {int(offset)}",
                self._params,
            )
        self._materialize()
        return self.engine.arrow(
            f"WITH page AS (SELECT rn, pos FROM {self._table} WHERE pos >= ? AND pos < ?) "
            f"SELECT {cols} FROM {self._scan} t JOIN page ON t.file_row_number = page.rn ORDER BY page.pos",
            [offset, offset + count],
        )

    def to_arrow(self) -> pa.Table:
        """The whole result (mind its size)."""
        return self.rows(0, self.num_rows)

    def explain(self) -> str:
        """The SQL the result runs, with its parameters."""
        where = f" WHERE {self._where}" if self._where else ""
        order = f" ORDER BY {', '.join(self._order)}" if self._order else ""
        return f"SELECT * FROM {self._scan}{where}{order}\n-- parameters: {self._params!r}"

    def close(self) -> None:
        """Drop the result's temp table."""
        if self._table is not None:
            self.engine.execute(f"DROP TABLE IF EXISTS {self._table}", [])
            self._table = None


class QueryEngine:
    """Executes specs on one cache; results are cached per (table, spec)."""

    def __init__(self, cache: Cache) -> None:
        self.cache = cache
        self.con = connect(cache)
        self._lock = threading.RLock()
        self._results: dict[tuple[int, str, QuerySpec], Result] = {}
        self._n = 0

    def temp_name(self) -> str:
        self._n += 1
        return f"__result_{self._n}"

    def execute(self, sql: str, params: list[Any]) -> None:
        with self._lock:
            self._run(sql, params).fetchall()

    def fetch_one(self, sql: str, params: list[Any]) -> Any:
        with self._lock:
            return self._run(sql, params).fetchall()[0][0]

    def arrow(self, sql: str, params: list[Any]) -> pa.Table:
        with self._lock:
            try:
                return self.con.sql(sql, params=params).to_arrow_table()
            except duckdb.Error as e:
                raise DesktopvizError(f"query failed: {str(e).splitlines()[0]}") from e

    def _run(self, sql: str, params: list[Any]) -> duckdb.DuckDBPyConnection:
        try:
            return self.con.execute(sql, params)
        except duckdb.Error as e:
            raise DesktopvizError(f"query failed: {str(e).splitlines()[0]}") from e

    def result(self, version: Version, table: str | None, spec: QuerySpec) -> Result:
        """The (cached) result of ``spec`` on a table of ``version``."""
        source = open_source(self.cache, version, table)
        key = (version.id, source.info.path, spec)
        with self._lock:
            if key not in self._results:
                self._results[key] = Result(self, source, spec)
            return self._results[key]

    def close(self) -> None:
        """Close the DuckDB connection."""
        self.con.close()


def _lit(p: Path) -> str:
    return "'" + str(p).replace("'", "''") + "'"
