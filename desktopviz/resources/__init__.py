"""Package data: the SVG icons, the Qt style sheet, and the desktop integration files (the
``.desktop`` entry, AppStream metadata, the ``*.table.json`` MIME type), found through
``importlib.resources`` so they travel in the wheel and in the frozen app.

Public API: :data:`APP_ID`, :func:`resource_path`.
"""

from __future__ import annotations

from importlib import resources
from pathlib import Path

APP_ID = "org.desktopviz.DesktopViz"
"""The reverse-DNS id naming the ``.desktop`` file, the AppStream component and the MIME package."""


def resource_path(*parts: str) -> Path:
    """A file or folder under the package's resources (``resource_path("icons", "run.svg")``)."""
    return Path(str(resources.files(__name__))).joinpath(*parts)
