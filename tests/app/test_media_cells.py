"""Every media type of a W&B table, from tables the real wandb SDK wrote: video cells show a
poster frame, audio cells a waveform, point clouds and molecules a rendered view; the Inspector
plays video (play/pause, a scrubber), shows audio's waveform with a play control that plays,
turns a point cloud with its boxes under a mouse drag and labels a molecule's atoms."""

from __future__ import annotations

from pathlib import Path

import pytest
from PySide6.QtCore import QPoint, Qt
from PySide6.QtGui import QColor, QImage
from PySide6.QtWidgets import QWidget

from desktopviz.app.models.table_model import VALUE_ROLE
from desktopviz.app.state import AppState
from desktopviz.app.widgets.cell_inspector import CellInspector
from desktopviz.app.widgets.media_views import AUDIO_OUTPUT_ENV
from desktopviz.app.widgets.table_panel import TablePanel
from desktopviz.importing import import_path
from desktopviz.store.cache import Cache
from tests.app.test_cell_inspector import shown_inspector
from tests.app.test_table_panel import click_cell, make_panel  # noqa: F401 - the panel fixture
from tests.wandb_support import build_wandb_artifacts, run_script

THUMB = 120
YELLOW, NAVY = QColor(250, 200, 20), QColor(20, 30, 70)
WAVE = QColor(47, 129, 247)
OXYGEN, CARBON = QColor(255, 13, 13), QColor(144, 144, 144)


@pytest.fixture(scope="module")
def media_dir(tmp_path_factory) -> Path:
    """The artifact folder of a table of every media type, logged by a real (offline) wandb run."""
    base = tmp_path_factory.mktemp("media")
    run_script("media_table.py", str(base), base=base)
    return base / "artifacts" / "media-dataset-v0"


@pytest.fixture
def media_state(qtbot, media_dir, tmp_path):
    with Cache(tmp_path / "cache") as cache:
        import_path(cache, media_dir, project="media")
        state = AppState(cache)
        yield state
        state.engine.close()


@pytest.fixture
def panel(qtbot, media_state, make_panel) -> TablePanel:  # noqa: F811
    p = make_panel(media_state, "media/media-dataset:v0", "media_table.table.json")
    p.resize(900, 600)
    p.set_thumb_size(THUMB)
    return p


@pytest.fixture
def inspector(qtbot, media_state, monkeypatch):
    monkeypatch.setenv(AUDIO_OUTPUT_ENV, "null")  # plays to miniaudio's null device
    widget = shown_inspector(qtbot, media_state, 520)
    yield widget
    widget.show_cell(None)  # stops playback


def column(panel: TablePanel, name: str) -> int:
    return [c.name for c in panel.model.columns].index(name)


def open_cell(qtbot, panel: TablePanel, name: str, viewer: QWidget, row: int = 0) -> None:
    """Click the ``name`` cell of ``row``; wait until the inspector shows it in ``viewer``."""
    click_cell(qtbot, panel, row, column(panel, name))
    qtbot.waitUntil(viewer.isVisible, timeout=10_000)


def near(a: QColor, b: QColor, tolerance: int = 40) -> bool:
    return max(abs(a.red() - b.red()), abs(a.green() - b.green()), abs(a.blue() - b.blue())) <= (
        tolerance
    )


def count(image: QImage, colour: QColor, rect=None, tolerance: int = 40) -> int:
    """Pixels of ``image`` (inside ``rect``) near ``colour``."""
    r = rect or image.rect()
    return sum(
        near(image.pixelColor(x, y), colour, tolerance)
        for x in range(max(0, r.left()), min(image.width(), r.right() + 1))
        for y in range(max(0, r.top()), min(image.height(), r.bottom() + 1))
    )


def wait_thumbnails(qtbot, panel: TablePanel, names: list[str], rows=(0, 1)) -> QImage:
    """Scroll to each media cell and wait until its thumbnail is decoded (without error); grab
    the view."""
    view = panel.view
    for row in rows:
        for name in names:
            index = panel.model.index(row, column(panel, name))
            qtbot.waitUntil(lambda i=index: i.data(VALUE_ROLE) is not None, timeout=10_000)
            view.scrollTo(index)
            request = panel.delegate.media_request(
                index.data(VALUE_ROLE), view.visualRect(index), view.devicePixelRatioF()
            )
            assert request is not None, name
            view.viewport().repaint()
            qtbot.waitUntil(lambda r=request: panel.loader.cached(r), timeout=20_000)
            loaded = panel.loader.get(request)
            assert loaded.image is not None, (name, loaded.error)
    view.viewport().repaint()
    return view.viewport().grab().toImage()


def cell_rect(panel: TablePanel, row: int, name: str):
    return panel.view.visualRect(panel.model.index(row, column(panel, name)))


def test_media_cells_show_thumbnails(qtbot, panel):
    image = wait_thumbnails(qtbot, panel, ["video", "audio", "cloud", "molecule"])
    image.save(str(Path("/tmp") / "media-cells.png"))
    for row in (0, 1):  # MP4 and GIF: the first frame, a yellow bar on navy
        rect = cell_rect(panel, row, "video")
        assert count(image, YELLOW, rect) > 50, row
        assert count(image, NAVY, rect) > 500, row
        assert count(image, WAVE, cell_rect(panel, row, "audio"), 30) > 300, row
    cloud = cell_rect(panel, 0, "cloud")  # points in their own colours, the boxes' edges
    assert count(image, QColor(230, 40, 40), cloud, 90) > 30
    assert count(image, QColor(40, 200, 60), cloud, 90) > 30
    categories = cell_rect(panel, 1, "cloud")  # nx4 points: coloured by category
    assert count(image, QColor(230, 25, 75), categories, 90) > 5
    assert count(image, QColor(60, 180, 75), categories, 90) > 5
    ethanol = cell_rect(panel, 0, "molecule")
    assert count(image, OXYGEN, ethanol, 60) > 10 and count(image, CARBON, ethanol, 30) > 10
    assert count(image, OXYGEN, cell_rect(panel, 1, "molecule"), 60) > 10  # water
    # each type's badge is drawn over its thumbnail; the tooltip text stays the caption
    assert panel.model.index(0, column(panel, "video")).data(VALUE_ROLE)["caption"] == "bar mp4"


def test_the_sdk_fixture_cells_render(qtbot, tmp_path, make_panel):  # noqa: F811
    """The media cells of the shared wandb fixture (tests/formats/wandb_scripts) all decode:
    video, audio, object3D and molecule get thumbnails; HTML stays an entry with its badge."""
    built = build_wandb_artifacts(tmp_path / "wb")
    assert {"audio", "video", "object3d", "molecule", "html"} <= set(built["media"])
    with Cache(tmp_path / "cache") as cache:
        import_path(cache, tmp_path / "wb" / "artifacts", project="compat")
        state = AppState(cache)
        try:
            p = make_panel(state, "compat/demo-dataset:v0", "dataset_table.table.json")
            p.set_thumb_size(THUMB)
            wait_thumbnails(qtbot, p, ["audio", "video", "object3d", "molecule"], rows=(0,))
            html = p.model.index(0, column(p, "html")).data(VALUE_ROLE)
            assert p.delegate.media_request(html, p.view.visualRect(p.model.index(0, 0))) is None
            p.close()
        finally:
            state.engine.close()


def frame_shot(inspector: CellInspector) -> QImage:
    view = inspector.video_player.view
    view.repaint()
    return view.grab().toImage()


def yellow_columns(image: QImage) -> list[int]:
    y = image.height() // 2
    return [x for x in range(image.width()) if near(image.pixelColor(x, y), YELLOW, 60)]


@pytest.mark.parametrize("row", [0, 1], ids=["mp4", "gif"])
def test_the_inspector_plays_video(qtbot, panel, inspector, row):
    player = inspector.video_player
    open_cell(qtbot, panel, "video", player, row)
    assert player.clip is not None and len(player.clip.frames) >= 7
    first = frame_shot(inspector)
    start = yellow_columns(first)
    assert start, "the first frame shows the bar"
    # the scrubber: End goes to the last frame, whose bar stands further right
    player.scrubber.setFocus()
    qtbot.keyClick(player.scrubber, Qt.Key.Key_End)
    assert player.frame_index == len(player.clip.frames) - 1
    last = frame_shot(inspector)
    assert last != first and min(yellow_columns(last)) > min(start)
    assert player.time_label.text().startswith("0:0")
    # a click on the scrubber's left end goes back towards the start
    bar = player.scrubber
    qtbot.mouseClick(bar, Qt.MouseButton.LeftButton, pos=QPoint(3, bar.height() // 2))
    assert player.frame_index < len(player.clip.frames) - 1
    # play runs the frames on, pause stops them
    qtbot.keyClick(player.scrubber, Qt.Key.Key_Home)
    qtbot.mouseClick(player.play_button, Qt.MouseButton.LeftButton)
    assert player.playing
    qtbot.waitUntil(lambda: player.frame_index >= 3, timeout=5_000)
    assert frame_shot(inspector) != first
    qtbot.mouseClick(player.play_button, Qt.MouseButton.LeftButton)
    assert not player.playing
    stopped = player.frame_index
    qtbot.wait(200)
    assert player.frame_index == stopped


def test_the_inspector_shows_and_plays_audio(qtbot, panel, inspector):
    player = inspector.audio_player
    open_cell(qtbot, panel, "audio", player)
    assert inspector.waveform is player.waveform
    envelope = player.waveform.envelope
    assert len(envelope) > 100 and envelope[:, 1].max() == pytest.approx(0.6, abs=0.03)
    shot = player.waveform.grab().toImage()
    highlight = player.waveform.palette().color(player.waveform.palette().ColorRole.Highlight)
    assert count(shot, highlight, tolerance=10) > 500
    assert player.play_button.isEnabled()
    assert player.time_label.text() == "0:00.0 / 0:01.5"
    qtbot.mouseClick(player.play_button, Qt.MouseButton.LeftButton)
    assert player.playing, player.status.text()
    qtbot.waitUntil(lambda: (player.waveform.playhead or 0) > 0.2, timeout=5_000)  # it moves
    assert player.position > 0.3 and player.time_label.text() != "0:00.0 / 0:01.5"
    qtbot.mouseClick(player.play_button, Qt.MouseButton.LeftButton)
    assert not player.playing
    # a click on the waveform moves the playhead there
    wave = player.waveform
    qtbot.mouseClick(wave, Qt.MouseButton.LeftButton, pos=QPoint(wave.width() * 3 // 4, 20))
    assert player.position == pytest.approx(1.5 * 0.75, abs=0.1)


def canvas_shot(inspector: CellInspector) -> QImage:
    canvas = inspector.scene_view.canvas
    canvas.repaint()
    return canvas.grab().toImage()


def drag(qtbot, widget, start: QPoint, end: QPoint) -> None:
    qtbot.mousePress(widget, Qt.MouseButton.LeftButton, pos=start)
    for k in range(1, 6):
        qtbot.mouseMove(widget, start + (end - start) * k / 5)
    qtbot.mouseRelease(widget, Qt.MouseButton.LeftButton, pos=end)


def test_a_point_cloud_turns_under_a_drag(qtbot, panel, inspector):
    view = inspector.scene_view
    open_cell(qtbot, panel, "cloud", view)
    assert "800 points · 2 boxes" in view.info.text()
    before = canvas_shot(inspector)
    before.save("/tmp/media-cloud.png")
    assert count(before, QColor(230, 40, 40), tolerance=90) > 200  # the points' own colours
    assert count(before, QColor(255, 76, 76), tolerance=25) > 40  # the "car" box's edges
    canvas = view.canvas
    centre = canvas.rect().center()
    drag(qtbot, canvas, centre, centre + QPoint(120, 40))
    after = canvas_shot(inspector)
    assert after != before
    assert view.camera.yaw != pytest.approx(-0.6)
    changed = sum(
        before.pixelColor(x, y) != after.pixelColor(x, y)
        for x in range(0, before.width(), 4)
        for y in range(0, before.height(), 4)
    )
    assert changed > 100
    qtbot.mouseDClick(canvas, Qt.MouseButton.LeftButton, pos=centre)  # back to the first view
    assert canvas_shot(inspector) == before


def test_a_molecule_shows_labelled_atoms(qtbot, panel, inspector):
    view = inspector.scene_view
    open_cell(qtbot, panel, "molecule", view)
    assert "C2H6O · 9 atoms · 8 bonds" in view.info.text()
    labelled = canvas_shot(inspector)
    labelled.save("/tmp/media-molecule.png")
    assert count(labelled, OXYGEN, tolerance=60) > 50 and count(labelled, CARBON, tolerance=20) > 50
    box = view.labels
    qtbot.mouseClick(box, Qt.MouseButton.LeftButton, pos=QPoint(8, box.height() // 2))
    assert not box.isChecked()
    plain = canvas_shot(inspector)
    # the labels are dark or white letters on the atoms: they go with the check box
    dark = QColor(20, 20, 20)
    assert count(labelled, dark, tolerance=30) > count(plain, dark, tolerance=30) + 20
    drag(qtbot, view.canvas, QPoint(100, 100), QPoint(40, 160))
    assert canvas_shot(inspector) != plain
