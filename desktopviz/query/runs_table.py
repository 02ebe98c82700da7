"""A project's runs as a table the query engine serves like an artifact's: one row per run (name,
id, state, job type, created, duration, host, and every ``config.*`` and ``summary.*`` value
flattened to a column), materialised as Parquet under the cache's ``derived/runs/`` and named by
a digest of the runs, so a change to any run makes a new file and new results.

The table belongs to a synthetic :class:`~desktopviz.model.Version` (negative id, type ``runs``):
:func:`serve_runs_table` registers its source with a :class:`QueryEngine`, after which filters
(both forms: ``row["config.lr"] < 0.01`` and ``{$lt: ["$config.lr", 0.01]}``), sorts, groups,
charts and exports run on it as on any table.

Public API: :func:`runs_arrow`, :func:`runs_source`, :func:`serve_runs_table`,
:func:`runs_version`, :func:`flatten`, :func:`sweep_of`, :func:`varied_keys`, :data:`RUNS_TABLE`,
:data:`BASE_COLUMNS`.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

from desktopviz.model import Run, TableInfo, Version
from desktopviz.query.engine import QueryEngine, TableSource
from desktopviz.query.sql import Column, quote
from desktopviz.store.cache import Cache

RUNS_TABLE = "runs"
"""The table name a project's runs table is asked for by."""
RUNS_TYPE = "runs"
"""The type of the synthetic version the runs table belongs to."""
BASE_COLUMNS = ("name", "id", "state", "job_type", "created", "duration", "host", "sweep")
"""The columns every runs table starts with; ``config.*`` and ``summary.*`` follow."""
HIDDEN_KEYS = frozenset({"_wandb"})
"""Config and summary keys left out (W&B's own bookkeeping, and what starts ``_wandb.``)."""
MAX_DEPTH = 4
"""Nested dicts are flattened this deep; deeper values are kept as JSON text."""


def flatten(prefix: str, value: Any, out: dict[str, Any], depth: int = 0) -> None:
    """Put ``value`` into ``out`` under ``prefix``, a plain dict as ``prefix.key`` columns (W&B
    media and table references, ``{"_type": ...}``, stay one value)."""
    if isinstance(value, dict) and "_type" not in value and value and depth < MAX_DEPTH:
        for key, inner in value.items():
            if not _hidden(key):
                flatten(f"{prefix}.{key}", inner, out, depth + 1)
    else:
        out[prefix] = value


def _hidden(key: str) -> bool:
    return key in HIDDEN_KEYS or key.split(".", 1)[0] in HIDDEN_KEYS


def sweep_of(run: Run) -> str | None:
    """The sweep a run belongs to (W&B records it with the run), if any."""
    for where in (run.environment, run.config, run.summary):
        found = where.get("sweep_id") or where.get("sweep")
        if isinstance(found, str) and found:
            return found
    return None


def _utc(text: str) -> datetime:
    """An ISO time (one without a zone is UTC)."""
    t = datetime.fromisoformat(text)
    return t if t.tzinfo is not None else t.replace(tzinfo=UTC)


def _duration(run: Run) -> float | None:
    """Seconds the run took (to its end, or its last summary's ``_runtime``)."""
    if run.created_at and run.finished_at:
        try:
            end, start = (_utc(t) for t in (run.finished_at, run.created_at))
            return max(0.0, (end - start).total_seconds())
        except ValueError:
            pass
    runtime = run.summary.get("_runtime")
    return float(runtime) if isinstance(runtime, int | float) else None


def run_row(run: Run) -> dict[str, Any]:
    """One run's row: the base columns, then ``config.*`` and ``summary.*``."""
    row: dict[str, Any] = {
        "name": run.name or run.id,
        "id": run.id,
        "state": run.state,
        "job_type": run.job_type,
        "created": run.created_at[:19] or None,  # to the second (ISO: sorts as time does)
        "duration": _duration(run),
        "host": run.environment.get("host"),
        "sweep": sweep_of(run),
    }
    for prefix, values in (("config", run.config), ("summary", run.summary)):
        for key, value in values.items():
            if not _hidden(key):
                flatten(f"{prefix}.{key}", value, row)
    return row


def _column(values: list[Any]) -> pa.Array:
    """One Arrow column for a key's values across runs: numbers stay numbers (int64 when all
    are whole, else float64), booleans booleans, strings strings; anything else, or a mix, is
    JSON text."""
    present = [v for v in values if v is not None]
    if present and all(isinstance(v, bool) for v in present):
        return pa.array(values, pa.bool_())
    if present and all(isinstance(v, int | float) and not isinstance(v, bool) for v in present):
        if all(isinstance(v, int) for v in present):
            return pa.array(values, pa.int64())
        return pa.array([None if v is None else float(v) for v in values], pa.float64())
    if all(isinstance(v, str) for v in present):
        return pa.array(values, pa.string())
    return pa.array(
        [None if v is None else v if isinstance(v, str) else _json(v) for v in values], pa.string()
    )


def _json(value: Any) -> str:
    """``value`` as JSON text (keys sorted; what JSON has no word for as its string)."""
    return json.dumps(value, sort_keys=True, default=str)


def runs_arrow(runs: list[Run]) -> pa.Table:
    """The runs table of ``runs`` (in their order)."""
    rows = [run_row(r) for r in runs]
    names: list[str] = list(BASE_COLUMNS)
    extra: dict[str, None] = {}
    for row in rows:
        for key in row:
            if key not in BASE_COLUMNS:
                extra.setdefault(key, None)
    config = sorted(k for k in extra if k.startswith("config."))
    summary = sorted(k for k in extra if k.startswith("summary."))
    names += config + summary
    arrays = []
    for name in names:
        values = [row.get(name) for row in rows]
        if name == "created":
            arrays.append(pa.array(values, pa.string()))
        elif name == "duration":
            arrays.append(pa.array(values, pa.float64()))
        else:
            arrays.append(_column(values))
    return pa.Table.from_arrays(arrays, names=names)


def runs_digest(runs: list[Run]) -> str:
    """A digest of everything the runs table shows of ``runs``."""
    h = hashlib.sha256()
    for r in runs:
        h.update(_json([r.id, r.name, r.state, r.job_type, r.created_at, r.finished_at]).encode())
        h.update(_json([r.config, r.summary, r.environment.get("host"), sweep_of(r)]).encode())
    return h.hexdigest()


def runs_version(cache: Cache, project: str) -> Version:
    """The synthetic version a project's runs table belongs to (the same for every state of the
    runs: its table's digest is what changes)."""
    found = next((p for p in cache.projects() if p.name == project), None)
    pid = found.id if found is not None else 0
    return Version(
        id=-(pid + 1),
        collection_id=-(pid + 1),
        project=project,
        name=f"{project} runs",
        type=RUNS_TYPE,
        index=0,
        digest="",
        description=f"Every run of {project}",
        metadata={},
        created_at=found.created_at if found is not None else "",
        size=0,
        file_count=0,
    )


@dataclass(frozen=True)
class RunsSource(TableSource):
    """The runs table's source: its columns, plus ``config`` and ``summary`` as nested values so
    that a Mongo path ``$config.lr`` (W&B's way of naming a run's config) finds ``config.lr``."""

    nested: tuple[tuple[str, pa.DataType, str], ...] = ()
    """(name, struct type, SQL building it from the flat columns)."""

    def columns(self) -> dict[str, Column]:
        found = super().columns()
        for name, type_, sql in self.nested:
            found.setdefault(name, Column(sql, type_))
        return found


def _nested(schema: pa.Schema, prefix: str) -> tuple[pa.DataType, str] | None:
    """A struct of the flat ``prefix.*`` columns (``config.optimizer.lr`` -> config.optimizer.lr),
    as an Arrow type and the SQL that builds it."""
    tree: dict[str, Any] = {}
    for field in schema:
        if not field.name.startswith(prefix + "."):
            continue
        node = tree
        *parents, leaf = field.name[len(prefix) + 1 :].split(".")
        for part in parents:
            found = node.setdefault(part, {})
            if not isinstance(found, dict):  # a key that is both a value and a parent
                break
            node = found
        else:
            node.setdefault(leaf, field)

    def build(node: dict[str, Any]) -> tuple[pa.DataType, str]:
        fields, parts = [], []
        for key, item in node.items():
            if isinstance(item, dict):
                type_, sql = build(item)
            else:
                type_, sql = item.type, quote(item.name)
            fields.append(pa.field(key, type_))
            parts.append(f"{quote(key)} := {sql}")
        return pa.struct(fields), f"struct_pack({', '.join(parts)})"

    return build(tree) if tree else None


def runs_source(cache: Cache, project: str, runs: list[Run] | None = None) -> RunsSource:
    """The runs table of ``project`` as a query source, writing its Parquet file when the runs
    changed since it was last written."""
    runs = cache.runs(project) if runs is None else runs
    digest = runs_digest(runs)
    version = runs_version(cache, project)
    folder = cache.derived_dir / "runs"
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{-version.id}-{digest[:16]}.parquet"
    if not path.is_file():
        table = runs_arrow(runs)
        tmp = cache.tmp_dir / f"{path.name}.{id(table)}.tmp"
        pq.write_table(table, tmp)
        tmp.replace(path)
        for old in folder.glob(f"{-version.id}-*.parquet"):  # earlier states of these runs
            if old != path:
                old.unlink(missing_ok=True)
    schema = pq.read_schema(path)
    kinds = {f.name: "plain" for f in schema}
    info = TableInfo(
        version_id=version.id,
        path=f"{RUNS_TABLE}@{digest[:16]}",
        kind="runs",
        parquet=str(path.relative_to(cache.root)),
        schema=json.dumps({"columns": [{"name": f.name, "kind": "plain"} for f in schema]}),
        num_rows=len(runs),
    )
    nested = tuple(
        (prefix, *found)
        for prefix in ("config", "summary")
        if (found := _nested(schema, prefix)) is not None
    )
    return RunsSource(version, info, path, schema, kinds, nested)


def serve_runs_table(engine: QueryEngine, project: str) -> tuple[Version, str]:
    """Make ``engine`` serve ``project``'s runs table as it is now; returns the (version, table)
    to ask the engine (or a table view) for. Call it again when the runs change: the table is
    rewritten and later queries see the new rows (results of the old ones are not reused: the
    source's path carries the runs' digest)."""
    source = runs_source(engine.cache, project)
    # a runs table is in no version: its made-up version has a negative id, which no version has
    engine.add_source(source, RUNS_TABLE)
    return source.version, RUNS_TABLE


def varied_keys(runs: list[Run], prefix: str = "config") -> list[str]:
    """The ``prefix.*`` keys whose values differ between ``runs`` (a sweep's parameters)."""
    values: dict[str, set[str]] = {}
    for run in runs:
        row: dict[str, Any] = {}
        for key, value in (run.config if prefix == "config" else run.summary).items():
            if not _hidden(key):
                flatten(key, value, row)
        for key in set(values) | set(row):
            values.setdefault(key, set()).add(_json(row.get(key)))
    return sorted(k for k, seen in values.items() if len(seen) > 1)
