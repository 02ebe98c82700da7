"""``LinkedArtifact``: an artifact version as linked into a registry collection, with the names of
W&B's link artifacts (``is_link``, ``source_name``, ``source_version``, ``source_artifact``,
``unlink``). What ``Run.link_artifact`` returns.

Public API: :class:`LinkedArtifact`.
"""

from __future__ import annotations

from desktopviz import registry
from desktopviz.registry import Link
from desktopviz.sdk.artifact import Artifact
from desktopviz.store.cache import Cache


class LinkedArtifact(Artifact):
    """Version ``v<N>`` of a registry collection: ``name`` is the collection, ``version`` the
    number in it, ``qualified_name`` ``registry/<collection>:v<N>``; its files are the source
    version's (linking copies none)."""

    def __init__(self, cache: Cache, link: Link) -> None:
        super().__init__(link.collection, link.version.type)
        self._bind(cache, link.version)
        self._link = link

    @property
    def is_link(self) -> bool:
        """True: this is a link to a source artifact (as in W&B)."""
        return True

    @property
    def version(self) -> str:
        """``v<N>`` in the registry collection (not the source's)."""
        return self._link.tag

    @property
    def aliases(self) -> list[str]:
        """The link's aliases in the collection (fresh from the cache)."""
        assert self._cache is not None
        return list(registry.find_link(self._cache, self._link.collection, self._link.tag).aliases)

    @property
    def qualified_name(self) -> str:
        """``registry/<collection>:v<N>``."""
        return self._link.ref

    @property
    def source_name(self) -> str:
        """``<artifact>:v<N>`` of the source version."""
        return f"{self._link.version.name}:{self._link.version.tag}"

    @property
    def source_version(self) -> str:
        """The source version's ``v<N>``."""
        return self._link.version.tag

    @property
    def source_project(self) -> str:
        """The project the source version was logged in."""
        return self._link.version.project

    @property
    def source_qualified_name(self) -> str:
        """``project/name:v<N>`` of the source version."""
        return self._link.version.ref

    @property
    def source_artifact(self) -> Artifact:
        """The source version, as an artifact."""
        assert self._cache is not None
        art = Artifact(self._link.version.name, self._link.version.type)
        art._bind(self._cache, self._link.version)
        return art

    def unlink(self) -> None:
        """Remove this link from its collection (the source version stays)."""
        assert self._cache is not None
        registry.unlink(self._cache, self._link)

    def __repr__(self) -> str:
        return f"LinkedArtifact({self.qualified_name!r} -> {self.source_qualified_name!r})"
