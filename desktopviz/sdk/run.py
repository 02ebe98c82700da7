"""``dv.init`` and ``Run``: log metrics, log and use artifacts, record lineage."""

from __future__ import annotations

import getpass
import os
import platform
import secrets
import socket
import subprocess
import sys
import time
from typing import Any

from desktopviz.errors import DesktopvizError
from desktopviz.importing.commit import commit_artifact
from desktopviz.model import Run as RunRecord
from desktopviz.sdk.artifact import Artifact
from desktopviz.sdk.media import Image
from desktopviz.sdk.table import Table
from desktopviz.store.cache import Cache, now_iso
from desktopviz.store.location import cache_dir
from desktopviz.sync.publish import STORE_ENV, StorePublisher

HISTORY_FLUSH_ROWS = 200


class Run:
    """A run in progress: ``dv.init(project=, job_type=, config=, dir=, store=)``.

    ``dir`` is the cache folder (default ``$DESKTOPVIZ_CACHE`` or the user cache dir) or an open
    :class:`Cache`. ``store`` (default ``$DESKTOPVIZ_STORE``): a store's URL or folder that each
    logged version is pushed to as it is logged (see :mod:`desktopviz.sync.publish`). Finish it
    with ``finish()`` or use it as a context manager.
    """

    def __init__(
        self,
        project: str | None = None,
        job_type: str | None = None,
        config: dict[str, Any] | None = None,
        dir: str | os.PathLike[str] | Cache | None = None,
        name: str | None = None,
        id: str | None = None,
        store: str | None = None,
    ) -> None:
        self.cache = dir if isinstance(dir, Cache) else Cache(cache_dir(dir))
        store = store or os.environ.get(STORE_ENV) or None
        self._publisher = StorePublisher(self.cache, store) if store else None
        self.project = project or "uncategorized"
        self.job_type = job_type
        self.id = id or _new_id()
        self.name = name or f"{job_type or 'run'}-{self.id}"
        self.config: dict[str, Any] = dict(config or {})
        self.summary: dict[str, Any] = {}
        self.created_at = now_iso()
        self._step = 0
        self._pending: list[tuple[int, dict[str, Any]]] = []
        self._finished = False
        self._save("running")

    def _record(self, state: str) -> RunRecord:
        return RunRecord(
            id=self.id,
            project=self.project,
            name=self.name,
            job_type=self.job_type,
            state=state,
            config=self.config,
            summary=self.summary,
            environment=_environment(),
            created_at=self.created_at,
            finished_at=now_iso() if state != "running" else None,
            source="sdk",
        )

    def _save(self, state: str) -> None:
        self.cache.upsert_run(self._record(state))

    @property
    def step(self) -> int:
        """The step the next ``log`` call writes."""
        return self._step

    def log(self, data: dict[str, Any], step: int | None = None, commit: bool = True) -> None:
        """Record metrics for a step; a :class:`Table` value is logged as a ``run_table`` artifact."""
        self._check_open()
        if step is not None:
            if step < self._step:
                raise DesktopvizError(f"step {step} is before the current step {self._step}")
            self._step = step
        row: dict[str, Any] = {}
        for key, value in data.items():
            if isinstance(value, Table):
                art = Artifact(f"run-{self.id}-{key}", "run_table")
                art.add(value, key)
                self.log_artifact(art)
                row[key] = {"_type": "table-file", "artifact": art.qualified_name}
            elif isinstance(value, Image):
                raise DesktopvizError(f"log images inside a dv.Table (key {key!r})")
            else:
                row[key] = _json_value(value)
        if self._pending and self._pending[-1][0] == self._step:
            self._pending[-1][1].update(row)
        else:
            self._pending.append((self._step, row))
        self.summary.update(row)
        if commit:
            self._step += 1
        if len(self._pending) >= HISTORY_FLUSH_ROWS:
            self._flush()

    def _flush(self) -> None:
        if self._pending:
            self.cache.log_history(self.id, self._pending)
            self._pending = []

    def log_artifact(self, artifact: Artifact, aliases: list[str] | None = None) -> Artifact:
        """Store the artifact as a new version (or find the identical one) produced by this run."""
        self._check_open()
        staged = artifact.staged(self.project, tuple(aliases or ()), produced_by=self.id)
        result = commit_artifact(self.cache, staged)
        artifact._bind(self.cache, result.version)
        if self._publisher is not None:
            self._publisher.publish(result.version)
        return artifact

    def use_artifact(self, ref: str | Artifact, type: str | None = None) -> Artifact:
        """A logged version (``"name:v1"``, ``"name:latest"``, ``"name:<alias>"``) this run reads."""
        self._check_open()
        if isinstance(ref, Artifact):
            if ref.version is None:
                self.log_artifact(ref)
            ref = ref.qualified_name
        version = self.cache.resolve(ref, project=None if "/" in ref else self.project)
        if type is not None and version.type != type:
            raise DesktopvizError(f"{version.ref} has type {version.type!r}, not {type!r}")
        self.cache.add_lineage(self.id, version.id, "input")
        art = Artifact(version.name, version.type)
        art._bind(self.cache, version)
        return art

    def link_artifact(
        self, artifact: Artifact, target_path: str, aliases: list[str] | None = None
    ) -> Artifact:
        """Link the artifact (logged first if it is not yet) to registry collection
        ``registry/<collection>`` (W&B's ``wandb-registry-<registry>/<collection>`` and
        ``model-registry/<collection>`` work too), made if new, moving ``aliases`` onto it;
        ``latest`` follows the newest link. No bytes are copied. Returns the linked artifact
        (``version`` is its number in the collection), as W&B's ``Run.link_artifact`` does."""
        from desktopviz import registry
        from desktopviz.sdk.linked import LinkedArtifact

        self._check_open()
        target = registry.parse_registry_ref(target_path)
        if target is None or ":" in target_path:
            raise DesktopvizError(
                f"link_artifact target {target_path!r}: expected registry/<collection> "
                "(or wandb-registry-model/<collection>)"
            )
        if artifact._version is None:
            self.log_artifact(artifact)
        assert artifact._version is not None
        version = self.cache.version_by_id(artifact._version.id)
        link = registry.link_version(self.cache, version, target[0], aliases or ())
        return LinkedArtifact(self.cache, link)

    def finish(self, exit_code: int = 0) -> None:
        """Flush history and mark the run finished (or failed for a non-zero exit code)."""
        if self._finished:
            return
        self._flush()
        self._save("finished" if exit_code == 0 else "failed")
        if self._publisher is not None:
            self._publisher.publish()  # the versions an earlier push could not send
            self._publisher.close()
        self._finished = True  # the cache stays open: logged artifacts still read from it

    def _check_open(self) -> None:
        if self._finished:
            raise DesktopvizError(f"run {self.id} is finished")

    def __enter__(self) -> Run:
        return self

    def __exit__(self, exc_type: object, *_: object) -> None:
        self.finish(1 if exc_type else 0)

    def __repr__(self) -> str:
        return f"Run({self.project}/{self.name})"


init = Run
"""``dv.init(project=, job_type=, config=, dir=)``: start a run (``dir`` is the cache folder)."""


def _new_id() -> str:
    alphabet = "abcdefghijklmnopqrstuvwxyz0123456789"
    return "".join(secrets.choice(alphabet) for _ in range(8))


def _json_value(v: Any) -> Any:
    if hasattr(v, "item") and callable(v.item):
        try:
            return v.item()
        except (ValueError, TypeError):
            pass
    if hasattr(v, "tolist"):
        return v.tolist()
    return v


_ENV: dict[str, Any] | None = None


def _environment() -> dict[str, Any]:
    global _ENV
    if _ENV is None:
        env: dict[str, Any] = {
            "python": sys.version.split()[0],
            "platform": platform.platform(),
            "host": socket.gethostname(),
            "executable": sys.executable,
            "argv": sys.argv,
            "started": time.strftime("%Y-%m-%dT%H:%M:%S"),
        }
        try:
            env["user"] = getpass.getuser()
        except (KeyError, OSError):
            pass
        try:
            out = subprocess.run(
                ["git", "rev-parse", "HEAD"], capture_output=True, text=True, timeout=2, check=False
            )
            if out.returncode == 0:
                env["git_commit"] = out.stdout.strip()
        except (OSError, subprocess.TimeoutExpired):
            pass
        _ENV = env
    return _ENV
