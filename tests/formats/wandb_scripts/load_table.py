"""Run with the real wandb SDK (offline): load a table from an artifact download folder exactly as
``artifact.get(name)`` does (``Table.from_json(json, artifact)``) and print its cells as JSON.
Usage: python load_table.py ARTIFACT_ROOT TABLE_PATH   (ARTIFACT_ROOT named ``<name>:v<N>``)
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import sys
from pathlib import Path

import numpy as np

root = Path(sys.argv[1])
os.environ["WANDB_ARTIFACT_DIR"] = str(root.parent)

import wandb  # noqa: E402
from wandb.sdk.artifacts.artifact_state import ArtifactState  # noqa: E402


def sha256(path: str) -> str:
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def plain(v: object) -> object:
    """Cells as comparable plain values."""
    if isinstance(v, wandb.Image):
        return {
            "_type": "image-file",
            "width": v.image.width,
            "height": v.image.height,
            "sha256": sha256(v._path),
            "caption": v._caption,
            "boxes": {k: b._val for k, b in (v._boxes or {}).items()},
            "masks": {k: sha256(m._path) for k, m in (v._masks or {}).items()},
            "classes": sorted((c["id"], c["name"]) for c in v._classes._class_set)
            if v._classes
            else None,
        }
    if isinstance(v, wandb.data_types.Media):
        return {"_type": v._log_type, "sha256": sha256(v._path)}
    if isinstance(v, np.ndarray):
        return v.tolist()
    return v


name, version = root.name.rsplit(":", 1)
art = wandb.Artifact(name, "dataset")
for p in sorted(root.rglob("*")):
    if p.is_file() and p.name != "wandb_manifest.json":
        art.add_file(str(p), name=p.relative_to(root).as_posix())
# what the server would have assigned on commit (no server runs here)
art._id = base64.b64encode(b"Artifact:1").decode()
art._version = version
art._source_name = art._name = f"{name}:{version}"
art._state = ArtifactState.COMMITTED
table = wandb.Table.from_json(json.loads((root / sys.argv[2]).read_text()), art)
print(
    json.dumps({"columns": table.columns, "data": [[plain(c) for c in row] for row in table.data]})
)
