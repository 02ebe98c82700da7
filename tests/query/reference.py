"""An independent evaluator of the expression tree over plain Python rows (the test oracle).

Same semantics as the engine promises: null-safe ``$eq``/``$ne`` (NaN equals NaN); other
comparisons are false with null, NaN or across kinds;
``and``/``or``/``not`` read null as false.
"""

from __future__ import annotations

import math
import re
from typing import Any

from desktopviz.query.expr import Call, Lambda, Let, ListLit, Literal, Node, Path, Switch


def kind(v: Any) -> str:
    if v is None:
        return "null"
    if isinstance(v, bool):
        return "bool"
    if isinstance(v, int | float):
        return "number"
    if isinstance(v, str):
        return "string"
    if isinstance(v, list):
        return "list"
    return "object"


def _key(v: Any) -> Any:
    if isinstance(v, float) and math.isnan(v):
        return (1, 0.0)
    if isinstance(v, int | float) and not isinstance(v, bool):
        return (0, v)
    return (0, v)


def compare(a: Any, b: Any) -> int | None:
    if a is None or b is None or kind(a) != kind(b):
        return None
    ka, kb = _key(a), _key(b)
    return (ka > kb) - (ka < kb)


def truth(v: Any) -> bool:
    return bool(v) if v is not None else False


def step(v: Any, part: Any) -> Any:
    if v is None:
        return None
    if isinstance(v, dict):
        return v.get(part)
    if (
        isinstance(v, list)
        and v
        and all(isinstance(x, tuple) and len(x) == 2 for x in v)
        and isinstance(part, str)
    ):
        return dict(v).get(part)
    if isinstance(v, list):
        if isinstance(part, int):
            return v[part] if part < len(v) else None
        return [step(x, part) for x in v]
    return None


def evaluate(node: Node, row: dict, env: dict | None = None) -> Any:  # noqa: C901
    env = env or {}
    if isinstance(node, Literal):
        return node.value
    if isinstance(node, ListLit):
        return [evaluate(i, row, env) for i in node.items]
    if isinstance(node, Path):
        v = env[node.var] if node.var else row.get(node.parts[0])
        parts = node.parts if node.var else node.parts[1:]
        for p in parts:
            v = step(v, p)
        return v
    if isinstance(node, Let):
        inner = dict(env)
        for name, value in node.bindings:
            inner[name] = evaluate(value, row, env)
        return evaluate(node.body, row, inner)
    if isinstance(node, Switch):
        for case, then in node.branches:
            if truth(evaluate(case, row, env)):
                return evaluate(then, row, env)
        return evaluate(node.default, row, env) if node.default else None
    if isinstance(node, Lambda):
        items = evaluate(node.input, row, env)
        if items is None:
            return None
        if node.op == "filter":
            return [x for x in items if truth(evaluate(node.body, row, {**env, node.var: x}))]
        if node.op == "map":
            return [evaluate(node.body, row, {**env, node.var: x}) for x in items]
        acc = evaluate(node.init, row, env)
        for x in items:
            acc = evaluate(node.body, row, {**env, "this": x, "value": acc})
        return acc
    assert isinstance(node, Call)
    op = node.op
    if op == "and":
        return all(truth(evaluate(a, row, env)) for a in node.args)
    if op == "or":
        return any(truth(evaluate(a, row, env)) for a in node.args)
    if op == "not":
        return not truth(evaluate(node.args[0], row, env))
    args = [evaluate(a, row, env) for a in node.args]
    if op in ("eq", "ne"):
        a, b = args
        if a is None or b is None:
            same = a is None and b is None
        else:
            same = compare(a, b) == 0
        return same if op == "eq" else not same
    if op in ("gt", "gte", "lt", "lte"):
        if any(isinstance(x, float) and math.isnan(x) for x in args):
            return False
        c = compare(*args)
        if c is None:
            return False
        return {"gt": c > 0, "gte": c >= 0, "lt": c < 0, "lte": c <= 0}[op]
    if op in ("in", "nin"):
        value, array = args
        found = array is not None and any(
            (x is None and value is None)
            or (x is not None and value is not None and compare(x, value) == 0)
            for x in array
        )
        return found if op == "in" else not found
    if op == "contains":
        hay, needle = args
        if hay is None or needle is None:
            return False
        return needle in hay
    if any(a is None for a in args) and op not in (
        "ifNull",
        "cond",
        "concat",
        "sum",
        "isArray",
        "isNumber",
        "type",
    ):
        return None
    if op == "add":
        return sum(args)
    if op == "subtract":
        return args[0] - args[1]
    if op == "multiply":
        out = 1
        for a in args:
            out *= a
        return out
    if op == "divide":
        return None if args[1] == 0 else args[0] / args[1]
    if op == "abs":
        return abs(args[0])
    if op == "size":
        return len(args[0])
    if op == "toLower":
        return args[0].lower()
    if op == "toUpper":
        return args[0].upper()
    if op == "strLenCP":
        return len(args[0])
    if op == "regexMatch":
        return re.search(args[1], args[0]) is not None
    if op == "concat":
        return None if any(a is None for a in args) else "".join(args)
    if op == "first":
        return args[0][0] if args[0] else None
    if op == "last":
        return args[0][-1] if args[0] else None
    if op == "arrayElemAt":
        a, i = args
        return a[i] if -len(a) <= i < len(a) else None
    if op in ("sum", "avg", "min", "max") and len(args) == 1:
        xs = [x for x in args[0] if x is not None] if args[0] is not None else []
        if not xs:
            return 0 if op == "sum" and args[0] is not None and False else None
        return {"sum": sum(xs), "avg": sum(xs) / len(xs), "min": min(xs), "max": max(xs)}[op]
    if op == "mod":
        return math.fmod(args[0], args[1]) if args[1] != 0 else None
    if op == "round":
        return round(args[0], args[1] if len(args) > 1 else 0)
    if op in ("floor", "ceil") and isinstance(args[0], float) and math.isnan(args[0]):
        return args[0]
    if op in ("floor", "ceil", "sqrt", "exp", "log10"):
        return {
            "floor": math.floor,
            "ceil": math.ceil,
            "sqrt": math.sqrt,
            "exp": math.exp,
            "log10": math.log10,
        }[op](args[0])
    if op == "ln":
        return math.log(args[0])
    if op == "pow":
        return args[0] ** args[1]
    if op == "substrCP":
        return args[0][args[1] : args[1] + args[2]]
    if op == "split":
        return args[0].split(args[1])
    if op == "trim":
        return args[0].strip()
    if op == "slice":
        a = args[0]
        if len(args) == 2:
            n = args[1]
            return a[:n] if n >= 0 else a[n:]
        start, n = args[1], args[2]
        return a[start : start + n] if start >= 0 else a[start:][:n]
    if op in ("anyElementTrue", "allElementsTrue"):
        return (any if op == "anyElementTrue" else all)(bool(x) for x in args[0])
    if op == "isArray":
        return isinstance(args[0], list)
    if op == "type":
        return {
            "null": "null",
            "bool": "bool",
            "number": "double",
            "string": "string",
            "list": "array",
        }.get(kind(args[0]), "object")
    if op == "isNumber":
        return kind(args[0]) == "number"
    if op == "toDouble":
        try:
            return float(args[0])
        except (TypeError, ValueError):
            return None
    if op == "toString":
        return str(args[0])
    if op == "cmp":
        c = compare(*args)
        return c
    if op == "ifNull":
        return next((a for a in args if a is not None), None)
    if op == "cond":
        return args[1] if truth(args[0]) else args[2]
    raise NotImplementedError(op)
