"""Compile the expression tree to DuckDB SQL with bound parameters (values never pasted in).

Semantics: ``$eq``/``$ne`` are null-safe (NaN equals NaN); other comparisons with null or NaN,
or between values of different kinds (a number and a string), are false; ``and``/``or``/``not`` treat null as false;
paths reach into structs (``.field``), maps (``['key']``), lists (``.0`` is the first element; a
name maps over the list's elements) and JSON-text columns.
"""

from __future__ import annotations

import difflib
import itertools
import math
from dataclasses import dataclass, field
from typing import Any

import pyarrow as pa

from desktopviz.query.expr import Call, ExprError, Lambda, Let, ListLit, Literal, Node, Path, Switch

JSON = "json"  # a column stored as JSON text


@dataclass(frozen=True)
class Column:
    """A column a path can start at: its SQL reference, Arrow type and desktopviz kind."""

    sql: str
    type: pa.DataType
    kind: str = "plain"


@dataclass(frozen=True)
class Typed:
    """A compiled SQL expression and what is known of its type (an Arrow type, JSON, or None)."""

    sql: str
    type: Any = None


@dataclass
class Compiler:
    """Compiles nodes against the columns of side 0 (and side 1 when comparing)."""

    columns: dict[int, dict[str, Column]]
    params: list[Any] = field(default_factory=list)
    _names: Any = field(default_factory=lambda: itertools.count(1))

    def predicate(self, node: Node) -> str:
        """SQL for a filter (a WHERE clause, where null means false)."""
        return self.condition(node, {})

    def param(self, value: Any) -> str:
        self.params.append(value)
        return "?"

    def compile(self, node: Node, env: dict[str, Typed]) -> Typed:  # noqa: C901 - one dispatch
        if isinstance(node, Literal):
            return Typed(f"{self.param(node.value)}", _literal_type(node.value))
        if isinstance(node, ListLit):
            items = [self.compile(i, env) for i in node.items]
            return Typed(
                f"[{', '.join(i.sql for i in items)}]",
                pa.list_(items[0].type)
                if items and isinstance(items[0].type, pa.DataType)
                else None,
            )
        if isinstance(node, Path):
            return self.path(node, env)
        if isinstance(node, Let):
            inner = dict(env)
            for name, value in node.bindings:
                inner[name] = self.compile(value, env)
            return self.compile(node.body, inner)
        if isinstance(node, Switch):
            parts = [
                f"WHEN {self.truth(c, env)} THEN {self.compile(t, env).sql}"
                for c, t in node.branches
            ]
            default = self.compile(node.default, env).sql if node.default else "NULL"
            return Typed(f"(CASE {' '.join(parts)} ELSE {default} END)")
        if isinstance(node, Lambda):
            return self.lam(node, env)
        if isinstance(node, Call):
            return self.call(node, env)
        raise ExprError(f"cannot compile {type(node).__name__}", getattr(node, "pos", None))

    def truth(self, node: Node, env: dict[str, Typed]) -> str:
        """SQL that is exactly true or false."""
        return f"COALESCE({self.condition(node, env)}, FALSE)"

    def condition(self, node: Node, env: dict[str, Typed]) -> str:
        """SQL for a place where null counts as false (WHERE, WHEN, a list filter, and/or).

        Plain ``=`` and bare conjunctions keep DuckDB's filter pushdown into Parquet; only a
        negation needs an exact boolean.
        """
        if isinstance(node, Call) and node.op in ("and", "or") and node.args:
            joiner = " AND " if node.op == "and" else " OR "
            return "(" + joiner.join(self.condition(a, env) for a in node.args) + ")"
        if isinstance(node, Call) and node.op == "eq" and len(node.args) == 2:
            a, b = node.args
            if any(isinstance(x, Literal) and _plain_value(x.value) for x in (a, b)):
                mark = len(self.params)
                left, right = _coerce(self.compile(a, env), self.compile(b, env))
                ka, kb = _kind(left.type), _kind(right.type)
                if ka and kb and ka != kb:
                    del self.params[mark:]
                    return "FALSE"
                return f"(({left.sql}) = ({right.sql}))"
        if isinstance(node, Call) and any(
            isinstance(x, Literal) and isinstance(x.value, float) and math.isnan(x.value)
            for x in node.args
        ):
            # DuckDB prunes Parquet row groups by statistics that leave NaN out: keep this
            # comparison out of the pushed-down filter
            return f"COALESCE(({self.compile(node, env).sql}), FALSE)"
        return f"({self.compile(node, env).sql})"

    # -- paths ------------------------------------------------------------------------------
    def path(self, node: Path, env: dict[str, Typed]) -> Typed:
        parts = list(node.parts)
        if node.var is not None:
            if node.var not in env:
                raise ExprError(f"unknown variable $${node.var}", node.pos)
            cur = env[node.var]
        else:
            side = self.columns.get(node.side)
            if side is None:
                raise ExprError(f"${node.side} is only there when comparing two tables", node.pos)
            name = str(parts.pop(0))
            if name not in side:
                close = difflib.get_close_matches(name, list(side), n=1)
                hint = (
                    f"; did you mean {close[0]!r}?" if close else f" (columns: {', '.join(side)})"
                )
                raise ExprError(f"unknown column {name!r}{hint}", node.pos)
            col = side[name]
            cur = Typed(col.sql, JSON if col.kind == JSON else col.type)
        for part in parts:
            cur = self.step(cur, part, node.pos)
        return cur

    def step(self, cur: Typed, part: str | int, pos: int) -> Typed:
        t = cur.type
        if t == JSON or t is None:
            key = f"$[{part}]" if isinstance(part, int) else f'$."{part}"'
            fn = "json_extract" if t == JSON else "json_extract"
            base = cur.sql if t == JSON else f"to_json({cur.sql})"
            return Typed(f"{fn}({base}, {self.param(key)})", JSON)
        if pa.types.is_struct(t):
            name = str(part)
            names = [t.field(i).name for i in range(t.num_fields)]
            if name not in names:
                close = difflib.get_close_matches(name, names, n=1)
                hint = (
                    f"; did you mean {close[0]!r}?" if close else f" (fields: {', '.join(names)})"
                )
                raise ExprError(f"no field {name!r}{hint}", pos)
            return Typed(f'({cur.sql})."{_ident(name)}"', t.field(names.index(name)).type)
        if pa.types.is_map(t):
            return Typed(f"({cur.sql})[{self.param(str(part))}]", t.item_type)
        if pa.types.is_list(t) or pa.types.is_large_list(t) or pa.types.is_fixed_size_list(t):
            if isinstance(part, int):
                return Typed(f"({cur.sql})[{self.param(part + 1)}]", t.value_type)
            var = f"__e{next(self._names)}"
            inner = self.step(Typed(var, t.value_type), part, pos)
            return Typed(
                f"list_transform({cur.sql}, lambda {var}: {inner.sql})",
                pa.list_(inner.type) if isinstance(inner.type, pa.DataType) else None,
            )
        raise ExprError(f"cannot take {part!r} of a {t} value", pos)

    # -- lambdas ----------------------------------------------------------------------------
    def lam(self, node: Lambda, env: dict[str, Typed]) -> Typed:
        source = self.compile(node.input, env)
        elem = (
            source.type.value_type
            if isinstance(source.type, pa.DataType) and pa.types.is_list(source.type)
            else None
        )
        var = f"__v{next(self._names)}"
        if node.op == "reduce":
            acc = f"__a{next(self._names)}"
            init = self.compile(node.init, env) if node.init is not None else Typed("NULL")
            body = self.compile(
                node.body, {**env, "this": Typed(var, elem), "value": Typed(acc, init.type)}
            )
            return Typed(
                f"list_reduce({source.sql}, lambda {acc}, {var}: {body.sql}, {init.sql})", init.type
            )
        body_env = {**env, node.var: Typed(var, elem)}
        if node.op == "filter":
            body = self.condition(node.body, body_env)
            return Typed(f"list_filter({source.sql}, lambda {var}: {body})", source.type)
        body_t = self.compile(node.body, body_env)
        out = pa.list_(body_t.type) if isinstance(body_t.type, pa.DataType) else None
        return Typed(f"list_transform({source.sql}, lambda {var}: {body_t.sql})", out)

    # -- operators --------------------------------------------------------------------------
    def call(self, node: Call, env: dict[str, Typed]) -> Typed:  # noqa: C901 - one dispatch
        op, p = node.op, node.pos
        if op in ("and", "or"):
            if not node.args:
                raise ExprError(f"${op} needs at least one argument", p)
            joiner = " AND " if op == "and" else " OR "
            return Typed("(" + joiner.join(self.truth(a, env) for a in node.args) + ")", pa.bool_())
        if op == "not":
            self.arity(node, 1)
            return Typed(f"(NOT {self.truth(node.args[0], env)})", pa.bool_())
        if op == "cond":
            self.arity(node, 3)
            test = self.condition(node.args[0], env)
            then, other = self.compile(node.args[1], env), self.compile(node.args[2], env)
            return Typed(f"(CASE WHEN {test} THEN {then.sql} ELSE {other.sql} END)", then.type)
        if op in ("arrayElemAt", "slice"):
            return self.positional(node, env)
        mark = len(self.params)
        args = [self.compile(a, env) for a in node.args]
        if op in ("eq", "ne", "gt", "gte", "lt", "lte", "cmp"):
            self.arity(node, 2)
            a, b = _coerce(*args)
            if (
                _kind(a.type)
                and _kind(b.type)
                and _kind(a.type) != _kind(b.type)
                and "null" not in (_kind(a.type), _kind(b.type))
            ):
                del self.params[mark:]  # the arguments' SQL is dropped, so are their parameters
                return Typed({"ne": "TRUE", "cmp": "NULL"}.get(op, "FALSE"), pa.bool_())
            if op == "eq":
                return Typed(f"(({a.sql}) IS NOT DISTINCT FROM ({b.sql}))", pa.bool_())
            if op == "ne":
                return Typed(f"(({a.sql}) IS DISTINCT FROM ({b.sql}))", pa.bool_())
            if op == "cmp":  # each use of an argument gets its own parameters
                a2, b2 = _coerce(self.compile(node.args[0], env), self.compile(node.args[1], env))
                return Typed(
                    f"(CASE WHEN ({a.sql}) < ({b.sql}) THEN -1 WHEN ({a2.sql}) > ({b2.sql}) THEN 1 ELSE 0 END)",
                    pa.int64(),
                )
            sym = {"gt": ">", "gte": ">=", "lt": "<", "lte": "<="}[op]
            nan_guard = "".join(
                f" AND NOT isnan({self.compile(n, env).sql})"  # NaN orders with nothing (IEEE)
                for n, t in zip(node.args, (a, b), strict=True)
                if isinstance(t.type, pa.DataType)
                and pa.types.is_floating(t.type)
                and not isinstance(n, Literal)
            )
            return Typed(f"(({a.sql}) {sym} ({b.sql}){nan_guard})", pa.bool_())
        if op in ("in", "nin"):
            self.arity(node, 2)
            value, array = args
            test = f"COALESCE(list_contains({array.sql}, {value.sql}), FALSE)"
            return Typed(test if op == "in" else f"(NOT {test})", pa.bool_())
        if op == "contains":
            self.arity(node, 2)
            hay, needle = args
            if _kind(hay.type) == "string":
                return Typed(f"contains({hay.sql}, {needle.sql})", pa.bool_())
            return Typed(f"COALESCE(list_contains({hay.sql}, {needle.sql}), FALSE)", pa.bool_())
        binary = {"add": "+", "subtract": "-", "multiply": "*", "divide": "/", "mod": "%"}
        if op in binary:
            if len(args) < 2:
                raise ExprError(f"${op} needs at least two arguments", p)
            if op in ("subtract", "divide", "mod"):
                self.arity(node, 2)
            return Typed(
                "(" + f" {binary[op]} ".join(f"({a.sql})" for a in args) + ")", pa.float64()
            )
        unary = {
            "abs": "abs",
            "floor": "floor",
            "ceil": "ceil",
            "sqrt": "sqrt",
            "exp": "exp",
            "ln": "ln",
            "log10": "log10",
            "toLower": "lower",
            "toUpper": "upper",
            "strLenCP": "length",
        }
        if op in unary:
            self.arity(node, 1)
            return Typed(
                f"{unary[op]}({args[0].sql})",
                pa.string() if op in ("toLower", "toUpper") else pa.float64(),
            )
        if op == "round":
            digits = args[1].sql if len(args) > 1 else "0"
            return Typed(f"round({args[0].sql}, {digits})", pa.float64())
        if op == "pow":
            self.arity(node, 2)
            return Typed(f"pow({args[0].sql}, {args[1].sql})", pa.float64())
        if op == "concat":
            return Typed("(" + " || ".join(f"({a.sql})" for a in args) + ")", pa.string())
        if op == "substrCP":
            self.arity(node, 3)
            return Typed(
                f"substring({args[0].sql}, ({args[1].sql}) + 1, {args[2].sql})", pa.string()
            )
        if op == "split":
            self.arity(node, 2)
            return Typed(f"string_split({args[0].sql}, {args[1].sql})", pa.list_(pa.string()))
        if op == "trim":
            return Typed(f"trim({args[0].sql})", pa.string())
        if op == "regexMatch":
            opts = args[2].sql if len(args) > 2 else None
            return Typed(
                f"regexp_matches({args[0].sql}, {args[1].sql}{', ' + opts if opts else ''})",
                pa.bool_(),
            )
        if op == "size":
            self.arity(node, 1)
            a = args[0]
            fn = (
                "length"
                if _kind(a.type) == "string"
                else ("json_array_length" if a.type == JSON else "len")
            )
            return Typed(f"{fn}({a.sql})", pa.int64())
        if op in ("first", "last"):
            self.arity(node, 1)
            a = args[0]
            elem = (
                a.type.value_type
                if isinstance(a.type, pa.DataType) and pa.types.is_list(a.type)
                else None
            )
            return Typed(f"list_extract({a.sql}, {1 if op == 'first' else -1})", elem)
        if op in ("sum", "avg", "min", "max"):
            if len(args) == 1:
                return Typed(f"list_{op}({args[0].sql})", pa.float64())
            if op == "sum":
                return Typed(
                    "(" + " + ".join(f"COALESCE({a.sql}, 0)" for a in args) + ")", pa.float64()
                )
            if op == "avg":
                return Typed(
                    "(" + " + ".join(a.sql for a in args) + f") / {len(args)}", pa.float64()
                )
            return Typed(
                f"{'least' if op == 'min' else 'greatest'}({', '.join(a.sql for a in args)})", None
            )
        if op in ("anyElementTrue", "allElementsTrue"):
            self.arity(node, 1)
            fn = "bool_or" if op == "anyElementTrue" else "bool_and"
            return Typed(
                f"COALESCE(list_aggregate({args[0].sql}, '{fn}'), {'FALSE' if fn == 'bool_or' else 'TRUE'})",
                pa.bool_(),
            )
        if op == "isArray":
            self.arity(node, 1)
            t = args[0].type
            if isinstance(t, pa.DataType) and pa.types.is_list(t):
                return Typed(f"(({args[0].sql}) IS NOT NULL)", pa.bool_())
            del self.params[mark:]
            return Typed("FALSE", pa.bool_())
        if op == "cond":
            self.arity(node, 3)
            return Typed(
                f"(CASE WHEN {self.truth(node.args[0], env)} THEN {args[1].sql} ELSE {args[2].sql} END)",
                args[1].type,
            )
        if op == "ifNull":
            return Typed(f"COALESCE({', '.join(a.sql for a in args)})", args[0].type)
        if op == "isNumber":
            self.arity(node, 1)
            if _kind(args[0].type) == "number":
                return Typed(f"(({args[0].sql}) IS NOT NULL)", pa.bool_())
            del self.params[mark:]
            return Typed("FALSE", pa.bool_())
        if op == "type":
            self.arity(node, 1)
            name = _type_name(args[0].type)
            return Typed(
                f"(CASE WHEN ({args[0].sql}) IS NULL THEN 'null' ELSE {self.param(name)} END)",
                pa.string(),
            )
        if op == "toDouble":
            self.arity(node, 1)
            return Typed(f"TRY_CAST({args[0].sql} AS DOUBLE)", pa.float64())
        if op == "toString":
            self.arity(node, 1)
            return Typed(f"CAST({args[0].sql} AS VARCHAR)", pa.string())
        raise ExprError(f"operator ${op} is not supported here", p)

    def positional(self, node: Call, env: dict[str, Typed]) -> Typed:
        """``$arrayElemAt`` and ``$slice``: positions are whole-number literals (0-based, negative from the end)."""
        if node.op == "arrayElemAt":
            self.arity(node, 2)
        elif len(node.args) not in (2, 3):
            raise ExprError("$slice takes [array, n] or [array, position, n]", node.pos)
        nums = []
        for a in node.args[1:]:
            if (
                not isinstance(a, Literal)
                or not isinstance(a.value, int)
                or isinstance(a.value, bool)
            ):
                raise ExprError(
                    f"${node.op} positions must be whole numbers", getattr(a, "pos", node.pos)
                )
            nums.append(a.value)
        arr = self.compile(node.args[0], env)
        elem = (
            arr.type.value_type
            if isinstance(arr.type, pa.DataType) and pa.types.is_list(arr.type)
            else None
        )
        if node.op == "arrayElemAt":
            i = nums[0]
            return Typed(f"list_extract({arr.sql}, {self.param(i + 1 if i >= 0 else i)})", elem)
        if len(nums) == 1:
            n = nums[0]
            if n >= 0:
                return Typed(f"list_slice({arr.sql}, 1, {self.param(n)})", arr.type)
            return Typed(f"list_slice({arr.sql}, {self.param(n)}, -1)", arr.type)
        start, n = nums
        first = start + 1 if start >= 0 else start
        return Typed(
            f"list_slice({arr.sql}, {self.param(first)}, {self.param(first + n - 1)})", arr.type
        )

    def arity(self, node: Call, n: int) -> None:
        if len(node.args) != n:
            raise ExprError(
                f"${node.op} takes {n} argument{'s' if n != 1 else ''}, not {len(node.args)}",
                node.pos,
            )


def is_numeric(t: Any) -> bool:
    """An integer or floating-point Arrow type (not bool)."""
    return isinstance(t, pa.DataType) and (pa.types.is_integer(t) or pa.types.is_floating(t))


def _plain_value(v: Any) -> bool:
    """A literal ``=`` compares like ``IS NOT DISTINCT FROM`` (not null, NaN or a list)."""
    if v is None or isinstance(v, list | dict):
        return False
    return not (isinstance(v, float) and math.isnan(v))


def _ident(name: str) -> str:
    return name.replace('"', '""')


def quote(name: str) -> str:
    """A quoted SQL identifier."""
    return f'"{_ident(name)}"'


def _literal_type(v: Any) -> Any:
    if v is None:
        return pa.null()
    if isinstance(v, bool):
        return pa.bool_()
    if isinstance(v, int):
        return pa.int64()
    if isinstance(v, float):
        return pa.float64()
    if isinstance(v, str):
        return pa.string()
    if isinstance(v, list):
        return pa.list_(_literal_type(v[0])) if v else pa.list_(pa.null())
    return None


def _kind(t: Any) -> str | None:
    if not isinstance(t, pa.DataType):
        return None
    if pa.types.is_null(t):
        return "null"
    if pa.types.is_boolean(t):
        return "bool"
    if pa.types.is_integer(t) or pa.types.is_floating(t) or pa.types.is_decimal(t):
        return "number"
    if pa.types.is_string(t) or pa.types.is_large_string(t):
        return "string"
    if pa.types.is_list(t) or pa.types.is_large_list(t) or pa.types.is_fixed_size_list(t):
        return "list"
    if pa.types.is_struct(t) or pa.types.is_map(t):
        return "object"
    return None


def _coerce(a: Typed, b: Typed) -> tuple[Typed, Typed]:
    """JSON values compared with a typed value are read as that type."""

    def as_(x: Typed, other: Typed) -> Typed:
        if x.type != JSON:
            return x
        k = _kind(other.type)
        if k == "number":
            return Typed(f"TRY_CAST(json_extract_string({x.sql}, '$') AS DOUBLE)", pa.float64())
        if k == "bool":
            return Typed(f"TRY_CAST(json_extract_string({x.sql}, '$') AS BOOLEAN)", pa.bool_())
        if k == "string":
            return Typed(f"json_extract_string({x.sql}, '$')", pa.string())
        return x

    return as_(a, b), as_(b, a)


def _type_name(t: Any) -> str:
    return {
        "null": "null",
        "bool": "bool",
        "number": "double",
        "string": "string",
        "list": "array",
        "object": "object",
    }.get(_kind(t) or "", "missing" if t is None else "object")
