"""The model registry: named collections (one per task) of links to artifact versions promoted
from projects, numbered ``v0, v1...`` in link order, with aliases (``staging``, ``production``...)
that move within a collection and a recorded history of who moved which alias when. ``latest``
is the newest link. Linking never copies bytes: a link names an existing version. Qt-free.

References: ``registry/<collection>:v<N>|latest|<alias>`` (and W&B's target paths
``wandb-registry-<registry>/<collection>``, ``[<org>/]wandb-registry-model/<collection>`` and the
older ``model-registry/<collection>``) resolve to the linked version wherever desktopviz takes a
version reference (:meth:`Cache.resolve` asks :func:`resolve_registry_ref` first).

Public API: :class:`RegistryCollection`, :class:`Link`, :class:`AliasMove`,
:func:`collections`, :func:`collection`, :func:`links`, :func:`find_link`, :func:`links_of`,
:func:`link_version`, :func:`unlink`, :func:`set_alias`, :func:`remove_alias`,
:func:`alias_history`, :func:`parse_registry_ref`, :func:`resolve_registry_ref`,
:func:`add_demo_registry`.
"""

from __future__ import annotations

import getpass
from dataclasses import dataclass
from typing import TYPE_CHECKING

from desktopviz.errors import DesktopvizError, NotFoundError
from desktopviz.model import Version

if TYPE_CHECKING:
    from desktopviz.store.cache import Cache

PREFIX = "registry"
"""``registry/<collection>:<vN|alias>``: desktopviz's own form of a registry reference."""
WANDB_PREFIX = "wandb-registry-"
"""W&B's registry projects: ``wandb-registry-model``, ``wandb-registry-dataset``..."""
LEGACY_PREFIX = "model-registry"
"""W&B's older model registry project (``model-registry/<name>``)."""
LATEST = "latest"


@dataclass(frozen=True)
class RegistryCollection:
    """A registry collection: a task's name, its description, when it was made, how many
    versions are linked to it and its aliases (``alias -> v<N>``, ``latest`` included)."""

    id: int
    name: str
    description: str | None
    created_at: str
    link_count: int = 0
    aliases: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True)
class Link:
    """Version ``v<number>`` of a registry collection: a link to an artifact ``version``."""

    id: int
    collection: str
    number: int
    version: Version
    linked_at: str
    linked_by: str | None
    aliases: tuple[str, ...] = ()

    @property
    def tag(self) -> str:
        """``v<number>``: the version number in the collection (not the source's)."""
        return f"v{self.number}"

    @property
    def ref(self) -> str:
        """``registry/<collection>:v<number>``."""
        return f"{PREFIX}/{self.collection}:{self.tag}"


@dataclass(frozen=True)
class AliasMove:
    """One alias change: ``alias`` went from ``v<from_number>`` to ``v<to_number>`` (None:
    the alias was new, or was removed) by ``moved_by`` at ``moved_at``."""

    collection: str
    alias: str
    from_number: int | None
    to_number: int | None
    moved_by: str | None
    moved_at: str

    @property
    def text(self) -> str:
        """``staging: v0 → v1``."""
        before = "—" if self.from_number is None else f"v{self.from_number}"
        after = "—" if self.to_number is None else f"v{self.to_number}"
        return f"{self.alias}: {before} → {after}"


def current_user() -> str | None:
    """Who is moving aliases (the login name), if the system says."""
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return None


# -- references ------------------------------------------------------------------------------
def parse_registry_ref(ref: str) -> tuple[str, str] | None:
    """``(collection, which)`` of a registry reference, None for any other reference.

    Takes ``registry/<c>[:<which>]``, ``[<org>/]wandb-registry-<r>/<c>[:<which>]`` and
    ``[<entity>/]model-registry/<c>[:<which>]``; ``which`` defaults to ``latest``."""
    path, _, which = ref.strip().partition(":")
    parts = path.split("/")
    if len(parts) == 3:  # an org or entity before the registry's project
        parts = parts[1:]
    if len(parts) != 2 or not parts[1]:
        return None
    project, name = parts
    if not (
        project in (PREFIX, LEGACY_PREFIX)
        or (project.startswith(WANDB_PREFIX) and project != WANDB_PREFIX)
    ):
        return None
    return name, which or LATEST


def collection_part(text: str) -> tuple[str, str]:
    """``(collection, which)`` of ``<collection>[:<which>]`` or a registry reference."""
    parsed = parse_registry_ref(text)
    if parsed is not None:
        return parsed
    name, _, which = text.strip().partition(":")
    if not name or "/" in name:
        raise DesktopvizError(
            f"bad registry reference {text!r}: expected COLLECTION:v<N>|alias "
            "or registry/COLLECTION:v<N>|alias"
        )
    return name, which or LATEST


def resolve_registry_ref(cache: Cache, ref: str) -> Version | None:
    """The artifact version a registry reference names; None when ``ref`` is not one (or names a
    project called ``registry`` that holds the artifact rather than a registry collection)."""
    parsed = parse_registry_ref(ref)
    if parsed is None:
        return None
    name, which = parsed
    if _collection_id(cache, name) is None and _is_project_artifact(cache, ref):
        return None
    return find_link(cache, name, which).version


def _is_project_artifact(cache: Cache, ref: str) -> bool:
    parts = ref.strip().partition(":")[0].split("/")
    return len(parts) == 2 and any(c.name == parts[1] for c in cache.collections(parts[0]))


# -- reading ---------------------------------------------------------------------------------
def _collection_id(cache: Cache, name: str) -> int | None:
    row = cache.conn.execute(
        "SELECT id FROM registry_collections WHERE name = ?", (name,)
    ).fetchone()
    return row[0] if row else None


def _known(cache: Cache) -> str:
    names = [c.name for c in collections(cache)]
    return ", ".join(names) if names else "none yet"


def _require(cache: Cache, name: str) -> int:
    cid = _collection_id(cache, name)
    if cid is None:
        raise NotFoundError(f"no registry collection {name!r} (collections: {_known(cache)})")
    return cid


def collections(cache: Cache) -> list[RegistryCollection]:
    """Every registry collection, by name, with its link count and aliases."""
    out = []
    rows = cache.conn.execute(
        "SELECT c.id, c.name, c.description, c.created_at, "
        "(SELECT COUNT(*) FROM registry_links l WHERE l.collection_id = c.id) "
        "FROM registry_collections c ORDER BY c.name"
    ).fetchall()
    for cid, name, description, created_at, count in rows:
        aliases = [
            (alias, f"v{number}")
            for alias, number in cache.conn.execute(
                "SELECT a.alias, l.number FROM registry_aliases a "
                "JOIN registry_links l ON l.id = a.link_id WHERE a.collection_id = ? "
                "ORDER BY a.alias",
                (cid,),
            )
        ]
        newest = _newest_number(cache, cid)
        if newest is not None:
            aliases.insert(0, (LATEST, f"v{newest}"))
        out.append(RegistryCollection(cid, name, description, created_at, count, tuple(aliases)))
    return out


def collection(cache: Cache, name: str) -> RegistryCollection:
    """One registry collection (NotFoundError names the ones there are)."""
    for c in collections(cache):
        if c.name == name:
            return c
    raise NotFoundError(f"no registry collection {name!r} (collections: {_known(cache)})")


def _newest_number(cache: Cache, cid: int) -> int | None:
    return cache.conn.execute(
        "SELECT MAX(number) FROM registry_links WHERE collection_id = ?", (cid,)
    ).fetchone()[0]


_LINK_SQL = (
    "SELECT l.id, c.name, l.number, l.version_id, l.linked_at, l.linked_by, "
    "(SELECT group_concat(alias, char(31)) FROM (SELECT alias FROM registry_aliases a "
    " WHERE a.link_id = l.id ORDER BY alias)) AS aliases, "
    "l.number = (SELECT MAX(number) FROM registry_links m WHERE m.collection_id = l.collection_id) "
    "FROM registry_links l JOIN registry_collections c ON c.id = l.collection_id"
)


def _links(cache: Cache, where: str, params: tuple) -> list[Link]:
    out = []
    for lid, name, number, vid, linked_at, by, aliases, newest in cache.conn.execute(
        f"{_LINK_SQL} WHERE {where} ORDER BY c.name, l.number", params
    ).fetchall():
        names = tuple(aliases.split("\x1f")) if aliases else ()
        if newest:
            names = (LATEST, *names)
        out.append(Link(lid, name, number, cache.version_by_id(vid), linked_at, by, names))
    return out


def links(cache: Cache, name: str) -> list[Link]:
    """The versions linked to collection ``name``, oldest link (``v0``) first."""
    return _links(cache, "l.collection_id = ?", (_require(cache, name),))


def links_of(cache: Cache, version: Version) -> list[Link]:
    """Where ``version`` is linked (every collection), by collection name."""
    return _links(cache, "l.version_id = ?", (version.id,))


def find_link(cache: Cache, name: str, which: str = LATEST) -> Link:
    """The link ``v<N>``, ``latest`` or ``<alias>`` of collection ``name``."""
    cid = _require(cache, name)
    if len(which) > 1 and which[0] == "v" and which[1:].isdigit():
        where, params = "l.collection_id = ? AND l.number = ?", (cid, int(which[1:]))
    elif which == LATEST:
        newest = _newest_number(cache, cid)
        where, params = (
            "l.collection_id = ? AND l.number = ?",
            (cid, -1 if newest is None else newest),
        )
    else:
        where = (
            "l.collection_id = ? AND l.id = "
            "(SELECT link_id FROM registry_aliases WHERE collection_id = ? AND alias = ?)"
        )
        params = (cid, cid, which)
    found = _links(cache, where, params)
    if not found:
        raise NotFoundError(f"registry collection {name!r} has no version or alias {which!r}")
    return found[0]


def alias_history(cache: Cache, name: str) -> list[AliasMove]:
    """Every alias move of collection ``name``, oldest first."""
    rows = cache.conn.execute(
        "SELECT alias, from_number, to_number, moved_by, moved_at FROM registry_alias_history "
        "WHERE collection_id = ? ORDER BY id",
        (_require(cache, name),),
    ).fetchall()
    return [AliasMove(name, *row) for row in rows]


# -- changing --------------------------------------------------------------------------------
def _check_collection_name(name: str) -> str:
    name = name.strip()
    if not name or len(name) > 128 or any(c in name for c in "/:\n\t") or name.startswith("."):
        raise DesktopvizError(
            f"bad registry collection name {name!r}: use letters, digits, '-', '_' or '.'"
        )
    return name


def _check_alias(alias: str) -> str:
    from desktopviz.store.cache import RESERVED_ALIASES
    from desktopviz.store.cache import _check_alias as check_version_alias

    alias = check_version_alias(alias)
    if alias in RESERVED_ALIASES:
        raise DesktopvizError(
            f"alias {alias!r} is managed by desktopviz (it follows the newest link)"
        )
    return alias


def link_version(
    cache: Cache,
    version: Version,
    name: str,
    aliases: list[str] | tuple[str, ...] = (),
    *,
    description: str | None = None,
    by: str | None = None,
) -> Link:
    """Link ``version`` to collection ``name`` (made if new) as its next ``v<N>``, with
    ``aliases`` (moved here from other links). A version linked already keeps its link (and
    gains the aliases). No bytes are copied."""
    from desktopviz.store.cache import now_iso

    name = _check_collection_name(name)
    checked = [_check_alias(a) for a in aliases]
    by = by if by is not None else current_user()
    with cache.write() as conn:
        cid = _collection_id(cache, name)
        if cid is None:
            cid = conn.execute(
                "INSERT INTO registry_collections (name, description, created_at) VALUES (?,?,?)",
                (name, description, now_iso()),
            ).lastrowid
        elif description is not None:
            conn.execute(
                "UPDATE registry_collections SET description = ? WHERE id = ?", (description, cid)
            )
        row = conn.execute(
            "SELECT id FROM registry_links WHERE collection_id = ? AND version_id = ?",
            (cid, version.id),
        ).fetchone()
        if row is None:
            number = conn.execute(
                "SELECT next_number FROM registry_collections WHERE id = ?", (cid,)
            ).fetchone()[0]
            lid = conn.execute(
                "INSERT INTO registry_links (collection_id, number, version_id, linked_at, "
                "linked_by) VALUES (?,?,?,?,?)",
                (cid, number, version.id, now_iso(), by),
            ).lastrowid
            conn.execute(
                "UPDATE registry_collections SET next_number = ? WHERE id = ?", (number + 1, cid)
            )
        else:
            lid = row[0]
        for alias in checked:
            _move_alias_in_tx(cache, cid, alias, lid, by)
    return _links(cache, "l.id = ?", (lid,))[0]


def _move_alias_in_tx(
    cache: Cache, cid: int, alias: str, link_id: int | None, by: str | None
) -> bool:
    """Point ``alias`` at ``link_id`` (None: remove it), recording the move; False when it
    already pointed there."""
    from desktopviz.store.cache import now_iso

    conn = cache.conn
    before = conn.execute(
        "SELECT l.id, l.number FROM registry_aliases a JOIN registry_links l ON l.id = a.link_id "
        "WHERE a.collection_id = ? AND a.alias = ?",
        (cid, alias),
    ).fetchone()
    if (before[0] if before else None) == link_id:
        return False
    after = None
    if link_id is None:
        conn.execute(
            "DELETE FROM registry_aliases WHERE collection_id = ? AND alias = ?", (cid, alias)
        )
    else:
        conn.execute(
            "INSERT INTO registry_aliases (collection_id, alias, link_id) VALUES (?,?,?) "
            "ON CONFLICT (collection_id, alias) DO UPDATE SET link_id = excluded.link_id",
            (cid, alias, link_id),
        )
        after = conn.execute(
            "SELECT number FROM registry_links WHERE id = ?", (link_id,)
        ).fetchone()[0]
    conn.execute(
        "INSERT INTO registry_alias_history (collection_id, alias, from_number, to_number, "
        "moved_by, moved_at) VALUES (?,?,?,?,?,?)",
        (cid, alias, before[1] if before else None, after, by, now_iso()),
    )
    return True


def set_alias(cache: Cache, link: Link, alias: str, *, by: str | None = None) -> Link:
    """Move ``alias`` of ``link``'s collection onto ``link`` (recording who and when)."""
    alias = _check_alias(alias)
    with cache.write():
        cid = _require(cache, link.collection)
        _move_alias_in_tx(cache, cid, alias, link.id, by if by is not None else current_user())
    return find_link(cache, link.collection, link.tag)


def remove_alias(cache: Cache, name: str, alias: str, *, by: str | None = None) -> None:
    """Take ``alias`` off collection ``name`` (recorded in its history)."""
    with cache.write():
        cid = _require(cache, name)
        if not _move_alias_in_tx(cache, cid, alias, None, by if by is not None else current_user()):
            raise NotFoundError(f"registry collection {name!r} has no alias {alias!r}")


def unlink(cache: Cache, link: Link, *, by: str | None = None) -> None:
    """Remove ``link`` from its collection; its aliases go (recorded), the artifact version and
    the other links' numbers stay. The collection stays too, even when empty."""
    by = by if by is not None else current_user()
    with cache.write() as conn:
        cid = _require(cache, link.collection)
        for (alias,) in conn.execute(
            "SELECT alias FROM registry_aliases WHERE link_id = ? ORDER BY alias", (link.id,)
        ).fetchall():
            _move_alias_in_tx(cache, cid, alias, None, by)
        conn.execute("DELETE FROM registry_links WHERE id = ?", (link.id,))


def delete_collection(cache: Cache, name: str) -> None:
    """Remove a collection, its links and history (the artifact versions stay)."""
    with cache.write() as conn:
        conn.execute("DELETE FROM registry_collections WHERE id = ?", (_require(cache, name),))


# -- the demo ----------------------------------------------------------------------------------
DEMO_COLLECTION = "scene-detector"


def add_demo_registry(cache: Cache) -> RegistryCollection:
    """Link the demo project's two ``scene-detector`` models to registry collection
    ``scene-detector``: v0 (baseline) went to ``staging``, then to ``production`` when v1
    (wide-resnet) took ``staging`` (one recorded move). Does nothing when it is there already."""
    from desktopviz.demo import MODEL, PROJECT

    existing = _collection_id(cache, DEMO_COLLECTION)
    if existing is not None:
        return collection(cache, DEMO_COLLECTION)
    v0 = cache.resolve(f"{PROJECT}/{MODEL}:v0")
    v1 = cache.resolve(f"{PROJECT}/{MODEL}:v1")
    with cache.write():
        description = "Street-scene detectors promoted from the street-scenes project."
        first = link_version(cache, v0, DEMO_COLLECTION, ["staging"], description=description)
        set_alias(cache, first, "production")
        link_version(cache, v1, DEMO_COLLECTION, ["staging"])
    return collection(cache, DEMO_COLLECTION)
