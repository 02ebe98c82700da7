"""Turn a table file of an artifact (table.json, joined, partitioned, CSV, Parquet, JSON Lines)
into one Parquet file plus column descriptors. Streams: memory does not grow with the table."""

from __future__ import annotations

import json
import logging
import os
import tempfile
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from desktopviz.errors import FormatError, LimitError
from desktopviz.formats.cells import BIG_INT, NDARRAY, BatchConverter
from desktopviz.formats.fast_table import FastTables, fast_tables_enabled
from desktopviz.formats.images import check_image
from desktopviz.formats.jsonio import depth_error, load_json_file, max_line_bytes
from desktopviz.formats.media import IMAGE_TYPE, class_set, media_paths
from desktopviz.formats.parquet_sink import ParquetSink
from desktopviz.formats.table_json import Slab, read_table_json, read_table_json_slabs
from desktopviz.progress import CancelFn, Progress, ProgressFn, check_cancel
from desktopviz.store.paths import safe_relpath

BATCH_ROWS = 16384
TABLE_SUFFIXES = (".table.json", ".joined-table.json", ".partitioned-table.json")
PLAIN_TABLE_SUFFIXES = (".csv", ".tsv", ".parquet", ".jsonl", ".ndjson")

FileSource = Callable[[str], Path]
"""Maps an artifact-relative path to a local file (raising :class:`FormatError` when absent)."""

log = logging.getLogger("desktopviz.formats")


def column_names(raw: list[Any], file: str) -> list[str]:
    """Column names made usable: an empty name becomes ``column_<n>`` (n counts from 1) and a
    repeated one ``<name>_2``, ``<name>_3``...; each renaming is logged as one warning line."""
    for i, name in enumerate(raw):
        if isinstance(name, bool) or not isinstance(name, str | int | float):
            raise FormatError(
                f"column {i + 1}'s name is {json.dumps(name)[:40]}, not a string", file=file
            )
    names = [str(n) for n in raw]
    taken = set(names)
    seen: set[str] = set()
    renamed = []
    for i, name in enumerate(names):
        if name and name not in seen:
            seen.add(name)
            continue
        base, n = (name, 2) if name else (f"column_{i + 1}", 1)
        new = base if n == 1 and base not in taken else f"{base}_{n}"
        while new in taken:
            n += 1
            new = f"{base}_{n}"
        taken.add(new)
        seen.add(new)
        names[i] = new
        what = "empty" if not name else "repeated"
        renamed.append(f"column {i + 1} ({what} name {name!r}) is named {new!r}")
    if renamed:
        log.warning("desktopviz: warning: %s: %s", file, "; ".join(renamed))
    return names


def table_kind(path: str) -> str | None:
    """``table``, ``joined-table``, ``partitioned-table``, ``csv``, ``parquet``, ``jsonl`` or None."""
    low = path.lower()
    for suffix in TABLE_SUFFIXES:
        if low.endswith(suffix):
            return suffix[1:-5]
    if low.endswith((".csv", ".tsv")):
        return "csv"
    if low.endswith(".parquet"):
        return "parquet"
    if low.endswith((".jsonl", ".ndjson")):
        return "jsonl"
    return None


@dataclass
class Materialized:
    """A table written to Parquet: its row count and the descriptors to store in the index."""

    kind: str
    num_rows: int
    columns: list[dict[str, Any]]
    wandb: dict[str, Any] = field(default_factory=dict)

    def schema_json(self) -> str:
        """What the index keeps about the table."""
        return json.dumps({"columns": self.columns, "wandb": self.wandb}, sort_keys=True)


class ArtifactFiles:
    """A :data:`FileSource` over an artifact's files, which may carry image checks already made
    (an import reads each file once and checks images from those bytes)."""

    def __init__(
        self,
        sources: Mapping[str, Path | None],
        images: Callable[[str], tuple[int, int, str] | FormatError | None] | None = None,
    ) -> None:
        self.sources = sources
        self.images = images

    def __call__(self, rel: str) -> Path:
        if rel not in self.sources:
            raise FormatError(f"{rel!r} is not a file of the artifact")
        src = self.sources[rel]
        if src is None:
            raise FormatError(f"{rel!r} is a reference whose bytes are not here")
        return src

    def image_check(self, rel: str) -> tuple[int, int, str] | FormatError | None:
        """The check made of this image when it was read, or None."""
        return self.images(rel) if self.images else None


class MediaChecker:
    """Checks once per file that the media a table points at exist and (images) decode."""

    def __init__(self, files: FileSource) -> None:
        self.files = files
        self.seen: set[str] = set()
        self.classes_cache: dict[str, dict[int, str]] = {}

    def classes(self, path: str) -> dict[int, str]:
        if path not in self.classes_cache:
            self.classes_cache[path] = class_set(load_json_file(self.files(path)))
        return self.classes_cache[path]

    def check_cell(self, cell: dict[str, Any], table_path: str, row_index: int, col: str) -> None:
        for p in media_paths(cell):
            if p not in self.seen:
                self._check(p, cell, table_path, row_index, col)

    def _check(self, rel: str, cell: dict[str, Any], table_path: str, row: int, col: str) -> None:
        try:
            rel = safe_relpath(rel, file=table_path)
            local = self.files(rel)
        except FormatError as e:
            raise FormatError(
                f"{cell.get('_type')} cell points at {rel!r}: {e.message}",
                file=table_path,
                row=row,
                field=col,
            ) from e
        if cell.get("_type") == IMAGE_TYPE and not rel.endswith(".json"):
            known = self.files.image_check(rel) if isinstance(self.files, ArtifactFiles) else None
            try:
                if isinstance(known, FormatError):
                    raise known
                if known is None:
                    check_image(local, name=rel)
            except FormatError as e:
                raise FormatError(
                    e.message, file=f"{table_path} -> {rel}", row=row, field=col
                ) from e
        self.seen.add(rel)


def materialize(
    files: FileSource,
    path: str,
    dest: Path,
    tmp_dir: Path,
    *,
    progress: ProgressFn | None = None,
    cancel: CancelFn | None = None,
    listing: Iterable[str] = (),
) -> Materialized:
    """Materialise the table at artifact path ``path`` into ``dest`` (atomically)."""
    kind = table_kind(path)
    if kind == "table":
        return _table_json(files, [path], dest, tmp_dir, progress, cancel, "table")
    if kind == "partitioned-table":
        obj = load_json_file(files(path))
        parts_dir = safe_relpath(str(obj.get("parts_path", "")), file=path).rstrip("/") + "/"
        parts = sorted(p for p in listing if p.startswith(parts_dir) and p.endswith(".table.json"))
        if not parts:
            raise FormatError(f"partitioned table has no parts under {parts_dir!r}", file=path)
        m = _table_json(files, parts, dest, tmp_dir, progress, cancel, "partitioned-table")
        m.wandb["parts"] = parts
        return m
    if kind == "joined-table":
        return _joined(files, path, dest, tmp_dir, progress, cancel, listing)
    if kind == "csv":
        return _csv(files(path), path, dest, tmp_dir, progress, cancel)
    if kind == "parquet":
        return _parquet(files(path), path, dest, tmp_dir, progress, cancel)
    if kind == "jsonl":
        return _jsonl(files(path), path, dest, tmp_dir, progress, cancel)
    raise FormatError("not a table file", file=path)


def materialize_rows(
    columns: list[str],
    rows: Iterable[list[Any]],
    dest: Path,
    tmp_dir: Path,
    *,
    file: str,
    files: FileSource | None = None,
    kind: str = "table",
    progress: ProgressFn | None = None,
    cancel: CancelFn | None = None,
    total_rows: int | None = None,
    npz: dict[str, np.ndarray] | None = None,
    position: Callable[[], tuple[int, int]] | None = None,
) -> Materialized:
    """Write rows of W&B-form cells to Parquet (the core every table kind goes through)."""
    checker = MediaChecker(files) if files else None
    conv = BatchConverter(
        column_names(columns, file),
        classes=checker.classes if checker else None,
        file=file,
        forced={c: NDARRAY for c in (npz or {})},
        on_media=(lambda cell, row, col: checker.check_cell(cell, file, row, col))
        if checker
        else None,
    )
    sink = ParquetSink(dest, tmp_dir)
    npz_cols = [(i, npz[c]) for i, c in enumerate(conv.columns) if npz and c in npz]
    fast = FastTables(conv) if fast_tables_enabled() and not npz_cols else None
    done = 0

    def report() -> None:
        if progress:
            bytes_done, bytes_total = position() if position else (0, None)
            progress(Progress("table", done, total_rows, bytes_done, bytes_total, message=file))

    try:
        for batch in _batches(rows):
            check_cancel(cancel)
            rb = fast.convert(batch, done) if fast and isinstance(batch, Slab) else None
            if rb is not None:
                sink.write(rb, [s.kind for s in conv.state])
                done += rb.num_rows
                report()
                continue
            if isinstance(batch, Slab):
                batch = batch.rows()
            for i, arr in npz_cols:
                if len(arr) < done + len(batch):
                    raise FormatError(
                        f"ndarray column {conv.columns[i]!r} has {len(arr)} rows, the table more",
                        file=file,
                    )
                values = arr[done : done + len(batch)].tolist()
                for row, v in zip(batch, values, strict=True):
                    if isinstance(row, list) and i < len(row):
                        row[i] = v
            rb = conv.convert(batch, done)
            sink.write(rb, [s.kind for s in conv.state])
            done += len(batch)
            report()
        schema = sink.close(conv.state)
    except BaseException:
        sink.discard()
        raise
    descs = [st.describe(schema.field(i).type) for i, st in enumerate(conv.state)]
    return Materialized(kind, done, descs)


def _batches(rows: Iterable[Any]) -> Iterator[list[list[Any]] | Slab]:
    """Batches of rows from an iterable of rows, of :class:`RowBatch` lists or of
    :class:`~desktopviz.formats.table_json.Slab` s (each one batch)."""
    it = iter(rows)
    pending: list[list[Any]] = []
    for item in it:
        if isinstance(item, RowBatch | Slab):
            if pending:
                yield pending
                pending = []
            yield item
            continue
        pending.append(item)
        if len(pending) >= BATCH_ROWS:
            yield pending
            pending = []
    if pending:
        yield pending


class RowBatch(list):
    """A list of rows handed to :func:`materialize_rows` as one batch."""


def _table_json(
    files: FileSource,
    parts: list[str],
    dest: Path,
    tmp_dir: Path,
    progress: ProgressFn | None,
    cancel: CancelFn | None,
    kind: str,
) -> Materialized:
    first_header: dict[str, Any] = {}
    columns: list[str] = []
    npz: dict[str, np.ndarray] = {}

    sizes = [files(p).stat().st_size for p in parts]
    reading = {"before": 0, "header": None}

    def position() -> tuple[int, int]:
        h = reading["header"]
        return reading["before"] + (h.bytes_read if h else 0), sum(sizes)

    def all_rows() -> Iterator[Slab]:
        for i, part in enumerate(parts):
            reading["before"] = sum(sizes[:i])
            header, slabs = read_table_json_slabs(files(part))
            reading["header"] = header
            cols = header.columns
            if not isinstance(cols, list):
                raise FormatError("table has no 'columns' list before its 'data'", file=part)
            if not first_header:
                first_header.update(header.keys)
            elif cols != columns:
                raise FormatError(
                    f"part's columns {cols} differ from the first part's {columns}", file=part
                )
            yield from slabs

    header, _ = read_table_json(files(parts[0]), header_only=True)
    list(_)
    if not isinstance(header.columns, list):
        raise FormatError("table has no 'columns' list before its 'data'", file=parts[0])
    columns = header.columns
    if len(parts) == 1:
        npz = _npz_columns(files, header.keys.get("column_types"), parts[0])
    m = materialize_rows(
        columns,
        all_rows(),
        dest,
        tmp_dir,
        file=parts[0],
        files=files,
        kind=kind,
        progress=progress,
        cancel=cancel,
        total_rows=header.keys.get("nrows"),
        npz=npz,
        position=position,
    )
    m.wandb = {k: v for k, v in first_header.items() if k not in ("columns", "data")}
    return m


def _npz_columns(files: FileSource, column_types: Any, part: str) -> dict[str, np.ndarray]:
    """Arrays of ``ndarray`` columns serialised to ``.npz`` files (cells are null in ``data``)."""
    out: dict[str, np.ndarray] = {}
    try:
        type_map = column_types["params"]["type_map"]
    except (KeyError, TypeError):
        return out
    for name, t in type_map.items():
        for sub in _type_members(t):
            if sub.get("wb_type") == "ndarray":
                ser = (sub.get("params") or {}).get("serialization_path")
                if isinstance(ser, dict) and ser.get("path"):
                    rel = safe_relpath(ser["path"], file=part)
                    try:
                        with np.load(files(rel), allow_pickle=False) as data:
                            out[name] = data[ser.get("key", name)]
                    except (OSError, ValueError, KeyError) as e:
                        raise FormatError(
                            f"cannot read ndarray column {name!r}: {e}", file=rel
                        ) from e
    return out


def _type_members(t: Any) -> Iterator[dict[str, Any]]:
    if isinstance(t, dict):
        yield t
        if t.get("wb_type") == "union":
            for m in (t.get("params") or {}).get("allowed_types") or []:
                yield from _type_members(m)


def _joined(
    files: FileSource,
    path: str,
    dest: Path,
    tmp_dir: Path,
    progress: ProgressFn | None,
    cancel: CancelFn | None,
    listing: Iterable[str],
) -> Materialized:
    from desktopviz.sandbox import sandboxed

    obj = load_json_file(files(path))
    key = obj.get("join_key")
    keys = [key, key] if isinstance(key, str) else list(key or [])
    if len(keys) != 2 or not all(isinstance(k, str) for k in keys):
        raise FormatError(f"join_key must be a string or a pair of strings, not {key!r}", file=path)
    listing = list(listing)
    parts, descs = [], []
    with tempfile.TemporaryDirectory(dir=tmp_dir) as td:
        for side in ("table1", "table2"):
            sub = safe_relpath(str(obj.get(side, "")), file=path)
            out = Path(td) / f"{side}.parquet"
            m = materialize(
                files, sub, out, tmp_dir, progress=progress, cancel=cancel, listing=listing
            )
            parts.append((sub, out, m))
        (p1, f1, m1), (p2, f2, m2) = parts
        names1 = [c["name"] for c in m1.columns]
        names2 = [c["name"] for c in m2.columns]
        for side_path, names, k in ((p1, names1, keys[0]), (p2, names2, keys[1])):
            if k not in names:
                raise FormatError(f"join key {k!r} is not a column of {side_path}", file=path)
        select = [f'a."{_q(n)}"' for n in names1]
        descs = list(m1.columns)
        taken = set(names1)
        for d in m2.columns:
            n = d["name"]
            if n == keys[1] and keys[0] == keys[1]:
                continue
            alias = n if n not in taken else f"{n}_2"
            taken.add(alias)
            select.append(f'b."{_q(n)}" AS "{_q(alias)}"')
            descs.append({**d, "name": alias})
        tmp_out = Path(td) / "joined.parquet"
        spill = Path(td) / "spill"
        spill.mkdir()
        con = sandboxed([Path(td)], {"temp_directory": str(spill), "enable_progress_bar": False})
        try:
            con.execute(
                f"COPY (SELECT {', '.join(select)} FROM "
                f"(SELECT *, row_number() OVER () AS __row FROM read_parquet(?)) a "
                f'JOIN read_parquet(?) b ON a."{_q(keys[0])}" = b."{_q(keys[1])}" ORDER BY a.__row) '
                f"TO '{_q_lit(tmp_out)}' (FORMAT parquet, COMPRESSION zstd)",
                [str(f1), str(f2)],
            )
        finally:
            con.close()
        num_rows = pq.ParquetFile(tmp_out).metadata.num_rows
        dest.parent.mkdir(parents=True, exist_ok=True)
        os.replace(tmp_out, dest)
    wandb = {"join_key": key, "table1": p1, "table2": p2}
    return Materialized("joined-table", num_rows, descs, wandb)


def _q(name: str) -> str:
    return name.replace('"', '""')


def _q_lit(p: Path) -> str:
    return str(p).replace("'", "''")


def _csv(
    local: Path,
    path: str,
    dest: Path,
    tmp_dir: Path,
    progress: ProgressFn | None,
    cancel: CancelFn | None,
) -> Materialized:
    """A CSV/TSV file: types as pyarrow infers them from the first block; an empty unquoted field
    is null, a quoted ``""`` an empty string; other text (``NA``, ``null``) stays text in text
    columns and is null in typed columns; integers beyond 64 bits are kept exact."""
    import pyarrow.csv as pacsv

    longest = _check_utf8(local, path)
    read = pacsv.ReadOptions(block_size=max(1 << 22, longest + 2))  # the longest line fits a block
    parse = pacsv.ParseOptions(delimiter="\t" if path.lower().endswith(".tsv") else ",")
    try:
        inferred = _csv_types(local, read, parse)
        text = pacsv.ConvertOptions(
            column_types={name: pa.string() for name in inferred.names},
            null_values=[""],
            strings_can_be_null=True,
            quoted_strings_can_be_null=False,
        )
        reader = pacsv.open_csv(local, read_options=read, parse_options=parse, convert_options=text)
        batches = (_typed_csv_batch(b, inferred, path) for b in reader)
        return _arrow_batches(batches, path, dest, tmp_dir, progress, cancel, "csv")
    except pa.ArrowInvalid as e:
        raise FormatError(f"cannot parse CSV: {_one_line(e)}", file=path) from e


def _csv_types(local: Path, read: Any, parse: Any) -> pa.Schema:
    """The column types pyarrow infers from the first block (read alone: a streaming reader
    opened for this would read ahead and convert far more of the file)."""
    import io

    import pyarrow.csv as pacsv

    with open(local, "rb") as f:
        head = f.read(read.block_size)
        whole = not f.read(1)
    if not whole and b"\n" in head:
        head = head[: head.rfind(b"\n") + 1]
    try:
        return pacsv.read_csv(io.BytesIO(head), read_options=read, parse_options=parse).schema
    except pa.ArrowInvalid:  # cut inside a quoted field: let the reader find the block's end
        with pacsv.open_csv(local, read_options=read, parse_options=parse) as first:
            return first.schema


CSV_NULLS = ("", "#N/A", "#N/A N/A", "#NA", "-1.#IND", "-1.#QNAN", "-NaN", "-nan", "1.#IND")
CSV_NULLS += ("1.#QNAN", "N/A", "NA", "NULL", "NaN", "n/a", "nan", "null")
"""What a typed (not text) CSV column reads as null: pyarrow's (and pandas') default list. (A
plain tuple: an Arrow array made at import would import pandas, 0.2 s, in every process.)"""


def _typed_csv_batch(batch: pa.RecordBatch, inferred: pa.Schema, path: str) -> pa.RecordBatch:
    """A batch read all as text, with each column given the type inferred for it."""
    import pyarrow.compute as pc

    arrays = []
    for i, target in enumerate(inferred.types):
        col = batch.column(i)
        if not (pa.types.is_string(target) or pa.types.is_large_string(target)):
            col = pc.if_else(
                pc.is_in(col, value_set=pa.array(CSV_NULLS, pa.string())),
                pa.scalar(None, pa.string()),
                col,
            )
            try:
                col = _csv_cast(col, target)
            except pa.ArrowInvalid as e:
                name = inferred.names[i]
                raise FormatError(
                    f"column {name!r} holds {target} in its first rows, then: {_one_line(e)}",
                    file=path,
                ) from e
        arrays.append(col)
    return pa.RecordBatch.from_arrays(arrays, names=inferred.names)


def _csv_cast(col: pa.Array, target: pa.DataType) -> pa.Array:
    import pyarrow.compute as pc

    if pa.types.is_null(target):
        return pa.nulls(len(col)) if col.null_count == len(col) else col
    if pa.types.is_integer(target) or pa.types.is_floating(target):
        # (a failed cast costs far more than these checks: try only what should succeed)
        if pa.types.is_integer(target):
            try:
                return pc.cast(col, pa.int64())
            except pa.ArrowInvalid:
                pass
        elif pc.any(pc.match_substring(col, ".")).as_py():
            return pc.cast(col, pa.float64())
        if pc.all(pc.match_substring_regex(col, r"^[+-]?[0-9]{1,38}$")).as_py() is not False:
            try:
                return pc.cast(col, pa.int64())
            except pa.ArrowInvalid:
                return pc.cast(col, BIG_INT)  # integers beyond 64 bits, kept exact
        return pc.cast(col, pa.float64())
    if pa.types.is_time(target):  # no cast from text to time of day: go through a timestamp
        col = pc.cast(pc.binary_join_element_wise("1970-01-01 ", col, ""), pa.timestamp("ns"))
    try:
        return pc.cast(col, target)
    except pa.ArrowNotImplementedError:
        return col  # a type text does not cast to (time of day): kept as text


def _one_line(e: BaseException) -> str:
    """An Arrow error message (often several lines) as one line."""
    return "; ".join(part.strip() for part in str(e).splitlines() if part.strip())


def _check_utf8(local: Path, path: str) -> int:
    """Refuse a text file that is not UTF-8 or has a line over :func:`max_line_bytes`;
    return the length of its longest line."""
    import codecs

    dec = codecs.getincrementaldecoder("utf-8")()
    cap = max_line_bytes()
    line = 1
    run = longest = 0  # bytes of the current line seen so far, of the longest line
    with open(local, "rb") as f:
        while chunk := f.read(1 << 22):
            try:
                dec.decode(chunk)
            except UnicodeDecodeError as e:
                bad_line = line + chunk.count(b"\n", 0, e.start)
                raise FormatError(
                    f"line {bad_line}: not UTF-8 (byte 0x{chunk[e.start]:02x}); save the file as UTF-8",
                    file=path,
                ) from e
            newlines = np.flatnonzero(np.frombuffer(chunk, np.uint8) == 10)
            if not len(newlines):
                run += len(chunk)
            else:
                lengths = np.diff(newlines, prepend=-1 - run) - 1
                longest = max(longest, int(lengths.max()))
                if longest > cap:
                    raise _line_too_long(line + int(np.argmax(lengths > cap)), cap, path)
                run = len(chunk) - 1 - int(newlines[-1])
                line += len(newlines)
            if run > cap:
                raise _line_too_long(line, cap, path)
        try:
            dec.decode(b"", final=True)
        except UnicodeDecodeError as e:
            raise FormatError("ends in the middle of a UTF-8 character", file=path) from e
    return max(longest, run)


def _line_too_long(lineno: int, cap: int, path: str) -> LimitError:
    return LimitError(
        f"line {lineno}: over the {cap:,}-byte limit for one line (DESKTOPVIZ_MAX_LINE_BYTES)",
        file=path,
    )


def _parquet(
    local: Path,
    path: str,
    dest: Path,
    tmp_dir: Path,
    progress: ProgressFn | None,
    cancel: CancelFn | None,
) -> Materialized:
    def batches() -> Iterator[pa.RecordBatch]:
        try:
            pf = pq.ParquetFile(local)
            yield from pf.iter_batches(batch_size=BATCH_ROWS)
        except (pa.ArrowException, OSError) as e:
            raise FormatError(f"not a readable Parquet file: {_one_line(e)}", file=path) from e

    return _arrow_batches(batches(), path, dest, tmp_dir, progress, cancel, "parquet")


def _arrow_batches(
    batches: Iterable[pa.RecordBatch],
    path: str,
    dest: Path,
    tmp_dir: Path,
    progress: ProgressFn | None,
    cancel: CancelFn | None,
    kind: str,
) -> Materialized:
    from desktopviz.formats.cells import PLAIN, ColumnState

    sink = ParquetSink(dest, tmp_dir)
    states: list[ColumnState] | None = None
    done = 0
    try:
        for batch in batches:
            check_cancel(cancel)
            if states is None:
                states = [ColumnState(n, PLAIN) for n in column_names(batch.schema.names, path)]
            batch = batch.rename_columns([s.name for s in states])
            sink.write(batch, [s.kind for s in states])
            done += batch.num_rows
            if progress:
                progress(Progress("table", done, None, message=path))
        schema = sink.close(states or [])
    except BaseException:
        sink.discard()
        raise
    descs = [st.describe(schema.field(i).type) for i, st in enumerate(states or [])]
    return Materialized(kind, done, descs)


def _jsonl(
    local: Path,
    path: str,
    dest: Path,
    tmp_dir: Path,
    progress: ProgressFn | None,
    cancel: CancelFn | None,
) -> Materialized:
    _check_utf8(local, path)
    columns: dict[str, None] = {}
    for _, obj in _json_lines(local, path):
        columns.update(dict.fromkeys(obj))
    names = list(columns)

    def rows() -> Iterator[list[Any]]:
        for _, obj in _json_lines(local, path):
            yield [obj.get(n) for n in names]

    return materialize_rows(
        names, rows(), dest, tmp_dir, file=path, kind="jsonl", progress=progress, cancel=cancel
    )


def _json_lines(local: Path, path: str) -> Iterator[tuple[int, dict[str, Any]]]:
    """(line number, object) for each non-blank line; a line is never read past the limit."""
    cap = max_line_bytes()
    with open(local, "rb") as f:
        lineno = 0
        while line := f.readline(cap + 1):
            lineno += 1
            if len(line) > cap and not line.endswith(b"\n"):
                raise _line_too_long(lineno, cap, path)
            if line.strip():
                yield lineno, _json_line(line.decode("utf-8"), path, lineno)


def _json_line(line: str, path: str, lineno: int) -> dict[str, Any]:
    try:
        obj = json.loads(line)
    except json.JSONDecodeError as e:
        raise FormatError(
            f"line {lineno}: malformed JSON at column {e.colno}: {e.msg}", file=path
        ) from e
    except RecursionError:
        raise LimitError(f"line {lineno}: {depth_error().message}", file=path) from None
    if not isinstance(obj, dict):
        raise FormatError(
            f"line {lineno}: expected a JSON object, found {type(obj).__name__}", file=path
        )
    return obj
