"""The Files tab: the file tree and the preview of images, JSON, text, tables and references."""

from __future__ import annotations

import pytest
from PySide6.QtCore import QModelIndex, Qt

from desktopviz.app.widgets.files_tab import PATH_ROLE, FilesTab, preview_kind_of


def files_tab(qtbot, app_state, ref: str) -> FilesTab:
    tab = FilesTab(app_state, app_state.cache.resolve(ref))
    tab.resize(1000, 640)
    qtbot.addWidget(tab)
    tab.show()
    qtbot.waitExposed(tab)
    return tab


def click_path(qtbot, tab: FilesTab, path: str) -> None:
    """Expand the folders down to ``path`` and click its row."""
    parent = QModelIndex()
    parts = path.rstrip("/").split("/")
    folder = path.endswith("/")
    for depth in range(len(parts)):
        want = "/".join(parts[: depth + 1]) + ("/" if depth < len(parts) - 1 or folder else "")
        rows = [tab.model.index(r, 0, parent) for r in range(tab.model.rowCount(parent))]
        (index,) = [i for i in rows if i.data(PATH_ROLE) == want]
        if depth < len(parts) - 1:
            tab.tree.expand(index)
        parent = index
    tab.tree.scrollTo(parent)
    qtbot.mouseClick(
        tab.tree.viewport(), Qt.MouseButton.LeftButton, pos=tab.tree.visualRect(parent).center()
    )


def test_tree_lists_folders_and_files_with_size_and_digest(qtbot, app_state):
    tab = files_tab(qtbot, app_state, "street-scenes-dataset:v0")
    top = [tab.model.item(r).text() for r in range(tab.model.rowCount())]
    assert top == ["media", "classes.classes.json", "samples.table.json"]
    media = tab.model.item(0)
    assert media.data(PATH_ROLE) == "media/"
    assert tab.model.item(0, 2).text() == f"{len(tab.entries) - 2:,} files"
    table_row = tab.model.index(2, 0)
    entry = tab.entries["samples.table.json"]
    digest = table_row.siblingAtColumn(2)
    assert tab.model.data(digest) == entry.sha256[:8]
    assert entry.sha256 in tab.model.data(digest, Qt.ItemDataRole.ToolTipRole)
    assert tab.model.data(table_row.siblingAtColumn(1)).endswith(("KB", "MB"))


def test_selecting_an_image_shows_it(qtbot, app_state):
    tab = files_tab(qtbot, app_state, "street-scenes-dataset:v0")
    image = next(p for p in sorted(tab.entries) if p.startswith("media/images/"))
    click_path(qtbot, tab, image)
    assert tab.preview_kind == "image"
    qtbot.waitUntil(tab.image_view.has_image)
    assert tab.image_view.image().width() > 0
    assert tab.name_label.text() == image
    assert "sha256" in tab.info_label.text()
    shot = tab.image_view.viewport().grab().toImage()
    centre = shot.pixelColor(shot.width() // 2, shot.height() // 2)
    assert centre != tab.image_view.palette().color(tab.image_view.backgroundRole())


def test_selecting_a_json_file_shows_a_collapsible_tree(qtbot, app_state):
    tab = files_tab(qtbot, app_state, "street-scenes-dataset:v0")
    click_path(qtbot, tab, "classes.classes.json")
    qtbot.waitUntil(lambda: tab.preview_kind == "json")
    tree = tab.json_tree
    keys = [tree.topLevelItem(i).text(0) for i in range(tree.topLevelItemCount())]
    assert keys == ["_type", "class_set"]
    class_set = tree.topLevelItem(1)
    assert class_set.text(1) == "[8 items]"
    assert class_set.isExpanded()
    assert class_set.child(1).text(1) == '{"id": 1, "name": "car"}'
    class_set.setExpanded(False)
    assert not class_set.isExpanded()


def test_a_reference_says_where_it_points_and_opens_the_source(qtbot, app_state):
    tab = files_tab(qtbot, app_state, "scene-predictions:v1")
    image = next(p for p, e in sorted(tab.entries.items()) if e.ref and p.endswith(".png"))
    click_path(qtbot, tab, image)
    assert tab.ref_label.isVisible()
    assert tab.ref_label.text() == (
        f"Reference to street-scenes/street-scenes-dataset:v0 · {tab.entries[image].ref_path}"
    )
    with qtbot.waitSignal(app_state.file_requested) as signal:
        qtbot.mouseClick(tab.open_source_button, Qt.MouseButton.LeftButton)
    source, path = signal.args
    assert (source.name, path) == ("street-scenes-dataset", tab.entries[image].ref_path)
    qtbot.waitUntil(tab.image_view.has_image)


def test_clicking_a_table_file_asks_for_the_table_tab(qtbot, app_state):
    tab = files_tab(qtbot, app_state, "scene-predictions:v1")
    with qtbot.waitSignal(tab.table_requested) as signal:
        click_path(qtbot, tab, "predictions.table.json")
    assert signal.args == ["predictions.table.json"]
    assert tab.preview_kind == "table"
    assert "120 rows" in tab.table_note.text()


def test_folder_shows_its_count(qtbot, app_state):
    tab = files_tab(qtbot, app_state, "street-scenes-dataset:v0")
    click_path(qtbot, tab, "media/")
    assert tab.preview_kind == "folder"
    assert tab.message.text() == f"{len(tab.entries) - 2:,} files in media/"


def test_text_and_markdown_previews(qtbot, app_state, tmp_path):
    from desktopviz.importing import import_path

    folder = tmp_path / "notes"
    folder.mkdir()
    (folder / "README.md").write_text("# Notes\n\nSome *words*.\n")
    (folder / "train.log").write_text("epoch 1 loss 0.5\n")
    (folder / "weights.bin").write_bytes(bytes(range(256)))
    (result,) = import_path(app_state.cache, folder, project="p")
    tab = files_tab(qtbot, app_state, "p/notes:v0")
    click_path(qtbot, tab, "README.md")
    qtbot.waitUntil(lambda: tab.preview_kind == "markdown")
    assert "Some words." in tab.markdown_view.toPlainText()
    click_path(qtbot, tab, "train.log")
    qtbot.waitUntil(lambda: tab.preview_kind == "text")
    assert tab.text_view.toPlainText() == "epoch 1 loss 0.5\n"
    click_path(qtbot, tab, "weights.bin")
    assert tab.preview_kind == "binary"


@pytest.mark.parametrize(
    ("path", "kind"),
    [
        ("a/b.table.json", "table"),
        ("x.parquet", "table"),
        ("x.CSV", "table"),
        ("media/images/a.png", "image"),
        ("classes.classes.json", "json"),
        ("README.md", "markdown"),
        ("LICENSE", "text"),
        ("model.npz", "binary"),
    ],
)
def test_preview_kind_of(path, kind):
    assert preview_kind_of(path) == kind
