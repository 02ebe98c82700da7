"""Import a W&B offline run folder (``offline-run-*``): the run, its metrics, the artifacts it
logged (from the ``.wandb`` file's artifact records and the staged files), and lineage inferred
from reference URIs. Reading ``.wandb`` needs the ``wandb`` package's protobuf classes."""

from __future__ import annotations

import json
import os
import struct
import sys
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from desktopviz.errors import DesktopvizError, FormatError
from desktopviz.formats.manifest import manifest_entries, parse_reference
from desktopviz.importing.commit import StagedArtifact, StagedFile, _resolve_ref, commit_artifact
from desktopviz.progress import CancelFn, ProgressFn
from desktopviz.store.cache import Cache
from desktopviz.store.paths import safe_relpath

BLOCK = 32768
HEADER = 7


def _pb() -> Any:
    try:
        from wandb.proto import wandb_internal_pb2
    except ImportError as e:
        if getattr(sys, "frozen", False):  # an installer's build: nothing can be pip-installed
            raise DesktopvizError(
                "this build of desktopviz cannot read W&B offline run files (.wandb): upload the "
                "run with `wandb sync` and import its artifacts' download folders, or use "
                "desktopviz from pip with `pip install 'desktopviz[wandb]'`"
            ) from e
        raise DesktopvizError(
            "reading W&B offline runs needs the `wandb` package for its record format: pip install wandb"
        ) from e
    return wandb_internal_pb2


def read_records(path: Path) -> Iterator[Any]:
    """The protobuf ``Record``s of a ``run-<id>.wandb`` file (LevelDB-log framing)."""
    pb = _pb()
    data = path.read_bytes()
    if data[:4] != b":W&B":
        raise FormatError("not a W&B run file (bad magic)", file=path)
    pos, buf = HEADER, b""
    while pos + HEADER <= len(data):
        left = BLOCK - pos % BLOCK
        if left < HEADER:
            pos += left
            continue
        _crc, n, kind = struct.unpack("<IHB", data[pos : pos + HEADER])
        if n == 0 and kind == 0:
            pos += left
            continue
        chunk = data[pos + HEADER : pos + HEADER + n]
        pos += HEADER + n
        buf = chunk if kind in (1, 2) else buf + chunk
        if kind in (1, 4):
            record = pb.Record()
            try:
                record.ParseFromString(buf)
            except Exception as e:  # protobuf's DecodeError has no stable import path
                raise FormatError(f"corrupt record at byte {pos}: {e}", file=path) from e
            yield record


def import_offline_run(
    cache: Cache,
    run_dir: Path,
    *,
    project: str | None = None,
    progress: ProgressFn | None = None,
    cancel: CancelFn | None = None,
) -> list[Any]:
    """Import one offline run folder; returns an ImportResult per artifact plus one for the run."""
    from desktopviz.importing.detect import ImportResult
    from desktopviz.model import Run

    run_files = sorted(run_dir.glob("run-*.wandb"))
    if not run_files:
        raise FormatError("no run-*.wandb file in this folder", file=run_dir)
    run_info: dict[str, Any] = {"config": {}, "summary": {}}
    history: list[tuple[int, dict[str, Any]]] = []
    artifacts: list[Any] = []
    stats: list[tuple[float, dict[str, Any]]] = []
    for record in read_records(run_files[0]):
        kind = record.WhichOneof("record_type")
        if kind == "run":
            r = record.run
            run_info.update(
                id=r.run_id,
                project=r.project,
                name=r.display_name or r.run_id,
                job_type=r.job_type or None,
                host=r.host,
                sweep_id=r.sweep_id or None,
            )
            if r.start_time.seconds:
                run_info["created_at"] = datetime.fromtimestamp(
                    r.start_time.seconds, UTC
                ).isoformat()
            run_info["config"].update(_items(r.config.update))
            run_info["summary"].update(_items(r.summary.update))
        elif kind == "config":
            run_info["config"].update(_items(record.config.update))
        elif kind == "summary":
            run_info["summary"].update(_items(record.summary.update))
        elif kind == "history":
            row = _items(record.history.item)
            step = row.pop("_step", len(history))
            history.append((int(step), row))
        elif kind == "artifact":
            artifacts.append(record.artifact)
        elif kind == "stats":  # system metrics (CPU, memory, GPU...): desktopviz.store.run_system
            ts = record.stats.timestamp
            stats.append((ts.seconds + ts.nanos / 1e9, _items(record.stats.item)))
        elif kind == "environment":  # host, OS, Python, git, CPU / GPU / memory (newer SDKs)
            run_info.setdefault("environment", {}).update(_message(record.environment))
        elif kind == "exit":
            run_info["exit_code"] = record.exit.exit_code
    if "id" not in run_info:
        raise FormatError("run file has no run record", file=run_files[0])
    proj = project or run_info.get("project") or "uncategorized"
    run_info["config"].pop("_wandb", None)
    exit_code = run_info.get("exit_code")
    cache.upsert_run(
        Run(
            id=run_info["id"],
            project=proj,
            name=run_info.get("name"),
            job_type=run_info.get("job_type"),
            state="finished" if exit_code == 0 else ("failed" if exit_code else "unknown"),
            config=run_info["config"],
            summary=run_info["summary"],
            environment=_environment(run_dir, run_info),
            created_at=run_info.get("created_at", ""),
            source=str(run_dir.resolve()),
        )
    )
    if history:
        cache.log_history(run_info["id"], history)
    if stats:
        from desktopviz.store.run_system import log_system_metrics

        log_system_metrics(cache, run_info["id"], stats)
    results = []
    produced: set[int] = set()  # a run never uses its own output, even when it refers to it
    for a in artifacts:
        staged = _stage_artifact(cache, a, run_dir, proj, run_info["id"])
        result = commit_artifact(cache, staged, progress=progress, cancel=cancel)
        produced.add(result.version.id)
        used = {f.ref_version_id for f in cache.files(result.version)} - {None} - produced
        for vid in sorted(used):
            cache.add_lineage(run_info["id"], vid, "input")
        results.append(ImportResult(run_dir, proj, result))
    results.append(ImportResult(run_dir, proj, None, run_info["id"]))
    return results


def _items(items: Any) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for it in items:
        key = it.key or ".".join(it.nested_key)
        try:
            value = json.loads(it.value_json) if it.value_json else None
        except json.JSONDecodeError:
            value = it.value_json
        if isinstance(value, dict) and set(value) == {"desc", "value"}:
            value = value["value"]
        out[key] = value
    return out


def _json(text: str) -> Any:
    try:
        return json.loads(text)
    except json.JSONDecodeError:
        return text


def _message(message: Any) -> dict[str, Any]:
    """A protobuf message as a dict (W&B's environment record), without the writer's id."""
    from google.protobuf.json_format import MessageToDict

    found = MessageToDict(message)
    found.pop("writerId", None)
    return found


def _environment(run_dir: Path, info: dict[str, Any]) -> dict[str, Any]:
    env: dict[str, Any] = {"host": info.get("host"), **info.get("environment", {})}
    if info.get("sweep_id"):
        env["sweep_id"] = info["sweep_id"]
    meta = run_dir / "files" / "wandb-metadata.json"
    if meta.is_file():
        try:
            env.update(json.loads(meta.read_text()))
        except (OSError, json.JSONDecodeError):
            pass
    reqs = run_dir / "files" / "requirements.txt"
    if reqs.is_file():
        env["packages"] = [line.strip() for line in reqs.read_text().splitlines() if line.strip()]
    return env


def _staging_dirs(run_dir: Path) -> list[Path]:
    dirs = []
    if os.environ.get("WANDB_DATA_DIR"):
        dirs.append(Path(os.environ["WANDB_DATA_DIR"]) / "artifacts" / "staging")
    for parent in list(run_dir.resolve().parents)[:4]:
        dirs.append(parent / "artifacts" / "staging")
        dirs.append(parent / "data" / "artifacts" / "staging")
    return [d for d in dirs if d.is_dir()]


def _stage_artifact(
    cache: Cache, a: Any, run_dir: Path, project: str, run_id: str
) -> StagedArtifact:
    contents = [
        {
            "path": c.path,
            "digest": c.digest,
            "ref": c.ref,
            "size": c.size,
            "extra": {e.key: _json(e.value_json) for e in c.extra},
        }
        for c in a.manifest.contents
    ]
    locals_ = {c.path: c.local_path for c in a.manifest.contents}
    entries = manifest_entries({"contents": contents}, file=run_dir)
    staging = _staging_dirs(run_dir)
    files: dict[str, StagedFile] = {}
    for rel, e in entries.items():
        local = _find_local(locals_.get(rel) or "", staging)
        if local is not None:
            files[rel] = StagedFile(local, e.digest, e.ref, e.size)
            continue
        if e.ref:
            vid, path = _resolve_ref(cache, rel, e.ref, e.digest)
            if vid is not None and path is not None:
                target = {f.path: f for f in cache.files(vid)}.get(path)
                if target is not None and target.sha256:
                    files[rel] = StagedFile(
                        None, target.wandb_digest, e.ref, target.size, target.sha256
                    )
                    continue
            if not parse_reference(e.ref).is_artifact:
                files[rel] = StagedFile(None, e.digest, e.ref, e.size)
                continue
            raise FormatError(
                f"artifact {a.name!r}: entry {rel!r} refers to {e.ref}, which is not in the cache; "
                "import the artifact it comes from first",
                file=run_dir,
            )
        raise FormatError(
            f"artifact {a.name!r}: staged file of entry {rel!r} is missing ({locals_.get(rel)!r})",
            file=run_dir,
        )
    try:
        metadata = json.loads(a.metadata) if a.metadata else {}
    except json.JSONDecodeError:
        metadata = {"raw": a.metadata}
    algorithm = "xxh128" if any(e.algorithm == "xxh128" for e in entries.values()) else "md5"
    return StagedArtifact(
        project,
        a.name,
        a.type or "dataset",
        files=files,
        description=a.description or None,
        metadata=metadata,
        aliases=tuple(x for x in a.aliases if x != "latest"),
        source=str(run_dir.resolve()),
        client_id=a.client_id or None,
        sequence_client_id=a.sequence_client_id or None,
        produced_by=run_id,
        digest_algorithm=algorithm,
    )


def _find_local(recorded: str, staging: list[Path]) -> Path | None:
    if recorded:
        p = Path(recorded)
        if p.is_file():
            return p
        name = p.name
        safe_relpath(name)
        for d in staging:
            if (d / name).is_file():
                return d / name
    return None
