"""The cache index schema and its migrations (``PRAGMA user_version`` counts them)."""

from __future__ import annotations

import sqlite3

from desktopviz.errors import DesktopvizError

MIGRATIONS: list[str] = [
    # 1: the first schema
    """
    CREATE TABLE projects (
        id INTEGER PRIMARY KEY,
        name TEXT NOT NULL UNIQUE,
        created_at TEXT NOT NULL
    );
    CREATE TABLE collections (
        id INTEGER PRIMARY KEY,
        project_id INTEGER NOT NULL REFERENCES projects(id),
        name TEXT NOT NULL,
        type TEXT NOT NULL,
        created_at TEXT NOT NULL,
        UNIQUE (project_id, name)
    );
    CREATE TABLE versions (
        id INTEGER PRIMARY KEY,
        collection_id INTEGER NOT NULL REFERENCES collections(id),
        idx INTEGER NOT NULL,
        digest TEXT NOT NULL,
        description TEXT,
        metadata TEXT NOT NULL DEFAULT '{}',
        created_at TEXT NOT NULL,
        size INTEGER NOT NULL,
        file_count INTEGER NOT NULL,
        source TEXT,
        wandb_id TEXT,
        client_id TEXT,
        sequence_client_id TEXT,
        UNIQUE (collection_id, idx)
    );
    CREATE INDEX versions_by_digest ON versions (collection_id, digest);
    CREATE INDEX versions_by_client_id ON versions (client_id);
    CREATE TABLE aliases (
        collection_id INTEGER NOT NULL REFERENCES collections(id),
        alias TEXT NOT NULL,
        version_id INTEGER NOT NULL REFERENCES versions(id),
        PRIMARY KEY (collection_id, alias)
    );
    CREATE TABLE files (
        version_id INTEGER NOT NULL REFERENCES versions(id),
        path TEXT NOT NULL,
        size INTEGER NOT NULL,
        sha256 TEXT,
        wandb_digest TEXT,
        ref TEXT,
        ref_version_id INTEGER REFERENCES versions(id),
        ref_path TEXT,
        PRIMARY KEY (version_id, path)
    );
    CREATE INDEX files_by_sha256 ON files (sha256);
    CREATE INDEX files_by_wandb_digest ON files (wandb_digest);
    CREATE TABLE tables (
        version_id INTEGER NOT NULL REFERENCES versions(id),
        path TEXT NOT NULL,
        kind TEXT NOT NULL,
        parquet TEXT NOT NULL,
        schema TEXT NOT NULL,
        num_rows INTEGER NOT NULL,
        PRIMARY KEY (version_id, path)
    );
    CREATE TABLE runs (
        id TEXT PRIMARY KEY,
        project_id INTEGER NOT NULL REFERENCES projects(id),
        name TEXT,
        job_type TEXT,
        state TEXT,
        config TEXT NOT NULL DEFAULT '{}',
        summary TEXT NOT NULL DEFAULT '{}',
        environment TEXT NOT NULL DEFAULT '{}',
        created_at TEXT NOT NULL,
        finished_at TEXT,
        source TEXT
    );
    CREATE TABLE run_history (
        run_id TEXT NOT NULL REFERENCES runs(id),
        step INTEGER NOT NULL,
        data TEXT NOT NULL,
        PRIMARY KEY (run_id, step)
    );
    CREATE TABLE lineage (
        run_id TEXT NOT NULL REFERENCES runs(id),
        version_id INTEGER NOT NULL REFERENCES versions(id),
        direction TEXT NOT NULL CHECK (direction IN ('output', 'input')),
        PRIMARY KEY (run_id, version_id, direction)
    );
    CREATE INDEX lineage_by_version ON lineage (version_id);
    """,
    # 2: saved views of a collection's table (they apply to every version)
    """
    CREATE TABLE views (
        collection_id INTEGER NOT NULL REFERENCES collections(id) ON DELETE CASCADE,
        table_path TEXT NOT NULL,
        name TEXT NOT NULL,
        spec TEXT NOT NULL,
        layout TEXT NOT NULL DEFAULT '{}',
        saved_at TEXT NOT NULL,
        used_at TEXT,
        PRIMARY KEY (collection_id, table_path, name)
    );
    """,
    # 3: the digest of each materialised table's Parquet file, which `verify` checks
    """
    ALTER TABLE tables ADD COLUMN digest TEXT;
    """,
    # 4: small blobs live in pack files (desktopviz.store.packs): where each one lies (no index
    # on the pack: gc's per-pack queries scan the table, while an index made every import's
    # inserts 3x slower)
    """
    CREATE TABLE packed (
        sha256 TEXT PRIMARY KEY,
        pack TEXT NOT NULL,
        offset INTEGER NOT NULL,
        size INTEGER NOT NULL
    ) WITHOUT ROWID;
    """,
    # 5: sync (desktopviz.sync): a version may be in the catalog only (metadata, no blobs);
    # the stores synced from, with the journal entry each has been applied up to; and every
    # version each store's journal names, with the number the store gives it (the version
    # here, if any, and the manifest last applied)
    """
    ALTER TABLE versions ADD COLUMN state TEXT NOT NULL DEFAULT 'complete';
    CREATE TABLE sources (
        name TEXT PRIMARY KEY,
        url TEXT NOT NULL,
        added_at TEXT,
        last_sync TEXT,
        cursor INTEGER,
        state TEXT
    );
    CREATE TABLE synced (
        source TEXT NOT NULL,
        project TEXT NOT NULL,
        name TEXT NOT NULL,
        digest TEXT NOT NULL,
        number INTEGER NOT NULL,
        manifest TEXT,
        version_id INTEGER,
        PRIMARY KEY (source, project, name, digest)
    );
    CREATE INDEX synced_by_version ON synced (version_id);
    """,
    # 6: reports: reports (desktopviz.reports): named documents of a project, each an ordered
    # list of blocks: Markdown text, or a panel (a frozen PNG blob or inline SVG, and the query
    # that made it, as JSON, to refresh it)
    """
    CREATE TABLE reports (
        id INTEGER PRIMARY KEY,
        project_id INTEGER NOT NULL REFERENCES projects(id),
        name TEXT NOT NULL,
        created_at TEXT NOT NULL,
        updated_at TEXT NOT NULL,
        UNIQUE (project_id, name)
    );
    CREATE TABLE report_blocks (
        id INTEGER PRIMARY KEY,
        report_id INTEGER NOT NULL REFERENCES reports(id) ON DELETE CASCADE,
        position INTEGER NOT NULL,
        kind TEXT NOT NULL CHECK (kind IN ('text', 'panel')),
        text TEXT NOT NULL DEFAULT '',
        image_sha256 TEXT,
        svg TEXT,
        query TEXT,
        created_at TEXT NOT NULL,
        updated_at TEXT NOT NULL
    );
    CREATE INDEX report_blocks_by_report ON report_blocks (report_id, position);
    CREATE INDEX report_blocks_by_image ON report_blocks (image_sha256);
    """,
    # 7: project page: a run's system metrics (CPU, memory, GPU...) sampled over time, as W&B's
    # offline runs record them (desktopviz.store.run_system)
    """
    CREATE TABLE run_system (
        run_id TEXT NOT NULL REFERENCES runs(id),
        time REAL NOT NULL,
        data TEXT NOT NULL,
        PRIMARY KEY (run_id, time)
    );
    """,
    # 8: model registry (desktopviz.registry): collections of links to versions (v<number> in
    # link order, never reused; no bytes copied), their aliases and the history of alias moves
    # (by link number, so it outlives an unlink)
    """
    CREATE TABLE registry_collections (
        id INTEGER PRIMARY KEY,
        name TEXT NOT NULL UNIQUE,
        description TEXT,
        created_at TEXT NOT NULL,
        next_number INTEGER NOT NULL DEFAULT 0
    );
    CREATE TABLE registry_links (
        id INTEGER PRIMARY KEY,
        collection_id INTEGER NOT NULL REFERENCES registry_collections(id) ON DELETE CASCADE,
        number INTEGER NOT NULL,
        version_id INTEGER NOT NULL REFERENCES versions(id) ON DELETE CASCADE,
        linked_at TEXT NOT NULL,
        linked_by TEXT,
        UNIQUE (collection_id, number),
        UNIQUE (collection_id, version_id)
    );
    CREATE INDEX registry_links_by_version ON registry_links (version_id);
    CREATE TABLE registry_aliases (
        collection_id INTEGER NOT NULL REFERENCES registry_collections(id) ON DELETE CASCADE,
        alias TEXT NOT NULL,
        link_id INTEGER NOT NULL REFERENCES registry_links(id) ON DELETE CASCADE,
        PRIMARY KEY (collection_id, alias)
    );
    CREATE TABLE registry_alias_history (
        id INTEGER PRIMARY KEY,
        collection_id INTEGER NOT NULL REFERENCES registry_collections(id) ON DELETE CASCADE,
        alias TEXT NOT NULL,
        from_number INTEGER,
        to_number INTEGER,
        moved_by TEXT,
        moved_at TEXT NOT NULL
    );
    """,
    # 9: search everything (desktopviz.search): one row per searchable thing (project, artifact,
    # version, run, table...) and its FTS5 index (external content, bm25 weights per column).
    # The triggers that keep them current are made, and the rows filled, by
    # desktopviz.search.ensure_index (a migration cannot hold a trigger's body)
    """
    CREATE TABLE search_docs (
        id INTEGER PRIMARY KEY,
        kind TEXT NOT NULL,
        doc_key TEXT NOT NULL,
        ref TEXT NOT NULL,
        title TEXT,
        name TEXT,
        aliases TEXT,
        ident TEXT,
        category TEXT,
        project TEXT,
        description TEXT,
        columns TEXT,
        meta TEXT,
        UNIQUE (kind, doc_key)
    );
    CREATE VIRTUAL TABLE search_fts USING fts5(
        name, aliases, ident, category, project, description, columns, meta,
        content = 'search_docs', content_rowid = 'id',
        tokenize = 'unicode61 remove_diacritics 2', prefix = '2 3'
    );
    INSERT INTO search_fts (search_fts, rank)
        VALUES ('rank', 'bm25(10.0, 8.0, 6.0, 3.0, 2.0, 2.0, 2.0, 1.0)');
    CREATE TABLE search_meta (name TEXT PRIMARY KEY, value TEXT NOT NULL);
    """,
]

SCHEMA_VERSION = len(MIGRATIONS)


def migrate(conn: sqlite3.Connection) -> int:
    """Bring the index up to :data:`SCHEMA_VERSION`; return the version found before."""
    found = conn.execute("PRAGMA user_version").fetchone()[0]
    if found > SCHEMA_VERSION:
        raise DesktopvizError(
            f"the cache index has schema version {found}, newer than this desktopviz "
            f"understands ({SCHEMA_VERSION}); upgrade desktopviz"
        )
    for number in range(found, SCHEMA_VERSION):
        conn.execute("BEGIN IMMEDIATE")
        try:
            # another process may have migrated while we waited for the write lock
            if conn.execute("PRAGMA user_version").fetchone()[0] > number:
                conn.execute("COMMIT")
                continue
            for statement in _statements(MIGRATIONS[number]):
                conn.execute(statement)
            conn.execute(f"PRAGMA user_version = {number + 1}")
            conn.execute("COMMIT")
        except BaseException:
            conn.execute("ROLLBACK")
            raise
    return found


def _statements(script: str) -> list[str]:
    return [s.strip() for s in script.split(";") if s.strip()]
