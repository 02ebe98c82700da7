"""Compare two tables row by row: join on a key (or row position) or concatenate.

The joined result keeps both sides' columns (``0.col`` and ``1.col``), tags each row ``both``,
``only_0`` or ``only_1`` (``__status``), marks changed cells (``changed.col``, ``__changed``) and adds
numeric deltas (``delta.col`` = side 1 - side 0). Joins stay lazy: DuckDB runs them per query and spills when they outgrow memory.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import pyarrow as pa

from desktopviz.errors import DesktopvizError
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
    name = engine.temp_name()
    if spec.mode == "concat":
        engine.execute(
            f"CREATE TEMP TABLE {name} AS SELECT row_number() OVER (ORDER BY __side, file_row_number) - 1 AS __row, * "
            f"FROM (SELECT 0 AS __side, * FROM {scan0} UNION ALL BY NAME SELECT 1 AS __side, * FROM {scan1})",
            [],
        )
        names = ["__side", *t0, *[n for n in t1 if n not in t0]]
        types = {**t1, **t0, "__side": pa.int32()}
        kinds = {**right.kinds, **left.kinds}
        cols = {n: Column(quote(n), types[n], kinds.get(n, "plain")) for n in names}
        count = engine.fetch_one(f"SELECT count(*) FROM {name}", [])
        return Relation(name, "__row", {0: cols, 1: cols}, names, count, kinds)
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
                select.append(f"(b.{quote(n)} - a.{quote(n)}) AS {quote('delta.' + n)}")
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
    cells = {
        n: f"(a.__pos IS NOT NULL AND b.__pos IS NOT NULL AND a.{quote(n)} IS DISTINCT FROM b.{quote(n)})"
        for n in common
    }
    per_column = "".join(
        f", sum(CAST({expr} AS INTEGER)) AS {quote('changed.' + n)}" for n, expr in cells.items()
    )
    diff_sql = (
        "SELECT count(a.__pos) AS rows_0, count(b.__pos) AS rows_1, "
        "count(*) FILTER (WHERE a.__pos IS NULL) AS added, count(*) FILTER (WHERE b.__pos IS NULL) AS removed, "
        f"count(*) FILTER (WHERE {' OR '.join(cells.values()) or 'FALSE'}) AS changed{per_column} FROM {join}"
    )
    n0, n1 = left.info.num_rows, right.info.num_rows
    # a lazy join: nothing is materialised until a page far from the top asks for the order.
    # __o orders rows by side 0, then side-1-only rows by side 1, and is unique per pair of rows.
    sql = (
        f"(SELECT c.*, ({any_changed}) AS __changed FROM ("
        f"SELECT {', '.join(select)}, COALESCE(a.__pos, {n0}) * {n1 + 1} + COALESCE(b.__pos, {n1}) AS __o FROM "
        f"(SELECT *, file_row_number AS __pos FROM {scan0}) a FULL OUTER JOIN "
        f"(SELECT *, file_row_number AS __pos FROM {scan1}) b ON a.{k0} = b.{k1}) c)"
    )
    del name
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
    return Relation(
        sql, "__o", {0: side0, 1: side1}, names, -1, kinds, contiguous=False, diff_sql=diff_sql
    )


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
    if not relation.diff_sql:
        raise DesktopvizError("a diff summary needs a comparison joined on a key or row position")
    row = engine.arrow(relation.diff_sql, []).to_pylist()[0]
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
