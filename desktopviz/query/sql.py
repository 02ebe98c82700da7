"""Compile the expression tree to DuckDB SQL with bound parameters (values never pasted in).

Semantics: ``$eq``/``$ne`` are null-safe (NaN equals NaN); other comparisons with null or NaN,
or between values of different kinds (a number and a string), are false; ``and``/``or``/``not`` treat null as false;
paths reach into structs (``.field``), maps (``['key']``), lists (``.0`` is the first element; a
name maps over the list's elements) and JSON-text columns.

A JSON value (a column of kind ``json``, such as dicts whose keys vary from row to row, and any
path into it) follows the same rules by the kind of value each row holds: a JSON number compares
with numbers, a JSON string with strings (``"0.9"`` is not a number), a missing key or a JSON
``null`` is null; lists inside it work with ``in``, ``$size``, ``$filter`` and positions. The
SQL for that is in the macros of :data:`MACROS`, which the engine's connection defines.
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
JSON_LIST = "json[]"  # a list of JSON values: the elements of a JSON array

_NUMBER_TYPES = "('BIGINT', 'UBIGINT', 'DOUBLE')"
MACROS = (
    # a JSON value read as a number / string / bool when it is one, else null
    "CREATE MACRO __dv_num(j) AS CASE WHEN json_type(j) IN "
    + _NUMBER_TYPES
    + " THEN TRY_CAST(json_extract_string(j, '$') AS DOUBLE) END",
    "CREATE MACRO __dv_str(j) AS CASE WHEN json_type(j) = 'VARCHAR' "
    "THEN json_extract_string(j, '$') END",
    "CREATE MACRO __dv_bool(j) AS CASE WHEN json_type(j) = 'BOOLEAN' "
    "THEN json_extract_string(j, '$') = 'true' END",
    "CREATE MACRO __dv_kind(j) AS CASE WHEN json_type(j) IN "
    + _NUMBER_TYPES
    + " THEN 'number' ELSE CASE json_type(j) WHEN 'VARCHAR' THEN 'string' WHEN 'BOOLEAN' THEN "
    "'bool' WHEN 'ARRAY' THEN 'list' WHEN 'OBJECT' THEN 'object' END END",
    # two JSON values: -1, 0, 1, or null when their kinds differ (NaN equals NaN, orders with
    # nothing); lists and objects are only equal or not
    "CREATE MACRO __dv_cmp(a, b) AS CASE "
    "WHEN __dv_kind(a) IS NULL OR __dv_kind(a) IS DISTINCT FROM __dv_kind(b) THEN NULL "
    "WHEN __dv_kind(a) = 'number' THEN CASE "
    "WHEN isnan(__dv_num(a)) OR isnan(__dv_num(b)) THEN "
    "CASE WHEN isnan(__dv_num(a)) AND isnan(__dv_num(b)) THEN 0 END "
    "WHEN __dv_num(a) < __dv_num(b) THEN -1 WHEN __dv_num(a) > __dv_num(b) THEN 1 ELSE 0 END "
    "WHEN __dv_kind(a) = 'string' THEN CASE "
    "WHEN __dv_str(a) < __dv_str(b) THEN -1 WHEN __dv_str(a) > __dv_str(b) THEN 1 ELSE 0 END "
    "WHEN __dv_kind(a) = 'bool' THEN CASE WHEN __dv_bool(a) = __dv_bool(b) THEN 0 "
    "WHEN __dv_bool(a) THEN 1 ELSE -1 END "
    "WHEN json(a) = json(b) THEN 0 END",
    "CREATE MACRO __dv_eq(a, b) AS CASE WHEN a IS NULL OR b IS NULL "
    "THEN a IS NULL AND b IS NULL ELSE COALESCE(__dv_cmp(a, b) = 0, FALSE) END",
    # a JSON array as a list of JSON values (JSON nulls as nulls); null when it is no array
    "CREATE MACRO __dv_list(j) AS CASE WHEN json_type(j) = 'ARRAY' THEN "
    "list_transform(json_extract(j, '$[*]'), lambda __e: nullif(__e, 'null')) END",
    "CREATE MACRO __dv_size(j) AS CASE json_type(j) WHEN 'ARRAY' THEN json_array_length(j) "
    "WHEN 'OBJECT' THEN len(json_keys(j)) WHEN 'VARCHAR' THEN length(json_extract_string(j, '$')) "
    "END",
    "CREATE MACRO __dv_has(j, s) AS CASE json_type(j) "
    "WHEN 'VARCHAR' THEN contains(json_extract_string(j, '$'), s) "
    "WHEN 'ARRAY' THEN len(list_filter(json_extract(j, '$[*]'), lambda __e: __dv_str(__e) = s)) > 0 "
    "ELSE FALSE END",
    "CREATE MACRO __dv_type(j) AS CASE WHEN json_type(j) IN "
    + _NUMBER_TYPES
    + " THEN 'double' ELSE CASE json_type(j) WHEN 'VARCHAR' THEN 'string' WHEN 'BOOLEAN' THEN "
    "'bool' WHEN 'ARRAY' THEN 'array' WHEN 'OBJECT' THEN 'object' ELSE 'null' END END",
    "CREATE MACRO __dv_text(j) AS CASE WHEN json_type(j) = 'VARCHAR' "
    "THEN json_extract_string(j, '$') ELSE CAST(j AS VARCHAR) END",
    # a sort key: numbers (by value), then strings, bools, lists and objects; nulls are null
    "CREATE MACRO __dv_sortkey(j) AS CASE WHEN __dv_kind(j) IS NOT NULL THEN struct_pack("
    "k := CASE __dv_kind(j) WHEN 'number' THEN 0 WHEN 'string' THEN 1 WHEN 'bool' THEN 2 "
    "ELSE 3 END, n := __dv_num(j), t := __dv_text(j)) END",
)
"""SQL macros for JSON values (each takes its arguments once, so their parameters bind once)."""


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
            key = f"$[{part}]" if isinstance(part, int) else _pointer(part)
            base = cur.sql if t == JSON else f"to_json({cur.sql})"
            # a missing key and a JSON null are both null, as in any other column
            return Typed(f"nullif(json_extract({base}, {self.param(key)}), 'null')", JSON)
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
        source = _listed(self.compile(node.input, env))
        elem = _element(source.type)
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
            return _unlisted(Typed(f"list_filter({source.sql}, lambda {var}: {body})", source.type))
        body_t = self.compile(node.body, body_env)
        out = pa.list_(body_t.type) if isinstance(body_t.type, pa.DataType) else None
        if body_t.type == JSON:
            out = JSON_LIST
        return _unlisted(Typed(f"list_transform({source.sql}, lambda {var}: {body_t.sql})", out))

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
        if op in _NUMERIC_ARGS:  # a JSON value is a number here when it holds one
            args = [_as(_unlisted(a), "number") for a in args]
        elif op in _STRING_ARGS:  # (the text; not $substrCP's positions)
            args = [
                _as(_unlisted(a), "string") if i == 0 or op != "substrCP" else a
                for i, a in enumerate(args)
            ]
        if op in ("eq", "ne", "gt", "gte", "lt", "lte", "cmp"):
            self.arity(node, 2)
            a, b = _coerce(*args)
            if a.type == JSON and b.type == JSON:  # compared by the kind each row holds
                if op in ("eq", "ne"):
                    same = f"__dv_eq({a.sql}, {b.sql})"
                    return Typed(same if op == "eq" else f"(NOT {same})", pa.bool_())
                order = f"__dv_cmp({a.sql}, {b.sql})"
                if op == "cmp":
                    return Typed(order, pa.int64())
                sym = {"gt": ">", "gte": ">=", "lt": "<", "lte": "<="}[op]
                return Typed(f"({order} {sym} 0)", pa.bool_())
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
                # NaN orders with nothing (IEEE); a JSON value is read as it is compared
                f" AND NOT isnan({_as(self.compile(n, env), _kind(other.type)).sql})"
                for n, t, other in zip(node.args, (a, b), (b, a), strict=True)
                if isinstance(t.type, pa.DataType)
                and pa.types.is_floating(t.type)
                and not isinstance(n, Literal)
            )
            return Typed(f"(({a.sql}) {sym} ({b.sql}){nan_guard})", pa.bool_())
        if op in ("in", "nin"):
            self.arity(node, 2)
            value, array = args
            if JSON in (value.type, array.type) or array.type == JSON_LIST:
                del self.params[mark:]  # compiled again, per element
                test = self.member(node.args[0], node.args[1], env, p)
            else:
                test = f"COALESCE(list_contains({array.sql}, {value.sql}), FALSE)"
            return Typed(test if op == "in" else f"(NOT {test})", pa.bool_())
        if op == "contains":
            self.arity(node, 2)
            hay, needle = args
            if hay.type == JSON and _kind(needle.type) == "string":  # in its text or its list
                return Typed(f"COALESCE(__dv_has({hay.sql}, {needle.sql}), FALSE)", pa.bool_())
            if JSON in (hay.type, needle.type) or hay.type == JSON_LIST:
                del self.params[mark:]
                if _kind(hay.type) == "string":
                    return Typed(
                        f"contains({hay.sql}, {self.compile_as(node.args[1], env, 'string').sql})",
                        pa.bool_(),
                    )
                return Typed(self.member(node.args[1], node.args[0], env, p), pa.bool_())
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
                else ("__dv_size" if a.type == JSON else "len")
            )
            return Typed(f"{fn}({a.sql})", pa.int64())
        if op in ("first", "last"):
            self.arity(node, 1)
            a = _listed(args[0])
            return Typed(f"list_extract({a.sql}, {1 if op == 'first' else -1})", _element(a.type))
        if op in ("sum", "avg", "min", "max"):
            if len(args) == 1:
                return Typed(f"list_{op}({self.elements(args[0], 'number')})", pa.float64())
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
                f"COALESCE(list_aggregate({self.elements(args[0], 'bool')}, '{fn}'), {'FALSE' if fn == 'bool_or' else 'TRUE'})",
                pa.bool_(),
            )
        if op == "isArray":
            self.arity(node, 1)
            t = args[0].type
            if t == JSON:
                return Typed(f"COALESCE(json_type({args[0].sql}) = 'ARRAY', FALSE)", pa.bool_())
            if t == JSON_LIST or (isinstance(t, pa.DataType) and pa.types.is_list(t)):
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
            if args[0].type == JSON:
                return Typed(f"(__dv_num({args[0].sql}) IS NOT NULL)", pa.bool_())
            if _kind(args[0].type) == "number":
                return Typed(f"(({args[0].sql}) IS NOT NULL)", pa.bool_())
            del self.params[mark:]
            return Typed("FALSE", pa.bool_())
        if op == "type":
            self.arity(node, 1)
            if args[0].type == JSON:
                return Typed(f"COALESCE(__dv_type({args[0].sql}), 'null')", pa.string())
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
            if args[0].type == JSON:
                return Typed(f"__dv_text({args[0].sql})", pa.string())
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
        arr = _listed(self.compile(node.args[0], env))
        elem = _element(arr.type)
        if node.op == "arrayElemAt":
            i = nums[0]
            return Typed(f"list_extract({arr.sql}, {self.param(i + 1 if i >= 0 else i)})", elem)
        if len(nums) == 1:
            n = nums[0]
            if n >= 0:
                return _unlisted(Typed(f"list_slice({arr.sql}, 1, {self.param(n)})", arr.type))
            return _unlisted(Typed(f"list_slice({arr.sql}, {self.param(n)}, -1)", arr.type))
        start, n = nums
        first = start + 1 if start >= 0 else start
        return _unlisted(
            Typed(
                f"list_slice({arr.sql}, {self.param(first)}, {self.param(first + n - 1)})",
                arr.type,
            )
        )

    def member(self, value: Node, array: Node, env: dict[str, Typed], pos: int) -> str:
        """SQL: ``value`` equals (``$eq``) an element of ``array``; for JSON values, whose
        elements are compared by the kind each one holds."""
        if isinstance(array, Literal) and isinstance(array.value, list):
            items: list[Node] | None = [Literal(v, array.pos) for v in array.value]
        elif isinstance(array, ListLit):
            items = list(array.items)
        else:
            items = None
        if items is not None:
            tests = [self.truth(Call("eq", (value, item), pos), env) for item in items]
            return "(" + " OR ".join(tests) + ")" if tests else "FALSE"
        source = _listed(self.compile(array, env))
        var = f"__v{next(self._names)}"
        inner = {**env, var: Typed(var, _element(source.type))}
        test = self.truth(Call("eq", (Path((), var=var, pos=pos), value), pos), inner)
        return f"COALESCE(len(list_filter({source.sql}, lambda {var}: {test})) > 0, FALSE)"

    def compile_as(self, node: Node, env: dict[str, Typed], kind: str) -> Typed:
        """``node`` compiled, a JSON value read as ``kind`` (see :func:`_as`)."""
        return _as(_unlisted(self.compile(node, env)), kind)

    def elements(self, x: Typed, kind: str) -> str:
        """SQL for a list's elements; a JSON array's read as ``kind``."""
        if x.type not in (JSON, JSON_LIST):
            return x.sql
        var = f"__v{next(self._names)}"
        return f"list_transform({_listed(x).sql}, lambda {var}: {_as(Typed(var, JSON), kind).sql})"

    def arity(self, node: Call, n: int) -> None:
        if len(node.args) != n:
            raise ExprError(
                f"${node.op} takes {n} argument{'s' if n != 1 else ''}, not {len(node.args)}",
                node.pos,
            )


_NUMERIC_ARGS = frozenset(
    ("add", "subtract", "multiply", "divide", "mod", "abs", "floor", "ceil", "sqrt", "exp")
    + ("ln", "log10", "round", "pow")
)
_STRING_ARGS = frozenset(
    ("toLower", "toUpper", "strLenCP", "concat", "substrCP", "split", "trim", "regexMatch")
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
    """JSON values compared with a number, string or bool are read as one (null where a row
    holds another kind of value); compared with a list, an object or a value of unknown type,
    that value is made JSON too (and the two compare by :data:`MACROS`' ``__dv_cmp``)."""
    a, b = _unlisted(a), _unlisted(b)
    a2, b2 = _as(a, _kind(b.type)), _as(b, _kind(a.type))
    if a2.type == JSON and b2.type != JSON and _kind(b2.type) != "null":
        b2 = Typed(f"to_json({b2.sql})", JSON)
    elif b2.type == JSON and a2.type != JSON and _kind(a2.type) != "null":
        a2 = Typed(f"to_json({a2.sql})", JSON)
    return a2, b2


def _type_name(t: Any) -> str:
    return {
        "null": "null",
        "bool": "bool",
        "number": "double",
        "string": "string",
        "list": "array",
        "object": "object",
    }.get(_kind(t) or "", "missing" if t is None else "object")


def _pointer(key: str) -> str:
    """A JSON pointer to the key ``key`` of an object (any text: ``~`` and ``/`` escaped)."""
    return "/" + key.replace("~", "~0").replace("/", "~1")


def _element(t: Any) -> Any:
    """What the elements of a list of type ``t`` are (None when unknown)."""
    if t == JSON_LIST:
        return JSON
    if isinstance(t, pa.DataType) and (
        pa.types.is_list(t) or pa.types.is_large_list(t) or pa.types.is_fixed_size_list(t)
    ):
        return t.value_type
    return None


def _listed(x: Typed) -> Typed:
    """A JSON value as the list of its elements (null when it is no array); others as they are."""
    return Typed(f"__dv_list({x.sql})", JSON_LIST) if x.type == JSON else x


def _unlisted(x: Typed) -> Typed:
    """A list of JSON values as one JSON array; others as they are."""
    return Typed(f"to_json({x.sql})", JSON) if x.type == JSON_LIST else x


def _as(x: Typed, kind: str | None) -> Typed:
    """A JSON value read as a ``number``/``bool``/``string`` (null where the row holds another
    kind of value); anything else as it is."""
    if x.type != JSON:
        return x
    if kind == "number":
        return Typed(f"__dv_num({x.sql})", pa.float64())
    if kind == "bool":
        return Typed(f"__dv_bool({x.sql})", pa.bool_())
    if kind == "string":
        return Typed(f"__dv_str({x.sql})", pa.string())
    return x
