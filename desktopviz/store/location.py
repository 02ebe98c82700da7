"""Where the cache lives: ``--cache DIR``, else ``$DESKTOPVIZ_CACHE``, else the user cache dir."""

from __future__ import annotations

import os
from pathlib import Path

import platformdirs


def cache_dir(explicit: str | os.PathLike[str] | None = None) -> Path:
    """Resolve the cache directory from an explicit path, the environment or the platform."""
    if explicit:
        return Path(explicit).expanduser()
    env = os.environ.get("DESKTOPVIZ_CACHE")
    if env:
        return Path(env).expanduser()
    return Path(platformdirs.user_cache_dir("desktopviz"))
