"""``dv.Table``, ``dv.JoinedTable``, ``dv.PartitionedTable`` (``wandb`` compatible names)."""

from __future__ import annotations

import hashlib
import json
import math
from collections.abc import Iterator, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from desktopviz.errors import DesktopvizError
from desktopviz.sdk.media import Image, MediaFile

if TYPE_CHECKING:
    from desktopviz.sdk.artifact import ArtifactWriter

MAX_INLINE_ARRAY = 150


class Table:
    """A 2-D table of cells: numbers, strings, bools, None, nested lists/dicts, :class:`Image`s.

    ``Table(columns=[...], data=[[...], ...])``, ``Table(dataframe=pandas_df_or_arrow_table)``.
    """

    def __init__(
        self,
        columns: Sequence[str] | None = None,
        data: Sequence[Sequence[Any]] | None = None,
        rows: Sequence[Sequence[Any]] | None = None,
        dataframe: Any = None,
        log_mode: str | None = None,
    ) -> None:
        if dataframe is not None:
            columns, data = _from_frame(dataframe)
        data = data if data is not None else rows
        if columns is None:
            width = len(data[0]) if data else 0
            columns = [f"Column_{i + 1}" for i in range(width)]
        self.columns: list[str] = [str(c) for c in columns]
        if len(set(self.columns)) != len(self.columns):
            raise DesktopvizError(f"duplicate column names in {self.columns}")
        self.data: list[list[Any]] = []
        self.log_mode = log_mode or "IMMUTABLE"
        self._source: tuple[Any, str] | None = None
        for row in data or []:
            self.add_data(*row)

    def add_data(self, *values: Any) -> None:
        """Append one row (one value per column)."""
        if len(values) != len(self.columns):
            raise DesktopvizError(
                f"row has {len(values)} values but the table has {len(self.columns)} columns",
                row=len(self.data),
            )
        self.data.append([_plain(v) for v in values])

    def add_column(self, name: str, data: Sequence[Any]) -> None:
        """Append a column; ``data`` has one value per row."""
        if name in self.columns:
            raise DesktopvizError(f"column {name!r} already exists")
        data = list(data)
        if self.data and len(data) != len(self.data):
            raise DesktopvizError(
                f"column {name!r} has {len(data)} values but the table has {len(self.data)} rows"
            )
        if not self.data and not self.columns:
            self.data = [[] for _ in data]
        elif not self.data:
            self.data = [[None] * len(self.columns) for _ in data]
        self.columns.append(name)
        for row, v in zip(self.data, data, strict=True):
            row.append(_plain(v))

    def get_column(self, name: str, convert_to: str | None = None) -> list[Any] | np.ndarray:
        """The values of a column (``convert_to="numpy"`` for an array)."""
        try:
            i = self.columns.index(name)
        except ValueError:
            raise DesktopvizError(
                f"no column {name!r} (columns: {', '.join(self.columns)})"
            ) from None
        values = [row[i] for row in self.data]
        return np.array(values) if convert_to == "numpy" else values

    def get_index(self) -> list[int]:
        """Row indexes 0..n-1."""
        return list(range(len(self.data)))

    def iterrows(self) -> Iterator[tuple[int, list[Any]]]:
        """``(index, row)`` pairs, as ``wandb.Table.iterrows`` gives them."""
        yield from enumerate(self.data)

    @property
    def num_rows(self) -> int:
        """How many rows."""
        return len(self.data)

    def fingerprint(self) -> str:
        """A digest of the columns and every cell (media by identity and overlays), to notice edits."""

        def media(o: Any) -> Any:
            if isinstance(o, Image):
                return [
                    "image",
                    id(o),
                    o.caption,
                    o._boxes,
                    sorted(o._masks),
                    o.classes.names() if o.classes else None,
                ]
            if isinstance(o, MediaFile):
                return ["media", id(o), o.cell]
            if isinstance(o, np.ndarray):
                return o.tolist()
            return repr(o)

        text = json.dumps([self.columns, self.data], default=media, sort_keys=True, allow_nan=True)
        return hashlib.sha256(text.encode()).hexdigest()

    def unchanged_source(self) -> Any:
        """The stored table file this table was read from, while it is unchanged (else None)."""
        if self._source is None:
            return None
        stored, fingerprint = self._source
        return stored if fingerprint == self.fingerprint() else None

    def to_json(self, writer: ArtifactWriter) -> dict[str, Any]:
        """The W&B ``table.json`` object; media files go into ``writer``."""
        rows = [[_cell(v, writer) for v in row] for row in self.data]
        return {
            "_type": "table",
            "columns": list(self.columns),
            "data": rows,
            "ncols": len(self.columns),
            "nrows": len(rows),
            "log_mode": self.log_mode,
        }

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Table):
            return NotImplemented
        return (
            self.columns == other.columns
            and len(self.data) == len(other.data)
            and all(
                _cells_equal(a, b)
                for ra, rb in zip(self.data, other.data, strict=True)
                for a, b in zip(ra, rb, strict=True)
            )
        )

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return f"Table(columns={self.columns!r}, rows={len(self.data)})"


class JoinedTable:
    """Two tables joined on a key (``join_key`` a column name, or a pair of names)."""

    def __init__(
        self, table1: Table | str, table2: Table | str, join_key: str | Sequence[str]
    ) -> None:
        self.table1, self.table2 = table1, table2
        self.join_key = join_key if isinstance(join_key, str) else list(join_key)


class PartitionedTable:
    """A table stored as parts: every ``*.table.json`` under ``parts_path`` of the artifact."""

    def __init__(self, parts_path: str) -> None:
        self.parts_path = parts_path


def _from_frame(frame: Any) -> tuple[list[str], list[list[Any]]]:
    import pyarrow as pa

    if isinstance(frame, pa.Table | pa.RecordBatch):
        cols = frame.column_names
        pylist = frame.to_pylist()
        return cols, [[r[c] for c in cols] for r in pylist]
    if hasattr(frame, "to_dict") and hasattr(frame, "columns"):
        cols = [str(c) for c in frame.columns]
        columns = []
        for name in frame.columns:
            series = frame[name]
            if series.dtype.kind == "f":  # NaN is a value in a float column
                columns.append(series.tolist())
            else:  # a missing string, object or date is None, as in wandb
                columns.append(series.astype(object).where(series.notna(), None).tolist())
        return cols, [list(r) for r in zip(*columns, strict=True)] if columns else []
    raise DesktopvizError(
        f"dataframe must be a pandas DataFrame or an Arrow table, not {type(frame).__name__}"
    )


def _plain(v: Any) -> Any:
    if isinstance(v, np.generic):
        return v.item()
    if isinstance(v, np.ndarray):
        return v
    if v is not None and type(v).__name__ in ("NAType", "NaTType"):
        return None
    if isinstance(v, tuple):
        return [_plain(x) for x in v]
    return v


def _cell(v: Any, writer: ArtifactWriter) -> Any:
    if isinstance(v, Image | MediaFile):
        return v.to_cell(writer)
    if isinstance(v, np.ndarray):
        return v.tolist()
    if isinstance(v, dict):
        return {str(k): _cell(x, writer) for k, x in v.items()}
    if isinstance(v, list):
        return [_cell(x, writer) for x in v]
    if isinstance(v, np.generic):
        return v.item()
    return v


def _cells_equal(a: Any, b: Any) -> bool:
    if isinstance(a, np.ndarray) or isinstance(b, np.ndarray):
        return np.array_equal(np.asarray(a), np.asarray(b))
    if isinstance(a, float) and isinstance(b, float) and math.isnan(a) and math.isnan(b):
        return True
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(_cells_equal(a[k], b[k]) for k in a)
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(_cells_equal(x, y) for x, y in zip(a, b, strict=True))
    return a == b
