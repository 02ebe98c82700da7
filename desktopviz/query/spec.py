"""Query specs: frozen values the GUI edits and the engine executes."""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

from desktopviz.query.expr import ExprError, Node
from desktopviz.query.mongo import parse_mongo
from desktopviz.query.simple import parse_simple


@dataclass(frozen=True)
class SortKey:
    """Sort by a column (or a dotted path into it), nulls last."""

    column: str
    descending: bool = False

    @classmethod
    def parse(cls, text: str) -> SortKey:
        """``score`` or ``score:desc`` / ``score:asc``."""
        name, _, direction = (
            text.rpartition(":") if text.endswith((":desc", ":asc")) else (text, "", "")
        )
        if direction not in ("", "asc", "desc"):
            raise ExprError(f"sort direction must be asc or desc, not {direction!r}")
        return cls(name, direction == "desc")


@dataclass(frozen=True)
class GroupSpec:
    """Group rows by columns (or expressions); numeric columns get shared-bin histograms."""

    by: tuple[str, ...]
    bins: int = 20
    media_items: int = 4
    top_values: int = 3


@dataclass(frozen=True)
class CompareSpec:
    """Compare with another table: join on ``key`` (default ``id``, else row position; ``#`` means
    row position) or concatenate.

    ``only`` keeps ``both``, ``only_0``, ``only_1`` or ``changed`` rows.
    """

    ref: str
    table: str | None = None
    key: tuple[str, str] | None = None
    mode: str = "join"
    only: str | None = None


@dataclass(frozen=True)
class QuerySpec:
    """What to show of one table: filters (either language, all must hold), sort keys, columns,
    row limit."""

    filters: tuple[str, ...] = ()
    sort: tuple[SortKey, ...] = ()
    select: tuple[str, ...] | None = None
    limit: int | None = None
    group: GroupSpec | None = None
    compare: CompareSpec | None = None

    def with_(self, **changes: object) -> QuerySpec:
        """A copy with some fields changed."""
        return replace(self, **changes)  # type: ignore[arg-type]


def spec_to_dict(spec: QuerySpec) -> dict[str, Any]:
    """A spec as plain JSON-able data (what a saved view stores)."""
    out: dict[str, Any] = {}
    if spec.filters:
        out["filters"] = list(spec.filters)
    if spec.sort:
        out["sort"] = [[k.column, k.descending] for k in spec.sort]
    if spec.select is not None:
        out["select"] = list(spec.select)
    if spec.limit is not None:
        out["limit"] = spec.limit
    if spec.group is not None:
        out["group"] = {"by": list(spec.group.by), "bins": spec.group.bins}
    if spec.compare is not None:
        c = spec.compare
        out["compare"] = {
            "ref": c.ref,
            "table": c.table,
            "key": list(c.key) if c.key else None,
            "mode": c.mode,
            "only": c.only,
        }
    return out


def spec_from_dict(data: dict[str, Any]) -> QuerySpec:
    """The spec :func:`spec_to_dict` wrote (unknown keys are ignored, missing ones default)."""
    group = data.get("group")
    compare = data.get("compare")
    return QuerySpec(
        filters=tuple(str(f) for f in data.get("filters", ())),
        sort=tuple(SortKey(str(c), bool(d)) for c, d in data.get("sort", ())),
        select=tuple(data["select"]) if data.get("select") is not None else None,
        limit=int(data["limit"]) if data.get("limit") is not None else None,
        group=GroupSpec(tuple(group["by"]), int(group.get("bins", 20))) if group else None,
        compare=CompareSpec(
            str(compare["ref"]),
            compare.get("table"),
            tuple(compare["key"]) if compare.get("key") else None,  # type: ignore[arg-type]
            compare.get("mode", "join"),
            compare.get("only"),
        )
        if compare
        else None,
    )


def parse_filter(text: str) -> Node:
    """Parse a filter in either language: Mongo when it starts with ``{``, else the simple form."""
    stripped = text.strip()
    if not stripped:
        raise ExprError("empty filter", 0)
    return parse_mongo(stripped) if stripped.startswith("{") else parse_simple(stripped)
