""" "Save as new version": where the rows shown go (artifact, type, table name, aliases).

Public API: :class:`SaveVersionDialog` -- ``values()`` gives the keyword arguments of
:func:`desktopviz.sdk.subset.save_as_version`.
"""

from __future__ import annotations

from typing import Any

from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QLabel,
    QLineEdit,
    QVBoxLayout,
    QWidget,
)

from desktopviz.model import Version
from desktopviz.store.cache import Cache


class SaveVersionDialog(QDialog):
    """Asks for the artifact (any of the project's, or a new name) the rows become a version of."""

    def __init__(
        self, cache: Cache, source: Version, table: str, rows: int, parent: QWidget | None = None
    ) -> None:
        super().__init__(parent)
        self.setWindowTitle("Save as new version")
        self.setMinimumWidth(460)
        what = QLabel(
            f"The {rows:,} rows shown become a new version. Its images are {source.ref}'s "
            "files (nothing is copied), and a run links it to its source in the lineage."
        )
        what.setWordWrap(True)
        self.artifact = QComboBox(self)
        self.artifact.setEditable(True)
        self._types = {c.name: c.type for c in cache.collections(source.project)}
        self.artifact.addItems(sorted(self._types))
        self.artifact.setCurrentText(source.name)
        self.artifact.setToolTip("An artifact of the project (a new version of it) or a new name")
        self.type = QLineEdit(source.type, self)
        self.table_name = QLineEdit(table.rsplit("/", 1)[-1].split(".", 1)[0], self)
        self.aliases = QLineEdit(self)
        self.aliases.setPlaceholderText("e.g. relabel, review (comma separated)")
        self.description = QLineEdit(self)
        self.open_after = QCheckBox("Open the new version", self)
        self.open_after.setChecked(True)
        form = QFormLayout()
        form.addRow("Artifact", self.artifact)
        form.addRow("Type", self.type)
        form.addRow("Table name", self.table_name)
        form.addRow("Aliases", self.aliases)
        form.addRow("Description", self.description)
        buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Save | QDialogButtonBox.StandardButton.Cancel
        )
        self.save_button = buttons.button(QDialogButtonBox.StandardButton.Save)
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        self.artifact.editTextChanged.connect(self._check)
        self.table_name.textChanged.connect(self._check)
        layout = QVBoxLayout(self)
        layout.addWidget(what)
        layout.addLayout(form)
        layout.addWidget(self.open_after)
        layout.addWidget(buttons)
        self._check()

    def _check(self) -> None:
        known = self._types.get(self.artifact.currentText().strip())
        if known is not None:  # a version of an existing artifact keeps its type
            self.type.setText(known)
        self.type.setEnabled(known is None)
        self.save_button.setEnabled(
            bool(self.artifact.currentText().strip() and self.table_name.text().strip())
        )

    def values(self) -> dict[str, Any]:
        """``name``, ``type``, ``table_name``, ``aliases`` and ``description`` as entered."""
        aliases = [a.strip() for a in self.aliases.text().split(",") if a.strip()]
        return {
            "name": self.artifact.currentText().strip(),
            "type": self.type.text().strip() or None,
            "table_name": self.table_name.text().strip(),
            "aliases": aliases,
            "description": self.description.text().strip() or None,
        }
