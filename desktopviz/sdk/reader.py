"""``dv.open_cache()``: read projects, artifacts, versions, runs, lineage, files and tables."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

from desktopviz.model import Collection, FileEntry, LineageEdge, Project, Run, TableInfo, Version
from desktopviz.sdk.artifact import Artifact
from desktopviz.store.cache import Cache
from desktopviz.store.location import cache_dir


class LocalCache:
    """Read access to a desktopviz cache from Python."""

    def __init__(self, path: str | os.PathLike[str] | None = None) -> None:
        self.cache = Cache(cache_dir(path))
        self._query_engine: Any = None

    @property
    def root(self) -> Path:
        """The cache folder."""
        return self.cache.root

    def projects(self) -> list[Project]:
        """All projects."""
        return self.cache.projects()

    def artifacts(self, project: str | None = None) -> list[Collection]:
        """Artifact collections (name, type, version count)."""
        return self.cache.collections(project)

    def versions(self, name: str, project: str | None = None) -> list[Version]:
        """The versions of an artifact, oldest first."""
        if "/" in name:
            project, name = name.split("/", 1)
        return self.cache.versions(project, name)

    def version(self, ref: str) -> Version:
        """The version a reference names: ``[project/]name:v<N>|latest|<alias>``."""
        return self.cache.resolve(ref)

    def aliases(self, ref: str) -> tuple[str, ...]:
        """A version's aliases."""
        return self.version(ref).aliases

    def runs(self, project: str | None = None) -> list[Run]:
        """Runs, oldest first."""
        return self.cache.runs(project)

    def history(self, run_id: str) -> list[tuple[int, dict]]:
        """A run's metric history ``[(step, {metric: value})]``."""
        return self.cache.history(run_id)

    def lineage(self, project: str | None = None) -> list[LineageEdge]:
        """Lineage edges: run -> version (``output``) and version -> run (``input``)."""
        return self.cache.lineage(project)

    def files(self, ref: str) -> list[FileEntry]:
        """The files of a version."""
        return self.cache.files(self.version(ref))

    def file_path(self, ref: str, path: str) -> Path:
        """The local path of a file's bytes."""
        return self.cache.file_path(self.version(ref), path)

    def tables(self, ref: str) -> list[TableInfo]:
        """The tables of a version."""
        return self.cache.tables(self.version(ref))

    def read_table(self, ref: str, table: str | None = None) -> pa.Table:
        """A table as Arrow (media cells as structs with path, boxes, masks...)."""
        info = self.cache.table_info(self.version(ref), table)
        return pq.read_table(self.cache.parquet_path(info))

    def table(self, ref: str, table: str | None = None) -> Any:
        """A lazy :class:`~desktopviz.query.api.Query` over a table (path or added name)."""
        from desktopviz.query.api import Query

        version = self.version(ref)
        self.cache.table_info(version, table)  # name the problem now, not at first use
        return Query(self._engine(), version, table)

    def _engine(self) -> Any:
        if self._query_engine is None:
            from desktopviz.query.engine import QueryEngine

            self._query_engine = QueryEngine(self.cache)
        return self._query_engine

    def artifact(self, ref: str) -> Artifact:
        """A version as an :class:`Artifact` whose ``get(name)`` returns the objects logged."""
        v = self.version(ref)
        art = Artifact(v.name, v.type)
        art._bind(self.cache, v)
        return art

    def close(self) -> None:
        """Close the cache (and the query engine)."""
        if self._query_engine is not None:
            self._query_engine.close()
        self.cache.close()

    def __enter__(self) -> LocalCache:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()


def open_cache(path: str | os.PathLike[str] | None = None) -> LocalCache:
    """Open a cache for reading (``path`` default: ``$DESKTOPVIZ_CACHE`` or the user cache dir)."""
    return LocalCache(path)
