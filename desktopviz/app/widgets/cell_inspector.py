"""The cell inspector (right dock): the selected cell in full.

Images get a zoomable, pannable view with the overlay toggles and a list of their boxes (select
one to highlight it); nested values a JSON tree; text its full length, as plain text or rendered
Markdown; other media their details and a player or viewer (:mod:`.media_views`): video with
play/pause and a scrubber, audio with its waveform and play/pause, point clouds and molecules in a
3D view that turns with the mouse; html and text formats as text. Files are decoded in a worker.
"Copy value" puts the value on the clipboard.

Public API: :class:`CellInspector` -- ``CellInspector(state)``; it follows ``state.cell_changed``.
"""

from __future__ import annotations

import html
import json
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from PySide6.QtCore import Qt, QUrl
from PySide6.QtGui import (
    QColor,
    QDesktopServices,
    QFont,
    QGuiApplication,
    QPalette,
)
from PySide6.QtWidgets import (
    QCheckBox,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QSplitter,
    QStackedWidget,
    QTextBrowser,
    QTreeWidget,
    QTreeWidgetItem,
    QVBoxLayout,
    QWidget,
)

from desktopviz.app.icons import icon
from desktopviz.app.palette import SIDE_COLOURS, mute
from desktopviz.app.state import AppState, CellRef, OverlaySettings
from desktopviz.app.thumbnail_loader import ImageRequest, ThumbnailLoader
from desktopviz.app.widgets.image_view import ImageView
from desktopviz.app.widgets.media_views import AudioPlayer, SceneView, VideoPlayer
from desktopviz.app.widgets.overlays import OverlayLegend, box_visible
from desktopviz.app.widgets.overview import JsonTree
from desktopviz.app.workers import run_in_worker
from desktopviz.errors import DesktopvizError
from desktopviz.formats.image_cells import Box, ImageCell, image_cell
from desktopviz.formats.media import IMAGE_TYPE, class_set
from desktopviz.media.av_media import Clip, Sound, decode_audio, decode_video, envelope
from desktopviz.media.molecule import MOLECULE_SUFFIXES, Molecule, load_molecule
from desktopviz.media.scene import Scene, load_scene
from desktopviz.model import Version
from desktopviz.query.compare import text_diff
from desktopviz.query.display import format_number
from desktopviz.store.cache import Cache
from desktopviz.store.thumbnails import MASK, media_file

TEXT_PREVIEW_BYTES = 256 * 1024
TEXT_SUFFIXES = (".txt", ".json", ".pdb", ".sdf", ".mol", ".xyz", ".obj", ".csv")
WAVEFORM_COLUMNS = 800


@dataclass(frozen=True)
class MediaPreview:
    """What a worker found out about a media cell's file, for the inspector to show."""

    source: Path | None
    image: ImageCell | None = None
    waveform: np.ndarray | None = None
    sound: Sound | None = None
    clip: Clip | None = None
    scene: Scene | None = None
    molecule: Molecule | None = None
    text: str | None = None
    html: str | None = None
    note: str = ""


def prepare_media(cache: Cache, version: Version, record: dict[str, Any]) -> MediaPreview:
    """Runs in a worker: resolve a media cell's file and decode what its preview needs."""
    try:
        source = media_file(cache, version, record.get("sha256"), record.get("path"))
    except DesktopvizError as e:
        return MediaPreview(None, note=str(e))
    media_type = record.get("_type")
    name = record.get("path") or ""
    path = name.lower()
    if media_type == IMAGE_TYPE:
        names: dict[int, str] = {}
        if record.get("classes"):
            try:
                names = class_set(
                    json.loads(cache.file_path(version, record["classes"]).read_text())
                )
            except (DesktopvizError, OSError, ValueError):
                names = {}
        return MediaPreview(source, image=image_cell(record, names))
    try:
        if media_type == "audio-file":
            sound = decode_audio(source, label=name)
            return MediaPreview(
                source, sound=sound, waveform=envelope(sound.samples, WAVEFORM_COLUMNS)
            )
        if media_type == "video-file":
            return MediaPreview(source, clip=decode_video(source, label=name))
        if media_type == "object3D-file" and path.endswith(".json"):
            return MediaPreview(source, scene=load_scene(source, name))
        if media_type == "molecule-file" or path.endswith(MOLECULE_SUFFIXES):
            return MediaPreview(source, molecule=load_molecule(source, name))
    except DesktopvizError as e:
        return MediaPreview(source, note=f"cannot show this file: {e}")
    if media_type == "html-file" or path.endswith((".html", ".htm")):
        return MediaPreview(source, html=_read_text(source))
    if path.endswith(TEXT_SUFFIXES):
        return MediaPreview(source, text=_read_text(source))
    return MediaPreview(source, note="no preview for this type; open it with your system's app")


def _read_text(source: Path) -> str:
    with open(source, "rb") as f:
        data = f.read(TEXT_PREVIEW_BYTES + 1)
    text = data[:TEXT_PREVIEW_BYTES].decode("utf-8", errors="replace")
    return text + ("\n…" if len(data) > TEXT_PREVIEW_BYTES else "")


class CellInspector(QWidget):
    """Shows ``state.cell`` in full; follows ``state.cell_changed``."""

    def __init__(self, state: AppState, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.state = state
        self.cell: CellRef | None = None
        self.image_cell: ImageCell | None = None
        self._source: Path | None = None
        self._token = 0
        self._loader: ThumbnailLoader | None = None
        self._loader_cache: Cache | None = None

        self.title = QLabel("No cell selected", self)
        title_font = self.title.font()
        title_font.setWeight(QFont.Weight.DemiBold)
        self.title.setFont(title_font)
        self.title.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.subtitle = mute(QLabel("", self))
        self.subtitle.setWordWrap(True)
        self.copy_button = QPushButton(icon("copy"), "Copy value", self)
        self.copy_button.setToolTip("Copy the cell's value (text, or JSON for nested values)")
        self.copy_button.clicked.connect(self.copy_value)
        self.copy_button.setEnabled(False)
        head = QHBoxLayout()
        head.setContentsMargins(0, 0, 0, 0)
        titles = QVBoxLayout()
        titles.setSpacing(0)
        titles.addWidget(self.title)
        titles.addWidget(self.subtitle)
        head.addLayout(titles, 1)
        head.addWidget(self.copy_button, 0, Qt.AlignmentFlag.AlignTop)

        self.pages = QStackedWidget(self)
        self.empty = mute(QLabel("Select a cell in a table to see it here in full.", self))
        self.empty.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.empty.setWordWrap(True)
        self.pages.addWidget(self.empty)
        self.pages.addWidget(self._build_image_page())
        self.json_tree = JsonTree(self)
        self.pages.addWidget(self.json_tree)
        self.pages.addWidget(self._build_text_page())
        self.pages.addWidget(self._build_media_page())

        layout = QVBoxLayout(self)
        layout.setContentsMargins(8, 8, 8, 8)
        layout.setSpacing(6)
        layout.addLayout(head)
        layout.addWidget(self.pages, 1)

        state.cell_changed.connect(self.show_cell)
        state.overlay_settings_changed.connect(self._overlays_changed)
        state.cache_changed.connect(self._forget_loader)
        if state.cell is not None:
            self.show_cell(state.cell)

    # -- pages ----------------------------------------------------------------------------------
    def _build_image_page(self) -> QWidget:
        page = QWidget(self)
        self.image_view = ImageView(page)
        self.image_caption = QLabel("", page)
        self.image_caption.setWordWrap(True)
        self.legend = OverlayLegend(self.state, page)
        self.box_list = QTreeWidget(page)
        self.box_list.setHeaderLabels(["Class", "Layer", "Score", "Box (px)"])
        self.box_list.setRootIsDecorated(False)
        self.box_list.setUniformRowHeights(True)
        self.box_list.setAlternatingRowColors(True)
        self.box_list.currentItemChanged.connect(self._box_selected)
        top = QWidget(page)
        top_layout = QVBoxLayout(top)
        top_layout.setContentsMargins(0, 0, 0, 0)
        top_layout.setSpacing(2)
        top_layout.addWidget(self.image_view.make_toolbar(top))
        top_layout.addWidget(self.image_view, 1)
        top_layout.addWidget(self.image_caption)
        bottom = QWidget(page)
        bottom_layout = QVBoxLayout(bottom)
        bottom_layout.setContentsMargins(0, 4, 0, 0)
        bottom_layout.setSpacing(4)
        bottom_layout.addWidget(self.legend)
        bottom_layout.addWidget(self.box_list, 1)
        splitter = QSplitter(Qt.Orientation.Vertical, page)
        splitter.addWidget(top)
        splitter.addWidget(bottom)
        splitter.setStretchFactor(0, 3)
        splitter.setStretchFactor(1, 2)
        layout = QVBoxLayout(page)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(splitter)
        return page

    def _build_text_page(self) -> QWidget:
        page = QWidget(self)
        self.markdown = QCheckBox("Render as Markdown", page)
        self.markdown.toggled.connect(lambda _on: self._show_text())
        self.text = QTextBrowser(page)
        self.text.setOpenExternalLinks(True)
        self.text.setOpenLinks(True)
        layout = QVBoxLayout(page)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.markdown)
        layout.addWidget(self.text, 1)
        self._text_value = ""
        return page

    def _build_media_page(self) -> QWidget:
        page = QWidget(self)
        self.media_info = QLabel("", page)
        self.media_info.setWordWrap(True)
        self.media_info.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.video_player = VideoPlayer(page)
        self.audio_player = AudioPlayer(page)
        self.waveform = self.audio_player.waveform
        self.scene_view = SceneView(page)
        self.media_text = QTextBrowser(page)
        self.media_text.setOpenLinks(False)
        self.open_button = QPushButton(icon("open"), "Open with system app", page)
        self.open_button.clicked.connect(self._open_externally)
        layout = QVBoxLayout(page)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.media_info)
        for viewer in (self.video_player, self.audio_player, self.scene_view):
            layout.addWidget(viewer, 1)
        layout.addWidget(self.media_text, 1)
        layout.addWidget(self.open_button, 0, Qt.AlignmentFlag.AlignLeft)
        layout.addStretch(0)
        for viewer in self._viewers():  # shown per cell; hidden, they add no minimum height
            viewer.hide()
        return page

    # -- showing a cell -------------------------------------------------------------------------
    def show_cell(self, cell: CellRef | None) -> None:
        """Show ``cell`` (None: nothing selected)."""
        self._token += 1
        self.video_player.pause()
        self.audio_player.stop()
        self.cell = cell
        self.image_cell = None
        self._source = None
        self.copy_button.setEnabled(cell is not None)
        if cell is None:
            self.title.setText("No cell selected")
            self.subtitle.setText("")
            self.pages.setCurrentWidget(self.empty)
            return
        self.title.setText(f"{cell.column} · row {cell.row:,}")
        self.subtitle.setText(f"{_kind_text(cell)} · {cell.version.ref} · {cell.table}")
        self.subtitle.setToolTip(cell.arrow_type)
        value = cell.value
        if value is None:
            self._show_plain("null")
        elif cell.kind == "media" and isinstance(value, dict):
            self._show_media(cell, value)
        elif cell.kind == "json" and isinstance(value, str):
            try:
                self._show_tree(json.loads(value))
            except ValueError:
                self._show_plain(value)
        elif isinstance(value, dict | list):
            self._show_tree(value)
        elif isinstance(value, float):
            bits = {"float": 32, "halffloat": 16}.get(cell.arrow_type, 64)  # a float32 column's
            shown = format_number(value, bits)
            note = "" if shown == repr(value) else f"\n\n(shown in the table as {shown})"
            self._show_plain(repr(value) + note)
        elif isinstance(value, bool):
            self._show_plain("true" if value else "false")
        elif isinstance(value, str) and isinstance(cell.other, str):
            self._show_diff(value, cell.other, cell.side or 0)
        else:
            self._show_plain(str(value))

    def _show_diff(self, value: str, other: str, side: int) -> None:
        """A changed string of a comparison: both sides, each with what only it has marked in
        its side's colour."""
        texts = {side: value, 1 - side: other}
        blocks = []
        for s in (0, 1):
            colour = QColor(SIDE_COLOURS[s])
            rgba = f"rgba({colour.red()},{colour.green()},{colour.blue()},0.45)"
            parts = []
            for op, piece in text_diff(texts[1 - s], texts[s]):
                if op == "delete":
                    continue
                piece = html.escape(piece).replace("\n", "<br>")
                parts.append(
                    f"<span style='background:{rgba}'>{piece}</span>" if op == "insert" else piece
                )
            label = f"<b style='color:{SIDE_COLOURS[s]}'>side {s}</b>"
            blocks.append(
                f"<p>{label}<br><span style='font-family:monospace'>{''.join(parts)}</span></p>"
            )
        self._text_value = value
        self.text.setHtml("".join(blocks))
        self.pages.setCurrentIndex(3)

    def _show_plain(self, text: str) -> None:
        self._text_value = text
        self._show_text()
        self.pages.setCurrentIndex(3)

    def _show_text(self) -> None:
        if self.markdown.isChecked():
            self.text.setMarkdown(self._text_value)
        else:
            self.text.setPlainText(self._text_value)

    def _show_tree(self, value: Any) -> None:
        self.json_tree.set_value(value, expand_depth=2)
        self.pages.setCurrentWidget(self.json_tree)

    def _show_media(self, cell: CellRef, record: dict[str, Any]) -> None:
        token = self._token
        image = record.get("_type") == IMAGE_TYPE
        if image:
            self.pages.setCurrentIndex(1)
            self.image_view.clear("Loading…")
            self.box_list.clear()
            self.image_caption.setText(record.get("caption") or "")
        else:
            self.pages.setCurrentIndex(4)
            self.media_info.setText(_media_text(record))
            for w in self._viewers():
                w.hide()
            self.open_button.setEnabled(False)
        run_in_worker(
            prepare_media,
            self.state.cache,
            cell.version,
            record,
            on_result=lambda preview: self._media_ready(token, preview),
            on_error=lambda exc: self._media_ready(token, MediaPreview(None, note=str(exc))),
        )

    def _media_ready(self, token: int, preview: MediaPreview) -> None:
        if token != self._token:
            return
        self._source = preview.source
        if self.pages.currentIndex() == 1:
            if preview.source is None or preview.image is None:
                self.image_view.show_message(preview.note or "Cannot find this image's file")
                return
            self.image_cell = preview.image
            self.image_view.set_image(preview.source)
            self.legend.add_cells([preview.image])
            self._fill_box_list(preview.image)
            self._request_masks()
            return
        self.open_button.setEnabled(preview.source is not None)
        if preview.sound is not None:
            self.audio_player.set_sound(preview.sound, preview.waveform)
            self.audio_player.show()
        if preview.clip is not None:
            self.video_player.set_clip(preview.clip)
            self.video_player.show()
        if preview.scene is not None:
            self.scene_view.set_scene(preview.scene)
            self.scene_view.show()
        if preview.molecule is not None:
            self.scene_view.set_molecule(preview.molecule)
            self.scene_view.show()
        if preview.html is not None:
            self.media_text.setHtml(preview.html)
            self.media_text.show()
        elif preview.text is not None:
            self.media_text.setPlainText(preview.text)
            self.media_text.show()
        if preview.note:
            self.media_info.setText(self.media_info.text() + f"<p><i>{preview.note}</i></p>")

    def _viewers(self) -> tuple[QWidget, ...]:
        return (self.video_player, self.audio_player, self.scene_view, self.media_text)

    # -- image overlays -------------------------------------------------------------------------
    def _mask_loader(self) -> ThumbnailLoader:
        if self._loader is None or self._loader_cache is not self.state.cache:
            self._forget_loader()
            self._loader = ThumbnailLoader(self.state.cache, threads=1, parent=self)
            self._loader_cache = self.state.cache
            self._loader.ready.connect(lambda _r: self._update_overlays())
        return self._loader

    def _forget_loader(self) -> None:
        if self._loader is not None:
            self._loader.close()
            self._loader.deleteLater()
            self._loader = None

    def _mask_requests(self) -> list[tuple[str, ImageRequest]]:
        cell = self.image_cell
        if cell is None or self.cell is None:
            return []
        vid = self.cell.version.id
        return [(m.layer, ImageRequest(vid, m.sha256, m.path, None, MASK)) for m in cell.masks]

    def _request_masks(self) -> None:
        loader = self._mask_loader()
        for _layer, request in self._mask_requests():
            loader.get(request)
        self._update_overlays()

    def _update_overlays(self) -> None:
        if self.image_cell is None:
            return
        masks = {}
        if self._loader is not None:
            for layer, request in self._mask_requests():
                loaded = self._loader.get(request)
                if loaded is not None and loaded.image is not None:
                    masks[layer] = loaded.image
        item = self.box_list.currentItem()
        highlight = item.data(0, Qt.ItemDataRole.UserRole) if item is not None else None
        self.image_view.set_overlays(self.image_cell, self.state.overlay_settings, masks, highlight)

    def _overlays_changed(self, settings: OverlaySettings) -> None:
        self._update_overlays()
        self._grey_hidden_boxes(settings)

    def _fill_box_list(self, cell: ImageCell) -> None:
        self.box_list.clear()
        for box in cell.boxes:
            x0, y0, x1, y1 = box.normalised(float(cell.width or 1), float(cell.height or 1))
            w, h = float(cell.width or 1), float(cell.height or 1)
            scores = ", ".join(f"{k} {v:.3f}" for k, v in box.scores)
            item = QTreeWidgetItem(
                [
                    box.label,
                    box.layer,
                    scores,
                    f"{x0 * w:.0f}, {y0 * h:.0f} – {x1 * w:.0f}, {y1 * h:.0f}",
                ]
            )
            item.setData(0, Qt.ItemDataRole.UserRole, box)
            item.setToolTip(0, box.caption or box.label)
            self.box_list.addTopLevelItem(item)
        for column in range(4):
            self.box_list.resizeColumnToContents(column)
        self._grey_hidden_boxes(self.state.overlay_settings)

    def _grey_hidden_boxes(self, settings: OverlaySettings) -> None:
        dim = self.palette().color(QPalette.ColorGroup.Disabled, QPalette.ColorRole.Text)
        normal = self.palette().color(QPalette.ColorRole.Text)
        for i in range(self.box_list.topLevelItemCount()):
            item = self.box_list.topLevelItem(i)
            box: Box = item.data(0, Qt.ItemDataRole.UserRole)
            colour = normal if box_visible(box, settings) else dim
            for column in range(4):
                item.setForeground(column, colour)

    def _box_selected(self, current: QTreeWidgetItem | None, _previous: object) -> None:
        self._update_overlays()

    # -- actions --------------------------------------------------------------------------------
    def value_text(self) -> str:
        """The cell's value as text: strings as they are, numbers in full, the rest as JSON."""
        cell = self.cell
        if cell is None or cell.value is None:
            return ""
        value = cell.value
        if cell.kind == "media" and isinstance(value, dict):
            return value.get("json") or json.dumps(value, default=str)
        if isinstance(value, bool):
            return "true" if value else "false"
        if isinstance(value, float):
            return repr(value)
        if isinstance(value, dict | list):
            return json.dumps(value, ensure_ascii=False, indent=2, default=str)
        return str(value)

    def copy_value(self) -> None:
        """Put the cell's value on the clipboard."""
        if self.cell is None:
            return
        QGuiApplication.clipboard().setText(self.value_text())
        self.state.status_message.emit(
            f"Copied the value of {self.cell.column}, row {self.cell.row:,}"
        )

    def _open_externally(self) -> None:
        """Open the media file with the system's app (a temp copy named with its suffix)."""
        if self._source is None or self.cell is None or not isinstance(self.cell.value, dict):
            return
        name = Path(self.cell.value.get("path") or "media").name
        folder = Path(tempfile.mkdtemp(prefix="desktopviz-"))
        target = folder / name
        shutil.copyfile(self._source, target)
        QDesktopServices.openUrl(QUrl.fromLocalFile(str(target)))


def _kind_text(cell: CellRef) -> str:
    """A short type for the subtitle (the full Arrow type is its tooltip)."""
    if cell.kind == "media" and isinstance(cell.value, dict):
        return str(cell.value.get("_type") or "media")
    if cell.kind != "plain":
        return cell.kind
    for prefix, short in (
        ("struct", "dict"),
        ("list", "list"),
        ("large_list", "list"),
        ("map", "map"),
    ):
        if cell.arrow_type.startswith(prefix):
            return short
    return cell.arrow_type


def _media_text(record: dict[str, Any]) -> str:
    rows = [("Type", record.get("_type")), ("File", record.get("path"))]
    if record.get("caption"):
        rows.append(("Caption", record["caption"]))
    if record.get("size"):
        rows.append(("Size", f"{record['size']:,} bytes"))
    if record.get("sha256"):
        rows.append(("SHA-256", record["sha256"][:16] + "…"))
    body = "".join(f"<tr><td><b>{k}</b>&nbsp;&nbsp;</td><td>{v}</td></tr>" for k, v in rows if v)
    return f"<table>{body}</table>"
