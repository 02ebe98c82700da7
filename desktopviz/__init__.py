"""desktopviz: browse, query and compare versioned ML artifacts offline.

The public SDK (no Qt): ``init``, ``Artifact``, ``Table``, ``Image``, ``Classes``, ``JoinedTable``,
``PartitionedTable``, ``open_cache``, ``DesktopvizError``. Names load on first use, so that the
command line starts fast.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

_EXPORTS = {
    "Artifact": "desktopviz.sdk.artifact",
    "Classes": "desktopviz.sdk.media",
    "DesktopvizError": "desktopviz.errors",
    "Image": "desktopviz.sdk.media",
    "JoinedTable": "desktopviz.sdk.table",
    "PartitionedTable": "desktopviz.sdk.table",
    "Run": "desktopviz.sdk.run",
    "Table": "desktopviz.sdk.table",
    "init": "desktopviz.sdk.run",
    "open_cache": "desktopviz.sdk.reader",
}
__all__ = [
    "Artifact",
    "Classes",
    "DesktopvizError",
    "Image",
    "JoinedTable",
    "PartitionedTable",
    "Run",
    "Table",
    "init",
    "open_cache",
]

if TYPE_CHECKING:
    from desktopviz.errors import DesktopvizError
    from desktopviz.sdk.artifact import Artifact
    from desktopviz.sdk.media import Classes, Image
    from desktopviz.sdk.reader import open_cache
    from desktopviz.sdk.run import Run, init
    from desktopviz.sdk.table import JoinedTable, PartitionedTable, Table


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'desktopviz' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value
