"""Writing a query's rows out: Parquet, CSV or JSON Lines (cells in the W&B encoding), to a
stream or atomically to a file, with progress and cancel.

Public API: :data:`FORMATS`, :func:`format_for`, :func:`write_batches`, :func:`export_result`.
"""

from __future__ import annotations

import csv
import json
import math
import os
from collections.abc import Iterable
from pathlib import Path
from typing import IO, Any

import pyarrow as pa
import pyarrow.parquet as pq

from desktopviz.errors import Cancelled, DesktopvizError
from desktopviz.formats.cells import column_cells
from desktopviz.model import Version
from desktopviz.progress import CancelFn, Progress, ProgressFn, never_cancel, no_progress
from desktopviz.query.media_files import MediaFiles

FORMATS = {".parquet": "parquet", ".csv": "csv", ".jsonl": "jsonl", ".json": "jsonl"}
"""File suffix -> export format."""


def format_for(path: Path) -> str:
    """The export format a file name asks for (``.parquet``, ``.csv``, ``.jsonl``)."""
    try:
        return FORMATS[path.suffix.lower()]
    except KeyError:
        raise DesktopvizError(
            f"cannot tell the format from the name: end it with {', '.join(FORMATS)}", file=path
        ) from None


def write_batches(
    batches: Iterable[pa.Table | pa.RecordBatch],
    schema: pa.Schema,
    descs: dict[str, Any],
    fmt: str,
    out: IO[str] | IO[bytes],
    *,
    on_rows: Any = None,
    media: MediaFiles | None = None,
) -> int:
    """Write Arrow pages to ``out`` (binary for Parquet, text otherwise); return the rows
    written. ``on_rows(n)`` is called after each page with the rows written so far; ``media``
    rewrites where media cells point (see :class:`MediaFiles`)."""
    written = 0
    kinds = {n: d.get("kind", "plain") for n, d in descs.items()}
    if fmt == "parquet":
        with pq.ParquetWriter(out, schema, compression="zstd") as w:
            for page in batches:
                table = page if isinstance(page, pa.Table) else pa.Table.from_batches([page])
                if media is not None:
                    table = pa.table(
                        [
                            media.column(c, kinds.get(n, ""))
                            for n, c in zip(table.column_names, table.columns, strict=True)
                        ],
                        schema=table.schema,
                    )
                w.write_table(table)
                written += table.num_rows
                if on_rows:
                    on_rows(written)
        return written
    names = schema.names
    writer = csv.writer(out) if fmt == "csv" else None  # type: ignore[arg-type]
    if writer is not None:
        writer.writerow(names)
    for page in batches:
        cols = [column_cells(page.column(i), descs.get(n, {})) for i, n in enumerate(names)]
        if media is not None:
            cols = [
                _media_cells(media, c, kinds.get(n, "")) for c, n in zip(cols, names, strict=True)
            ]
        for row in zip(*cols, strict=True):
            if writer is not None:
                writer.writerow([_csv_cell(v) for v in row])
            else:
                out.write(_json_line(dict(zip(names, row, strict=True))))  # type: ignore[arg-type]
                out.write("\n")  # type: ignore[arg-type]
        written += page.num_rows
        if on_rows:
            on_rows(written)
    return written


def _media_cells(media: MediaFiles, cells: list[Any], kind: str) -> list[Any]:
    if kind == "media":
        return [media.cell(c) for c in cells]
    if kind == "media_list":
        return [None if c is None else [media.cell(x) for x in c] for c in cells]
    return cells


def export_result(
    result: Any,
    path: Path,
    fmt: str | None = None,
    *,
    media: str = "cells",
    source: Version | None = None,
    progress: ProgressFn = no_progress,
    cancel: CancelFn = never_cancel,
) -> int:
    """Write every row of a query result (filtered, sorted, compared, grouped: as shown) to
    ``path``, atomically: a half-written file never appears, and a cancelled or failed export
    leaves whatever was at ``path`` untouched. Returns the rows written.

    ``media``: ``cells`` keeps media cells as stored (artifact-relative paths), ``paths`` points
    them at the files in the cache, ``copy`` copies the files into ``<name>_media/`` beside
    ``path`` (each checked against its digest) and points at the copies (published with the
    file, or not at all). ``source`` is the version the rows come from: cells that record no
    digest (an image folder's) are found by path among its files, the compared version's and
    those of the versions they refer to."""
    path = Path(path)
    fmt = fmt or format_for(path)
    files = None
    if media != "cells":
        cache = result.engine.cache
        versions = [source] if source is not None else []
        if result.spec.compare is not None:
            versions.append(cache.resolve(result.spec.compare.ref))
        files = MediaFiles(cache, media, path, cache.with_referred(versions))
    total = result.num_rows
    descs = {n: {"kind": k} for n, k in result.kinds.items()}
    schema = result.rows(0, 0).schema
    partial = path.with_name(f".{path.name}.part")

    def on_rows(n: int) -> None:
        progress(Progress("exporting", n, total, message=str(path)))
        if cancel():
            raise Cancelled("export cancelled")

    progress(Progress("exporting", 0, total, message=str(path)))
    binary = fmt == "parquet"
    try:
        # cancel() also stops the query feeding the batches (a big sort is one long statement)
        with (
            result.engine.cancelling(cancel),
            open(partial, "wb")
            if binary
            else open(partial, "w", encoding="utf-8", newline="") as out,
        ):
            rows = write_batches(
                result.batches(), schema, descs, fmt, out, on_rows=on_rows, media=files
            )
        if files is not None:
            files.publish()
        os.replace(partial, path)
    except BaseException:
        partial.unlink(missing_ok=True)
        if files is not None:
            files.discard()
        raise
    return rows


def _json_line(obj: dict[str, Any]) -> str:
    """Strict JSON: NaN and infinities become null, as the wandb SDK writes them."""
    try:
        return json.dumps(obj, ensure_ascii=False, default=str, allow_nan=False)
    except ValueError:
        return json.dumps(_finite(obj), ensure_ascii=False, default=str, allow_nan=False)


def _finite(v: Any) -> Any:
    if isinstance(v, float) and not math.isfinite(v):
        return None
    if isinstance(v, dict):
        return {k: _finite(x) for k, x in v.items()}
    if isinstance(v, list):
        return [_finite(x) for x in v]
    return v


def _csv_cell(v: Any) -> Any:
    if v is None:
        return ""
    if isinstance(v, dict | list):
        return json.dumps(v, ensure_ascii=False, sort_keys=True)
    return v
