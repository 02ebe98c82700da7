"""The local cache: SQLite index (sqlite-utils) + content-addressed blobs + Parquet tables.

Invariant: blobs and derived files are written first; the index transaction that makes a
version visible comes last, so a killed process never leaves a half-visible version.
"""

from __future__ import annotations

import errno
import json
import os
import sqlite3
import time
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from desktopviz.errors import CacheBusyError, DesktopvizError, NotFoundError
from desktopviz.model import (
    Collection,
    FileEntry,
    LineageEdge,
    Project,
    Run,
    SavedView,
    TableInfo,
    Version,
)
from desktopviz.store.blobs import DISK_FULL, BlobStore
from desktopviz.store.leases import Lease, live_names
from desktopviz.store.packs import PackedBlob
from desktopviz.store.schema import migrate

RESERVED_ALIASES = frozenset({"latest"})
FINGERPRINTS = "fingerprints"
"""The folder under ``derived/`` of table fingerprints (see ``desktopviz.query.fingerprint``)."""


class NotDownloadedError(NotFoundError):
    """A catalog-only version (synced as metadata) whose files are not in the cache yet."""


class MissingBlobError(DesktopvizError):
    """A version to commit names a blob that is not in the store."""

    def __init__(self, message: str, *, digest: str, **kw: Any) -> None:
        super().__init__(message, **kw)
        self.digest = digest


def index_error(e: BaseException, path: Path) -> DesktopvizError:
    """One line for an error opening or using the cache: read-only, full disk or damaged index."""
    text = str(e)
    errno_ = getattr(e, "errno", None)
    folder = path if path.is_dir() else path.parent
    read_only = folder.exists() and not os.access(folder, os.W_OK)
    if read_only or isinstance(e, PermissionError) or errno_ == errno.EROFS or "readonly" in text:
        return DesktopvizError(
            "the cache folder is read-only; desktopviz writes its index there "
            "(use --cache DIR for a writable folder)",
            file=path,
        )
    if errno_ in DISK_FULL or "database or disk is full" in text:
        return DesktopvizError(f"disk full while writing the cache index ({text})", file=path)
    if isinstance(e, sqlite3.OperationalError) and "unable to open database" in text:
        return DesktopvizError(f"cannot open the cache index: {text}", file=path)
    if isinstance(e, sqlite3.Error):
        return DesktopvizError(
            f"the cache index is damaged: {text}; nothing was changed "
            "(restore index.sqlite from a backup, or use another folder with --cache)",
            file=path,
        )
    return DesktopvizError(
        f"cannot use the cache: {getattr(e, 'strerror', None) or text}", file=path
    )


def _stored_file_count(root: Path) -> int:
    """Blobs and materialised tables in a cache folder (what an empty index would orphan)."""
    n = 0
    for folder in (root / "blobs", root / "derived" / "tables"):
        if folder.is_dir():
            n += sum(1 for p in folder.rglob("*") if p.is_file())
    return n


def _saved_view(row: tuple) -> SavedView:
    cid, table, name, spec, layout, saved_at, used_at = row
    return SavedView(cid, table, name, json.loads(spec), json.loads(layout), saved_at, used_at)


def now_iso() -> str:
    """The current UTC time, ISO 8601 with microseconds."""
    return datetime.now(UTC).isoformat(timespec="microseconds")


def busy_timeout_seconds() -> float:
    """How long a writer waits for another writer before reporting "cache is busy"."""
    return float(os.environ.get("DESKTOPVIZ_BUSY_TIMEOUT", "60"))


NewFile = FileEntry
"""A file to record in a new version (its bytes, if any, already in the blob store)."""


@dataclass(frozen=True)
class NewTable:
    """A table of a new version (its Parquet file already written under ``derived/``)."""

    path: str
    kind: str
    parquet: str
    schema: str
    num_rows: int
    digest: str | None = None
    """The Parquet file's digest (``xxh128:<hex>``, see ``desktopviz.store.verify``)."""


@dataclass(frozen=True)
class VersionHeader:
    """What a new version says about itself, besides its files."""

    project: str
    name: str
    type: str
    description: str | None = None
    metadata: dict[str, Any] = field(default_factory=dict)
    aliases: tuple[str, ...] = ()
    source: str | None = None
    wandb_id: str | None = None
    client_id: str | None = None
    sequence_client_id: str | None = None
    produced_by: str | None = None
    created_at: str | None = None


@dataclass(frozen=True)
class NewVersion:
    """Everything that makes a version; committed in one transaction."""

    header: VersionHeader
    digest: str
    files: list[FileEntry]
    tables: list[NewTable] = field(default_factory=list)
    packed: list[PackedBlob] = field(default_factory=list)
    """Blobs this version's import wrote into packs (made durable before the commit)."""
    idx: int | None = None
    """The version number to give it (a store's, when synced; None: the next one)."""
    state: str = "complete"
    """``catalog``: metadata only, its blobs and tables not here (see ``desktopviz.sync``)."""


@dataclass(frozen=True)
class CommitResult:
    """The version a commit resolved to and whether it was newly made."""

    version: Version
    created: bool


@dataclass(frozen=True)
class GcReport:
    """What ``gc`` removed."""

    blobs_removed: int
    derived_removed: int
    tmp_removed: int
    bytes_freed: int


class Cache:
    """A desktopviz cache directory."""

    def __init__(self, root: str | os.PathLike[str], *, create: bool = True) -> None:
        self.root = Path(root)
        index = self.root / "index.sqlite"
        if not index.exists():
            stored = _stored_file_count(self.root)
            if stored:
                raise DesktopvizError(
                    f"the cache index (index.sqlite) is missing but the folder holds {stored} "
                    "stored files; nothing was changed (restore index.sqlite, or use another "
                    "folder with --cache)",
                    file=self.root,
                )
            if not create:
                raise NotFoundError(
                    "no desktopviz cache here (index.sqlite is missing)", file=self.root
                )
        self.tmp_dir = self.root / "tmp"
        self.derived_dir = self.root / "derived"
        self.leases_dir = self.root / "leases"
        try:
            self.root.mkdir(parents=True, exist_ok=True)
            blobs_root = self.root / "blobs" / "sha256"
            blobs_root.mkdir(parents=True, exist_ok=True)
            self.tmp_dir.mkdir(exist_ok=True)
            self.derived_dir.mkdir(exist_ok=True)
            self.leases_dir.mkdir(exist_ok=True)
        except OSError as e:
            raise index_error(e, self.root) from e
        try:
            conn = sqlite3.connect(
                index, timeout=busy_timeout_seconds(), isolation_level=None, check_same_thread=False
            )
        except sqlite3.Error as e:
            raise index_error(e, index) from e
        self.conn = conn
        self.blobs = BlobStore(blobs_root, self.tmp_dir, conn, index)
        try:
            with self._busy_guard():
                conn.execute("PRAGMA journal_mode=WAL")
                conn.execute("PRAGMA synchronous=NORMAL")
                conn.execute("PRAGMA foreign_keys=ON")
                migrate(conn)
        except sqlite3.Error as e:
            conn.close()
            raise index_error(e, index) from e
        self._db: Any = None

    @property
    def db(self) -> Any:
        """The index as a ``sqlite_utils.Database`` (for inspection and ad-hoc queries)."""
        if self._db is None:
            import sqlite_utils

            self._db = sqlite_utils.Database(self.conn)
        return self._db

    def close(self) -> None:
        """Close the index connection."""
        self.conn.close()

    def __enter__(self) -> Cache:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def lease(self) -> Lease:
        """A lease for the blobs and derived files a job writes (``gc`` spares them)."""
        return Lease(self.leases_dir)

    # -- transactions -------------------------------------------------------------------
    @contextmanager
    def _busy_guard(self) -> Iterator[None]:
        try:
            yield
        except sqlite3.OperationalError as e:
            if "locked" in str(e) or "busy" in str(e):
                raise CacheBusyError(
                    "cache is busy: another desktopviz process is writing to it; try again",
                    file=self.root,
                ) from e
            raise

    @contextmanager
    def write(self) -> Iterator[sqlite3.Connection]:
        """A write transaction (``BEGIN IMMEDIATE``); rolls back on any error. Inside another
        one it joins it (the outer one commits or rolls back the whole)."""
        if self.conn.in_transaction:
            yield self.conn
            return
        with self._busy_guard():
            self.conn.execute("BEGIN IMMEDIATE")
        try:
            yield self.conn
            with self._busy_guard():
                self.conn.execute("COMMIT")
        except BaseException:
            self.conn.execute("ROLLBACK")
            raise

    def _q(self, sql: str, params: Iterable[Any] = ()) -> list[dict[str, Any]]:
        cur = self.conn.execute(sql, tuple(params))
        cols = [d[0] for d in cur.description or ()]
        return [dict(zip(cols, row, strict=True)) for row in cur.fetchall()]

    def data_version(self) -> int:
        """A number that changes when another connection (the CLI, the SDK, another window)
        commits to the index; this cache's own commits leave it (SQLite's ``data_version``)."""
        return self.conn.execute("PRAGMA data_version").fetchone()[0]

    # -- projects and collections -----------------------------------------------------
    def _project_id(self, name: str, *, create: bool) -> int | None:
        row = self.conn.execute("SELECT id FROM projects WHERE name = ?", (name,)).fetchone()
        if row:
            return row[0]
        if not create:
            return None
        cur = self.conn.execute(
            "INSERT INTO projects (name, created_at) VALUES (?, ?)", (name, now_iso())
        )
        return cur.lastrowid

    def projects(self) -> list[Project]:
        """All projects, by name."""
        return [
            Project(**r) for r in self._q("SELECT id, name, created_at FROM projects ORDER BY name")
        ]

    def collections(self, project: str | None = None) -> list[Collection]:
        """Artifact collections (optionally of one project), by project, type and name."""
        sql = (
            "SELECT c.id, p.name AS project, c.name, c.type, c.created_at, "
            "(SELECT COUNT(*) FROM versions v WHERE v.collection_id = c.id) AS version_count "
            "FROM collections c JOIN projects p ON p.id = c.project_id"
        )
        params: list[Any] = []
        if project is not None:
            sql += " WHERE p.name = ?"
            params.append(project)
        sql += " ORDER BY p.name, c.type, c.name"
        return [Collection(**r) for r in self._q(sql, params)]

    # -- versions ------------------------------------------------------------------------
    _VERSION_SQL = (
        "SELECT v.id, v.collection_id, p.name AS project, c.name, c.type, v.idx AS 'index', "
        "v.digest, v.description, v.metadata, v.created_at, v.size, v.file_count, v.source, "
        "v.state, (SELECT group_concat(alias, char(31)) FROM (SELECT alias FROM aliases a "
        " WHERE a.version_id = v.id ORDER BY alias = 'latest' DESC, alias)) AS aliases "
        "FROM versions v JOIN collections c ON c.id = v.collection_id "
        "JOIN projects p ON p.id = c.project_id"
    )

    @staticmethod
    def _version(row: dict[str, Any]) -> Version:
        row = dict(row)
        row["metadata"] = json.loads(row["metadata"] or "{}")
        row["aliases"] = tuple(row["aliases"].split("\x1f")) if row["aliases"] else ()
        return Version(**row)

    def version_by_id(self, version_id: int) -> Version:
        """The version with this id."""
        rows = self._q(self._VERSION_SQL + " WHERE v.id = ?", (version_id,))
        if not rows:
            raise NotFoundError(f"no version with id {version_id}")
        return self._version(rows[0])

    def versions(self, project: str | None = None, name: str | None = None) -> list[Version]:
        """Versions, newest index last, optionally of one project and/or collection."""
        sql, params = self._VERSION_SQL, []
        where = []
        if project is not None:
            where.append("p.name = ?")
            params.append(project)
        if name is not None:
            where.append("c.name = ?")
            params.append(name)
        if where:
            sql += " WHERE " + " AND ".join(where)
        sql += " ORDER BY p.name, c.name, v.idx"
        return [self._version(r) for r in self._q(sql, params)]

    def resolve(self, ref: str, project: str | None = None) -> Version:
        """Find a version from ``[project/]name[:v<N>|:latest|:<alias>]`` (default ``latest``),
        or the version a registry reference ``registry/<collection>:<vN|alias>`` links to."""
        from desktopviz.registry import resolve_registry_ref

        linked = resolve_registry_ref(self, ref)
        if linked is not None:
            return linked
        text = ref.strip()
        if "/" in text:
            project, text = text.split("/", 1)
        name, _, which = text.partition(":")
        which = which or "latest"
        if not name:
            raise NotFoundError(
                f"bad artifact reference {ref!r}: expected [project/]name:v<N>|alias"
            )
        sql = self._VERSION_SQL + " WHERE c.name = ?"
        params: list[Any] = [name]
        if project:
            sql += " AND p.name = ?"
            params.append(project)
        if len(which) > 1 and which[0] == "v" and which[1:].isdigit():
            sql += " AND v.idx = ?"
            params.append(int(which[1:]))
        else:
            sql += " AND v.id IN (SELECT version_id FROM aliases WHERE alias = ?)"
            params.append(which)
        rows = self._q(sql, params)
        if not rows:
            where = f" in project {project!r}" if project else ""
            known = self.collections(project)
            if not any(c.name == name for c in known):
                raise NotFoundError(f"no artifact named {name!r}{where}")
            raise NotFoundError(f"artifact {name!r}{where} has no version or alias {which!r}")
        projects = {r["project"] for r in rows}
        if len(projects) > 1:
            raise NotFoundError(
                f"artifact {name!r} exists in several projects ({', '.join(sorted(projects))}); "
                "write project/name"
            )
        return self._version(rows[0])

    def add_version(self, new: NewVersion) -> CommitResult:
        """Make a version visible (or find the identical one); the one step that publishes."""
        h = new.header
        with self.write() as conn:
            conn.executemany(
                "INSERT OR IGNORE INTO packed (sha256, pack, offset, size) VALUES (?,?,?,?)",
                # in key order: 2x faster than random order into the primary key's b-tree
                sorted((b.sha256, b.pack, b.offset, b.size) for b in new.packed),
            )
            if new.state != "catalog":  # a catalog version's blobs come later (fetch_version)
                self._check_present(new.files, new.tables)
            pid = self._project_id(h.project, create=True)
            row = conn.execute(
                "SELECT id, type FROM collections WHERE project_id = ? AND name = ?",
                (pid, h.name),
            ).fetchone()
            if row is None:
                cid = conn.execute(
                    "INSERT INTO collections (project_id, name, type, created_at) VALUES (?,?,?,?)",
                    (pid, h.name, h.type, now_iso()),
                ).lastrowid
            else:
                cid, existing_type = row
                if existing_type != h.type:
                    raise DesktopvizError(
                        f"artifact {h.name!r} in project {h.project!r} has type "
                        f"{existing_type!r}, not {h.type!r}"
                    )
            same = conn.execute(
                "SELECT id FROM versions WHERE collection_id = ? AND digest = ? ORDER BY idx DESC",
                (cid, new.digest),
            ).fetchone()
            created = same is None
            if created:
                idx = self._new_index(cid, new)
                vid = conn.execute(
                    "INSERT INTO versions (collection_id, idx, digest, description, metadata, "
                    "created_at, size, file_count, source, wandb_id, client_id, sequence_client_id, "
                    "state) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?)",
                    (
                        cid,
                        idx,
                        new.digest,
                        h.description,
                        json.dumps(h.metadata, sort_keys=True, allow_nan=True),
                        h.created_at or now_iso(),
                        sum(f.size for f in new.files),
                        len(new.files),
                        h.source,
                        h.wandb_id,
                        h.client_id,
                        h.sequence_client_id,
                        new.state,
                    ),
                ).lastrowid
                conn.executemany(
                    "INSERT INTO files (version_id, path, size, sha256, wandb_digest, ref, "
                    "ref_version_id, ref_path) VALUES (?,?,?,?,?,?,?,?)",
                    [
                        (
                            vid,
                            f.path,
                            f.size,
                            f.sha256,
                            f.wandb_digest,
                            f.ref,
                            f.ref_version_id,
                            f.ref_path,
                        )
                        for f in new.files
                    ],
                )
                conn.executemany(
                    "INSERT INTO tables (version_id, path, kind, parquet, schema, num_rows, digest) "
                    "VALUES (?,?,?,?,?,?,?)",
                    [
                        (vid, t.path, t.kind, t.parquet, t.schema, t.num_rows, t.digest)
                        for t in new.tables
                    ],
                )
                newest = conn.execute(
                    "SELECT id FROM versions WHERE collection_id = ? ORDER BY idx DESC LIMIT 1",
                    (cid,),
                ).fetchone()[0]
                self._set_alias_in_tx(cid, "latest", newest)
            else:
                vid = same[0]
                if h.client_id:
                    conn.execute(
                        "UPDATE versions SET client_id = COALESCE(client_id, ?), "
                        "sequence_client_id = COALESCE(sequence_client_id, ?), "
                        "wandb_id = COALESCE(wandb_id, ?) WHERE id = ?",
                        (h.client_id, h.sequence_client_id, h.wandb_id, vid),
                    )
            for alias in h.aliases:
                if alias not in RESERVED_ALIASES:
                    self._set_alias_in_tx(cid, _check_alias(alias), vid)
            if h.produced_by:
                self._add_lineage_in_tx(h.produced_by, vid, "output")
        return CommitResult(self.version_by_id(vid), created)

    def _check_present(self, files: list[FileEntry], tables: list[NewTable]) -> None:
        """Inside the commit's transaction (gc deletes only inside one, so none can come
        between): every blob and Parquet file a version names is here."""
        absent = self.blobs.missing(f.sha256 for f in files if f.sha256 is not None)
        for f in files:
            if f.sha256 in absent:
                raise MissingBlobError(
                    f"blob for {f.path!r} is missing (removed by a concurrent gc?); import again",
                    file=self.root,
                    digest=f.sha256,
                )
        for t in tables:
            if not (self.root / t.parquet).is_file():
                raise DesktopvizError(f"table {t.path!r} was not materialised", file=self.root)

    def _new_index(self, collection_id: int, new: NewVersion) -> int:
        """The number of a new version: the one asked for (refused when another version holds
        it), else the next."""
        if new.idx is None:
            return self.conn.execute(
                "SELECT COALESCE(MAX(idx) + 1, 0) FROM versions WHERE collection_id = ?",
                (collection_id,),
            ).fetchone()[0]
        taken = self.conn.execute(
            "SELECT digest FROM versions WHERE collection_id = ? AND idx = ?",
            (collection_id, new.idx),
        ).fetchone()
        if taken is not None:
            h = new.header
            raise DesktopvizError(
                f"{h.project}/{h.name}:v{new.idx} in this cache is another version (digest "
                f"{taken[0]}) than the one to add as v{new.idx} (digest {new.digest}); delete "
                "the local one or sync into another cache",
                file=self.root,
            )
        return new.idx

    def set_version_state(
        self, version: Version, state: str, packed: Iterable[PackedBlob] = ()
    ) -> Version:
        """Mark a version ``complete`` (its blobs and tables checked present first; ``packed``:
        where the blobs just fetched for it lie in packs) or ``catalog``."""
        with self.write() as conn:
            conn.executemany(
                "INSERT OR IGNORE INTO packed (sha256, pack, offset, size) VALUES (?,?,?,?)",
                sorted((b.sha256, b.pack, b.offset, b.size) for b in packed),
            )
            if state == "complete":
                tables = [
                    NewTable(t.path, t.kind, t.parquet, t.schema, t.num_rows)
                    for t in self.tables(version)
                ]
                self._check_present(self.files(version), tables)
            conn.execute("UPDATE versions SET state = ? WHERE id = ?", (state, version.id))
        return self.version_by_id(version.id)

    def _check_downloaded(self, version_id: int) -> None:
        row = self.conn.execute(
            "SELECT v.state, p.name, c.name, v.idx FROM versions v "
            "JOIN collections c ON c.id = v.collection_id JOIN projects p ON p.id = c.project_id "
            "WHERE v.id = ?",
            (version_id,),
        ).fetchone()
        if row is not None and row[0] == "catalog":
            ref = f"{row[1]}/{row[2]}:v{row[3]}"
            raise NotDownloadedError(f"{ref} is not downloaded: run desktopviz pull {ref}")

    def _set_alias_in_tx(self, collection_id: int, alias: str, version_id: int) -> None:
        self.conn.execute(
            "INSERT INTO aliases (collection_id, alias, version_id) VALUES (?,?,?) "
            "ON CONFLICT (collection_id, alias) DO UPDATE SET version_id = excluded.version_id",
            (collection_id, alias, version_id),
        )

    def set_alias(self, version: Version, alias: str) -> Version:
        """Point ``alias`` at ``version`` (moving it from another version of the collection)."""
        alias = _check_alias(alias)
        if alias in RESERVED_ALIASES:
            raise DesktopvizError(f"alias {alias!r} is managed by desktopviz and cannot be set")
        with self.write():
            self._set_alias_in_tx(version.collection_id, alias, version.id)
        return self.version_by_id(version.id)

    def remove_alias(self, version: Version, alias: str) -> Version:
        """Remove a user alias from a version."""
        with self.write() as conn:
            conn.execute(
                "DELETE FROM aliases WHERE collection_id = ? AND alias = ? AND version_id = ? "
                "AND alias != 'latest'",
                (version.collection_id, alias, version.id),
            )
        return self.version_by_id(version.id)

    def delete_version(self, version: Version) -> Version | None:
        """Delete a version in one transaction; return the collection's new ``latest`` (None when
        none is left, and then the empty collection goes too).

        Its aliases go with it and ``latest`` moves to the newest remaining version. Files of other
        versions that referred to it keep their own bytes but no longer name it as their source.
        Blobs and Parquet files stay until ``gc`` (other versions may share them).
        """
        vid = version.id
        with self.write() as conn:
            row = conn.execute("SELECT collection_id FROM versions WHERE id = ?", (vid,)).fetchone()
            if row is None:
                raise NotFoundError(f"no version {version.ref} (deleted already?)")
            cid = row[0]
            conn.execute("UPDATE files SET ref_version_id = NULL WHERE ref_version_id = ?", (vid,))
            conn.execute("UPDATE synced SET version_id = NULL WHERE version_id = ?", (vid,))
            for table in ("aliases", "files", "tables", "lineage"):
                conn.execute(f"DELETE FROM {table} WHERE version_id = ?", (vid,))
            conn.execute("DELETE FROM versions WHERE id = ?", (vid,))
            newest = conn.execute(
                "SELECT id FROM versions WHERE collection_id = ? ORDER BY idx DESC LIMIT 1", (cid,)
            ).fetchone()
            if newest is None:
                conn.execute("DELETE FROM views WHERE collection_id = ?", (cid,))
                conn.execute("DELETE FROM collections WHERE id = ?", (cid,))
                return None
            self._set_alias_in_tx(cid, "latest", newest[0])
        return self.version_by_id(newest[0])

    # -- saved views ----------------------------------------------------------------------
    def save_view(
        self,
        version: Version,
        table: str,
        name: str,
        spec: dict[str, Any],
        layout: dict[str, Any] | None = None,
    ) -> SavedView:
        """Save (or replace) view ``name`` of ``table`` for every version of ``version``'s
        collection; it becomes the one last used."""
        name = name.strip()
        if not name or len(name) > 200 or any(ord(c) < 32 for c in name):
            raise DesktopvizError(
                f"a view needs a name of 1 to 200 printable characters, not {name!r}"
            )
        stamp = now_iso()
        with self.write() as conn:
            conn.execute(
                "INSERT INTO views (collection_id, table_path, name, spec, layout, saved_at, used_at) "
                "VALUES (?,?,?,?,?,?,?) ON CONFLICT (collection_id, table_path, name) DO UPDATE SET "
                "spec = excluded.spec, layout = excluded.layout, saved_at = excluded.saved_at, "
                "used_at = excluded.used_at",
                (
                    version.collection_id,
                    table,
                    name,
                    json.dumps(spec),
                    json.dumps(layout or {}),
                    stamp,
                    stamp,
                ),
            )
        return self.view(version, table, name)

    def views(self, version: Version, table: str) -> list[SavedView]:
        """The saved views of ``table`` in ``version``'s collection, by name."""
        rows = self.conn.execute(
            "SELECT collection_id, table_path, name, spec, layout, saved_at, used_at FROM views "
            "WHERE collection_id = ? AND table_path = ? ORDER BY name",
            (version.collection_id, table),
        ).fetchall()
        return [_saved_view(r) for r in rows]

    def view(self, version: Version, table: str, name: str) -> SavedView:
        """One saved view (NotFoundError names the ones there are)."""
        for v in self.views(version, table):
            if v.name == name:
                return v
        names = ", ".join(v.name for v in self.views(version, table)) or "none saved"
        raise NotFoundError(f"no view {name!r} of {table} in {version.name} (views: {names})")

    def last_view(self, version: Version, table: str) -> SavedView | None:
        """The view of ``table`` used last (what opening the table shows), if any."""
        row = self.conn.execute(
            "SELECT collection_id, table_path, name, spec, layout, saved_at, used_at FROM views "
            "WHERE collection_id = ? AND table_path = ? AND used_at IS NOT NULL "
            "ORDER BY used_at DESC, name LIMIT 1",
            (version.collection_id, table),
        ).fetchone()
        return _saved_view(row) if row else None

    def use_view(self, version: Version, table: str, name: str | None) -> None:
        """Remember that view ``name`` is shown (None: the table itself, no view)."""
        with self.write() as conn:
            conn.execute(
                "UPDATE views SET used_at = NULL WHERE collection_id = ? AND table_path = ?",
                (version.collection_id, table),
            )
            if name is not None:
                conn.execute(
                    "UPDATE views SET used_at = ? WHERE collection_id = ? AND table_path = ? "
                    "AND name = ?",
                    (now_iso(), version.collection_id, table, name),
                )

    def delete_view(self, version: Version, table: str, name: str) -> None:
        """Delete a saved view."""
        with self.write() as conn:
            conn.execute(
                "DELETE FROM views WHERE collection_id = ? AND table_path = ? AND name = ?",
                (version.collection_id, table, name),
            )

    # -- files and tables ----------------------------------------------------------------
    def files(self, version: Version | int) -> list[FileEntry]:
        """The files of a version, by path."""
        vid = version if isinstance(version, int) else version.id
        rows = self._q(
            "SELECT path, size, sha256, wandb_digest, ref, ref_version_id, ref_path FROM files "
            "WHERE version_id = ? ORDER BY path",
            (vid,),
        )
        return [FileEntry(**r) for r in rows]

    def with_referred(self, versions: Iterable[Version]) -> list[Version]:
        """``versions`` and the versions their files refer to, transitively, each once: where a
        media file of theirs may be stored (a joined table's side from another artifact keeps its
        images, masks and classes there)."""
        out: list[Version] = []
        seen: set[int] = set()
        for v in versions:
            if v.id not in seen:
                seen.add(v.id)
                out.append(v)
        for v in out:  # grows while walked
            for (vid,) in self.conn.execute(
                "SELECT DISTINCT ref_version_id FROM files WHERE version_id = ? "
                "AND ref_version_id IS NOT NULL ORDER BY ref_version_id",
                (v.id,),
            ):
                if vid not in seen:
                    seen.add(vid)
                    out.append(self.version_by_id(vid))
        return out

    def file_path(self, version: Version | int, path: str) -> Path:
        """The local path of a version's file bytes (following references)."""
        return self.blobs.local_path(self.file_sha256(version, path))

    def file_sha256(self, version: Version | int, path: str) -> str:
        """The digest of a version's file bytes (NotFoundError when it has no stored bytes)."""
        vid = version if isinstance(version, int) else version.id
        row = self.conn.execute(
            "SELECT sha256, ref FROM files WHERE version_id = ? AND path = ?", (vid, path)
        ).fetchone()
        if row is None:
            raise NotFoundError(f"no file {path!r} in this version")
        sha, ref = row
        if sha is None:
            raise NotFoundError(
                f"file {path!r} is a reference to {ref!r}, whose bytes are not here"
            )
        self._check_downloaded(vid)
        return sha

    def tables(self, version: Version | int) -> list[TableInfo]:
        """The tables of a version."""
        vid = version if isinstance(version, int) else version.id
        rows = self._q(
            "SELECT version_id, path, kind, parquet, schema, num_rows FROM tables "
            "WHERE version_id = ? ORDER BY path",
            (vid,),
        )
        return [TableInfo(**r) for r in rows]

    def table_info(self, version: Version, path: str | None = None) -> TableInfo:
        """One table of a version: by its path or the name it was added under."""
        tables = self.tables(version)
        if path is None:
            if len(tables) == 1:
                return tables[0]
            if not tables:
                raise NotFoundError(f"{version.ref} holds no table")
            names = ", ".join(t.path for t in tables)
            raise NotFoundError(f"{version.ref} holds several tables; name one of: {names}")
        for t in tables:
            if path in (t.path, table_name(t.path)):
                return t
        names = ", ".join(t.path for t in tables) or "none"
        raise NotFoundError(f"{version.ref} has no table {path!r} (tables: {names})")

    def parquet_path(self, table: TableInfo) -> Path:
        """The Parquet file of a materialised table (NotDownloadedError for a catalog-only
        version's)."""
        path = self.root / table.parquet
        if not path.is_file():
            self._check_downloaded(table.version_id)
        return path

    # -- runs and lineage ---------------------------------------------------------------
    def upsert_run(self, run: Run) -> None:
        """Record a run (insert or update its fields)."""
        with self.write():
            pid = self._project_id(run.project, create=True)
            self.conn.execute(
                "INSERT INTO runs (id, project_id, name, job_type, state, config, summary, "
                "environment, created_at, finished_at, source) VALUES (?,?,?,?,?,?,?,?,?,?,?) "
                "ON CONFLICT (id) DO UPDATE SET name = excluded.name, job_type = excluded.job_type, "
                "state = excluded.state, config = excluded.config, summary = excluded.summary, "
                "environment = excluded.environment, finished_at = excluded.finished_at",
                (
                    run.id,
                    pid,
                    run.name,
                    run.job_type,
                    run.state,
                    _dumps(run.config),
                    _dumps(run.summary),
                    _dumps(run.environment),
                    run.created_at or now_iso(),
                    run.finished_at,
                    run.source,
                ),
            )

    def log_history(self, run_id: str, rows: Iterable[tuple[int, dict[str, Any]]]) -> None:
        """Append metric history rows ``(step, {metric: value})`` to a run."""
        with self.write():
            self.conn.executemany(
                "INSERT OR REPLACE INTO run_history (run_id, step, data) VALUES (?,?,?)",
                [(run_id, step, _dumps(data)) for step, data in rows],
            )

    def runs(self, project: str | None = None, *, run_id: str | None = None) -> list[Run]:
        """Runs (of one project, or the one with ``run_id``), oldest first."""
        sql = (
            "SELECT r.id, p.name AS project, r.name, r.job_type, r.state, r.config, r.summary, "
            "r.environment, r.created_at, r.finished_at, r.source FROM runs r "
            "JOIN projects p ON p.id = r.project_id"
        )
        params: list[Any] = []
        where = []
        if project is not None:
            where.append("p.name = ?")
            params.append(project)
        if run_id is not None:
            where.append("r.id = ?")
            params.append(run_id)
        if where:
            sql += " WHERE " + " AND ".join(where)
        sql += " ORDER BY r.created_at, r.id"
        out = []
        for r in self._q(sql, params):
            for key in ("config", "summary", "environment"):
                r[key] = json.loads(r[key] or "{}")
            out.append(Run(**r))
        return out

    def run(self, run_id: str) -> Run:
        """One run by id."""
        found = self.runs(run_id=run_id)
        if not found:
            raise NotFoundError(f"no run {run_id!r}")
        return found[0]

    def history(self, run_id: str) -> list[tuple[int, dict[str, Any]]]:
        """A run's metric history, by step."""
        rows = self.conn.execute(
            "SELECT step, data FROM run_history WHERE run_id = ? ORDER BY step", (run_id,)
        ).fetchall()
        return [(step, json.loads(data)) for step, data in rows]

    def _add_lineage_in_tx(self, run_id: str, version_id: int, direction: str) -> None:
        self.conn.execute(
            "INSERT OR IGNORE INTO lineage (run_id, version_id, direction) VALUES (?,?,?)",
            (run_id, version_id, direction),
        )

    def add_lineage(self, run_id: str, version_id: int, direction: str) -> None:
        """Record that a run produced (``output``) or used (``input``) a version."""
        with self.write():
            self._add_lineage_in_tx(run_id, version_id, direction)

    def lineage(self, project: str | None = None) -> list[LineageEdge]:
        """Every lineage edge (optionally of one project's runs)."""
        sql = "SELECT l.run_id, l.version_id, l.direction FROM lineage l"
        params: list[Any] = []
        if project is not None:
            sql += " JOIN runs r ON r.id = l.run_id JOIN projects p ON p.id = r.project_id WHERE p.name = ?"
            params.append(project)
        sql += " ORDER BY l.run_id, l.version_id"
        return [LineageEdge(**r) for r in self._q(sql, params)]

    def producer(self, version: Version) -> str | None:
        """The id of the run that logged this version, if known."""
        row = self.conn.execute(
            "SELECT run_id FROM lineage WHERE version_id = ? AND direction = 'output'",
            (version.id,),
        ).fetchone()
        return row[0] if row else None

    def consumers(self, version: Version) -> list[str]:
        """The ids of the runs that used this version."""
        rows = self.conn.execute(
            "SELECT run_id FROM lineage WHERE version_id = ? AND direction = 'input' ORDER BY run_id",
            (version.id,),
        ).fetchall()
        return [r[0] for r in rows]

    def find_version_by_client_id(self, client_id: str) -> Version | None:
        """The version logged with this W&B client id (or sequence client id)."""
        row = self.conn.execute(
            "SELECT id FROM versions WHERE client_id = ? OR sequence_client_id = ? "
            "ORDER BY idx DESC LIMIT 1",
            (client_id, client_id),
        ).fetchone()
        return self.version_by_id(row[0]) if row else None

    def find_version_by_wandb_id(self, wandb_id: str) -> Version | None:
        """The version that carries this W&B server artifact id."""
        row = self.conn.execute(
            "SELECT id FROM versions WHERE wandb_id = ?", (wandb_id,)
        ).fetchone()
        return self.version_by_id(row[0]) if row else None

    def find_version_by_digest(self, digest: str) -> Version | None:
        """The oldest version with this content digest."""
        row = self.conn.execute(
            "SELECT id FROM versions WHERE digest = ? ORDER BY id LIMIT 1", (digest,)
        ).fetchone()
        return self.version_by_id(row[0]) if row else None

    def find_file_by_digest(self, path: str, wandb_digest: str) -> tuple[Version, str] | None:
        """A non-reference file with this path and W&B digest, in the oldest version holding it."""
        row = self.conn.execute(
            "SELECT version_id, path FROM files WHERE wandb_digest = ? AND ref IS NULL "
            "ORDER BY path = ? DESC, version_id LIMIT 1",
            (wandb_digest, path),
        ).fetchone()
        return (self.version_by_id(row[0]), row[1]) if row else None

    # -- sync sources (desktopviz.sync) --------------------------------------------------
    def sources(self) -> list[dict[str, Any]]:
        """The stores synced from: name, url, added_at, last_sync, cursor, state, and how many
        versions of each are here (``versions``), by name."""
        return self._q(
            "SELECT s.name, s.url, s.added_at, s.last_sync, s.cursor, s.state, "
            "(SELECT COUNT(*) FROM synced y WHERE y.source = s.name AND y.version_id IS NOT NULL) "
            "AS versions FROM sources s ORDER BY s.name"
        )

    def source(self, name: str) -> dict[str, Any] | None:
        """One source (as in :meth:`sources`), or None."""
        return next((s for s in self.sources() if s["name"] == name), None)

    def add_source(self, name: str, url: str, *, replace: bool = True) -> None:
        """Save a source (a new URL for a known name keeps its cursor only if the URL is the
        same)."""
        with self.write() as conn:
            row = conn.execute("SELECT url FROM sources WHERE name = ?", (name,)).fetchone()
            if row is None:
                conn.execute(
                    "INSERT INTO sources (name, url, added_at) VALUES (?,?,?)",
                    (name, url, now_iso()),
                )
            elif row[0] != url and replace:
                conn.execute(
                    "UPDATE sources SET url = ?, cursor = NULL, state = NULL WHERE name = ?",
                    (url, name),
                )
                conn.execute("DELETE FROM synced WHERE source = ?", (name,))

    def remove_source(self, name: str) -> None:
        """Forget a source and its cursor (the versions synced from it stay)."""
        with self.write() as conn:
            conn.execute("DELETE FROM sources WHERE name = ?", (name,))
            conn.execute("DELETE FROM synced WHERE source = ?", (name,))

    def set_source_state(
        self, name: str, *, state: str | None, last_sync: str | None = None
    ) -> None:
        """Record how the last sync of a source went (and when it last succeeded)."""
        with self.write() as conn:
            conn.execute(
                "UPDATE sources SET state = ?, last_sync = COALESCE(?, last_sync) WHERE name = ?",
                (state, last_sync, name),
            )

    def source_cursor(self, name: str) -> int:
        """The last journal entry of a source applied here (-1: none)."""
        row = self.conn.execute("SELECT cursor FROM sources WHERE name = ?", (name,)).fetchone()
        return -1 if row is None or row[0] is None else row[0]

    def set_source_cursor(self, name: str, cursor: int) -> None:
        """Move a source's cursor (inside the transaction that applied the entries)."""
        with self.write() as conn:
            conn.execute("UPDATE sources SET cursor = ? WHERE name = ?", (cursor, name))

    def synced_versions(self, source: str) -> dict[tuple[str, str, str], dict[str, Any]]:
        """Every version a source's journal named, by (project, name, digest): its number in
        the store, the manifest last applied and the version here (None: not here)."""
        return {
            (r["project"], r["name"], r["digest"]): r
            for r in self._q(
                "SELECT project, name, digest, number, manifest, version_id FROM synced "
                "WHERE source = ?",
                (source,),
            )
        }

    def set_synced(
        self,
        source: str,
        key: tuple[str, str, str],
        number: int,
        manifest: str | None,
        version_id: int | None,
    ) -> None:
        """Record a version a source's journal names (inside the transaction that applied it)."""
        with self.write() as conn:
            conn.execute(
                "INSERT INTO synced (source, project, name, digest, number, manifest, version_id) "
                "VALUES (?,?,?,?,?,?,?) ON CONFLICT (source, project, name, digest) DO UPDATE SET "
                "number = excluded.number, manifest = excluded.manifest, "
                "version_id = excluded.version_id",
                (source, *key, number, manifest, version_id),
            )

    def version_sources(self, version: Version) -> list[tuple[str, str]]:
        """The sources (name, url) a version was synced from."""
        rows = self.conn.execute(
            "SELECT s.name, s.url FROM synced y JOIN sources s ON s.name = y.source "
            "WHERE y.version_id = ? ORDER BY s.name",
            (version.id,),
        ).fetchall()
        return [(name, url) for name, url in rows]

    # -- maintenance ---------------------------------------------------------------------
    def gc(self, *, tmp_min_age: float = 600.0) -> GcReport:
        """Remove blobs and derived files no version refers to, and stale temp files.

        Whatever a live process has leased (an import, a save) is spared, and so is the temp
        folder while any such job runs."""
        with self.write():
            leased = live_names(self.leases_dir)
            derived_dir = self.derived_dir
            candidates = [
                p.relative_to(self.root).as_posix()
                for folder in (derived_dir / "tables", derived_dir / FINGERPRINTS)
                if folder.exists()
                for p in folder.rglob("*.parquet")
            ]
            blobs, derived, freed = self._remove_unused(
                self.blobs.all_digests(), candidates, leased
            )
            dead_packs, pack_bytes = self.blobs.compact(leased)
        for pack in dead_packs:  # only once no committed row names them
            pack.unlink(missing_ok=True)
        freed += pack_bytes
        tmp = 0
        if not leased:
            cutoff = time.time() - tmp_min_age
            for p in self.tmp_dir.rglob("*"):
                try:
                    if p.is_file() and p.stat().st_mtime <= cutoff:
                        freed += p.stat().st_size
                        p.unlink()
                        tmp += 1
                except FileNotFoundError:
                    continue
        return GcReport(blobs, derived, tmp, freed)

    def discard(self, lease: Lease) -> int:
        """Remove what a failed job leased and no version (nor another live job) uses; bytes freed.

        A failed import leaves nothing behind this way, without waiting for ``gc``."""
        if not lease.names:
            return 0
        with self.write():
            keep = live_names(self.leases_dir, exclude=[lease.path])
            digests = [n for n in lease.names if "/" not in n]
            derived = [n for n in lease.names if n.startswith("derived/")]
            freed = self._remove_unused(digests, derived, keep)[2]
            return freed + self.blobs.drop_unnamed_packs(n for n in lease.names if n not in keep)

    def _remove_unused(
        self, digests: Iterable[str], derived: Iterable[str], keep: set[str]
    ) -> tuple[int, int, int]:
        """Delete the blobs and derived files named that no version refers to (inside a write
        transaction); return how many blobs and derived files, and the bytes freed."""
        used = {
            r[0]
            for r in self.conn.execute(
                "SELECT DISTINCT sha256 FROM files WHERE sha256 IS NOT NULL"
                " UNION SELECT image_sha256 FROM report_blocks WHERE image_sha256 IS NOT NULL"
            )  # a report's panel images (desktopviz.reports) are blobs too
        }
        used_derived = set()
        for (parquet,) in self.conn.execute("SELECT parquet FROM tables"):
            used_derived.add(parquet)
            # a table's fingerprint (desktopviz.query.fingerprint) is named after its Parquet file
            used_derived.add(f"derived/{FINGERPRINTS}/{Path(parquet).stem}.parquet")
        freed = blobs = removed_derived = 0
        for digest in set(digests) - used - keep:
            size = self.blobs.remove(digest)
            freed += size
            blobs += size > 0
        for rel in set(derived) - used_derived - keep:
            p = self.root / rel
            try:
                freed += p.stat().st_size
                p.unlink()
                removed_derived += 1
            except FileNotFoundError:
                continue
        return blobs, removed_derived, freed

    def check(self) -> list[str]:
        """Consistency problems of the index against the files (empty list: consistent)."""
        problems = []
        (ok,) = self.conn.execute("PRAGMA integrity_check").fetchone()
        if ok != "ok":
            problems.append(f"index integrity: {ok}")
        for vid, path, sha in self.conn.execute(
            "SELECT version_id, path, sha256 FROM files WHERE sha256 IS NOT NULL AND version_id "
            "NOT IN (SELECT id FROM versions WHERE state = 'catalog')"
        ):
            if not self.blobs.has(sha):
                problems.append(f"version {vid}: blob of {path!r} is missing")
        for vid, path, parquet in self.conn.execute(
            "SELECT version_id, path, parquet FROM tables WHERE version_id "
            "NOT IN (SELECT id FROM versions WHERE state = 'catalog')"
        ):
            if not (self.root / parquet).is_file():
                problems.append(f"version {vid}: table {path!r} has no Parquet file")
        for (cid,) in self.conn.execute("SELECT id FROM collections"):
            n = self.conn.execute(
                "SELECT COUNT(*) FROM aliases a JOIN versions v ON v.id = a.version_id "
                "WHERE a.collection_id = ? AND a.alias = 'latest' AND v.idx = "
                "(SELECT MAX(idx) FROM versions WHERE collection_id = ?)",
                (cid, cid),
            ).fetchone()[0]
            has_versions = self.conn.execute(
                "SELECT COUNT(*) FROM versions WHERE collection_id = ?", (cid,)
            ).fetchone()[0]
            if has_versions and n != 1:
                problems.append(f"collection {cid}: 'latest' does not point at the newest version")
        return problems

    def size_bytes(self) -> int:
        """Bytes the cache occupies on disk."""
        return sum(p.stat().st_size for p in self.root.rglob("*") if p.is_file())


def table_name(path: str) -> str:
    """The name a table was added under: ``preds`` for ``preds.table.json``."""
    base = path.rsplit("/", 1)[-1]
    for suffix in (".table.json", ".joined-table.json", ".partitioned-table.json"):
        if base.endswith(suffix):
            return path[: -len(suffix)]
    return path.rsplit(".", 1)[0] if "." in base else path


def _check_alias(alias: str) -> str:
    alias = alias.strip()
    if (
        not alias
        or any(c in alias for c in "/:\n\t ")
        or alias.startswith("v")
        and alias[1:].isdigit()
    ):
        raise DesktopvizError(
            f"bad alias {alias!r}: use letters, digits, '-', '_' or '.', not a version like v3"
        )
    return alias


def _dumps(value: Any) -> str:
    return json.dumps(value, sort_keys=True, default=str, allow_nan=True)
