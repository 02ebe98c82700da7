"""Python cells <-> Arrow columns, keeping lists and dicts nested and media as structs.

A column is one of these kinds (recorded in the table's column descriptors):
``plain`` (numbers, strings, bools, nested lists/dicts as Arrow list/struct), ``media``
(:data:`desktopviz.formats.media.MEDIA_TYPE`), ``json`` (values Arrow cannot type, such as
mixed types, stored as JSON text) and ``ndarray`` (arrays from an ``.npz`` file).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from itertools import chain
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc

from desktopviz.errors import FormatError
from desktopviz.formats.jsonio import depth_error, json_depth, max_json_depth
from desktopviz.formats.media import (
    MEDIA_TYPE,
    ClassLookup,
    is_media_cell,
    media_cell,
    media_record,
)

PLAIN, MEDIA, JSON, NDARRAY = "plain", "media", "json", "ndarray"
BIG_INT = pa.decimal128(38, 0)
"""Integers beyond 64 bits (up to 38 digits) are kept exact in this type; longer ones as JSON."""
_BIG_INT_BOUND = 10**38


@dataclass
class ColumnState:
    """What has been learnt about a column while reading batches."""

    name: str
    kind: str | None = None
    arrow_type: pa.DataType | None = None

    def describe(self, arrow_type: pa.DataType) -> dict[str, Any]:
        """The column descriptor stored with the table."""
        return {"name": self.name, "kind": self.kind or PLAIN, "arrow": str(arrow_type)}


@dataclass
class BatchConverter:
    """Turns row-major batches of cells into Arrow record batches with stable column kinds."""

    columns: list[str]
    classes: ClassLookup | None = None
    file: str | None = None
    forced: dict[str, str] = field(default_factory=dict)
    on_media: Callable[[dict[str, Any], int, str], None] | None = None
    """Called with (cell, row, column) for every media cell, e.g. to check its files."""

    def __post_init__(self) -> None:
        if len(set(self.columns)) != len(self.columns):
            dup = sorted({c for c in self.columns if self.columns.count(c) > 1})
            raise FormatError(
                f"duplicate column names: {', '.join(map(repr, dup))}", file=self.file
            )
        self.state = [ColumnState(str(c), self.forced.get(str(c))) for c in self.columns]

    def convert(self, rows: Sequence[Sequence[Any]], first_row: int) -> pa.RecordBatch:
        """Convert ``rows`` (numbered from ``first_row`` for error messages)."""
        n = len(self.columns)
        for i, row in enumerate(rows):
            if not isinstance(row, list) or len(row) != n:
                got = f"{len(row)} cells" if isinstance(row, list) else f"a {type(row).__name__}"
                raise FormatError(
                    f"row has {got} but 'columns' has {n}", file=self.file, row=first_row + i
                )
        cols = list(zip(*rows, strict=True)) if rows else [() for _ in range(n)]
        arrays = [
            self._column(st, list(values), first_row)
            for st, values in zip(self.state, cols, strict=True)
        ]
        return pa.RecordBatch.from_arrays(arrays, names=[s.name for s in self.state])

    def _column(self, st: ColumnState, values: list[Any], first_row: int) -> pa.Array:
        if st.kind is None:
            st.kind = _guess_kind(values)
        if st.kind == MEDIA:
            records = []
            for i, v in enumerate(values):
                if v is None:
                    records.append(None)
                elif is_media_cell(v):
                    if self.on_media is not None:
                        self.on_media(v, first_row + i, st.name)
                    try:
                        records.append(media_record(v, self.classes))
                    except (KeyError, TypeError, ValueError) as e:
                        raise FormatError(
                            f"malformed {v.get('_type')} cell: {e}",
                            file=self.file,
                            row=first_row + i,
                            field=st.name,
                        ) from e
                else:
                    st.kind = JSON
                    return self._column(st, values, first_row)
            return pa.array(records, type=MEDIA_TYPE)
        if st.kind == JSON:
            return self._json_column(values, first_row, st.name)
        try:
            arr = pa.array(values, from_pandas=False)
        except (pa.ArrowInvalid, pa.ArrowTypeError, OverflowError, TypeError, ValueError):
            arr = big_int_array(values)
            if arr is None:
                st.kind = JSON
                return self._json_column(values, first_row, st.name)
        if type_depth(arr.type) > max_json_depth():
            self._json_column(values, first_row, st.name)  # names the row
        if not parquet_writable(arr.type) or (may_hide_bools(arr) and contains_bool(values)):
            # Arrow reads a bool among floats as 0.0/1.0; keep such columns exact as JSON
            st.kind = JSON
            return self._json_column(values, first_row, st.name)
        if arr.type == pa.null() and st.kind is None:
            return arr
        if has_missing_children(arr) and not uniform_keys(values):
            # dicts whose key sets differ: a struct would blur "absent" and "null"; keep them exact
            st.kind = JSON
            return self._json_column(values, first_row, st.name)
        merged = arr.type if st.arrow_type is None else merged_type(st.arrow_type, arr.type)
        if merged is None:
            # differs from earlier batches in dict keys or value kinds: keep the column exact as JSON
            st.kind = JSON
            return self._json_column(values, first_row, st.name)
        st.arrow_type = merged
        st.kind = st.kind or PLAIN
        return arr

    def column(self, values: list[Any], index: int, first_row: int) -> pa.Array:
        """Column ``index`` of a batch from its cells (as :meth:`convert` does for each)."""
        return self._column(self.state[index], values, first_row)

    def fast_type(
        self, st: ColumnState, arr: pa.Array, minus_zero: bool = False
    ) -> pa.DataType | None:
        """The column type after ``arr``, an array pyarrow's JSON reader made from a batch's
        cells, where the cells converted here would give that same array (else None: convert
        them). Changes nothing; :meth:`fast_accept` records it. ``minus_zero``: the batch may
        hold the integer -0, which pyarrow reads as -0.0."""
        t = arr.type
        if st.kind not in (None, PLAIN) or not _fast_type_ok(t):
            return None
        if type_depth(t) > max_json_depth():
            return None  # (converting names the row)
        if pa.types.is_struct(t) and t.get_field_index("_type") >= 0:
            return None  # maybe media
        for leaf in _float_leaves(arr):
            if minus_zero or not _exact_floats(leaf):
                return None
        if _has_bool(t) and may_hide_bools(arr):
            return None
        if has_missing_children(arr):
            return None  # absent or null keys
        if pa.types.is_null(t) and st.kind is None:
            return t
        return t if st.arrow_type is None else merged_type(st.arrow_type, t)

    def fast_accept(self, st: ColumnState, arr: pa.Array, merged: pa.DataType) -> None:
        """Record what :meth:`fast_type` found for ``arr``."""
        if pa.types.is_null(arr.type) and st.kind is None:
            return
        st.arrow_type = merged
        st.kind = st.kind or PLAIN

    def _json_column(self, values: list[Any], first_row: int, name: str) -> pa.Array:
        """``values`` as JSON text, after checking that none is nested too deep."""
        limit = max_json_depth()
        if json_depth(values, limit + 1) > limit + 1:  # the whole batch at once, then find the row
            for i, v in enumerate(values):
                if json_depth(v, limit) > limit:
                    raise depth_error(limit, file=self.file, row=first_row + i, field=name)
        return json_array(values)


def big_int_array(values: list[Any]) -> pa.Array | None:
    """Integers (some beyond 64 bits, all under 38 digits) and nulls as :data:`BIG_INT`, else None."""
    if all(v is None or (type(v) is int and -_BIG_INT_BOUND < v < _BIG_INT_BOUND) for v in values):
        return pa.array(values, type=BIG_INT)
    return None


def type_depth(t: pa.DataType) -> int:
    """How deep lists and structs nest in an Arrow type (a scalar is 0)."""
    if pa.types.is_struct(t):
        return 1 + max((type_depth(t.field(i).type) for i in range(t.num_fields)), default=0)
    if pa.types.is_list(t) or pa.types.is_large_list(t) or pa.types.is_fixed_size_list(t):
        return 1 + type_depth(t.value_type)
    return 0


def _fast_type_ok(t: pa.DataType) -> bool:
    """Types pyarrow's JSON reader gives that Python cells give too (not timestamps from text)."""
    if pa.types.is_struct(t):
        return t.num_fields > 0 and all(_fast_type_ok(t.field(i).type) for i in range(t.num_fields))
    if pa.types.is_list(t):
        return _fast_type_ok(t.value_type)
    return (
        pa.types.is_null(t)
        or pa.types.is_boolean(t)
        or t == pa.int64()
        or t == pa.float64()
        or t == pa.string()
    )


def _exact_floats(leaf: pa.Array) -> bool:
    """True when every float is finite and at most 2**53 in size: then, where the text held an
    integer, Python's cell gives the same double (NaN and Infinity are left to Python, which
    reads fewer spellings of them; so are integers beyond 2**53 and beyond 64 bits, which
    Python keeps exact)."""
    if pc.all(pc.is_finite(leaf)).as_py() is False:
        return False
    lo, hi = pc.min_max(leaf).values()
    return lo.as_py() is None or (-(2.0**53) <= lo.as_py() and hi.as_py() <= 2.0**53)


def _has_bool(t: pa.DataType) -> bool:
    if pa.types.is_struct(t):
        return any(_has_bool(t.field(i).type) for i in range(t.num_fields))
    if pa.types.is_list(t):
        return _has_bool(t.value_type)
    return pa.types.is_boolean(t)


def _guess_kind(values: list[Any]) -> str | None:
    for v in values:
        if v is None:
            continue
        return MEDIA if is_media_cell(v) else None
    return None


def json_array(values: list[Any]) -> pa.Array:
    """Values as JSON text (``None`` stays null)."""
    return pa.array(
        [
            None if v is None else json.dumps(v, sort_keys=True, allow_nan=True, default=_default)
            for v in values
        ],
        type=pa.string(),
    )


def _default(o: Any) -> Any:
    if isinstance(o, Decimal):
        return int(o) if o == o.to_integral_value() else float(o)
    if hasattr(o, "tolist"):
        return o.tolist()
    return str(o)


def parquet_writable(t: pa.DataType) -> bool:
    """False for types Parquet cannot store (a struct with no fields, anywhere inside)."""
    if pa.types.is_struct(t):
        return t.num_fields > 0 and all(
            parquet_writable(t.field(i).type) for i in range(t.num_fields)
        )
    if pa.types.is_list(t) or pa.types.is_large_list(t) or pa.types.is_fixed_size_list(t):
        return parquet_writable(t.value_type)
    if pa.types.is_map(t):
        return parquet_writable(t.key_type) and parquet_writable(t.item_type)
    return True


def _float_leaves(arr: pa.Array) -> list[pa.Array]:
    t = arr.type
    if pa.types.is_floating(t):
        return [arr]
    if pa.types.is_struct(t):
        return [leaf for i in range(t.num_fields) for leaf in _float_leaves(arr.field(i))]
    if pa.types.is_list(t) or pa.types.is_large_list(t):
        return _float_leaves(arr.flatten())
    return []


def may_hide_bools(arr: pa.Array) -> bool:
    """True when a float inside ``arr`` is exactly 0.0 or 1.0: Arrow may have read a bool there."""
    for leaf in _float_leaves(arr):
        if len(leaf) and pc.any(pc.or_(pc.equal(leaf, 0.0), pc.equal(leaf, 1.0))).as_py():
            return True
    return False


def contains_bool(values: list[Any]) -> bool:
    """True when a bool is anywhere inside ``values`` (lists and dicts included), level by level."""
    level = values
    while level:
        kinds = set(map(type, level))
        if bool in kinds:
            return True
        nxt: list[Any] = []
        if list in kinds:
            nxt.extend(chain.from_iterable(v for v in level if type(v) is list))
        if dict in kinds:
            nxt.extend(chain.from_iterable(v.values() for v in level if type(v) is dict))
        level = nxt
    return False


def merged_type(a: pa.DataType, b: pa.DataType) -> pa.DataType | None:
    """The type both ``a`` and ``b`` widen to without loss, or None.

    Dict keys must match at every level (a struct gaining a field would blur absent and null);
    leaves widen only from null to anything and from int to float.
    """
    if pa.types.is_null(a):
        return b
    if pa.types.is_null(b):
        return a
    if pa.types.is_struct(a) or pa.types.is_struct(b):
        if not (pa.types.is_struct(a) and pa.types.is_struct(b)):
            return None
        fa = {a.field(i).name: a.field(i).type for i in range(a.num_fields)}
        fb = {b.field(i).name: b.field(i).type for i in range(b.num_fields)}
        if fa.keys() != fb.keys():
            return None
        fields = []
        for name, ta in fa.items():
            t = merged_type(ta, fb[name])
            if t is None:
                return None
            fields.append(pa.field(name, t))
        return pa.struct(fields)
    a_list = pa.types.is_list(a) or pa.types.is_large_list(a)
    b_list = pa.types.is_list(b) or pa.types.is_large_list(b)
    if a_list or b_list:
        if not (a_list and b_list):
            return None
        t = merged_type(a.value_type, b.value_type)
        return None if t is None else pa.list_(t)
    if a == b:
        return a
    if pa.types.is_decimal(a) or pa.types.is_decimal(b):
        # exact integers: int64 widens into BIG_INT, floats do not (the column becomes JSON)
        ints = (BIG_INT, pa.int8(), pa.int16(), pa.int32(), pa.int64())
        return BIG_INT if a in ints and b in ints else None
    if (pa.types.is_integer(a) or pa.types.is_floating(a)) and (
        pa.types.is_integer(b) or pa.types.is_floating(b)
    ):
        return pa.float64() if pa.types.is_floating(a) or pa.types.is_floating(b) else pa.int64()
    return None


def has_missing_children(arr: pa.Array) -> bool:
    """True when a struct inside has a null field under a non-null parent (a key absent or null)."""
    t = arr.type
    if pa.types.is_struct(t):
        valid = pc.is_valid(arr)
        for i in range(t.num_fields):
            child = arr.field(i)
            if child.null_count and pc.any(pc.and_(valid, pc.is_null(child))).as_py():
                return True
            if has_missing_children(child):
                return True
        return False
    if pa.types.is_list(t) or pa.types.is_large_list(t):
        return has_missing_children(arr.flatten())
    return False


def uniform_keys(values: list[Any]) -> bool:
    """True when every dict at the same place in ``values`` has the same keys."""
    seen: dict[str, frozenset[str]] = {}
    stack: list[tuple[str, Any]] = [("", v) for v in values]
    while stack:
        path, v = stack.pop()
        if isinstance(v, dict):
            keys = frozenset(v)
            if seen.setdefault(path, keys) != keys:
                return False
            stack.extend((f"{path}.{k}", x) for k, x in v.items())
        elif isinstance(v, list):
            stack.extend((f"{path}[]", x) for x in v)
    return True


def column_cells(column: pa.ChunkedArray | pa.Array, desc: dict[str, Any]) -> list[Any]:
    """A column's cells as Python values, in their W&B JSON form."""
    kind = desc.get("kind", PLAIN)
    values = column.to_pylist()
    if kind == MEDIA:
        return [media_cell(v) for v in values]
    if kind == "media_list":  # a gallery: the first media items of a group
        return [None if v is None else [media_cell(x) for x in v] for v in values]
    if kind == JSON:
        return [None if v is None else json.loads(v) for v in values]
    if pa.types.is_decimal(column.type) and column.type.scale == 0:
        return [None if v is None else int(v) for v in values]
    return values


def table_rows(table: pa.Table, descriptors: list[dict[str, Any]]) -> list[list[Any]]:
    """All rows of a (small) Arrow table as lists of W&B-form cells."""
    by_name = {d["name"]: d for d in descriptors}
    cols = [
        column_cells(table.column(i), by_name.get(name, {}))
        for i, name in enumerate(table.column_names)
    ]
    return [list(r) for r in zip(*cols, strict=True)] if cols else []
