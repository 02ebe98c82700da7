"""The simple filter form: ``row["road"] > 0.05 and row["label"] in ["car", "bus"]``.

Python expression syntax (parsed with :mod:`ast`, never evaluated): ``and/or/not``, comparisons
(chained too), ``in``/``not in``, arithmetic, ``len(x)``, ``contains(x, y)`` and a few functions;
``row["col"]["key"]`` (or ``row0``/``row1`` in compare mode) reaches into nested values.
"""

from __future__ import annotations

import ast
import io
import tokenize
from typing import Any

from desktopviz.query.comparison import ComparedColumn
from desktopviz.query.expr import (
    MAX_NESTING,
    Call,
    ExprError,
    ListLit,
    Literal,
    Node,
    Path,
    too_deep,
)

_CMP = {
    ast.Eq: "eq",
    ast.NotEq: "ne",
    ast.Gt: "gt",
    ast.GtE: "gte",
    ast.Lt: "lt",
    ast.LtE: "lte",
    ast.In: "in",
    ast.NotIn: "nin",
}
_BIN = {
    ast.Add: "add",
    ast.Sub: "subtract",
    ast.Mult: "multiply",
    ast.Div: "divide",
    ast.Mod: "mod",
    ast.Pow: "pow",
}
_FUNCS = {
    "len": "size",
    "contains": "contains",
    "abs": "abs",
    "round": "round",
    "floor": "floor",
    "ceil": "ceil",
    "sqrt": "sqrt",
    "exp": "exp",
    "log": "ln",
    "log10": "log10",
    "lower": "toLower",
    "upper": "toUpper",
    "str": "toString",
    "float": "toDouble",
    "min": "min",
    "max": "max",
    "sum": "sum",
    "avg": "avg",
    "mean": "avg",
    "matches": "regexMatch",
    "isnumber": "isNumber",
    "type": "type",
    "strip": "trim",
    "concat": "concat",
    "if_null": "ifNull",
}
_ROWS = {"row": 0, "row0": 0, "row1": 1}


def column_path(column: ComparedColumn | str) -> str | None:
    """The simple form's path to a column of a result: ``row["a"]["b"]`` for ``a.b``, and in a
    comparison ``row0["x"]``/``row1["x"]`` for a side's value of ``x``; None for a comparison's
    helper columns (delta, changed marks, status), which no filter names. Give the column as its
    result's comparison schema describes it (a bare name is read as the names' protocol says:
    :meth:`ComparedColumn.parse`)."""
    if isinstance(column, str):
        column = ComparedColumn.parse(column)
    if column.helper or column.name.startswith("__"):
        return None
    row = f"row{column.side}" if column.side is not None else "row"
    return row + "".join(f'["{part}"]' for part in column.base.split("."))


def parse_simple(text: str) -> Node:
    """Parse the simple form into the expression tree (at most :data:`MAX_NESTING` deep)."""
    text = text.strip()
    lines = text.splitlines(keepends=True)
    offsets = [0]
    for line in lines:
        offsets.append(offsets[-1] + len(line))
    tokens = _tokens(text, offsets)
    _check_brackets(tokens)
    try:
        tree = ast.parse(text, mode="eval")
    except SyntaxError as e:
        raise ExprError(f"syntax error: {e.msg}", (e.offset or 1) - 1) from None
    except (RecursionError, MemoryError):  # Python's parser gives up at about 1,000 levels
        raise too_deep(_past_the_limit(tokens)) from None
    converter = _Converter(offsets)
    _check_depth(tree.body, converter)
    return converter.node(tree.body)


def _tokens(text: str, offsets: list[int]) -> list[tuple[int, str, int]]:
    """The text's tokens as (type, text, position), up to the first it cannot read (the parser
    then says what is wrong there)."""
    out = []
    try:
        for tok in tokenize.generate_tokens(io.StringIO(text).readline):
            out.append((tok.type, tok.string, offsets[tok.start[0] - 1] + tok.start[1]))
    except (tokenize.TokenError, SyntaxError, IndexError):
        pass
    return out


def _check_brackets(tokens: list[tuple[int, str, int]]) -> None:
    """Refuse brackets nested deeper than the limit (before Python's parser meets them)."""
    depth = 0
    for _, string, pos in tokens:
        if string in ("(", "[", "{"):
            depth += 1
            if depth > MAX_NESTING:
                raise too_deep(pos)
        elif string in (")", "]", "}"):
            depth -= 1


def _past_the_limit(tokens: list[tuple[int, str, int]]) -> int:
    """Where a text too deep for Python's parser passes the limit: the operator or bracket after
    the first :data:`MAX_NESTING` (``and``/``or`` and commas do not nest)."""
    seen = 0
    for kind, string, pos in tokens:
        nests = kind == tokenize.OP and string not in (")", "]", "}", ",", ":")
        if nests or string == "not":
            seen += 1
            if seen > MAX_NESTING:
                return pos
    return 0


def _check_depth(tree: ast.AST, converter: _Converter) -> None:
    """Refuse an expression nested deeper than the limit (``not not ...``, ``a + b + ...``,
    ``row["a"]["b"]...``), at the first node past it; iteratively, for any depth."""
    stack = [(tree, 1)]
    while stack:
        node, depth = stack.pop()
        if depth > MAX_NESTING:
            raise too_deep(converter.pos(node))
        stack.extend(
            (child, depth + 1)
            for child in ast.iter_child_nodes(node)
            if isinstance(child, ast.expr)
        )


class _Converter:
    def __init__(self, offsets: list[int]) -> None:
        self.offsets = offsets

    def pos(self, n: ast.AST) -> int:
        return self.offsets[getattr(n, "lineno", 1) - 1] + getattr(n, "col_offset", 0)

    def node(self, n: ast.AST) -> Node:
        p = self.pos(n)
        if isinstance(n, ast.BoolOp):
            return Call(
                "and" if isinstance(n.op, ast.And) else "or",
                tuple(self.node(v) for v in n.values),
                p,
            )
        if isinstance(n, ast.UnaryOp):
            if isinstance(n.op, ast.Not):
                return Call("not", (self.node(n.operand),), p)
            if isinstance(n.op, ast.USub):
                inner = self.node(n.operand)
                if isinstance(inner, Literal) and isinstance(inner.value, int | float):
                    return Literal(-inner.value, p)
                return Call("multiply", (Literal(-1, p), inner), p)
            if isinstance(n.op, ast.UAdd):
                return self.node(n.operand)
        if isinstance(n, ast.Compare):
            parts = []
            left = self.node(n.left)
            for op, comp in zip(n.ops, n.comparators, strict=True):
                right = self.node(comp)
                name = _CMP.get(type(op))
                if name is None:
                    raise ExprError(f"unsupported comparison {type(op).__name__}", self.pos(comp))
                parts.append(Call(name, (left, right), p))
                left = right
            return parts[0] if len(parts) == 1 else Call("and", tuple(parts), p)
        if isinstance(n, ast.BinOp):
            name = _BIN.get(type(n.op))
            if name is None:
                raise ExprError(f"unsupported operator {type(n.op).__name__}", p)
            return Call(name, (self.node(n.left), self.node(n.right)), p)
        if isinstance(n, ast.Constant):
            if not isinstance(n.value, str | int | float | bool | type(None)):
                raise ExprError(f"unsupported constant {n.value!r}", p)
            return Literal(n.value, p)
        if isinstance(n, ast.List | ast.Tuple | ast.Set):
            items = [self.node(e) for e in n.elts]
            if all(isinstance(i, Literal) for i in items):
                return Literal([i.value for i in items], p)  # type: ignore[union-attr]
            return ListLit(tuple(items), p)
        if isinstance(n, ast.Subscript | ast.Attribute):
            return self.path(n)
        if isinstance(n, ast.Call):
            if not isinstance(n.func, ast.Name) or n.func.id not in _FUNCS:
                name = n.func.id if isinstance(n.func, ast.Name) else ast.unparse(n.func)
                raise ExprError(f"unknown function {name}(); known: {', '.join(sorted(_FUNCS))}", p)
            if n.keywords:
                raise ExprError("functions take positional arguments only", p)
            return Call(_FUNCS[n.func.id], tuple(self.node(a) for a in n.args), p)
        if isinstance(n, ast.IfExp):
            return Call("cond", (self.node(n.test), self.node(n.body), self.node(n.orelse)), p)
        if isinstance(n, ast.Name):
            if n.id in ("true", "false", "null", "none"):
                return Literal({"true": True, "false": False}.get(n.id), p)
            raise ExprError(f'unknown name {n.id!r}; write row["{n.id}"] for a column', p)
        raise ExprError(f"unsupported syntax: {ast.unparse(n)}", p)

    def path(self, n: ast.AST) -> Path:
        parts: list[str | int] = []
        start = n
        while isinstance(n, ast.Subscript | ast.Attribute):
            if isinstance(n, ast.Attribute):
                parts.append(n.attr)
            else:
                key = n.slice
                if not isinstance(key, ast.Constant) or not isinstance(key.value, str | int):
                    raise ExprError(
                        'a path step is a string or an integer: row["col"][0]', self.pos(n)
                    )
                parts.append(key.value)
            n = n.value
        if not isinstance(n, ast.Name) or n.id not in _ROWS:
            raise ExprError("a path starts at row (or row0/row1 when comparing)", self.pos(start))
        side = _ROWS[n.id]
        parts.reverse()
        if n.id == "row" and parts and parts[0] in (0, 1) and len(parts) > 1:
            side, parts = int(parts[0]), parts[1:]
        if not parts:
            raise ExprError('name a column: row["col"]', self.pos(start))
        return Path(tuple(_any(p) for p in parts), side=side, pos=self.pos(start))


def _any(p: Any) -> str | int:
    return p
