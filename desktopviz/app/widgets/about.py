"""Help > About: what desktopviz is and the versions it runs on (to paste into a bug report).

Public API: :class:`AboutDialog`, :func:`component_versions`.
"""

from __future__ import annotations

import platform
import sys
from importlib import metadata

import PySide6
from PySide6.QtCore import QSize, Qt, qVersion
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

import desktopviz
from desktopviz.app.icons import app_icon, icon
from desktopviz.build_info import describe_build


def _package_version(name: str) -> str:
    try:
        return metadata.version(name)
    except metadata.PackageNotFoundError:
        return "not installed"


def component_versions() -> dict[str, str]:
    """desktopviz, Python, Qt, PySide6, DuckDB, pyarrow, pyqtgraph and the platform."""
    return {
        "desktopviz": describe_build(),
        "Python": sys.version.split()[0],
        "Qt": qVersion(),
        "PySide6": PySide6.__version__,
        "DuckDB": _package_version("duckdb"),
        "pyarrow": _package_version("pyarrow"),
        "pyqtgraph": _package_version("pyqtgraph"),
        "Platform": f"{platform.system()} {platform.release()} ({platform.machine()})",
    }


class AboutDialog(QDialog):
    """Name, one line on what it does, the versions table and a copy button."""

    def __init__(self, cache_root: str = "", parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("About desktopviz")
        logo = QLabel()
        logo.setPixmap(app_icon().pixmap(QSize(64, 64)))
        title = QLabel(f"desktopviz {desktopviz.__version__}")
        title.setObjectName("pageTitle")
        blurb = QLabel(
            "Browse, query and compare versioned ML artifacts offline: datasets and predictions "
            "in the W&B artifact and table format."
        )
        blurb.setWordWrap(True)
        self.versions = component_versions()
        if cache_root:
            self.versions["Cache"] = cache_root
        form = QFormLayout()
        form.setHorizontalSpacing(18)
        form.setVerticalSpacing(4)
        for name, value in self.versions.items():
            label = QLabel(value)
            label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
            key = QLabel(name)
            key.setObjectName("dimText")
            form.addRow(key, label)

        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        self.copy_button = QPushButton(icon("copy"), "Copy versions")
        buttons.addButton(self.copy_button, QDialogButtonBox.ButtonRole.ActionRole)
        self.copy_button.clicked.connect(self.copy_versions)
        buttons.rejected.connect(self.reject)
        column = QVBoxLayout()
        column.setSpacing(10)
        column.addWidget(title)
        column.addWidget(blurb)
        column.addSpacing(6)
        column.addLayout(form)
        top = QHBoxLayout()
        top.setSpacing(18)
        top.addWidget(logo, 0, Qt.AlignmentFlag.AlignTop)
        top.addLayout(column, 1)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(22, 20, 22, 16)
        layout.setSpacing(14)
        layout.addLayout(top)
        layout.addWidget(buttons)
        self.setMinimumWidth(480)

    def text(self) -> str:
        """The versions as ``name: value`` lines."""
        return "\n".join(f"{k}: {v}" for k, v in self.versions.items())

    def copy_versions(self) -> None:
        """Put the versions on the clipboard."""
        QGuiApplication.clipboard().setText(self.text())
