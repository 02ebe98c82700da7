"""desktopviz: browse, query and compare versioned ML artifacts offline.

The public SDK (no Qt): ``init``, ``Artifact``, ``Table``, ``Image``, ``Classes``, ``JoinedTable``,
``PartitionedTable``, ``open_cache``, ``DesktopvizError``.
"""

from desktopviz.errors import DesktopvizError
from desktopviz.sdk.artifact import Artifact
from desktopviz.sdk.media import Classes, Image
from desktopviz.sdk.reader import open_cache
from desktopviz.sdk.run import Run, init
from desktopviz.sdk.table import JoinedTable, PartitionedTable, Table

__version__ = "0.1.0"
__all__ = [
    "Artifact", "Classes", "DesktopvizError", "Image", "JoinedTable", "PartitionedTable", "Run",
    "Table", "init", "open_cache",
]
