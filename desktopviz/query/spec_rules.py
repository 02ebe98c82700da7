"""The rules for editing a table's query: pure functions from a :class:`QuerySpec` (and what the
user did) to the next one. The window's tools call them; nothing here knows Qt.

- Filters: the filter box shows one text (:func:`filter_text`); a value, bar or brush filter is
  *added* to what is shown (:func:`add_filter`), in the form the box holds (a Mongo filter stays
  Mongo: the new term joins it in ``$and``).
- Sort: a header click cycles ascending, descending, none (:func:`cycle_sort`); Shift adds a key.
- Group: grouping drops the sort keys (groups sort by their own columns); group keys are the
  table's column names, and in a comparison they name side 0's column.
- Compare: comparing keeps the filters and the grouping and drops the sort keys (the columns are
  per side now); stopping does the same the other way.
"""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from dataclasses import replace
from typing import Any

from desktopviz.query.expr import Call, ExprError, ListLit, Literal, Node, Path
from desktopviz.query.simple import column_path, parse_simple
from desktopviz.query.spec import CompareSpec, GroupSpec, QuerySpec, SortKey

# -- filters ------------------------------------------------------------------------------------


def filter_text(spec: QuerySpec) -> str:
    """The one text the filter box shows for ``spec``'s filters (all must hold)."""
    filters = [f.strip() for f in spec.filters if f.strip()]
    if len(filters) <= 1:
        return filters[0] if filters else ""
    text = filters[0]
    for extra in filters[1:]:
        text = combine_filters(text, extra)
    return text


def with_filter(spec: QuerySpec, text: str) -> QuerySpec:
    """``spec`` showing the rows ``text`` matches ("" shows every row)."""
    text = text.strip()
    return spec.with_(filters=(text,) if text else ())


def add_filter(spec: QuerySpec, extra: str) -> QuerySpec:
    """``spec`` with ``extra`` (the simple form) holding as well as the filter shown."""
    return with_filter(spec, combine_filters(filter_text(spec), extra))


def combine_filters(current: str, extra: str) -> str:
    """One filter text meaning ``current and extra``: ``(current) and extra`` in the simple form;
    when ``current`` is a Mongo expression, ``{$and: [current, extra]}`` with ``extra`` written
    as Mongo. Raises :class:`ExprError` when ``extra`` cannot be written as Mongo (a column
    whose name has a dot)."""
    current, extra = current.strip(), extra.strip()
    if not current:
        return extra
    if not extra:
        return current
    if current.startswith("{"):
        if extra.startswith("{"):
            return f"{{$and: [{current}, {extra}]}}"
        return f"{{$and: [{current}, {json.dumps(to_mongo(parse_simple(extra)))}]}}"
    if extra.startswith("{"):
        return f"{{$and: [{json.dumps(to_mongo(parse_simple(current)))}, {extra}]}}"
    return f"({current}) and {extra}"


def to_mongo(node: Node) -> Any:
    """An expression tree as Mongo aggregation data (what :func:`json.dumps` writes and the Mongo
    form parses back into the same tree): comparisons, logic, functions, paths and literals."""
    if isinstance(node, Literal):
        value = node.value
        if isinstance(value, str) and value.startswith("$"):
            return {"$literal": value}
        if isinstance(value, float) and not math.isfinite(value):
            raise ExprError("a Mongo filter cannot hold NaN or infinity", node.pos)
        return value
    if isinstance(node, ListLit):
        return [to_mongo(item) for item in node.items]
    if isinstance(node, Path) and node.var is None:
        parts = [str(p) for p in node.parts]
        if any("." in p or p.startswith("$") or not p for p in parts):
            raise ExprError(
                f"column {'.'.join(parts)!r} cannot be named in a Mongo filter", node.pos
            )
        return "$" + ".".join([str(node.side), *parts])
    if isinstance(node, Call):
        return {f"${node.op}": [to_mongo(arg) for arg in node.args]}
    raise ExprError("this expression cannot be written as a Mongo filter", getattr(node, "pos", 0))


def value_filter(column: str, value: Any, exclude: bool = False) -> str | None:
    """``row["column"] == value`` (``!=`` with ``exclude``; ``row1[...]`` for side 1's columns
    of a comparison) in the simple form; None for values a filter cannot name that way (NaN,
    lists, dicts, media) and for a comparison's helper columns."""
    if isinstance(value, float) and math.isnan(value):
        return None
    if value is not None and not isinstance(value, str | int | float | bool):
        return None
    path = column_path(column)
    return None if path is None else f"{path} {'!=' if exclude else '=='} {value!r}"


def drill_down(spec: QuerySpec, key_values: Sequence[tuple[str, Any]]) -> QuerySpec:
    """The rows of one group: its key values (``(column, value)`` pairs) join the filter and
    grouping stops. Raises :class:`ExprError` for a key value no filter can name."""
    parts = []
    for name, value in key_values:
        expr = value_filter(name, value)
        if expr is None:
            raise ExprError(f"cannot filter to this group's {name}")
        parts.append(expr)
    return add_filter(spec, " and ".join(parts)).with_(group=None)


# -- sort ---------------------------------------------------------------------------------------


def with_sort(spec: QuerySpec, keys: Sequence[SortKey]) -> QuerySpec:
    """``spec`` sorted by ``keys`` (the first one first); () for the table's own order."""
    return spec.with_(sort=tuple(keys))


def cycle_sort(spec: QuerySpec, column: str, add: bool = False) -> QuerySpec:
    """What a header click does: sort by ``column`` ascending, then descending, then not at all;
    with ``add`` (Shift) it becomes another key, or flips if it is one already."""
    keys = list(spec.sort)
    at = next((i for i, k in enumerate(keys) if k.column == column), None)
    if add:
        if at is None:
            keys.append(SortKey(column))
        else:
            keys[at] = SortKey(column, not keys[at].descending)
    elif keys == [SortKey(column)]:
        keys = [SortKey(column, True)]
    elif keys == [SortKey(column, True)]:
        keys = []
    else:
        keys = [SortKey(column)]
    return with_sort(spec, keys)


def flip_sort_key(spec: QuerySpec, index: int) -> QuerySpec:
    """Sort key ``index`` the other way round."""
    keys = list(spec.sort)
    keys[index] = SortKey(keys[index].column, not keys[index].descending)
    return with_sort(spec, keys)


def move_sort_key(spec: QuerySpec, index: int, step: int) -> QuerySpec:
    """Sort key ``index`` moved ``step`` places (-1: earlier, +1: later)."""
    keys = list(spec.sort)
    to = max(0, min(len(keys) - 1, index + step))
    keys.insert(to, keys.pop(index))
    return with_sort(spec, keys)


def remove_sort_key(spec: QuerySpec, index: int) -> QuerySpec:
    """``spec`` without sort key ``index``."""
    keys = list(spec.sort)
    del keys[index]
    return with_sort(spec, keys)


# -- group --------------------------------------------------------------------------------------


def group_by(spec: QuerySpec, columns: Sequence[str]) -> QuerySpec:
    """One row per group of ``columns`` (() shows the rows again); the sort keys are dropped
    (groups sort by their own columns), a comparison stays."""
    group = GroupSpec(tuple(columns)) if columns else None
    return spec.with_(group=group, sort=())


def toggle_group_column(spec: QuerySpec, column: str, on: bool) -> QuerySpec:
    """Add ``column`` to the group keys (``on``) or take it out."""
    current = spec.group.by if spec.group is not None else ()
    kept = tuple(c for c in current if c != column)
    return group_by(spec, kept + ((column,) if on else ()))


# -- compare ------------------------------------------------------------------------------------


def compare_with(
    spec: QuerySpec, ref: str, table: str | None = None, key: tuple[str, str] | None = None
) -> QuerySpec:
    """Compare with ``ref``'s table (side 1): filters and grouping stay (``row`` and group keys
    name side 0), sort keys are dropped (the columns are per side now)."""
    return spec.with_(compare=CompareSpec(ref, table, key), sort=())


def stop_compare(spec: QuerySpec) -> QuerySpec:
    """Back to the table alone (filters and grouping stay, sort keys go)."""
    return spec.with_(compare=None, sort=())


def compare_only(spec: QuerySpec, only: str | None) -> QuerySpec:
    """Keep ``both``, ``only_0``, ``only_1`` or ``changed`` rows of a comparison (None: all)."""
    if spec.compare is None:
        return spec
    return spec.with_(compare=replace(spec.compare, only=only))


def compare_key(spec: QuerySpec, key: tuple[str, str] | None) -> QuerySpec:
    """Join the comparison on ``key`` (None: ``id`` or row position); sort keys are dropped."""
    if spec.compare is None:
        return spec
    return spec.with_(compare=replace(spec.compare, key=key), sort=())
