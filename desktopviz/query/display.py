"""The text of a result's cells and headers: how each column is drawn, its type label, a cell's
one-line text and its TSV field (no Qt: the table model calls these in its worker threads).

Public API: :class:`ColumnInfo`, :func:`column_info`, :func:`is_histogram`, :func:`type_label`,
:func:`format_number`, :func:`short_number`, :func:`compact`, :func:`display_text`,
:func:`tsv_field`, ``MAX_DISPLAY_CHARS``.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from datetime import date, datetime, time
from decimal import Decimal
from typing import Any

import numpy as np
import pyarrow as pa

MAX_DISPLAY_CHARS = 500
"""A cell's text is cut here (its tooltip and the Inspector show the rest)."""


@dataclass(frozen=True)
class ColumnInfo:
    """A column as the view needs it: name, kind (plain/media/json/...), Arrow type, how its
    cells are drawn, and the type label shown in the header."""

    name: str
    kind: str
    arrow_type: pa.DataType | None
    render: str
    label: str


def _value_type(arrow_type: pa.DataType | None) -> pa.DataType | None:
    """The type of the values: a dictionary-encoded column's value type, else the type itself."""
    if arrow_type is not None and pa.types.is_dictionary(arrow_type):
        return arrow_type.value_type
    return arrow_type


def column_info(name: str, kind: str, arrow_type: pa.DataType | None) -> ColumnInfo:
    """Describe a column from its kind and Arrow type (a dictionary column by its values)."""
    t = _value_type(arrow_type)
    if kind == "media":
        render = "media"
    elif kind == "media_list":
        render = "gallery"
    elif is_histogram(t):
        render = "histogram"
    elif kind == "json":
        render = "nested"
    elif t is None:
        render = "text"
    elif pa.types.is_boolean(t):
        render = "bool"
    elif pa.types.is_integer(t) or pa.types.is_floating(t) or pa.types.is_decimal(t):
        render = "number"
    elif pa.types.is_nested(t):
        render = "nested"
    else:
        render = "text"
    return ColumnInfo(name, kind, arrow_type, render, type_label(kind, arrow_type))


def is_histogram(arrow_type: pa.DataType | None) -> bool:
    """A grouped numeric column: a struct of min, mean, max and histogram (bin counts)."""
    return (
        arrow_type is not None
        and pa.types.is_struct(arrow_type)
        and arrow_type.get_field_index("histogram") >= 0
        and arrow_type.get_field_index("mean") >= 0
    )


def type_label(kind: str, arrow_type: pa.DataType | None) -> str:
    """A short type name for a header: int, float, str, bool, list[float], dict, image... (a
    dictionary-encoded column is named by its values: ``str``, not its encoding)."""
    if kind == "media":
        return "media"
    if kind == "media_list":
        return "gallery"
    t = _value_type(arrow_type)
    if is_histogram(t):
        return "histogram"
    if kind in ("json", "ndarray"):
        return kind
    if t is None:
        return "?"
    if pa.types.is_boolean(t):
        return "bool"
    if pa.types.is_integer(t):
        return "int"
    if pa.types.is_decimal(t):
        return "int" if t.scale == 0 else "decimal"  # int: integers beyond 64 bits, kept exact
    if pa.types.is_floating(t):
        return "float"
    if pa.types.is_string(t) or pa.types.is_large_string(t):
        return "str"
    if pa.types.is_timestamp(t):
        return "time"
    if pa.types.is_date(t):
        return "date"
    if pa.types.is_list(t) or pa.types.is_large_list(t) or pa.types.is_fixed_size_list(t):
        return f"list[{type_label('plain', t.value_type)}]"
    if pa.types.is_struct(t):
        return "dict"
    if pa.types.is_map(t):
        return "map"
    if pa.types.is_binary(t) or pa.types.is_large_binary(t):
        return "bytes"
    if pa.types.is_null(t):
        return "null"
    return str(t)


_NARROW_FLOATS = {16: np.float16, 32: np.float32}


def _float_bits(arrow_type: pa.DataType | None) -> int:
    """64, or 32 / 16 for a column of narrower floats (their values print at their precision)."""
    t = _value_type(arrow_type)
    return t.bit_width if t is not None and pa.types.is_floating(t) else 64


DOUBLE_DIGITS = 15
"""Significant digits a double keeps of any decimal (DBL_DIG)."""


def format_number(value: float | int | Decimal, bits: int = 64) -> str:
    """A number for a cell, with every digit that tells it from its neighbours: ints and exact
    decimals as they are, a float as the shortest text that reads back as the same float
    (``0.5``, ``0.99999991``, ``1e-05``; ``bits`` 32 or 16: at that float's precision, so a
    float32 0.1 reads ``0.1``), at most 15 significant digits: a double holds every 15-digit
    decimal, so what lies beyond is arithmetic noise (``0.9052 - 0.7138`` reads ``0.1914``, not
    ``0.19140000000000001``). Values that differ within 15 digits never read the same."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | Decimal):
        return str(value)
    value = float(value)
    if math.isnan(value):
        return "NaN"
    if math.isinf(value):
        return "∞" if value > 0 else "-∞"
    narrow = _NARROW_FLOATS.get(bits)
    if narrow is not None:
        return str(narrow(value))
    text = repr(value)
    if len(text.lstrip("-0.").split("e")[0].replace(".", "")) <= DOUBLE_DIGITS:
        return text
    text = f"{value:.{DOUBLE_DIGITS}g}"
    return text if any(c in text for c in ".en") else text + ".0"


def short_number(value: float | int | Decimal, digits: int = 4) -> str:
    """A number where room is short (a histogram's range and mean): ``digits`` significant
    digits (``0.5012``, ``1.235e+10``); ints as they are."""
    if isinstance(value, bool | int | Decimal) or not math.isfinite(value):
        return format_number(value)
    return f"{value:.{digits}g}"


def compact(value: Any, limit: int = MAX_DISPLAY_CHARS) -> str:
    """A nested value on one line: ``{a: 1, b: [1, 2]}``, cut at ``limit`` characters."""
    parts: list[str] = []
    size = 0

    def add(text: str) -> bool:
        nonlocal size
        parts.append(text)
        size += len(text)
        return size < limit

    def walk(v: Any) -> bool:
        if isinstance(v, dict):
            if not add("{"):
                return False
            for i, (k, x) in enumerate(v.items()):
                if (i and not add(", ")) or not add(f"{k}: ") or not walk(x):
                    return False
            return add("}")
        if isinstance(v, list | tuple):
            if not add("["):
                return False
            for i, x in enumerate(v):
                if (i and not add(", ")) or not walk(x):
                    return False
            return add("]")
        if isinstance(v, float):
            text = f"{v:.6g}"
            return add(text + ".0" if text.lstrip("-").isdigit() else text)
        if v is None:
            return add("null")
        if isinstance(v, bool):
            return add("true" if v else "false")
        return add(str(v))

    if walk(value):
        return "".join(parts)
    return "".join(parts)[:limit] + "…"


def display_text(value: Any, column: ColumnInfo) -> str:
    """The one-line text of a cell (what the view paints and tooltips start from)."""
    if value is None:
        return ""
    render = column.render
    if render == "number":
        return format_number(value, _float_bits(column.arrow_type))
    if render == "bool":
        return "true" if value else "false"
    if render == "gallery":
        return f"[{len(value)} items]"
    if render == "histogram":
        lo, mean, hi = value.get("min"), value.get("mean"), value.get("max")
        if mean is None:
            return ""
        return f"{short_number(lo)} … {short_number(hi)}, mean {short_number(mean)}"
    if render == "media":
        if value.get("caption"):
            return value["caption"]
        name = (value.get("path") or "").rsplit("/", 1)[-1]
        kind = (value.get("_type") or "media").removesuffix("-file")
        return f"{kind} · {name}" if name else kind
    if render == "nested":
        if column.kind == "json" and isinstance(value, str):
            try:
                value = json.loads(value)
            except ValueError:
                return value[:MAX_DISPLAY_CHARS]
        return compact(value)
    if isinstance(value, datetime | date | time):
        return value.isoformat()
    if isinstance(value, bytes):
        return f"<{len(value):,} bytes>"
    text = str(value)
    if len(text) > MAX_DISPLAY_CHARS:
        text = text[:MAX_DISPLAY_CHARS] + "…"
    return text.replace("\r\n", " ⏎ ").replace("\n", " ⏎ ").replace("\t", " ")


def tsv_field(value: Any, column: ColumnInfo) -> str:
    """A cell as one TSV field: full precision, media as their artifact path, nested as JSON;
    quoted (quotes doubled) when it holds a tab or newline or starts with a quote, as
    spreadsheets read it."""
    if value is None:
        return ""
    if column.render == "bool":
        text = "true" if value else "false"
    elif column.render == "number":
        text = repr(value) if isinstance(value, float) else str(value)
    elif column.render == "media" and isinstance(value, dict):
        text = value.get("path") or value.get("json") or ""
    elif column.render == "nested" and not isinstance(value, str):
        text = json.dumps(value, ensure_ascii=False, default=str)
    else:
        text = str(value)
    if any(c in text for c in "\t\n\r") or text.startswith('"'):
        text = '"' + text.replace('"', '""') + '"'
    return text
