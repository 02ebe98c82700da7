"""Parts of a run's page beyond its metrics: the system metrics charts (CPU, memory, GPU... over
the run's time), its git state, and the files of its run folder (W&B's ``files/``: the output
log, requirements, config, metadata, media) with a text preview.

Public API: :class:`SystemCharts` (``set_samples``, ``series``, ``charts``), :func:`git_state`,
:class:`RunFiles` (``set_folder``, ``paths``, ``show_file``, ``preview``).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pyqtgraph as pg
from PySide6.QtCore import Qt
from PySide6.QtGui import QColor, QFontDatabase, QPalette
from PySide6.QtWidgets import (
    QHBoxLayout,
    QLabel,
    QPlainTextEdit,
    QScrollArea,
    QSplitter,
    QTreeWidget,
    QTreeWidgetItem,
    QVBoxLayout,
    QWidget,
)

from desktopviz.app.palette import class_colour, mute
from desktopviz.humanize import human_size
from desktopviz.store.run_system import SYSTEM_GROUPS, system_group, system_series

COLUMNS = 3
"""System charts per row."""
PREVIEW_BYTES = 256 * 1024
"""A file's preview shows at most this much of it."""
TEXT_SUFFIXES = frozenset({".txt", ".log", ".json", ".yaml", ".yml", ".md", ".py", ".patch",
                           ".diff", ".csv", ".cfg", ".toml", ".ini"})  # fmt: skip


class SystemCharts(QWidget):
    """One small chart per system metric, grouped CPU, memory, GPU, disk, network; x in seconds
    since the first sample."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.series: dict[str, tuple[list[float], list[float]]] = {}
        self.charts: dict[str, pg.PlotItem] = {}
        self.plot = pg.GraphicsLayoutWidget(self)
        self.plot.setBackground(self.palette().color(QPalette.ColorRole.Base))
        self.empty_note = mute(
            QLabel("This run recorded no system metrics (W&B offline runs do: import the run).")
        )
        self.empty_note.setAlignment(Qt.AlignmentFlag.AlignCenter)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 6, 0, 0)
        layout.addWidget(self.empty_note)
        self.scroll = QScrollArea(self)
        """The charts scroll when they do not fit (each keeps a readable height)."""
        self.scroll.setWidgetResizable(True)
        self.scroll.setFrameShape(QScrollArea.Shape.NoFrame)
        self.scroll.setWidget(self.plot)
        layout.addWidget(self.scroll, 1)
        self.set_samples([])

    def set_samples(self, samples: list[tuple[float, dict[str, Any]]]) -> None:
        """Chart these samples ``(unix time, {metric: value})``."""
        series = system_series(samples)
        if series == self.series and self.charts:
            return
        self.series = series
        self.plot.clear()
        self.charts = {}
        self.empty_note.setVisible(not series)
        self.scroll.setVisible(bool(series))
        text = self.palette().color(QPalette.ColorRole.Text)
        order = sorted(series, key=lambda n: (SYSTEM_GROUPS.index(system_group(n)), n))
        for n, name in enumerate(order):
            xs, ys = series[name]
            chart = self.plot.addPlot(row=n // COLUMNS, col=n % COLUMNS)
            chart.setTitle(f"{system_group(name)} · {name}", color=text, size="9pt")
            chart.setMenuEnabled(False)
            chart.showGrid(x=True, y=True, alpha=0.2)
            chart.setLabel("bottom", "time (s)")
            colour = QColor(class_colour(SYSTEM_GROUPS.index(system_group(name))))
            chart.plot(xs, ys, pen=pg.mkPen(colour, width=2))
            self.charts[name] = chart
        self.plot.setMinimumHeight(190 * ((len(order) + COLUMNS - 1) // COLUMNS))


def git_state(environment: dict[str, Any]) -> dict[str, str]:
    """A run's git state as recorded with it: remote, commit, branch, dirty (W&B's ``git``
    record, or the desktopviz SDK's ``git_commit``), and the program that ran."""
    found: dict[str, str] = {}
    git = environment.get("git") or {}
    if isinstance(git, dict):
        for key, label in (("remote", "Remote"), ("remoteUrl", "Remote"), ("commit", "Commit"),
                           ("branch", "Branch"), ("dirty", "Dirty")):  # fmt: skip
            if git.get(key) not in (None, ""):
                found[label] = str(git[key])
    for key, label in (("git_commit", "Commit"), ("git_remote", "Remote")):
        if environment.get(key) and label not in found:
            found[label] = str(environment[key])
    for key, label in (("program", "Program"), ("codePath", "Code path"), ("root", "Root")):
        if environment.get(key):
            found[label] = str(environment[key])
    args = environment.get("args") or environment.get("argv")
    if isinstance(args, list) and args:
        found["Arguments"] = " ".join(str(a) for a in args)
    return found


class RunFiles(QWidget):
    """The files of a run's folder (``files/`` of a W&B run folder, else the folder), with sizes,
    and a text preview of the one selected."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.folder: Path | None = None
        self.tree = QTreeWidget(self)
        self.tree.setHeaderLabels(["File", "Size"])
        self.tree.setRootIsDecorated(False)
        self.preview = QPlainTextEdit(self)
        self.preview.setReadOnly(True)
        self.preview.setFont(QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont))
        self.note = mute(QLabel(self))
        self.note.setWordWrap(True)
        splitter = QSplitter(Qt.Orientation.Horizontal, self)
        splitter.addWidget(self.tree)
        splitter.addWidget(self.preview)
        splitter.setSizes([320, 700])
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 6, 0, 0)
        row = QHBoxLayout()
        row.addWidget(self.note, 1)
        layout.addLayout(row)
        layout.addWidget(splitter, 1)
        self.tree.currentItemChanged.connect(
            lambda item, _old: self.show_file(item.text(0)) if item is not None else None
        )

    def paths(self) -> list[str]:
        """The files listed (relative to the folder)."""
        return [self.tree.topLevelItem(i).text(0) for i in range(self.tree.topLevelItemCount())]

    def set_folder(self, source: str | None) -> None:
        """List the files of the run folder ``source`` (a run's ``source``; an SDK run has none)."""
        self.tree.clear()
        self.preview.clear()
        folder = Path(source) if source else None
        if folder is not None and (folder / "files").is_dir():
            folder = folder / "files"
        if folder is None or not folder.is_dir():
            self.folder = None
            self.note.setText(
                "This run's folder is not on this machine (an SDK run keeps none; an imported "
                f"run's folder was {source})." if source and source != "sdk" else
                "This run has no run folder: it was logged with the desktopviz SDK."
            )  # fmt: skip
            return
        self.folder = folder
        self.note.setText(str(folder))
        for path in sorted(p for p in folder.rglob("*") if p.is_file()):
            item = QTreeWidgetItem(
                [path.relative_to(folder).as_posix(), human_size(path.stat().st_size)]
            )
            item.setTextAlignment(1, Qt.AlignmentFlag.AlignRight)
            self.tree.addTopLevelItem(item)
        self.tree.resizeColumnToContents(0)

    def show_file(self, relative: str) -> None:
        """Preview ``relative`` (text files; others say what they are)."""
        if self.folder is None:
            return
        path = self.folder / relative
        if path.suffix.lower() not in TEXT_SUFFIXES and path.suffix:
            self.preview.setPlainText(f"{relative}: {human_size(path.stat().st_size)} (no preview)")
            return
        with path.open("rb") as f:
            data = f.read(PREVIEW_BYTES)
        text = data.decode("utf-8", errors="replace")
        if path.stat().st_size > PREVIEW_BYTES:
            text += (
                f"\n… (the first {human_size(PREVIEW_BYTES)} of {human_size(path.stat().st_size)})"
            )
        self.preview.setPlainText(text)
