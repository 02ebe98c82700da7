"""Bringing content into the cache: W&B folders, offline runs, tables, CSV/Parquet/JSONL, images."""

from desktopviz.importing.commit import StagedArtifact, StagedFile, commit_artifact
from desktopviz.importing.detect import ImportResult, import_path, import_paths

__all__ = [
    "ImportResult",
    "StagedArtifact",
    "StagedFile",
    "commit_artifact",
    "import_path",
    "import_paths",
]
