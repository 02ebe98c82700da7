"""Sync: publish versions to a *store* (a folder, an HTTP server, an object store) and pull them
into the local cache (see docs/store-format.md)."""

from desktopviz.sync.backends import open_backend

__all__ = ["open_backend"]
