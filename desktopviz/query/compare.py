"""Compare two tables row by row: join on a key (or row position) or concatenate.

The joined result keeps both sides' columns (``0.col`` and ``1.col``), tags each row ``both``,
``only_0`` or ``only_1`` (``__status``), marks changed cells (``changed.col``, ``__changed``) and adds
numeric deltas (``delta.col`` = side 1 - side 0). Joins stay lazy: DuckDB runs them per query and spills when they outgrow memory.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from desktopviz.errors import DesktopvizError
from desktopviz.query.fingerprint import build_fingerprint
from desktopviz.query.parquet_file import fetch_rows
from desktopviz.query.spec import CompareSpec
from desktopviz.query.sql import Column, is_numeric, quote

if TYPE_CHECKING:
    from desktopviz.query.engine import QueryEngine, Relation, TableSource


def compare_relation(
    engine: QueryEngine, left: TableSource, right: TableSource, spec: CompareSpec
) -> Relation:
    """The comparison of ``left`` (side 0) and ``right`` (side 1) as a relation to query."""
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
        names = ["__side", *t0, *[n for n in t1 if n not in t0]]
        types = {**t1, **t0, "__side": pa.int32()}
        kinds = {**right.kinds, **left.kinds}
        cols = {n: Column(quote(n), types[n], kinds.get(n, "plain")) for n in names}
        count = engine.fetch_one(f"SELECT count(*) FROM {name}", [])
        relation = Relation(name, "__row", {0: cols, 1: cols}, names, count, kinds)
        engine.drop_with(relation, name)  # once no result reads it
        return relation
    if spec.mode != "join":
        raise DesktopvizError(f"compare mode must be join or concat, not {spec.mode!r}")
    key = spec.key
    if key == ("#", "#"):  # explicitly by row position
        key = None
    elif key is None and "id" in t0 and "id" in t1:
        key = ("id", "id")
    for side, k, types in ((0, key[0] if key else None, t0), (1, key[1] if key else None, t1)):
        if k is not None and k not in types:
            raise DesktopvizError(
                f"key column {k!r} is not in table {side} (columns: {', '.join(types)})"
            )
    k0 = quote(key[0]) if key else "file_row_number"
    k1 = quote(key[1]) if key else "file_row_number"
    common = [n for n in t0 if n in t1 and (key is None or n != key[0] or key[0] != key[1])]
    select = [
        "CASE WHEN a.__pos IS NULL THEN 'only_1' WHEN b.__pos IS NULL THEN 'only_0' ELSE 'both' END AS __status"
    ]
    names = ["__status"]
    if key is not None and key[0] == key[1]:
        select.append(f"COALESCE(a.{k0}, b.{k1}) AS {quote(key[0])}")
        names.append(key[0])
    changed = []
    for n in t0:
        if key is not None and key[0] == key[1] and n == key[0]:
            continue
        select.append(f"a.{quote(n)} AS {quote('0.' + n)}")
        names.append(f"0.{n}")
        if n in t1:
            select.append(f"b.{quote(n)} AS {quote('1.' + n)}")
            names.append(f"1.{n}")
            if is_numeric(t0[n]) and is_numeric(t1[n]):
                select.append(
                    f"CAST(b.{quote(n)} - a.{quote(n)} AS DOUBLE) AS {quote('delta.' + n)}"
                )
                names.append(f"delta.{n}")
    for n in t1:
        if n not in t0 and not (key is not None and key[0] == key[1] and n == key[1]):
            select.append(f"b.{quote(n)} AS {quote('1.' + n)}")
            names.append(f"1.{n}")
    for n in common:
        cell = f"(a.__pos IS NOT NULL AND b.__pos IS NOT NULL AND a.{quote(n)} IS DISTINCT FROM b.{quote(n)})"
        select.append(f"{cell} AS {quote('changed.' + n)}")
        names.append(f"changed.{n}")
        changed.append(quote("changed." + n))
    any_changed = " OR ".join(f"c.{c}" for c in changed) or "FALSE"
    join = (
        f"(SELECT *, file_row_number AS __pos FROM {scan0}) a FULL OUTER JOIN "
        f"(SELECT *, file_row_number AS __pos FROM {scan1}) b ON a.{k0} = b.{k1}"
    )
    n0, n1 = left.info.num_rows, right.info.num_rows
    # a lazy join: nothing is materialised until a page far from the top asks for the order.
    # __o orders rows by side 0, then side-1-only rows by side 1, and is unique per pair of rows.
    sql = (
        f"(SELECT c.*, ({any_changed}) AS __changed FROM ("
        f"SELECT {', '.join(select)}, COALESCE(a.__pos, {n0}) * {n1 + 1} + COALESCE(b.__pos, {n1}) AS __o "
        f"FROM {join}) c)"
    )
    names.append("__changed")
    types: dict[str, Any] = {"__status": pa.string(), "__changed": pa.bool_()}
    kinds: dict[str, str] = {}
    for n in names:
        if n.startswith(("0.", "1.", "delta.", "changed.")):
            prefix, base = n.split(".", 1)
            src_types, src_kinds = (
                (t0, left.kinds) if prefix in ("0", "delta") else (t1, right.kinds)
            )
            types[n] = (
                pa.bool_()
                if prefix == "changed"
                else (pa.float64() if prefix == "delta" else src_types[base])
            )
            kinds[n] = "plain" if prefix in ("changed", "delta") else src_kinds.get(base, "plain")
        elif n not in types:
            types[n] = t0.get(n, t1.get(n))
    side0 = {
        n[2:]: Column(quote(n), types[n], kinds.get(n, "plain"))
        for n in names
        if n.startswith("0.")
    }
    side1 = {
        n[2:]: Column(quote(n), types[n], kinds.get(n, "plain"))
        for n in names
        if n.startswith("1.")
    }
    for n in names:
        if not n.startswith(("0.", "1.")):
            side0.setdefault(n, Column(quote(n), types[n], kinds.get(n, "plain")))
            side1.setdefault(n, Column(quote(n), types[n], kinds.get(n, "plain")))

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
        key=(key[0], key[1]) if key is not None and key[0] == key[1] else None,
        parquet=(left.parquet, right.parquet),
        types={n: types[n] for n in names},
    )
    return Relation(
        sql, "__o", {0: side0, 1: side1}, names, -1, kinds, contiguous=False, pairs=pairs
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
    table: str | None = None
    ordered: str | None = None

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
        wanted: tuple[set[str], set[str]] = (set(), set())
        for n in names:
            prefix, _, base = n.partition(".")
            if prefix in ("0", "delta"):
                wanted[0].add(base)
            if prefix in ("1", "delta"):
                wanted[1].add(base)
            if self.key is not None and n == self.key[0]:
                wanted[0].add(self.key[0])
                wanted[1].add(self.key[1])
        sides = [
            _side_rows(self.parquet[i], pos, sorted(wanted[i])) for i, pos in enumerate((p0, p1))
        ]
        status = pc.if_else(pc.is_null(p0), "only_1", pc.if_else(pc.is_null(p1), "only_0", "both"))
        out = []
        for n in names:
            prefix, _, base = n.partition(".")
            if n == "__status":
                col = status
            elif n == "__changed":
                col = pc.not_equal(m, 0)
            elif prefix == "changed":
                bit = 1 << self.common.index(base)
                col = pc.not_equal(pc.bit_wise_and(m, bit), 0)
            elif prefix in ("0", "1") and base in sides[int(prefix)].column_names:
                col = sides[int(prefix)].column(base)
            elif prefix == "delta":
                col = pc.subtract(
                    sides[1].column(base).cast(pa.float64()),
                    sides[0].column(base).cast(pa.float64()),
                )
            else:  # the key, named once
                assert self.key is not None
                col = pc.coalesce(sides[0].column(self.key[0]), sides[1].column(self.key[1]))
            out.append(col.cast(self.types[n]) if n in self.types else col)
        return pa.table(out, names=names)


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
        f", count(*) FILTER (WHERE __m & {1 << i} <> 0) AS {quote('changed.' + n)}"
        for i, n in enumerate(pairs.common)
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
        {n[len("changed.") :]: int(v or 0) for n, v in row.items() if n.startswith("changed.")},
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
