"""What a chart of one column shows: a histogram of a numeric column (bins shared by both sides
of a comparison) or the most frequent values of any other column, over the rows a query selects.

Public API: :class:`Distribution`, :func:`distribution`, :func:`bin_filter`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from desktopviz.query.comparison import ComparedColumn
from desktopviz.query.simple import column_path
from desktopviz.query.sql import is_numeric, quote

if TYPE_CHECKING:
    from desktopviz.query.engine import Result

TOP_VALUES = 20
BINS = 30


@dataclass(frozen=True)
class Distribution:
    """Counts of a column's values: ``edges`` (bins + 1 numbers) for a numeric column, else
    ``values`` (the most frequent, most first); ``counts[side]`` per bar, one list per side
    (``columns``: the column of each side, one when not comparing); ``missing`` counts nulls and
    NaN per side."""

    columns: tuple[str, ...]
    numeric: bool
    edges: tuple[float, ...]
    values: tuple[Any, ...]
    counts: tuple[tuple[int, ...], ...]
    missing: tuple[int, ...]
    compared: tuple[ComparedColumn, ...] = ()
    """What each of ``columns`` is (a side's value...), as the result's comparison says."""


def distribution(
    result: Result, column: str, bins: int = BINS, top: int = TOP_VALUES
) -> Distribution:
    """The distribution of ``column`` over ``result``'s rows (in a comparison, ``0.score`` and
    ``1.score`` are charted together on shared bins when ``column`` names either side)."""
    schema = result.relation.comparison
    sides = schema.sides(column)
    compared = tuple(schema.column(c) for c in sides)
    types = result.relation.types()
    scan, where, params = result.relation.sql, result.where_sql(), result.params()
    numeric = all(c in types and is_numeric(types[c]) for c in sides)
    engine = result.engine
    if numeric:
        finite = [
            f"CASE WHEN isfinite({quote(c)}::DOUBLE) THEN {quote(c)}::DOUBLE END" for c in sides
        ]
        lo_hi = engine.arrow(
            f"SELECT {', '.join(f'min({f}), max({f})' for f in finite)} FROM {scan} {where}", params
        ).to_pylist()[0]
        found = [v for v in lo_hi.values() if v is not None]
        lo, hi = (min(found), max(found)) if found else (0.0, 1.0)
        if hi <= lo:
            hi = lo + 1.0
        width = (hi - lo) / bins
        edges = tuple(lo + i * width for i in range(bins)) + (hi,)
        counts, missing = [], []
        for f in finite:
            bucket = bin_sql(f, lo, width, bins)
            rows = engine.arrow(
                f"SELECT {bucket} AS b, count(*) AS n FROM {scan} {where} GROUP BY ALL", params
            ).to_pylist()
            per = [0] * bins
            nulls = 0
            for r in rows:
                if r["b"] is None:
                    nulls += r["n"]
                else:
                    per[r["b"]] += r["n"]
            counts.append(tuple(per))
            missing.append(nulls)
        return Distribution(sides, True, edges, (), tuple(counts), tuple(missing), compared)
    shown = [f"CAST({quote(c)} AS VARCHAR)" for c in sides]
    union = " UNION ALL ".join(
        f"SELECT {i} AS side, {s} AS v FROM {scan} {where}" for i, s in enumerate(shown)
    )
    rows = engine.arrow(
        f"SELECT side, v, count(*) AS n FROM ({union}) GROUP BY ALL", params * len(sides)
    ).to_pylist()
    totals: dict[Any, int] = {}
    for r in rows:
        if r["v"] is not None:
            totals[r["v"]] = totals.get(r["v"], 0) + r["n"]
    values = tuple(sorted(totals, key=lambda v: (-totals[v], v))[:top])
    counts = []
    missing = []
    for i in range(len(sides)):
        by = {r["v"]: r["n"] for r in rows if r["side"] == i}
        counts.append(tuple(by.get(v, 0) for v in values))
        missing.append(by.get(None, 0))
    return Distribution(sides, False, (), values, tuple(counts), tuple(missing), compared)


def bin_sql(value: str, lo: float, width: float, bins: int) -> str:
    """SQL for the bin (0 .. bins-1) of ``value``; NULL stays NULL (DuckDB's ``greatest`` skips
    nulls, which would count every missing value in the first bin)."""
    bucket = f"least(greatest(floor(({value} - {lo!r}) / {width!r}), 0), {bins - 1})::INTEGER"
    return f"CASE WHEN ({value}) IS NULL THEN NULL ELSE {bucket} END"


def bin_filter(dist: Distribution, index: int) -> str:
    """A simple-form filter for bar ``index`` (a bin's range, or a value) of side 0's column."""
    path = column_path(dist.compared[0] if dist.compared else dist.columns[0])
    if path is None:
        raise ValueError(f"no filter names column {dist.columns[0]!r}")
    if dist.numeric:
        lo, hi = dist.edges[index], dist.edges[index + 1]
        last = index == len(dist.edges) - 2
        return f"{path} >= {_num(lo)} and {path} {'<=' if last else '<'} {_num(hi)}"
    return f"str({path}) == {str(dist.values[index])!r}"


def _num(x: float) -> str:
    return repr(float(x)) if math.isfinite(x) else "0.0"
