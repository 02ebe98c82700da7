"""``desktopviz import PATH``: decide what a path is and bring it into the cache."""

from __future__ import annotations

import json
import re
import tempfile
from dataclasses import dataclass
from pathlib import Path

from desktopviz.errors import DesktopvizError, FormatError
from desktopviz.formats.images import IMAGE_SUFFIXES, check_image
from desktopviz.formats.manifest import MANIFEST_NAME, read_manifest
from desktopviz.formats.materialize import table_kind
from desktopviz.gc_pause import paused_gc
from desktopviz.importing.commit import StagedArtifact, StagedFile, commit_artifact
from desktopviz.progress import CancelFn, ProgressFn
from desktopviz.store.cache import Cache, CommitResult
from desktopviz.store.paths import safe_join, walk_files

DOWNLOAD_DIR = re.compile(r"^(?P<name>.+)[:-]v(?P<n>\d+)$")
_SKIP_PROJECT_PARTS = {"artifacts", "wandb", "files", ""}


@dataclass(frozen=True)
class ImportResult:
    """What one import made: the version (new or unchanged) and, for runs, the run id."""

    path: Path
    project: str
    result: CommitResult | None = None
    run_id: str | None = None

    def line(self) -> str:
        """One line for the terminal."""
        if self.result is None:
            return f"run {self.run_id} ({self.project})"
        v = self.result.version
        state = "new version" if self.result.created else "unchanged"
        aliases = f" [{', '.join(v.aliases)}]" if v.aliases else ""
        return f"{v.ref}{aliases} ({v.type}, {v.file_count} files, {state})"


def default_project(path: Path) -> str:
    """A project name derived from where ``path`` lives (its folder, skipping W&B's own folders)."""
    for parent in path.resolve().parents:
        if parent.name not in _SKIP_PROJECT_PARTS and not parent.name.startswith("offline-run-"):
            return parent.name
    return "default"


def import_paths(
    cache: Cache,
    paths: list[Path],
    *,
    project: str | None = None,
    artifact_type: str | None = None,
    progress: ProgressFn | None = None,
    cancel: CancelFn | None = None,
) -> list[ImportResult]:
    """Import every path in order; stops at the first error (earlier imports stay)."""
    out: list[ImportResult] = []
    for p in paths:
        out.extend(
            import_path(
                cache,
                p,
                project=project,
                artifact_type=artifact_type,
                progress=progress,
                cancel=cancel,
            )
        )
    return out


def import_path(
    cache: Cache,
    path: Path,
    *,
    project: str | None = None,
    artifact_type: str | None = None,
    progress: ProgressFn | None = None,
    cancel: CancelFn | None = None,
) -> list[ImportResult]:
    """Import one file or folder (see ``desktopviz import --help`` for what is understood)."""
    with paused_gc():
        return _import_path(cache, Path(path), project, artifact_type, progress, cancel)


def _import_path(
    cache: Cache,
    path: Path,
    project: str | None,
    artifact_type: str | None,
    progress: ProgressFn | None,
    cancel: CancelFn | None,
) -> list[ImportResult]:
    if not path.exists():
        raise DesktopvizError("no such file or folder", file=path)
    proj = project or default_project(path)
    kw = {"progress": progress, "cancel": cancel}
    if path.is_file():
        if path.suffix == ".wandb":
            from desktopviz.importing.offline_run import import_offline_run

            return import_offline_run(cache, path.parent, project=project, **kw)
        staged = stage_single_file(path, proj, artifact_type or "dataset")
        return [ImportResult(path, proj, commit_artifact(cache, staged, **kw))]
    if path.name.startswith("offline-run-") or any(path.glob("run-*.wandb")):
        from desktopviz.importing.offline_run import import_offline_run

        return import_offline_run(cache, path, project=project, **kw)
    if DOWNLOAD_DIR.match(path.name) or (path / MANIFEST_NAME).is_file():
        staged = stage_download_folder(path, proj, artifact_type)
        return [ImportResult(path, proj, commit_artifact(cache, staged, **kw))]
    children = sorted((c for c in path.iterdir() if c.is_dir()), key=_version_order)
    runs = [c for c in children if c.name.startswith("offline-run-")]
    downloads = [c for c in children if DOWNLOAD_DIR.match(c.name) or (c / MANIFEST_NAME).is_file()]
    if runs or downloads:
        results: list[ImportResult] = _import_downloads(
            cache, downloads, project=proj, artifact_type=artifact_type, **kw
        )
        for c in runs:
            results.extend(import_path(cache, c, project=project, **kw))
        return results
    if (path / "artifacts").is_dir() or (path / "wandb").is_dir():
        results = []
        for sub in ("artifacts", "wandb"):
            if (path / sub).is_dir():
                results.extend(
                    import_path(cache, path / sub, project=proj, artifact_type=artifact_type, **kw)
                )
        return results
    files = list(walk_files(path))
    if files and all(Path(rel).suffix.lower() in IMAGE_SUFFIXES for rel, _ in files):
        with tempfile.TemporaryDirectory(dir=cache.tmp_dir) as td:
            staged = stage_image_folder(path, files, proj, artifact_type or "dataset", Path(td))
            return [ImportResult(path, proj, commit_artifact(cache, staged, **kw))]
    if not files:
        raise DesktopvizError("folder is empty: nothing to import", file=path)
    staged = StagedArtifact(
        proj,
        path.name,
        artifact_type or "dataset",
        files={rel: StagedFile(p) for rel, p in files},
        source=str(path.resolve()),
    )
    return [ImportResult(path, proj, commit_artifact(cache, staged, **kw))]


def _import_downloads(cache: Cache, folders: list[Path], **kw: object) -> list[ImportResult]:
    """Import download folders in name order; one that fails for want of another's files (a
    JoinedTable whose table comes from another artifact) is tried again after the rest."""
    results: list[ImportResult] = []
    pending = list(folders)
    while pending:
        deferred: list[tuple[Path, FormatError]] = []
        for folder in pending:
            try:
                results.extend(import_path(cache, folder, **kw))  # type: ignore[arg-type]
            except FormatError as e:
                deferred.append((folder, e))
        if len(deferred) == len(pending):
            raise deferred[0][1]
        pending = [folder for folder, _ in deferred]
    return results


def _version_order(p: Path) -> tuple[str, int, str]:
    m = DOWNLOAD_DIR.match(p.name)
    return (m["name"], int(m["n"]), p.name) if m else (p.name, -1, p.name)


def artifact_name_for_file(path: Path) -> str:
    """``preds`` for ``preds.table.json``, ``data`` for ``data.csv``."""
    name = path.name
    for suffix in (".table.json", ".joined-table.json", ".partitioned-table.json"):
        if name.endswith(suffix):
            return name[: -len(suffix)]
    return path.stem


def stage_single_file(path: Path, project: str, artifact_type: str) -> StagedArtifact:
    """One file as an artifact named after its stem, holding the file under its own name.

    A W&B table's media (``media/...`` beside it) come along, since its cells point at them.
    """
    files = {path.name: StagedFile(path)}
    if table_kind(path.name) in ("table", "joined-table", "partitioned-table"):
        media = path.parent / "media"
        if media.is_dir():
            for rel, p in walk_files(media):
                files[f"media/{rel}"] = StagedFile(p)
    return StagedArtifact(
        project,
        artifact_name_for_file(path),
        artifact_type,
        files=files,
        source=str(path.resolve()),
    )


def stage_download_folder(path: Path, project: str, artifact_type: str | None) -> StagedArtifact:
    """A W&B artifact download folder ``<name>:v<N>`` (with or without ``wandb_manifest.json``)."""
    m = DOWNLOAD_DIR.match(path.name)
    name = m["name"] if m else path.name
    manifest_path = path / MANIFEST_NAME
    files: dict[str, StagedFile] = {}
    algorithm = "md5"
    if manifest_path.is_file():
        entries = read_manifest(manifest_path)
        for rel, e in entries.items():
            local = safe_join(path, rel, file=manifest_path)
            if not local.is_file():
                if e.ref and not e.ref.startswith("wandb"):
                    files[rel] = StagedFile(None, e.digest, e.ref, e.size)
                    continue
                raise FormatError(
                    f"manifest entry {rel!r} has no file in the folder", file=manifest_path
                )
            files[rel] = StagedFile(local, e.digest, e.ref, e.size)
            if e.algorithm == "xxh128":
                algorithm = "xxh128"
    else:
        for rel, p in walk_files(path):
            files[rel] = StagedFile(p)
    meta_type = artifact_type or _guess_type(name, files)
    return StagedArtifact(
        project,
        name,
        meta_type,
        files=files,
        source=str(path.resolve()),
        digest_algorithm=algorithm,
    )


def _guess_type(name: str, files: dict[str, StagedFile]) -> str:
    low = name.lower()
    if "pred" in low or "eval" in low or "result" in low:
        return "predictions"
    if "model" in low and not any(table_kind(p) for p in files):
        return "model"
    return "dataset"


def stage_image_folder(
    path: Path, files: list[tuple[str, Path]], project: str, artifact_type: str, work: Path
) -> StagedArtifact:
    """A folder of images as one table (image, path, label from the sub-folder name)."""
    staged = {rel: StagedFile(p) for rel, p in files}
    rows = []
    for rel, p in files:
        width, height, fmt = check_image(p, verify=False, name=rel)
        parts = rel.split("/")
        label = parts[-2] if len(parts) > 1 else None
        cell = {
            "_type": "image-file",
            "path": rel,
            "width": width,
            "height": height,
            "format": fmt or Path(rel).suffix[1:],
        }
        rows.append([cell, rel, label])
    table = {
        "_type": "table",
        "columns": ["image", "path", "label"],
        "data": rows,
        "ncols": 3,
        "nrows": len(rows),
        "log_mode": "IMMUTABLE",
    }
    table_file = work / f"{path.name}.table.json"
    table_file.write_text(json.dumps(table, sort_keys=True))
    staged[f"{path.name}.table.json"] = StagedFile(table_file)
    return StagedArtifact(
        project, path.name, artifact_type, files=staged, source=str(path.resolve())
    )
