"""Frozen values the core hands out: projects, artifact versions, files, tables, runs."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class Project:
    """A project: a namespace of artifact collections and runs."""

    id: int
    name: str
    created_at: str


@dataclass(frozen=True)
class Collection:
    """An artifact collection: a name and a type (``dataset``, ``predictions``...) in a project."""

    id: int
    project: str
    name: str
    type: str
    created_at: str
    version_count: int = 0


@dataclass(frozen=True)
class Version:
    """One immutable version ``v<index>`` of an artifact collection."""

    id: int
    collection_id: int
    project: str
    name: str
    type: str
    index: int
    digest: str
    description: str | None
    metadata: dict[str, Any]
    created_at: str
    size: int
    file_count: int
    aliases: tuple[str, ...] = ()
    source: str | None = None
    state: str = "complete"
    """``complete``, or ``catalog``: synced as metadata only, its blobs not downloaded yet."""

    @property
    def downloaded(self) -> bool:
        """Whether the version's files are in the cache (not a catalog-only version)."""
        return self.state != "catalog"

    @property
    def tag(self) -> str:
        """``v<index>``."""
        return f"v{self.index}"

    @property
    def ref(self) -> str:
        """``project/name:v<index>``: a reference that finds this version again."""
        return f"{self.project}/{self.name}:v{self.index}"


@dataclass(frozen=True)
class FileEntry:
    """A file of a version: stored bytes (``sha256``) and/or a reference to another artifact."""

    path: str
    size: int
    sha256: str | None
    wandb_digest: str | None = None
    ref: str | None = None
    ref_version_id: int | None = None
    ref_path: str | None = None


@dataclass(frozen=True)
class TableInfo:
    """A table of a version, materialised as Parquet."""

    version_id: int
    path: str
    kind: str
    parquet: str
    schema: str
    num_rows: int


@dataclass(frozen=True)
class Run:
    """A run: what produced and used artifact versions."""

    id: str
    project: str
    name: str | None = None
    job_type: str | None = None
    state: str | None = None
    config: dict[str, Any] = field(default_factory=dict)
    summary: dict[str, Any] = field(default_factory=dict)
    environment: dict[str, Any] = field(default_factory=dict)
    created_at: str = ""
    finished_at: str | None = None
    source: str | None = None


@dataclass(frozen=True)
class LineageEdge:
    """``run -> version`` (direction ``output``) or ``version -> run`` (``input``)."""

    run_id: str
    version_id: int
    direction: str


@dataclass(frozen=True)
class SavedView:
    """A named way of looking at a collection's table: a query spec (as a dict), the column
    layout (order, widths, hidden), when it was saved and last used."""

    collection_id: int
    table: str
    name: str
    spec: dict[str, Any]
    layout: dict[str, Any]
    saved_at: str
    used_at: str | None = None
