"""The lazy query object of the Python API: ``dv.open_cache().table(ref, name).filter(...)``."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import pyarrow as pa

from desktopviz.errors import DesktopvizError
from desktopviz.model import Version
from desktopviz.query.compare import DiffSummary, diff_summary
from desktopviz.query.engine import QueryEngine, Result
from desktopviz.query.spec import CompareSpec, GroupSpec, QuerySpec, SortKey, parse_filter


class Query:
    """A table with a filter, sort, selection and limit applied lazily; nothing runs until asked."""

    def __init__(
        self,
        engine: QueryEngine,
        version: Version,
        table: str | None,
        spec: QuerySpec | None = None,
    ) -> None:
        self._engine, self._version, self._table = engine, version, table
        self.spec = spec or QuerySpec()

    def _with(self, **changes: Any) -> Query:
        return Query(self._engine, self._version, self._table, self.spec.with_(**changes))

    def filter(self, expr: str) -> Query:
        """Keep rows where ``expr`` holds (Mongo ``{$gt: [...]}`` or ``row["x"] > 1``)."""
        parse_filter(expr)  # fail here, where the user wrote it
        return self._with(filters=(*self.spec.filters, expr))

    def sort(self, column: str, descending: bool = False) -> Query:
        """Sort by ``column`` (added after earlier keys), nulls last."""
        return self._with(sort=(*self.spec.sort, SortKey(column, descending)))

    def select(self, columns: list[str] | tuple[str, ...]) -> Query:
        """Only these columns."""
        return self._with(select=tuple(columns))

    def group_by(self, columns: str | list[str] | tuple[str, ...], bins: int = 20) -> Query:
        """One row per group: count, numeric min/mean/max/histogram (shared bins), top values, media."""
        by = (columns,) if isinstance(columns, str) else tuple(columns)
        return self._with(group=GroupSpec(by, bins=bins))

    def compare(
        self,
        other: str | Query,
        key: str | tuple[str, str] | None = None,
        mode: str = "join",
        only: str | None = None,
    ) -> Query:
        """Compare with another table (a reference like ``"preds:v2"`` or another query's table)."""
        if isinstance(other, Query):
            ref, table = other._version.ref, other._table
        else:
            ref, table = other, None
        pair = (key, key) if isinstance(key, str) else (tuple(key) if key else None)
        return self._with(compare=CompareSpec(ref, table, pair, mode, only))  # type: ignore[arg-type]

    def only(self, which: str) -> Query:
        """Quick filter of a comparison: ``both``, ``only_0``, ``only_1`` or ``changed``."""
        if self.spec.compare is None:
            raise DesktopvizError("only() applies to a comparison: call compare() first")
        if which not in ("both", "only_0", "only_1", "changed"):
            raise DesktopvizError(f"only must be both, only_0, only_1 or changed, not {which!r}")
        return self._with(compare=replace(self.spec.compare, only=which))

    def diff(self) -> DiffSummary:
        """Rows added, removed and changed, and changed cells per column, of a comparison."""
        if self.spec.compare is None:
            raise DesktopvizError("diff() applies to a comparison: call compare() first")
        result = self._engine.result(
            self._version, self._table, self.spec.with_(filters=(), group=None)
        )
        return diff_summary(self._engine, result.relation)

    def limit(self, n: int) -> Query:
        """At most ``n`` rows."""
        return self._with(limit=int(n))

    @property
    def result(self) -> Result:
        """The executed (and cached) result."""
        return self._engine.result(self._version, self._table, self.spec)

    @property
    def num_rows(self) -> int:
        """How many rows the query selects."""
        return self.result.num_rows

    @property
    def columns(self) -> list[str]:
        """The columns the query returns."""
        return self.result.columns

    def rows(self, offset: int = 0, count: int = 100) -> pa.Table:
        """A window of the result as Arrow."""
        return self.result.rows(offset, count)

    def to_arrow(self) -> pa.Table:
        """The whole result as Arrow."""
        return self.result.to_arrow()

    def to_pandas(self) -> Any:
        """The whole result as a pandas DataFrame."""
        return self.to_arrow().to_pandas()

    def save_as(self, name: str, **options: Any) -> Version:
        """Save these rows as a new version of artifact ``name``, with lineage to this table's
        version (options: ``type``, ``project``, ``table_name``, ``columns``, ``description``,
        ``aliases``; see :func:`desktopviz.sdk.subset.save_as_version`)."""
        from desktopviz.sdk.subset import save_as_version

        table = self._table or self._engine.cache.table_info(self._version, None).path
        return save_as_version(self.result, self._version, table, name, **options)

    def explain(self) -> str:
        """The SQL this query runs."""
        return self.result.explain()

    def __repr__(self) -> str:
        return f"Query({self._version.ref!r}, {self._table!r}, {self.spec})"
