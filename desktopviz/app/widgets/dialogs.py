"""Small dialogs a widget opens without blocking: kept alive on the widget (``owner._dialog``, the
one it has open, where tests find it) while they are shown.

Public API: :func:`open_kept`, :func:`warn`.
"""

from __future__ import annotations

from typing import TypeVar

from PySide6.QtWidgets import QDialog, QMessageBox, QWidget

DialogT = TypeVar("DialogT", bound=QDialog)


def open_kept(owner: QWidget, dialog: DialogT) -> DialogT:
    """Open ``dialog`` (window-modal, non-blocking), kept as ``owner._dialog``; return it."""
    owner._dialog = dialog  # type: ignore[attr-defined]
    dialog.open()
    return dialog


def warn(owner: QWidget, title: str, text: str) -> QMessageBox:
    """A warning box with an OK button over ``owner`` (non-blocking, kept as ``owner._dialog``)."""
    box = QMessageBox(QMessageBox.Icon.Warning, title, text, QMessageBox.StandardButton.Ok, owner)
    return open_kept(owner, box)
