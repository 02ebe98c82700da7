"""Compare two tables row by row: join on a key (or row position) or concatenate.

The joined result keeps both sides' columns (``0.col`` and ``1.col``), tags each row ``both``,
``only_0`` or ``only_1`` (``__status``), marks changed cells (``changed.col``, ``__changed``) and adds
numeric deltas (``delta.col`` = side 1 - side 0); the relation's ``comparison`` schema says what
each column is (:mod:`desktopviz.query.comparison`: nothing else reads the names' prefixes).
Joins stay lazy: DuckDB runs them per query and spills when they outgrow memory.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from desktopviz.errors import DesktopvizError
from desktopviz.query.comparison import ComparedColumn, ComparisonSchema, Role
from desktopviz.query.fingerprint import build_fingerprint
from desktopviz.query.parquet_file import column_ranges, fetch_rows
from desktopviz.query.spec import CompareSpec
from desktopviz.query.sql import Column, is_numeric, quote

if TYPE_CHECKING:
    from desktopviz.query.engine import QueryEngine, Relation, TableSource


def compare_relation(
    engine: QueryEngine, left: TableSource, right: TableSource, spec: CompareSpec
) -> Relation:
    """The comparison of ``left`` (side 0) and ``right`` (side 1) as a relation to query; its
    ``comparison`` says what each column is (see :mod:`desktopviz.query.comparison`)."""
    from desktopviz.query.engine import Relation, _lit

    t0 = {f.name: f.type for f in left.schema}
    t1 = {f.name: f.type for f in right.schema}
    scan0 = f"read_parquet({_lit(left.parquet)}, file_row_number = true)"
    scan1 = f"read_parquet({_lit(right.parquet)}, file_row_number = true)"
    if spec.mode == "concat":
        name = engine.temp_name()
        engine.execute(
            f"CREATE TABLE {name} AS SELECT row_number() OVER (ORDER BY __side, file_row_number) - 1 AS __row, * "
            f"FROM (SELECT 0 AS __side, * FROM {scan0} UNION ALL BY NAME SELECT 1 AS __side, * FROM {scan1})",
            [],
        )
        side = ComparedColumn.helper_column(Role.SIDE)
        schema = ComparisonSchema(
            (side, *(ComparedColumn.plain(n) for n in [*t0, *[n for n in t1 if n not in t0]]))
        )
        types = {**t1, **t0, side.name: pa.int32()}
        kinds = {**right.kinds, **left.kinds}
        cols = {n: Column(quote(n), types[n], kinds.get(n, "plain")) for n in schema.names}
        count = engine.fetch_one(f"SELECT count(*) FROM {name}", [])
        relation = Relation(
            name, "__row", {0: cols, 1: cols}, schema.names, count, kinds, comparison=schema
        )
        engine.drop_with(relation, name)  # once no result reads it
        return relation
    if spec.mode != "join":
        raise DesktopvizError(f"compare mode must be join or concat, not {spec.mode!r}")
    key = spec.key
    if key == ("#", "#"):  # explicitly by row position
        key = None
    elif key is None and "id" in t0 and "id" in t1:
        key = ("id", "id")
    for side_no, k, side_types in (
        (0, key[0] if key else None, t0),
        (1, key[1] if key else None, t1),
    ):
        if k is not None and k not in side_types:
            raise DesktopvizError(
                f"key column {k!r} is not in table {side_no} (columns: {', '.join(side_types)})"
            )
    k0 = quote(key[0]) if key else "file_row_number"
    k1 = quote(key[1]) if key else "file_row_number"
    same_key = key is not None and key[0] == key[1]
    common = [n for n in t0 if n in t1 and not (same_key and n == key[0])]  # type: ignore[index]
    columns: list[ComparedColumn] = []
    select: list[str] = []

    def add(column: ComparedColumn, sql: str) -> None:
        columns.append(column)
        select.append(f"{sql} AS {quote(column.name)}")

    add(
        ComparedColumn.helper_column(Role.STATUS),
        "CASE WHEN a.__pos IS NULL THEN 'only_1' WHEN b.__pos IS NULL THEN 'only_0' ELSE 'both' END",
    )
    if same_key:
        add(ComparedColumn.plain(key[0], Role.KEY), f"COALESCE(a.{k0}, b.{k1})")  # type: ignore[index]
    for n in t0:
        if same_key and n == key[0]:  # type: ignore[index]
            continue
        add(ComparedColumn.value(n, 0), f"a.{quote(n)}")
        if n in t1:
            add(ComparedColumn.value(n, 1), f"b.{quote(n)}")
            if is_numeric(t0[n]) and is_numeric(t1[n]):
                add(
                    ComparedColumn.derived(Role.DELTA, n),
                    f"CAST(b.{quote(n)} - a.{quote(n)} AS DOUBLE)",
                )
    for n in t1:
        if n not in t0 and not (same_key and n == key[1]):  # type: ignore[index]
            add(ComparedColumn.value(n, 1), f"b.{quote(n)}")
    marks = []
    for n in common:
        mark = ComparedColumn.derived(Role.CHANGED, n)
        q = quote(n)
        add(mark, f"(a.__pos IS NOT NULL AND b.__pos IS NOT NULL AND a.{q} IS DISTINCT FROM b.{q})")
        marks.append(f"c.{quote(mark.name)}")
    any_changed = ComparedColumn.helper_column(Role.ANY_CHANGED)
    join = (
        f"(SELECT *, file_row_number AS __pos FROM {scan0}) a FULL OUTER JOIN "
        f"(SELECT *, file_row_number AS __pos FROM {scan1}) b ON a.{k0} = b.{k1}"
    )
    n0, n1 = left.info.num_rows, right.info.num_rows
    # a lazy join: nothing is materialised until a page far from the top asks for the order.
    # __o orders rows by side 0, then side-1-only rows by side 1, and is unique per pair of rows.
    sql = (
        f"(SELECT c.*, ({' OR '.join(marks) or 'FALSE'}) AS {quote(any_changed.name)} FROM ("
        f"SELECT {', '.join(select)}, COALESCE(a.__pos, {n0}) * {n1 + 1} + COALESCE(b.__pos, {n1}) AS __o "
        f"FROM {join}) c)"
    )
    schema = ComparisonSchema((*columns, any_changed))
    sides = ((t0, left.kinds), (t1, right.kinds))
    types: dict[str, Any] = {}
    kinds: dict[str, str] = {}
    for c in schema.columns:
        if c.side is not None:
            types[c.name] = sides[c.side][0][c.base]
            kinds[c.name] = sides[c.side][1].get(c.base, "plain")
        elif c.role is Role.KEY:
            types[c.name] = t0.get(c.name, t1.get(c.name))
        else:
            types[c.name] = {
                Role.DELTA: pa.float64(),
                Role.STATUS: pa.string(),
            }.get(c.role, pa.bool_())
    by_side = {
        s: {
            base: Column(quote(n), types[n], kinds.get(n, "plain"))
            for base, n in schema.side_columns(s).items()
        }
        for s in (0, 1)
    }

    # the join kept narrow: per output row both row numbers and a bitmask of changed columns.
    # Each side is read from its fingerprint (see desktopviz.query.fingerprint): row number, numeric
    # columns as they are and a 64-bit hash of every other column, so the join holds no wide
    # values and reads no list of boxes.
    def narrow(source: TableSource, k: str) -> str:
        key = "__pos" if k == "file_row_number" else k
        cols = ", ".join(quote(n) for n in common)
        scan = f"read_parquet({_lit(build_fingerprint(engine.cache, source.parquet))})"
        return f"(SELECT {key} AS __key, __pos{', ' + cols if cols else ''} FROM {scan})"

    narrow_join = f"{narrow(left, k0)} a FULL OUTER JOIN {narrow(right, k1)} b ON a.__key = b.__key"
    mask = " + ".join(
        f"CASE WHEN a.{quote(n)} IS DISTINCT FROM b.{quote(n)} THEN {1 << i} ELSE 0 END"
        for i, n in enumerate(common)
    )
    pairs = PairsPlan(
        select=(
            f"SELECT COALESCE(a.__pos, {n0}) * {n1 + 1} + COALESCE(b.__pos, {n1}) AS __o, "
            f"a.__pos AS __p0, b.__pos AS __p1, "
            f"CASE WHEN a.__pos IS NULL OR b.__pos IS NULL THEN 0 ELSE {mask or '0'} END AS __m "
            f"FROM {narrow_join}"
        ),
        common=common,
        key=(key[0], key[1]) if same_key else None,  # type: ignore[index]
        parquet=(left.parquet, right.parquet),
        types=types,
        schema=schema,
    )
    return Relation(
        sql,
        "__o",
        by_side,
        schema.names,
        -1,
        kinds,
        contiguous=False,
        pairs=pairs,
        comparison=schema,
    )


@dataclass
class PairsPlan:
    """How to build a comparison's pairs table (``__o`` order, ``__p0``/``__p1`` row numbers of
    each side, ``__m`` bit i set when column ``common[i]`` differs) and turn its rows into the
    comparison's columns. Built once per comparison; the diff, quick filters and pages read it."""

    select: str
    common: list[str]
    key: tuple[str, str] | None
    parquet: tuple[Path, Path]
    types: dict[str, pa.DataType]
    schema: ComparisonSchema
    table: str | None = None
    ordered: str | None = None
    _ranges: dict[str, tuple[float, float]] | None = None

    def build(self, engine: QueryEngine, *, ordered: bool = False) -> str:
        """The pairs table (``ordered``: a copy in result order whose ``rowid`` is the position)."""
        with engine.lock:
            if self.table is None:
                name = engine.temp_name()
                engine.execute(f"CREATE TABLE {name} AS {self.select}", [])
                self.table = name
                engine.drop_with(self, name)  # once no result reads the comparison
            if ordered and self.ordered is None:
                name = engine.temp_name()
                engine.execute(
                    f"CREATE TABLE {name} AS SELECT * FROM {self.table} ORDER BY __o", []
                )
                self.ordered = name
                engine.drop_with(self, name)
            return self.ordered if ordered else self.table

    def condition(self, only: str | None) -> str:
        """SQL over the pairs table for a quick filter."""
        return {
            None: "TRUE",
            "both": "__p0 IS NOT NULL AND __p1 IS NOT NULL",
            "only_0": "__p1 IS NULL",
            "only_1": "__p0 IS NULL",
            "changed": "__m <> 0",
        }[only]

    def assemble(self, page: pa.Table, names: list[str]) -> pa.Table:
        """The comparison's columns ``names`` for pairs rows ``page`` (``__p0``, ``__p1``, ``__m``)."""
        p0, p1, m = (page.column(c).combine_chunks() for c in ("__p0", "__p1", "__m"))
        columns = [self.schema.column(n) for n in names]
        wanted: tuple[set[str], set[str]] = (set(), set())
        for c in columns:
            if c.side is not None:
                wanted[c.side].add(c.base)
            elif c.role is Role.DELTA:
                wanted[0].add(c.base)
                wanted[1].add(c.base)
            elif c.role is Role.KEY and self.key is not None:
                wanted[0].add(self.key[0])
                wanted[1].add(self.key[1])
        sides = [
            _side_rows(self.parquet[i], pos, sorted(wanted[i])) for i, pos in enumerate((p0, p1))
        ]
        out = []
        for c in columns:
            if c.role is Role.STATUS:
                col = pc.if_else(
                    pc.is_null(p0), "only_1", pc.if_else(pc.is_null(p1), "only_0", "both")
                )
            elif c.role is Role.ANY_CHANGED:
                col = pc.not_equal(m, 0)
            elif c.role is Role.CHANGED:
                bit = 1 << self.common.index(c.base)
                col = pc.not_equal(pc.bit_wise_and(m, bit), 0)
            elif c.side is not None:
                col = sides[c.side].column(c.base)
            elif c.role is Role.DELTA:
                col = pc.subtract(
                    sides[1].column(c.base).cast(pa.float64()),
                    sides[0].column(c.base).cast(pa.float64()),
                )
            else:  # the key, named once
                assert self.key is not None
                col = pc.coalesce(sides[0].column(self.key[0]), sides[1].column(self.key[1]))
            out.append(col.cast(self.types[c.name]) if c.name in self.types else col)
        return pa.table(out, names=names)

    def value_ranges(self, engine: QueryEngine) -> dict[str, tuple[float, float]]:
        """Each numeric column both sides have: (min, max) over both tables (NaN left out), from
        their Parquet footers (a scan only where a footer cannot say); kept. What a pair of bars
        is scaled to."""
        if self._ranges is None:
            from desktopviz.query.engine import _lit

            bases = [b for b in self.common if self.schema.delta(b) is not None]
            found = [column_ranges(p, bases) for p in self.parquet]
            for side, parquet in enumerate(self.parquet):
                missing = [b for b in bases if found[side].get(b) is None]
                if missing:
                    finite = [
                        f"CASE WHEN isfinite({quote(b)}::DOUBLE) THEN {quote(b)} END"
                        for b in missing
                    ]
                    row = engine.arrow(
                        f"SELECT {', '.join(f'min({f}), max({f})' for f in finite)} "
                        f"FROM read_parquet({_lit(parquet)})",
                        [],
                    ).to_pylist()[0]
                    values = list(row.values())
                    for i, b in enumerate(missing):
                        lo, hi = values[2 * i], values[2 * i + 1]
                        found[side][b] = None if lo is None else (float(lo), float(hi))
            ranges = {}
            for b in bases:
                both = [r for r in (found[0].get(b), found[1].get(b)) if r is not None]
                if both:
                    ranges[b] = (min(r[0] for r in both), max(r[1] for r in both))
            self._ranges = ranges
        return self._ranges


def _side_rows(parquet: Path, positions: pa.Array, columns: list[str]) -> pa.Table:
    """One side's rows at ``positions`` (null where the row is not on that side)."""
    valid = positions.drop_null().to_numpy()
    rows = fetch_rows(parquet, valid, columns)
    present = pc.is_valid(positions).to_numpy(zero_copy_only=False)
    index = np.cumsum(present) - 1
    return rows.take(pa.array(index, mask=~present))


@dataclass(frozen=True)
class DiffSummary:
    """How two tables differ: rows added, removed, changed, and changed cells per column."""

    rows_0: int
    rows_1: int
    added: int
    removed: int
    changed: int
    unchanged: int
    columns: dict[str, int]

    def lines(self) -> list[str]:
        """The summary as lines for a terminal."""
        out = [
            f"rows: {self.rows_0} -> {self.rows_1}",
            f"added: {self.added}  removed: {self.removed}  changed: {self.changed}  unchanged: {self.unchanged}",
        ]
        for col, n in self.columns.items():
            if n:
                out.append(f"  {col}: {n} changed")
        return out


def diff_summary(engine: QueryEngine, relation: Relation) -> DiffSummary:
    """Count added, removed and changed rows, and changed cells per column, of a comparison."""
    pairs = relation.pairs
    if pairs is None:
        raise DesktopvizError("a diff summary needs a comparison joined on a key or row position")
    per_column = "".join(
        f", count(*) FILTER (WHERE __m & {1 << i} <> 0) AS __c{i}" for i in range(len(pairs.common))
    )
    row = engine.arrow(
        "SELECT count(__p0) AS rows_0, count(__p1) AS rows_1, "
        "count(*) FILTER (WHERE __p0 IS NULL) AS added, count(*) FILTER (WHERE __p1 IS NULL) AS removed, "
        f"count(*) FILTER (WHERE __m <> 0) AS changed{per_column} FROM {pairs.build(engine)}",
        [],
    ).to_pylist()[0]
    both = row["rows_0"] - row["removed"]
    return DiffSummary(
        row["rows_0"],
        row["rows_1"],
        row["added"],
        row["removed"],
        row["changed"],
        both - row["changed"],
        {n: int(row[f"__c{i}"] or 0) for i, n in enumerate(pairs.common)},
    )


def text_diff(old: str, new: str) -> list[tuple[str, str]]:
    """``new`` against ``old`` as (op, text) pieces in reading order: ``equal``, ``delete``
    (only in ``old``) and ``insert`` (only in ``new``); a replacement is a delete then an insert.
    Character level, for the changed string cells of a comparison."""
    import difflib

    pieces: list[tuple[str, str]] = []
    matcher = difflib.SequenceMatcher(None, old, new, autojunk=False)
    for op, a0, a1, b0, b1 in matcher.get_opcodes():
        if op == "equal":
            pieces.append(("equal", new[b0:b1]))
        else:
            if a1 > a0:
                pieces.append(("delete", old[a0:a1]))
            if b1 > b0:
                pieces.append(("insert", new[b0:b1]))
    return pieces
