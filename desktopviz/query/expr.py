"""The expression tree both filter languages compile to (frozen dataclasses)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from desktopviz.errors import DesktopvizError


class ExprError(DesktopvizError):
    """A filter expression that cannot be understood; says what and at which position."""

    def __init__(self, message: str, pos: int | None = None) -> None:
        self.pos = pos
        super().__init__(f"position {pos}: {message}" if pos is not None else message)


MAX_NESTING = 100
"""The deepest a filter may nest: brackets (``(``, ``[``, ``{``), operators inside operators
(``not not x``, ``a + b + c``) and path steps (``row["a"]["b"]``) each count one level. A Mongo
operator is two (``{$not: [...]}``). Deeper filters are refused with the position where they pass
the limit (Python's parser and recursion would fail at about 1,000)."""


def too_deep(pos: int) -> ExprError:
    """The error for a filter nested deeper than :data:`MAX_NESTING` at ``pos``."""
    return ExprError(f"the expression nests deeper than {MAX_NESTING} levels", pos)


@dataclass(frozen=True)
class Node:
    """Base of every node; ``pos`` is the position in the source text (for errors)."""


@dataclass(frozen=True)
class Literal(Node):
    """A constant (bound as a query parameter, never pasted into SQL)."""

    value: Any
    pos: int = 0


@dataclass(frozen=True)
class ListLit(Node):
    """A list of expressions: ``[1, '$a', 3]``."""

    items: tuple[Node, ...]
    pos: int = 0


@dataclass(frozen=True)
class Path(Node):
    """A value reached from a row (``side`` 0 or 1) or a variable (``var``) by ``parts``."""

    parts: tuple[str | int, ...]
    side: int = 0
    var: str | None = None
    pos: int = 0


@dataclass(frozen=True)
class Call(Node):
    """An operator applied to arguments; ``op`` is the Mongo name without ``$`` (``gt``, ``size``)."""

    op: str
    args: tuple[Node, ...]
    pos: int = 0


@dataclass(frozen=True)
class Lambda(Node):
    """``$filter``/``$map``/``$reduce``: ``body`` over each element of ``input`` bound to ``var``."""

    op: str
    input: Node
    var: str
    body: Node
    init: Node | None = None
    pos: int = 0


@dataclass(frozen=True)
class Let(Node):
    """``$let``: ``body`` with variables bound to expressions."""

    bindings: tuple[tuple[str, Node], ...]
    body: Node
    pos: int = 0


@dataclass(frozen=True)
class Switch(Node):
    """``$switch``: the first branch whose case holds, else ``default``."""

    branches: tuple[tuple[Node, Node], ...]
    default: Node | None = None
    pos: int = 0


COMPARISON = ("eq", "ne", "gt", "gte", "lt", "lte", "cmp")
LOGIC = ("and", "or", "not")
ARITHMETIC = (
    "add",
    "subtract",
    "multiply",
    "divide",
    "mod",
    "abs",
    "round",
    "floor",
    "ceil",
    "sqrt",
    "pow",
    "exp",
    "ln",
    "log10",
)
STRINGS = (
    "concat",
    "toLower",
    "toUpper",
    "substrCP",
    "strLenCP",
    "regexMatch",
    "split",
    "trim",
    "contains",
)
ARRAYS = (
    "size",
    "in",
    "nin",
    "arrayElemAt",
    "first",
    "last",
    "slice",
    "sum",
    "avg",
    "min",
    "max",
    "anyElementTrue",
    "allElementsTrue",
    "isArray",
)
CONDITIONALS = ("cond", "ifNull")
TYPES = ("type", "isNumber", "toDouble", "toString")
OPERATORS = frozenset(
    COMPARISON
    + LOGIC
    + ARITHMETIC
    + STRINGS
    + ARRAYS
    + CONDITIONALS
    + TYPES
    + ("filter", "map", "reduce", "let", "switch", "literal")
)
