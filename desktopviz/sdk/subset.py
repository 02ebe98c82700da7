"""Save a query's rows as a new artifact version (a relabelling workflow's subset), with lineage:
a ``desktopviz-subset`` run that used the source version and logged the new one.

Public API: :data:`SUBSET_JOB_TYPE`, :func:`save_as_version`.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from typing import Any

from desktopviz.errors import DesktopvizError, NotFoundError
from desktopviz.formats.cells import column_cells
from desktopviz.formats.media import is_media_cell, media_paths
from desktopviz.model import Version
from desktopviz.progress import (
    CancelFn,
    Progress,
    ProgressFn,
    check_cancel,
    never_cancel,
    no_progress,
)
from desktopviz.sdk.artifact import Artifact, stored_file_resolver
from desktopviz.sdk.media import StoredFile
from desktopviz.sdk.run import Run
from desktopviz.store.cache import Cache

SUBSET_JOB_TYPE = "desktopviz-subset"
"""The job type of the run that links a saved subset to its source."""


def save_as_version(
    result: Any,
    source: Version,
    table: str,
    name: str,
    *,
    type: str | None = None,
    project: str | None = None,
    table_name: str | None = None,
    columns: Sequence[str] | None = None,
    description: str | None = None,
    aliases: Sequence[str] = (),
    cache: Cache | None = None,
    progress: ProgressFn = no_progress,
    cancel: CancelFn = never_cancel,
) -> Version:
    """Write the rows of ``result`` (a filtered and sorted table ``table`` of ``source``) as a
    new version of artifact ``name`` (``type`` and ``project`` default to the source's), and
    record a run that used ``source`` and logged it.

    The index is read and written through ``cache`` (default: the result's engine's); a worker
    thread passes a :class:`Cache` of its own so that it never shares another thread's
    connection. The rows are read through the result's query engine.

    The table is a W&B ``table.json`` named ``table_name`` (default: the source table's name);
    its images, masks and class files are the source's files, referred to without a copy. A
    cancelled save writes nothing to the cache. Returns the new (or an identical existing)
    version."""
    if result.spec.group is not None:
        raise DesktopvizError("a grouped table cannot be saved as a version: ungroup it first")
    if result.spec.compare is not None:
        raise DesktopvizError(
            "a comparison cannot be saved as a version: close the comparison first"
        )
    cache = result.engine.cache if cache is None else cache
    names = list(columns or result.columns)
    unknown = [n for n in names if n not in result.columns]
    if unknown:
        raise DesktopvizError(f"no column {unknown[0]!r} in {source.ref} {table}")
    info = cache.table_info(source, table)
    stem = table_name or info.path.rsplit("/", 1)[-1].split(".", 1)[0]
    path = f"{stem}.table.json"
    total = result.num_rows
    art = Artifact(
        name,
        type or source.type,
        description=description,
        metadata={
            "source": source.ref,
            "source_table": info.path,
            "filters": list(result.spec.filters),
            "sort": [f"{k.column}:desc" if k.descending else k.column for k in result.spec.sort],
            "rows": total,
        },
    )
    writer = art._staging()
    resolve = _media_resolver(cache, source)
    referenced: set[str] = set()
    descs = {n: {"kind": k} for n, k in result.kinds.items()}
    target = writer.dir / path
    target.parent.mkdir(parents=True, exist_ok=True)
    progress(Progress("saving", 0, total, message=path))
    written = 0
    with open(target, "w", encoding="utf-8") as out:
        out.write(f'{{"_type": "table", "columns": {json.dumps(names)}, "data": [')
        for page in result.batches(names):
            cols = [column_cells(page.column(i), descs.get(n, {})) for i, n in enumerate(names)]
            for row in zip(*cols, strict=True):
                for cell in row:
                    if is_media_cell(cell):
                        _refer(cell, writer, resolve, referenced, written, source)
                out.write("," if written else "")
                out.write(json.dumps(list(row), allow_nan=True, default=str))
                written += 1
            progress(Progress("saving", written, total, message=path))
            check_cancel(cancel)
        out.write(f'], "ncols": {len(names)}, "nrows": {written}, "log_mode": "IMMUTABLE"}}')
    writer.add_local(path, target)
    check_cancel(cancel)
    run = Run(
        project=project or source.project,
        job_type=SUBSET_JOB_TYPE,
        config={"source": source.ref, "table": info.path, **art.metadata},
        dir=cache,
    )
    try:
        run.use_artifact(source.ref)
        run.log_artifact(art, aliases=list(aliases))
    except BaseException:
        run.finish(1)
        raise
    run.finish()
    assert art._version is not None
    return art._version


def _media_resolver(cache: Cache, source: Version) -> Callable[[str, str | None], StoredFile]:
    """``resolve(path, sha256) -> StoredFile``: a media file of the source version, else of the
    versions it refers to (a joined table whose side is another artifact's table keeps that
    side's images, masks and classes there). A recorded ``sha256`` picks among equal paths."""
    resolvers = [stored_file_resolver(cache, v) for v in cache.with_referred([source])]

    def resolve(path: str, sha256: str | None) -> StoredFile:
        found = []
        for r in resolvers:
            try:
                found.append(r(path))
            except NotFoundError:
                continue
            if sha256 is None or found[-1].sha256 == sha256:
                return found[-1]
        if found:  # the cell's digest is not the file's (not every media type records it so)
            return found[0]
        raise NotFoundError(f"{source.ref} has no stored file {path!r}")

    return resolve


def _refer(
    cell: dict[str, Any],
    writer: Any,
    resolve: Callable[[str, str | None], StoredFile],
    referenced: set[str],
    row: int,
    source: Version,
) -> None:
    """Add the files a media cell points at (once each) as references to the stored files."""
    digests = {cell.get("path"): cell.get("sha256")}
    for m in (cell.get("masks") or {}).values():
        if isinstance(m, dict):
            digests[m.get("path")] = m.get("sha256")
    for p in media_paths(cell):
        if p in referenced:
            continue
        sha = digests.get(p)
        try:
            writer.add_stored(resolve(p, sha if isinstance(sha, str) else None))
        except NotFoundError:
            raise DesktopvizError(
                f"row {row}: {p!r} has no bytes in {source.ref} or the versions it refers to "
                "(a reference?); it cannot be carried into the new version"
            ) from None
        referenced.add(p)
