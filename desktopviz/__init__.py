"""desktopviz: browse, query and compare versioned ML artifacts offline.

The public SDK (no Qt): ``init``, ``Artifact``, ``Table``, ``Image``, ``Classes``, ``JoinedTable``,
``PartitionedTable``, ``open_cache``.
"""

__version__ = "0.1.0"
