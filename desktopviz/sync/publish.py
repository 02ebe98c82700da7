"""Publishing from the SDK: ``dv.init(project=..., store="http://host:8765")`` (or
``$DESKTOPVIZ_STORE``) pushes each version to the store as it is logged.

A push that fails (the server is down, the network is out) does not stop the training job: it
is reported on stderr and tried again with the next logged version and when the run finishes;
the version is in the local cache either way (``desktopviz push STORE REF`` publishes it later).
A refused token is an error, raised at once.

Public API: :data:`STORE_ENV`, :class:`StorePublisher`.
"""

from __future__ import annotations

import sys

from desktopviz.errors import DesktopvizError
from desktopviz.model import Version
from desktopviz.store.cache import Cache
from desktopviz.sync.backend import AuthError, Backend

STORE_ENV = "DESKTOPVIZ_STORE"


class StorePublisher:
    """Pushes the versions a run logs to one store (a URL or a folder)."""

    def __init__(self, cache: Cache, url: str) -> None:
        self.cache = cache
        self.url = url
        self._backend: Backend | None = None
        self._waiting: list[str] = []
        """Refs of versions not published yet (an earlier push failed)."""

    def _open(self) -> Backend:
        if self._backend is None:
            from desktopviz.sync.backends import open_backend
            from desktopviz.sync.sources import token_for_url

            self._backend = open_backend(self.url, token_for_url(self.cache, self.url))
        return self._backend

    def publish(self, version: Version | None = None) -> bool:
        """Push ``version`` and any still waiting; whether all are in the store now."""
        if version is not None and version.ref not in self._waiting:
            self._waiting.append(version.ref)
        if not self._waiting:
            return True
        from desktopviz.sync.push import push

        try:
            push(self.cache, self._open(), list(self._waiting))
        except AuthError:
            raise
        except (DesktopvizError, OSError) as e:
            print(
                f"desktopviz: could not push {', '.join(self._waiting)} to {self.url} ({e}); "
                "it is in the local cache and is pushed again with the next version, or run "
                f"`desktopviz push {self.url} REF`",
                file=sys.stderr,
            )
            return False
        self._waiting.clear()
        return True

    def close(self) -> None:
        """Let go of the store's connections."""
        if self._backend is not None:
            self._backend.close()
            self._backend = None
