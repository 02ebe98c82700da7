"""Write a stream of record batches to one Parquet file whose schema may widen on the way.

Batches with the schema of the open part go straight in; a batch that widens the schema (int ->
float, null -> string, a struct gaining a field) starts a new part; at the end, parts are cast to
the unified schema and joined. Columns that cannot be unified become JSON text.
"""

from __future__ import annotations

import os
import queue
import tempfile
import threading
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from desktopviz.formats.cells import JSON, MEDIA, ColumnState, json_array, merged_type
from desktopviz.formats.media import media_cell
from desktopviz.store.blobs import fsync_dir

ROW_GROUP_ROWS = 64 * 1024


class _BackgroundWriter:
    """A ParquetWriter fed through a short queue, so compression overlaps the caller's work."""

    def __init__(self, path: str, schema: pa.Schema) -> None:
        self._writer = pq.ParquetWriter(path, schema, compression="zstd")
        self._queue: queue.Queue[pa.RecordBatch | None] = queue.Queue(maxsize=2)
        self._error: BaseException | None = None
        self._thread = threading.Thread(target=self._run, name="parquet-writer", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while (batch := self._queue.get()) is not None:
            if self._error is None:
                try:
                    self._writer.write_batch(batch, row_group_size=ROW_GROUP_ROWS)
                except BaseException as e:  # re-raised in the caller's thread
                    self._error = e

    def write_batch(self, batch: pa.RecordBatch, row_group_size: int | None = None) -> None:
        if self._error is not None:
            raise self._error
        self._queue.put(batch)

    def close(self) -> None:
        self._queue.put(None)
        self._thread.join()
        self._writer.close()
        if self._error is not None:
            raise self._error


class ParquetSink:
    """Collects batches into ``dest`` (written atomically when :meth:`close` succeeds)."""

    def __init__(self, dest: Path, tmp_dir: Path) -> None:
        self.dest = dest
        self.tmp_dir = tmp_dir
        self.parts: list[Path] = []
        self.schemas: list[pa.Schema] = []
        self.kinds: list[list[str | None]] = []
        self._writer: _BackgroundWriter | None = None
        self.num_rows = 0

    def write(self, batch: pa.RecordBatch, kinds: list[str | None]) -> None:
        """Append a batch whose columns have these kinds (see :mod:`desktopviz.formats.cells`)."""
        if self._writer is not None and kinds != self.kinds[-1]:
            self._writer.close()
            self._writer = None
        if self._writer is not None and batch.schema != self.schemas[-1]:
            if _widens_into(batch.schema, self.schemas[-1]):
                batch = batch.cast(self.schemas[-1])
            else:
                self._writer.close()
                self._writer = None
        if self._writer is None:
            fd, tmp = tempfile.mkstemp(dir=self.tmp_dir, prefix="part-", suffix=".parquet")
            os.close(fd)
            self.parts.append(Path(tmp))
            self.schemas.append(batch.schema)
            self.kinds.append(list(kinds))
            self._writer = _BackgroundWriter(tmp, batch.schema)
        self._writer.write_batch(batch, row_group_size=ROW_GROUP_ROWS)
        self.num_rows += batch.num_rows

    def close(self, states: list[ColumnState]) -> pa.Schema:
        """Finish the file; ``states`` are updated for columns that had to become JSON."""
        if self._writer is not None:
            self._writer.close()
            self._writer = None
        if not self.parts:
            empty = pa.schema([(s.name, pa.null()) for s in states])
            self.write(pa.RecordBatch.from_pylist([], schema=empty), [s.kind for s in states])
            self._writer.close()  # type: ignore[union-attr]
            self._writer = None
        if len(self.parts) == 1 and all(
            k == s.kind for k, s in zip(self.kinds[0], states, strict=True)
        ):
            final, schema = self.parts[0], self.schemas[0]
        else:
            schema = self._unify(states)
            final = self._rewrite(schema, states)
        with open(final, "rb") as f:
            os.fsync(f.fileno())
        self.dest.parent.mkdir(parents=True, exist_ok=True)
        os.replace(final, self.dest)
        fsync_dir(self.dest.parent)
        self.discard()
        return schema

    def _unify(self, states: list[ColumnState]) -> pa.Schema:
        fields = []
        for i, st in enumerate(states):
            types = [s.field(i).type for s in self.schemas]
            try:
                unified = (
                    pa.unify_schemas(
                        [pa.schema([(st.name, t)]) for t in types], promote_options="permissive"
                    )
                    .field(0)
                    .type
                )
            except (pa.ArrowInvalid, pa.ArrowTypeError):
                st.kind = JSON
                unified = pa.string()
            fields.append(pa.field(st.name, unified))
        return pa.schema(fields)

    def _rewrite(self, schema: pa.Schema, states: list[ColumnState]) -> Path:
        fd, tmp = tempfile.mkstemp(dir=self.tmp_dir, prefix="final-", suffix=".parquet")
        os.close(fd)
        with pq.ParquetWriter(tmp, schema, compression="zstd") as writer:
            for part, kinds in zip(self.parts, self.kinds, strict=True):
                for batch in pq.ParquetFile(part).iter_batches(batch_size=ROW_GROUP_ROWS):
                    batch = _conform(batch, schema, kinds, states)
                    writer.write_batch(batch, row_group_size=ROW_GROUP_ROWS)
        return Path(tmp)

    def discard(self) -> None:
        """Remove temporary parts (after success or on failure)."""
        if self._writer is not None:
            try:
                self._writer.close()
            except Exception:  # already failing; the first error is the one reported
                pass
            self._writer = None
        for p in self.parts:
            p.unlink(missing_ok=True)
        self.parts = []


def _widens_into(batch: pa.Schema, target: pa.Schema) -> bool:
    """True when every column of ``batch`` casts to ``target``'s type without loss."""
    return all(merged_type(b.type, t.type) == t.type for b, t in zip(batch, target, strict=True))


def _conform(
    batch: pa.RecordBatch, schema: pa.Schema, kinds: list[str | None], states: list[ColumnState]
) -> pa.RecordBatch:
    arrays = []
    for i, f in enumerate(schema):
        col = batch.column(i)
        if states[i].kind == JSON and kinds[i] != JSON:
            values = col.to_pylist()
            if kinds[i] == MEDIA:
                values = [media_cell(v) for v in values]
            col = json_array(values)
        elif col.type != f.type:
            col = col.cast(f.type)
        arrays.append(col)
    return pa.RecordBatch.from_arrays(arrays, schema=schema)
