"""Search everything in a cache: projects, artifacts, versions, runs and tables (and what a
:class:`Source` adds) by name, alias, description, metadata and config values and table column
names, ranked by bm25, with the field that matched and a snippet of it.

Public API::

    hits = search(cache, "detector production", limit=20, kinds=("version",))
    hit.kind, hit.ref, hit.field, hit.snippet, hit.marked("[", "]")
    ensure_index(conn)      # make the index (once per cache, or when SOURCES change)
    SOURCES, Source         # what is searched: one Source per kind

The index lives in the cache's SQLite file (schema migration ``search``): ``search_docs`` holds
one row per searchable thing (its kind, key, reference and the texts searched, one column per
field) and ``search_fts`` is its FTS5 index (external content, per-column bm25 weights).

**Kept current by triggers.** For each source, triggers on every table it reads rebuild the
rows of the things a changed row touches (a moved alias: the version it left and the one it
reached), inside the transaction of the write itself. So the index is right after an import, a
delete, an alias move or a sync, whoever wrote (the CLI, the SDK, another window, a sync); it
is never stale and never ahead of the data, and a search only reads (it needs no write lock, so
it answers while an import is writing). A refresh keyed on ``PRAGMA data_version`` was the
alternative: but that number does not move for the connection's own commits and says nothing of
*what* changed, so each refresh would be a full rebuild (about a second for 10,000 versions) or
need change counters on every table. The triggers cost each import well under a millisecond per
version (``bench/search_bench.py``).

A migration cannot hold a trigger's body (``schema.migrate`` splits its scripts on ``;``), so
:func:`ensure_index` makes the triggers and fills the index, in one transaction, the first
time a cache is searched (an old cache, or one the migration just made) and whenever the
sources change (a hash of their SQL is kept in ``search_meta``).

**Adding a kind** (registry collections, reports...): write a small function returning a
:class:`Source` and add it to :data:`SOURCES` (see :func:`registry_source` and
:func:`report_source`). A source whose tables are not in the cache yet is left out, and the
index rebuilds itself once when the set changes. Register sources here (not from a module only
some processes import): every process must see the same set, or each would rebuild it.

sqlite-utils (which the cache uses for ad-hoc access) has ``enable_fts``/``search``, but they
do not fit: ``enable_fts`` runs ``executescript``, which commits whatever transaction is open
(the index's changes must be atomic with the writes and the migrations), its triggers only copy
one table into its index (what must be tracked here is versions, aliases, runs...), and
``search`` offers neither per-column weights nor snippets. So this is plain FTS5 SQL.
"""

from __future__ import annotations

import hashlib
import re
import sqlite3
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from desktopviz.errors import DesktopvizError

if TYPE_CHECKING:
    from desktopviz.store.cache import Cache

COLUMNS = ("name", "aliases", "ident", "category", "project", "description", "columns", "meta")
"""The texts searched (``search_fts``'s columns, weighted 10, 8, 6, 3, 2, 2, 2, 1 by bm25)."""
FORMAT = 1
"""Bumped when the triggers' shape changes (the index then rebuilds itself)."""
_OPEN, _CLOSE = "\x02", "\x03"
_SNIPPET_TOKENS = 10
_MAX_WORDS = 16


@dataclass(frozen=True)
class Source:
    """One kind of searchable thing and where its texts come from.

    ``select`` is a query giving one row per thing: ``doc_key`` (what identifies it within its
    kind), ``ref`` (what the user reads and the CLI takes back), optionally ``title``, and any
    of :data:`COLUMNS`; it ends with (or holds) ``{where}``, a condition this module fills in.
    ``watch`` names each table the query reads whose changes must show, with the condition, on
    the query's own tables, that finds the things a row of it touches (``{row}`` stands for the
    row: ``NEW`` or ``OLD`` in the triggers). It must be able to use an index: it runs on every
    write to that table. ``labels`` names the fields as shown (default: the column's name).
    """

    kind: str
    select: str
    watch: Mapping[str, str]
    labels: Mapping[str, str] = field(default_factory=dict)

    def query(self, where: str) -> str:
        """The select with ``where`` as its condition."""
        return self.select.replace("{where}", f"({where})")

    def condition(self, table: str, row: str) -> str:
        """The condition that finds the things ``row`` (``NEW``/``OLD``) of ``table`` touches."""
        return self.watch[table].replace("{row}", row)

    def label(self, column: str) -> str:
        """The field name a user reads for ``column``."""
        return self.labels.get(column, column)


def flat_json(expr: str, limit: int = 300) -> str:
    """SQL for the leaves of the JSON ``expr`` as ``key: value; key.sub: value...`` (at most
    ``limit`` of them; ``expr`` itself when it is not JSON SQLite reads, such as NaN)."""
    return (
        f"(CASE WHEN json_valid({expr}) THEN (SELECT group_concat(k || ': ' || v, '; ') FROM "
        "(SELECT replace(substr(j.fullkey, 3), '\"', '') AS k, j.atom AS v "
        f"FROM json_tree({expr}) j WHERE j.atom IS NOT NULL LIMIT {limit})) ELSE {expr} END)"
    )


_VERSION_REF = "p.name || '/' || c.name || ':v' || v.idx"


def project_source() -> Source:
    """Projects, by name."""
    return Source(
        kind="project",
        select="SELECT p.id AS doc_key, p.name AS ref, p.name AS name FROM projects p "
        "WHERE {where}",
        watch={"projects": "p.id = {row}.id"},
    )


def artifact_source() -> Source:
    """Artifacts (collections), by name, type and project."""
    return Source(
        kind="artifact",
        select="SELECT c.id AS doc_key, p.name || '/' || c.name AS ref, c.name AS name, "
        "c.type AS category, p.name AS project FROM collections c "
        "JOIN projects p ON p.id = c.project_id WHERE {where}",
        watch={"collections": "c.id = {row}.id", "projects": "p.id = {row}.id"},
        labels={"category": "type"},
    )


def version_source() -> Source:
    """Versions, by ``name:vN``, aliases, digest, type, project, description and metadata."""
    return Source(
        kind="version",
        select=f"SELECT v.id AS doc_key, {_VERSION_REF} AS ref, c.name || ':v' || v.idx AS name, "
        "(SELECT group_concat(alias, ' ') FROM (SELECT a.alias FROM aliases a WHERE "
        "a.collection_id = v.collection_id AND a.version_id = v.id ORDER BY a.alias)) AS aliases, "
        "v.digest AS ident, c.type AS category, p.name AS project, "
        f"v.description AS description, {flat_json('v.metadata')} AS meta "
        "FROM versions v JOIN collections c ON c.id = v.collection_id "
        "JOIN projects p ON p.id = c.project_id WHERE {where}",
        watch={
            "versions": "v.id = {row}.id",
            "aliases": "v.id = {row}.version_id",
            "collections": "c.id = {row}.id",
        },
        labels={"aliases": "alias", "ident": "digest", "category": "type", "meta": "metadata"},
    )


def run_source() -> Source:
    """Runs, by name, id, job type, project and config values."""
    return Source(
        kind="run",
        select="SELECT r.id AS doc_key, p.name || '/runs/' || r.id AS ref, r.name AS title, "
        "r.name AS name, r.id AS ident, r.job_type AS category, p.name AS project, "
        f"{flat_json('r.config')} AS meta FROM runs r JOIN projects p ON p.id = r.project_id "
        "WHERE {where}",
        watch={"runs": "r.id = {row}.id"},
        labels={"ident": "id", "category": "job type", "meta": "config"},
    )


def table_source() -> Source:
    """Tables of versions, by path and column names."""
    columns = (
        "(SELECT group_concat(json_extract(j.value, '$.name'), ', ') FROM "
        "json_each(CASE WHEN json_valid(t.schema) THEN t.schema ELSE '{}' END, '$.columns') j)"
    )
    return Source(
        kind="table",
        select=f"SELECT t.version_id || '/' || t.path AS doc_key, {_VERSION_REF} AS ref, "
        f"t.path AS title, t.path AS name, c.name || ':v' || v.idx AS ident, "
        f"p.name AS project, {columns} AS columns FROM tables t "
        "JOIN versions v ON v.id = t.version_id JOIN collections c ON c.id = v.collection_id "
        "JOIN projects p ON p.id = c.project_id WHERE {where}",
        watch={"tables": "t.version_id = {row}.version_id AND t.path = {row}.path"},
        labels={"name": "table", "ident": "artifact"},
    )


def registry_source() -> Source:
    """Registry collections (desktopviz.registry), by name, description, aliases and the
    versions linked to them.

    The extension point at work: a new kind is one such function, added to :data:`SOURCES`.
    """
    linked = (
        "(SELECT group_concat(c.name || ':v' || v.idx, ' ') FROM registry_links l "
        "JOIN versions v ON v.id = l.version_id JOIN collections c ON c.id = v.collection_id "
        "WHERE l.collection_id = rc.id)"
    )
    return Source(
        kind="registry",
        select="SELECT rc.id AS doc_key, 'registry/' || rc.name AS ref, rc.name AS name, "
        "(SELECT group_concat(a.alias, ' ') FROM registry_aliases a "
        " WHERE a.collection_id = rc.id) AS aliases, "
        f"{linked} AS ident, rc.description AS description "
        "FROM registry_collections rc WHERE {where}",
        watch={
            "registry_collections": "rc.id = {row}.id",
            "registry_links": "rc.id = {row}.collection_id",
            "registry_aliases": "rc.id = {row}.collection_id",
        },
        labels={"aliases": "alias", "ident": "linked version"},
    )


def report_source() -> Source:
    """Reports (desktopviz.reports), by name, project and the text of their blocks."""
    return Source(
        kind="report",
        select="SELECT r.id AS doc_key, p.name || '/' || r.name AS ref, r.name AS name, "
        "p.name AS project, (SELECT group_concat(b.text, ' ') FROM (SELECT text "
        " FROM report_blocks WHERE report_id = r.id ORDER BY position LIMIT 200) b) "
        "AS description FROM reports r JOIN projects p ON p.id = r.project_id WHERE {where}",
        watch={"reports": "r.id = {row}.id", "report_blocks": "r.id = {row}.report_id"},
        labels={"description": "text"},
    )


SOURCES: tuple[Source, ...] = (
    project_source(),
    artifact_source(),
    version_source(),
    run_source(),
    table_source(),
    registry_source(),
    report_source(),
)
"""Every kind searched, in the order kinds are listed (add a new kind's source here)."""

KINDS: tuple[str, ...] = tuple(s.kind for s in SOURCES)


@dataclass(frozen=True)
class Hit:
    """One thing found: its kind, key and reference, the field that matched best (its name as a
    user reads it) with a snippet of it, every field that matched, and its bm25 score (lower is
    better)."""

    kind: str
    key: str
    """What identifies it within its kind: a version's or project's id, a run's id..."""
    ref: str
    title: str | None
    field: str
    snippet: str
    marks: tuple[tuple[int, int], ...]
    """Where the matched words are in ``snippet`` (start, end)."""
    fields: tuple[str, ...]
    score: float

    @property
    def label(self) -> str:
        """What a user reads for the thing: its reference, and the title the reference lacks (a
        table's path, as ``desktopviz table REF TABLE`` takes it; a run's name)."""
        if not self.title or self.title in self.ref:
            return self.ref
        if self.kind == "table":
            return f"{self.ref} {self.title}"
        return f"{self.ref} ({self.title})"

    def marked(self, open_: str = "[", close: str = "]") -> str:
        """The snippet with each matched word between ``open_`` and ``close``."""
        out, at = [], 0
        for start, end in self.marks:
            out += [self.snippet[at:start], open_, self.snippet[start:end], close]
            at = end
        return "".join(out) + self.snippet[at:]

    def as_json(self) -> dict[str, Any]:
        """A JSON-able dict (``desktopviz search --json``)."""
        return {
            "kind": self.kind,
            "key": self.key,
            "ref": self.ref,
            "title": self.title,
            "field": self.field,
            "snippet": self.snippet,
            "marks": [list(m) for m in self.marks],
            "fields": list(self.fields),
            "score": self.score,
        }


def match_query(text: str) -> str | None:
    """The FTS5 query for what a user typed: every word, each as a prefix (the last one is
    being typed), all required; None when ``text`` holds no word."""
    words = re.findall(r"[^\W_]+", text)[:_MAX_WORDS]
    return " ".join(f'"{w}"*' for w in words) or None


def search(
    where: Cache | sqlite3.Connection,
    text: str,
    *,
    limit: int = 20,
    kinds: Iterable[str] | None = None,
) -> list[Hit]:
    """The things matching every word of ``text`` (each word a prefix), best first.

    ``where`` is a cache or a connection to its index; the index is made first if it has not
    been (see :func:`ensure_index`). ``kinds`` keeps only those kinds (see :data:`KINDS`).
    Every word must match (in any field); the best field that matched is the hit's ``field``.
    """
    conn = where if isinstance(where, sqlite3.Connection) else where.conn
    kinds = list(kinds) if kinds is not None else None
    unknown = sorted(set(kinds or ()) - set(KINDS))
    if unknown:
        raise DesktopvizError(f"no such kind {unknown[0]!r} (kinds: {', '.join(KINDS)})")
    query = match_query(text)
    if query is None or limit <= 0:
        return []
    ensure_index(conn)
    snippets = ", ".join(
        f"snippet(search_fts, {i}, '{_OPEN}', '{_CLOSE}', '…', {_SNIPPET_TOKENS})"
        for i in range(len(COLUMNS))
    )
    sql = (
        f"SELECT d.kind, d.doc_key, d.ref, d.title, f.rank, {snippets} FROM search_fts f "
        "JOIN search_docs d ON d.id = f.rowid WHERE search_fts MATCH ?"
    )
    params: list[Any] = [query]
    if kinds is not None:
        sql += f" AND d.kind IN ({', '.join('?' * len(kinds))})"
        params += kinds
    sql += " ORDER BY f.rank LIMIT ?"
    params.append(limit)
    labels = {s.kind: s for s in SOURCES}
    return [_hit(row, labels.get(row[0])) for row in conn.execute(sql, params)]


def _hit(row: Sequence[Any], source: Source | None) -> Hit:
    kind, key, ref, title, rank, *texts = row
    matched = [(c, t) for c, t in zip(COLUMNS, texts, strict=True) if t and _OPEN in t]
    column, text = matched[0] if matched else (COLUMNS[0], texts[0] or "")
    snippet, marks = _unmark(text)

    def label(c: str) -> str:
        return source.label(c) if source is not None else c

    return Hit(
        kind=kind,
        key=key,
        ref=ref,
        title=title,
        field=label(column),
        snippet=snippet,
        marks=marks,
        fields=tuple(label(c) for c, _ in matched),
        score=rank,
    )


def _unmark(text: str) -> tuple[str, tuple[tuple[int, int], ...]]:
    """FTS5 snippet text without its markers, and where the marked spans were."""
    out: list[str] = []
    marks: list[tuple[int, int]] = []
    at, start = 0, 0
    for part in re.split(f"([{_OPEN}{_CLOSE}])", text):
        if part == _OPEN:
            start = at
        elif part == _CLOSE:
            marks.append((start, at))
        else:
            out.append(part)
            at += len(part)
    return "".join(out), tuple(marks)


# -- the index ---------------------------------------------------------------------------------
def active_sources(conn: sqlite3.Connection) -> list[Source]:
    """The sources whose tables are all in this cache's index (and whose query runs on it)."""
    tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    return [s for s in SOURCES if set(s.watch) <= tables and _compiles(conn, s)]


def _compiles(conn: sqlite3.Connection, source: Source) -> bool:
    """Whether ``source``'s query runs on this index (a column it reads may be missing from an
    index of another schema: that source is left out rather than breaking every search)."""
    try:
        _columns(conn, source)
    except sqlite3.OperationalError:
        return False
    return True


def signature(sources: Iterable[Source]) -> str:
    """A hash of what the index holds and how it is kept (it changes with the sources)."""
    h = hashlib.sha256(f"format {FORMAT}\n".encode())
    for s in sources:
        h.update(repr((s.kind, s.select, sorted(s.watch.items()))).encode())
    return h.hexdigest()


def _stored_signature(conn: sqlite3.Connection) -> str | None:
    try:
        row = conn.execute("SELECT value FROM search_meta WHERE name = 'signature'").fetchone()
    except sqlite3.OperationalError as e:  # an index older than the search migration
        raise DesktopvizError(f"the cache index has no search tables ({e})") from e
    return row[0] if row else None


def ensure_index(conn: sqlite3.Connection) -> bool:
    """Make the search index and its triggers if this cache has none (or they were made for
    other sources); True when it (re)built them. Cheap when nothing is to do: one read."""
    sources = active_sources(conn)
    wanted = signature(sources)
    if _stored_signature(conn) == wanted:
        return False
    outer = conn.in_transaction
    if not outer:
        conn.execute("BEGIN IMMEDIATE")
    try:
        if _stored_signature(conn) != wanted:  # another process may have built it meanwhile
            _rebuild(conn, sources, wanted)
            built = True
        else:
            built = False
        if not outer:
            conn.execute("COMMIT")
    except BaseException:
        if not outer:
            conn.execute("ROLLBACK")
        raise
    return built


def rebuild(conn: sqlite3.Connection) -> None:
    """Build the index again from the cache's tables (inside one transaction)."""
    conn.execute("DELETE FROM search_meta WHERE name = 'signature'")
    ensure_index(conn)


def _rebuild(conn: sqlite3.Connection, sources: list[Source], wanted: str) -> None:
    for (name,) in conn.execute(
        "SELECT name FROM sqlite_master WHERE type = 'trigger' AND name LIKE 'search\\_%' "
        "ESCAPE '\\'"
    ).fetchall():
        conn.execute(f'DROP TRIGGER "{name}"')
    conn.execute("DELETE FROM search_docs")
    for source in sources:
        conn.execute(_insert(conn, source, "1"))
    conn.execute("INSERT INTO search_fts (search_fts) VALUES ('rebuild')")
    for statement in _sync_triggers() + [t for s in sources for t in _source_triggers(conn, s)]:
        conn.execute(statement)
    conn.execute(
        "INSERT INTO search_meta (name, value) VALUES ('signature', ?) "
        "ON CONFLICT (name) DO UPDATE SET value = excluded.value",
        (wanted,),
    )


def _columns(conn: sqlite3.Connection, source: Source) -> list[str]:
    """The columns ``source``'s query gives (checked against what ``search_docs`` holds)."""
    cur = conn.execute(f"SELECT * FROM ({source.query('0')}) LIMIT 0")
    names = [d[0] for d in cur.description]
    allowed = {"doc_key", "ref", "title", *COLUMNS}
    if not {"doc_key", "ref"} <= set(names) or not set(names) <= allowed:
        raise DesktopvizError(
            f"search source {source.kind!r} must give doc_key, ref and some of "
            f"title, {', '.join(COLUMNS)}; it gives {', '.join(names)}"
        )
    return names


def _insert(conn: sqlite3.Connection, source: Source, where: str) -> str:
    names = _columns(conn, source)
    cols = ", ".join(names)
    return (
        f"INSERT OR IGNORE INTO search_docs (kind, {cols}) SELECT '{source.kind}', {cols} "
        f"FROM ({source.query(where)})"
    )


def _delete(source: Source, where: str) -> str:
    return (
        # CAST: a TEXT operand, or the (kind, doc_key) index would not serve the IN
        f"DELETE FROM search_docs WHERE kind = '{source.kind}' AND doc_key IN "
        f"(SELECT CAST(doc_key AS TEXT) FROM ({source.query(where)}))"
    )


def _trigger(name: str, when: str, table: str, body: list[str]) -> str:
    statements = "".join(f"{s};\n" for s in body)
    return f'CREATE TRIGGER "{name}" {when} ON "{table}" BEGIN\n{statements}END'


def _source_triggers(conn: sqlite3.Connection, source: Source) -> list[str]:
    """Triggers that keep ``source``'s rows right: before a row of a watched table changes or
    goes, the rows of what it touched go; after it came or changed, the rows of what it
    touches (before and after) are made again."""
    out = []
    for table in source.watch:
        old, new = source.condition(table, "OLD"), source.condition(table, "NEW")
        name = f"search_{source.kind}_{table}"
        out += [
            _trigger(f"{name}_bu", "BEFORE UPDATE", table, [_delete(source, old)]),
            _trigger(f"{name}_bd", "BEFORE DELETE", table, [_delete(source, old)]),
            _trigger(
                f"{name}_ai",
                "AFTER INSERT",
                table,
                [_delete(source, new), _insert(conn, source, new)],
            ),
            _trigger(
                f"{name}_au",
                "AFTER UPDATE",
                table,
                [_delete(source, new), _insert(conn, source, f"({old}) OR ({new})")],
            ),
            _trigger(f"{name}_ad", "AFTER DELETE", table, [_insert(conn, source, old)]),
        ]
    return out


def _sync_triggers() -> list[str]:
    """The triggers that keep ``search_fts`` (external content) in step with ``search_docs``."""
    cols = ", ".join(COLUMNS)
    old = ", ".join(f"OLD.{c}" for c in COLUMNS)
    new = ", ".join(f"NEW.{c}" for c in COLUMNS)
    add = f"INSERT INTO search_fts (rowid, {cols}) VALUES (NEW.id, {new})"
    remove = f"INSERT INTO search_fts (search_fts, rowid, {cols}) VALUES ('delete', OLD.id, {old})"
    return [
        _trigger("search_docs_ai", "AFTER INSERT", "search_docs", [add]),
        _trigger("search_docs_ad", "AFTER DELETE", "search_docs", [remove]),
        _trigger("search_docs_au", "AFTER UPDATE", "search_docs", [remove, add]),
    ]


def kinds_help() -> str:
    """The kinds, for help texts."""
    return "|".join(KINDS)


def open_index(path: str | Any, *, timeout: float | None = None) -> sqlite3.Connection:
    """A connection of its own to a cache's index (``<cache>/index.sqlite``), for searching from
    another thread while the cache's connection serves the rest."""
    from desktopviz.store.cache import busy_timeout_seconds

    conn = sqlite3.connect(
        path,
        timeout=busy_timeout_seconds() if timeout is None else timeout,
        isolation_level=None,
        check_same_thread=False,
    )
    conn.execute("PRAGMA foreign_keys=ON")
    return conn


def search_index(
    path: str | Any, text: str, *, limit: int = 20, kinds: Iterable[str] | None = None
) -> list[Hit]:
    """:func:`search` on a connection of its own to the index at ``path`` (for a worker
    thread: the window's connection stays free for the UI thread)."""
    conn = open_index(path)
    try:
        return search(conn, text, limit=limit, kinds=kinds)
    finally:
        conn.close()
