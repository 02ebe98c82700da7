"""MongoDB aggregation expressions as the W&B docs write them, JSON or JavaScript-style
(unquoted keys, single quotes): ``{$gt: ['$0.road', 0.05]}``."""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass
from typing import Any

from desktopviz.query.expr import (
    MAX_NESTING,
    OPERATORS,
    Call,
    ExprError,
    Lambda,
    Let,
    ListLit,
    Literal,
    Node,
    Path,
    Switch,
    too_deep,
)

_NUMBER = re.compile(r"-?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?")
_KEY = re.compile(r"[$A-Za-z_][$\w]*")


@dataclass
class _Obj:
    items: list[tuple[str, int, Any]]
    pos: int


@dataclass
class _Arr:
    items: list[Any]
    pos: int


@dataclass
class _Scalar:
    value: Any
    pos: int


class _Parser:
    """Relaxed JSON: unquoted keys, single or double quotes, trailing commas."""

    def __init__(self, text: str) -> None:
        self.s, self.i = text, 0
        self.depth = 0

    def ws(self) -> None:
        while self.i < len(self.s) and self.s[self.i] in " \t\r\n":
            self.i += 1

    def parse(self) -> Any:
        v = self.value()
        self.ws()
        if self.i != len(self.s):
            raise ExprError(f"unexpected {self.s[self.i]!r} after the expression", self.i)
        return v

    def value(self) -> Any:
        self.ws()
        if self.i >= len(self.s):
            raise ExprError("unexpected end of expression", self.i)
        c, start = self.s[self.i], self.i
        if c in "{[":
            if self.depth == MAX_NESTING:
                raise too_deep(start)
            self.depth += 1
            try:
                return self.obj() if c == "{" else self.arr()
            finally:
                self.depth -= 1
        if c in "'\"":
            return _Scalar(self.string(), start)
        m = _NUMBER.match(self.s, self.i)
        if m:
            self.i = m.end()
            text = m.group()
            return _Scalar(float(text) if any(ch in text for ch in ".eE") else int(text), start)
        for word, val in (("true", True), ("false", False), ("null", None), ("NaN", float("nan"))):
            if self.s.startswith(word, self.i):
                self.i += len(word)
                return _Scalar(val, start)
        raise ExprError(f"unexpected {c!r}", start)

    def string(self) -> str:
        quote, self.i = self.s[self.i], self.i + 1
        out = []
        while self.i < len(self.s):
            c = self.s[self.i]
            if c == "\\" and self.i + 1 < len(self.s):
                nxt = self.s[self.i + 1]
                if nxt == "u" and self.i + 5 < len(self.s):
                    out.append(chr(int(self.s[self.i + 2 : self.i + 6], 16)))
                    self.i += 6
                    continue
                out.append({"n": "\n", "t": "\t", "r": "\r", "b": "\b", "f": "\f"}.get(nxt, nxt))
                self.i += 2
                continue
            if c == quote:
                self.i += 1
                return "".join(out)
            out.append(c)
            self.i += 1
        raise ExprError("unterminated string", self.i)

    def obj(self) -> _Obj:
        start, self.i = self.i, self.i + 1
        items: list[tuple[str, int, Any]] = []
        while True:
            self.ws()
            if self.i < len(self.s) and self.s[self.i] == "}":
                self.i += 1
                return _Obj(items, start)
            key_pos = self.i
            if self.i < len(self.s) and self.s[self.i] in "'\"":
                key = self.string()
            else:
                m = _KEY.match(self.s, self.i)
                if not m:
                    raise ExprError("expected a key", self.i)
                key, self.i = m.group(), m.end()
            self.ws()
            if self.i >= len(self.s) or self.s[self.i] != ":":
                raise ExprError(f"expected ':' after {key!r}", self.i)
            self.i += 1
            items.append((key, key_pos, self.value()))
            self.ws()
            if self.i < len(self.s) and self.s[self.i] == ",":
                self.i += 1
            elif self.i < len(self.s) and self.s[self.i] != "}":
                raise ExprError("expected ',' or '}'", self.i)

    def arr(self) -> _Arr:
        start, self.i = self.i, self.i + 1
        items = []
        while True:
            self.ws()
            if self.i < len(self.s) and self.s[self.i] == "]":
                self.i += 1
                return _Arr(items, start)
            items.append(self.value())
            self.ws()
            if self.i < len(self.s) and self.s[self.i] == ",":
                self.i += 1
            elif self.i < len(self.s) and self.s[self.i] != "]":
                raise ExprError("expected ',' or ']'", self.i)


def parse_mongo(text: str) -> Node:
    """Parse a Mongo aggregation expression into the expression tree."""
    return _convert(_Parser(text).parse(), set())


def _path(text: str, pos: int, variables: set[str]) -> Node:
    if text.startswith("$$"):
        name, *parts = text[2:].split(".")
        if len(parts) > MAX_NESTING:
            raise too_deep(pos)
        if name not in variables and name not in ("this", "value", "ROOT", "CURRENT"):
            raise ExprError(f"unknown variable $${name}", pos)
        if name in ("ROOT", "CURRENT"):
            return _field(parts, pos)
        return Path(tuple(_part(p) for p in parts), var=name, pos=pos)
    return _field(text[1:].split("."), pos)


def _field(parts: list[str], pos: int) -> Path:
    if len(parts) > MAX_NESTING:
        raise too_deep(pos)
    side = 0
    if parts and parts[0] in ("0", "1"):
        side, parts = int(parts[0]), parts[1:]
    if not parts or not parts[0]:
        raise ExprError("a field path needs a column name, like '$0.score'", pos)
    return Path(tuple(_part(p) for p in parts), side=side, pos=pos)


def _part(p: str) -> str | int:
    return int(p) if p.isdigit() else p


def _convert(v: Any, variables: set[str]) -> Node:
    if isinstance(v, _Scalar):
        if isinstance(v.value, str) and v.value.startswith("$") and len(v.value) > 1:
            return _path(v.value, v.pos, variables)
        return Literal(v.value, v.pos)
    if isinstance(v, _Arr):
        return ListLit(tuple(_convert(x, variables) for x in v.items), v.pos)
    ops = [(k, kp, x) for k, kp, x in v.items if k.startswith("$")]
    if not ops:
        return Literal(_plain(v), v.pos)
    if len(v.items) != 1:
        raise ExprError("an operator object has exactly one key", v.pos)
    key, key_pos, arg = ops[0]
    op = key[1:]
    if op not in OPERATORS:
        close = difflib.get_close_matches(op, OPERATORS, n=1)
        hint = f"; did you mean ${close[0]}?" if close else ""
        raise ExprError(f"unknown operator {key}{hint}", key_pos)
    if op == "literal":
        return Literal(_plain(arg), key_pos)
    if op in ("filter", "map"):
        spec = _named(arg, key, ("input", "as", "cond" if op == "filter" else "in"), ("as",))
        var = spec.get("as", _Scalar("this", key_pos)).value
        body = _convert(spec["cond" if op == "filter" else "in"], variables | {var})
        return Lambda(op, _convert(spec["input"], variables), var, body, pos=key_pos)
    if op == "reduce":
        spec = _named(arg, key, ("input", "initialValue", "in"), ())
        body = _convert(spec["in"], variables | {"this", "value"})
        return Lambda(
            "reduce",
            _convert(spec["input"], variables),
            "this",
            body,
            _convert(spec["initialValue"], variables),
            pos=key_pos,
        )
    if op == "let":
        spec = _named(arg, key, ("vars", "in"), ())
        if not isinstance(spec["vars"], _Obj):
            raise ExprError("$let vars must be an object", key_pos)
        bindings = tuple((k, _convert(x, variables)) for k, _, x in spec["vars"].items)
        body = _convert(spec["in"], variables | {k for k, _ in bindings})
        return Let(bindings, body, key_pos)
    if op == "switch":
        spec = _named(arg, key, ("branches", "default"), ("default",))
        if not isinstance(spec["branches"], _Arr):
            raise ExprError("$switch branches must be a list", key_pos)
        branches = []
        for b in spec["branches"].items:
            bs = _named(b, "branch", ("case", "then"), ())
            branches.append((_convert(bs["case"], variables), _convert(bs["then"], variables)))
        default = _convert(spec["default"], variables) if "default" in spec else None
        return Switch(tuple(branches), default, key_pos)
    if op == "regexMatch" and isinstance(arg, _Obj):
        spec = _named(arg, key, ("input", "regex", "options"), ("options",))
        args = [_convert(spec["input"], variables), _convert(spec["regex"], variables)]
        if "options" in spec:
            args.append(_convert(spec["options"], variables))
        return Call("regexMatch", tuple(args), key_pos)
    if op == "trim" and isinstance(arg, _Obj):
        spec = _named(arg, key, ("input", "chars"), ("chars",))
        return Call("trim", (_convert(spec["input"], variables),), key_pos)
    if op == "cond" and isinstance(arg, _Obj):
        spec = _named(arg, key, ("if", "then", "else"), ())
        args = tuple(_convert(spec[k], variables) for k in ("if", "then", "else"))
        return Call("cond", args, key_pos)
    args = (
        tuple(_convert(x, variables) for x in arg.items)
        if isinstance(arg, _Arr)
        else (_convert(arg, variables),)
    )
    return Call(op, args, key_pos)


def _named(v: Any, op: str, keys: tuple[str, ...], optional: tuple[str, ...]) -> dict[str, Any]:
    if not isinstance(v, _Obj):
        raise ExprError(f"{op} takes an object with {', '.join(keys)}", getattr(v, "pos", None))
    got = {k: x for k, _, x in v.items}
    for k in got:
        if k not in keys:
            raise ExprError(f"{op} has no argument {k!r} (it takes {', '.join(keys)})", v.pos)
    for k in keys:
        if k not in got and k not in optional:
            raise ExprError(f"{op} needs {k!r}", v.pos)
    return got


def _plain(v: Any) -> Any:
    if isinstance(v, _Scalar):
        return v.value
    if isinstance(v, _Arr):
        return [_plain(x) for x in v.items]
    return {k: _plain(x) for k, _, x in v.items}
