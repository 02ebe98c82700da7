"""Which build of desktopviz is running: an installer's frozen build carries a small JSON file
(written by ``packaging/build_info.py``) naming its platform, date and commit; a Python install
has none and says so. ``desktopviz --version`` and Help > About show :func:`describe_build`.

Public API: :data:`BUILD_INFO_FILE`, :func:`build_info`, :func:`describe_build`.
"""

from __future__ import annotations

import json
import sys
from importlib import resources
from typing import Any

import desktopviz

BUILD_INFO_FILE = "_build_info.json"
"""The file (inside the ``desktopviz`` package of a frozen build) holding the build's facts."""


def build_info() -> dict[str, Any] | None:
    """The frozen build's facts (version, platform, built, commit), or None for a Python install."""
    try:
        text = resources.files(desktopviz).joinpath(BUILD_INFO_FILE).read_text(encoding="utf-8")
    except (FileNotFoundError, OSError):
        return None
    try:
        info = json.loads(text)
    except ValueError:
        return None
    return info if isinstance(info, dict) else None


def describe_build() -> str:
    """The version and where it comes from: ``0.1.0 (linux-x86_64 build of 2026-11-30, commit
    219d2db)`` for an installer's build, ``0.1.0 (Python package)`` otherwise."""
    info = build_info()
    if info is None:
        kind = "frozen, no build info" if getattr(sys, "frozen", False) else "Python package"
        return f"{desktopviz.__version__} ({kind})"
    parts = [f"{info.get('platform', '?')} build of {str(info.get('built', '?'))[:10]}"]
    if info.get("commit"):
        parts.append(f"commit {info['commit']}")
    return f"{info.get('version', desktopviz.__version__)} ({', '.join(parts)})"
