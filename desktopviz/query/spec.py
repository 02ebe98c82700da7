"""Query specs: frozen values the GUI edits and the engine executes."""

from __future__ import annotations

from dataclasses import dataclass, replace

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


def parse_filter(text: str) -> Node:
    """Parse a filter in either language: Mongo when it starts with ``{``, else the simple form."""
    stripped = text.strip()
    if not stripped:
        raise ExprError("empty filter", 0)
    return parse_mongo(stripped) if stripped.startswith("{") else parse_simple(stripped)
