"""What each column of a comparison is: a typed schema instead of name prefixes.

A comparison's result names its columns by a fixed protocol (a contract: the CLI prints these
names and the filter language's ``row0``/``row1`` read them): ``0.col`` and ``1.col`` are each
side's value, ``delta.col`` is side 1 - side 0 of a numeric column, ``changed.col`` says whether
the cell differs, ``__status`` is ``both``/``only_0``/``only_1``, ``__changed`` whether any cell of
the row differs, the join key is named once as it is, and a concatenation tags each row with its
``__side``. The engine builds a :class:`ComparisonSchema` where it makes those names; everything
else asks the schema (side, base column, role) and never parses a name.

Public API: :class:`Role`, :class:`ComparedColumn`, :class:`ComparisonSchema`.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from enum import StrEnum


class Role(StrEnum):
    """What a column of a (comparison) result holds."""

    VALUE = "value"
    """A value: one side's (``side`` 0 or 1) in a join, else a plain column."""
    DELTA = "delta"
    """Side 1 - side 0 of a numeric column (``delta.col``)."""
    CHANGED = "changed"
    """Whether the cell differs between the sides (``changed.col``)."""
    STATUS = "status"
    """``both``, ``only_0`` or ``only_1`` (``__status``)."""
    KEY = "key"
    """The join key, named once (both sides share it)."""
    ANY_CHANGED = "any_changed"
    """Whether any cell of the row differs (``__changed``)."""
    SIDE = "side"
    """A concatenation's side of the row, 0 or 1 (``__side``)."""


_HIDDEN = frozenset({Role.CHANGED, Role.ANY_CHANGED})
_TAGS = _HIDDEN | {Role.STATUS, Role.SIDE}
_PREFIXED = {Role.DELTA: "delta", Role.CHANGED: "changed"}
_NAMED = {Role.STATUS: "__status", Role.ANY_CHANGED: "__changed", Role.SIDE: "__side"}


@dataclass(frozen=True)
class ComparedColumn:
    """One column of a result: its name, role, the source column it is about (``base``) and,
    for one side's value, the side (0 or 1)."""

    name: str
    role: Role
    base: str
    side: int | None = None

    @property
    def hidden(self) -> bool:
        """A helper the view hides (the changed marks colour cells instead of showing)."""
        return self.role in _HIDDEN

    @property
    def helper(self) -> bool:
        """Made by the comparison (delta, marks, status, side): no filter names it."""
        return self.role not in (Role.VALUE, Role.KEY)

    @property
    def tag(self) -> bool:
        """A tag of the row (a changed mark, the status, the side), not a value of the tables:
        a group does not summarise it."""
        return self.role in _TAGS

    # the only place the names are written ------------------------------------------------------
    @classmethod
    def value(cls, base: str, side: int) -> ComparedColumn:
        """Side ``side``'s value of column ``base`` (``0.base``)."""
        return cls(f"{side}.{base}", Role.VALUE, base, side)

    @classmethod
    def derived(cls, role: Role, base: str) -> ComparedColumn:
        """The ``delta.base`` or ``changed.base`` column."""
        return cls(f"{_PREFIXED[role]}.{base}", role, base)

    @classmethod
    def helper_column(cls, role: Role) -> ComparedColumn:
        """``__status``, ``__changed`` or ``__side``."""
        return cls(_NAMED[role], role, _NAMED[role])

    @classmethod
    def plain(cls, name: str, role: Role = Role.VALUE) -> ComparedColumn:
        """A column named as it is (a plain column, or the key)."""
        return cls(name, role, name)

    @classmethod
    def parse(cls, name: str) -> ComparedColumn:
        """Read a name of the protocol back (for names that come without their schema: a
        result written out, an old saved view). Unprefixed names are plain."""
        for role, named in _NAMED.items():
            if name == named:
                return cls.helper_column(role)
        prefix, dot, base = name.partition(".")
        if dot and base:
            if prefix in ("0", "1"):
                return cls.value(base, int(prefix))
            for role, word in _PREFIXED.items():
                if prefix == word:
                    return cls.derived(role, base)
        return cls.plain(name)


@dataclass(frozen=True)
class ComparisonSchema:
    """The columns of a result, in order, with their roles. A result that compares nothing has
    a plain schema (every column a plain value)."""

    columns: tuple[ComparedColumn, ...]
    _by_name: dict[str, ComparedColumn] = field(
        init=False, repr=False, compare=False, hash=False, default_factory=dict
    )
    _by_role: dict[tuple[Role, str, int | None], str] = field(
        init=False, repr=False, compare=False, hash=False, default_factory=dict
    )

    def __post_init__(self) -> None:
        for c in self.columns:
            self._by_name[c.name] = c
            self._by_role.setdefault((c.role, c.base, c.side), c.name)

    @classmethod
    def plain(cls, names: Iterable[str]) -> ComparisonSchema:
        """A result that compares nothing: every column plain."""
        return cls(tuple(ComparedColumn.plain(n) for n in names))

    @classmethod
    def from_names(cls, names: Iterable[str]) -> ComparisonSchema:
        """The schema of a comparison's column names (see :meth:`ComparedColumn.parse`); in a
        join (there is a ``__status``) an unprefixed column is the key."""
        names = list(names)
        parsed = [ComparedColumn.parse(n) for n in names]
        join = any(c.role is Role.STATUS for c in parsed)
        return cls(
            tuple(
                ComparedColumn.plain(c.name, Role.KEY)
                if join and c.role is Role.VALUE and c.side is None
                else c
                for c in parsed
            )
        )

    @property
    def names(self) -> list[str]:
        """The columns' names in order."""
        return [c.name for c in self.columns]

    @property
    def comparing(self) -> bool:
        """Whether any column is made by a comparison (a side's value, a delta, a mark...)."""
        return any(c.role is not Role.VALUE or c.side is not None for c in self.columns)

    def __contains__(self, name: object) -> bool:
        return name in self._by_name

    def column(self, name: str) -> ComparedColumn:
        """The column ``name`` (one it does not list is plain)."""
        found = self._by_name.get(name)
        return found if found is not None else ComparedColumn.plain(name)

    def value(self, base: str, side: int) -> str | None:
        """The column of side ``side``'s value of ``base`` (None when that side has none)."""
        return self._by_role.get((Role.VALUE, base, side))

    def twin(self, name: str) -> str | None:
        """The other side's value column of a side's value column (``0.x`` <-> ``1.x``)."""
        c = self.column(name)
        return self.value(c.base, 1 - c.side) if c.side is not None else None

    def sides(self, name: str) -> tuple[str, ...]:
        """The value columns of ``name``'s base on each side present (side 0 first); ``name``
        alone for any other column."""
        c = self.column(name)
        if c.side is None:
            return (name,)
        return tuple(n for s in (0, 1) if (n := self.value(c.base, s)) is not None)

    def changed_mark(self, name: str) -> str | None:
        """The ``changed`` column of a side's value or delta column, if there is one."""
        c = self.column(name)
        if c.side is None and c.role is not Role.DELTA:
            return None
        return self._by_role.get((Role.CHANGED, c.base, None))

    def delta(self, base: str) -> str | None:
        """The delta column of ``base``, if there is one."""
        return self._by_role.get((Role.DELTA, base, None))

    def common(self) -> list[str]:
        """The base columns both sides have, in order."""
        return [
            c.base
            for c in self.columns
            if c.role is Role.VALUE and c.side == 0 and self.value(c.base, 1) is not None
        ]

    def side_columns(self, side: int) -> dict[str, str]:
        """What a filter's ``row0``/``row1`` names on side ``side``: base -> column (that side's
        values, then every column that is not one side's, under its own name)."""
        out = {c.base: c.name for c in self.columns if c.side == side}
        for c in self.columns:
            if c.side is None:
                out.setdefault(c.name, c.name)
        return out

    def over(self, names: Iterable[str]) -> ComparisonSchema:
        """The schema of the columns ``names`` made from this result's (a selection, a group's
        columns: ``0.score``'s histogram keeps its side and base); others are plain."""
        return ComparisonSchema(tuple(self.column(n) for n in names))
