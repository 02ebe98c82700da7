"""A version page: Overview (runs, snippets), Files -> Table, one sub-tab per (visible) table."""

from __future__ import annotations

import json

from PySide6.QtCore import Qt
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import QLabel

from desktopviz.app.widgets.overview import Overview, usage_snippets, visible_tables
from desktopviz.app.widgets.run_page import RunPage
from desktopviz.app.widgets.version_page import VersionPage
from desktopviz.model import TableInfo


def page_for(qtbot, app_state, ref: str) -> VersionPage:
    page = VersionPage(app_state, app_state.cache.resolve(ref))
    page.resize(1100, 760)
    qtbot.addWidget(page)
    page.show()
    qtbot.waitExposed(page)
    return page


def click_link(qtbot, label: QLabel, href: str) -> None:
    """Activate a link of a rich-text label as a click would (Qt routes it to linkActivated)."""
    assert f'href="{href}"' in label.text()
    label.linkActivated.emit(href)


def test_overview_shows_what_the_version_is(qtbot, app_state):
    page = page_for(qtbot, app_state, "scene-predictions:v1")
    overview = page.overview
    assert page.current_tab() == "overview"
    assert "scene-predictions" in overview.title.text() and "v1" in overview.title.text()
    assert overview.chips.aliases == ("latest", "staging")
    assert overview.description.text() == "Predictions of wide-resnet on the street scenes"
    assert overview.reference.text() == "street-scenes/scene-predictions:v1"
    assert overview.digest.text() == page.version.digest
    assert "MB in 244 files" in overview.size_label.text()
    assert "eval-wide-resnet" in overview.producer.text()
    metadata = overview.metadata
    assert {metadata.topLevelItem(i).text(0) for i in range(metadata.topLevelItemCount())} == {
        "mean_iou",
        "model",
    }
    assert overview.chips.grab().toImage().pixelColor(4, overview.chips.height() // 2).alpha()


def test_overview_producer_and_consumer_links_open_the_run(qtbot, app_state):
    page = page_for(qtbot, app_state, "street-scenes-dataset:v0")
    overview = page.overview
    assert "build-dataset" in overview.producer.text()
    consumers = overview.consumers.text()
    for run in ("eval-baseline", "eval-wide-resnet", "train-baseline", "train-wide-resnet"):
        assert run in consumers
    with qtbot.waitSignal(app_state.run_requested) as signal:
        click_link(qtbot, overview.consumers, "run:train-baseline")
    assert signal.args == ["train-baseline"]

    run_page = RunPage(app_state, app_state.cache.run("train-baseline"))
    qtbot.addWidget(run_page)
    config = run_page.trees["Config"]
    values = {
        config.topLevelItem(i).text(0): config.topLevelItem(i).text(1)
        for i in range(config.topLevelItemCount())
    }
    assert values["lr"] == "0.001" and values["model"] == "baseline"
    assert "scene-detector:v0" in run_page.logged.text()
    assert "street-scenes-dataset:v0" in run_page.used.text()
    with qtbot.waitSignal(app_state.open_version_requested) as opened:
        run_page.logged.linkActivated.emit(run_page.logged.text().split('"')[1])
    assert opened.args[0].ref == "street-scenes/scene-detector:v0"


def test_snippet_copy_button(qtbot, app_state):
    page = page_for(qtbot, app_state, "scene-predictions:v1")
    overview: Overview = page.overview
    QGuiApplication.clipboard().clear()
    qtbot.mouseClick(overview.copy_buttons["desktopviz"], Qt.MouseButton.LeftButton)
    text = QGuiApplication.clipboard().text()
    assert text.startswith("import desktopviz as dv")
    assert 'artifact = run.use_artifact("scene-predictions:v1")' in text
    assert 'table = artifact.get("joined")' in text
    overview.snippet_tabs.setCurrentIndex(1)
    qtbot.mouseClick(overview.copy_buttons["wandb"], Qt.MouseButton.LeftButton)
    assert QGuiApplication.clipboard().text().startswith("import wandb\n")


def test_snippets_without_tables_download():
    from desktopviz.model import Version

    v = Version(1, 1, "p", "weights", "model", 3, "d", None, {}, "", 0, 0)
    snippets = usage_snippets(v, [])
    assert 'run.use_artifact("weights:v3")' in snippets["wandb"]
    assert "folder = artifact.download()" in snippets["wandb"]


def test_table_tab_has_one_sub_tab_per_visible_table(qtbot, app_state):
    page = page_for(qtbot, app_state, "scene-predictions:v1")
    assert [page.tables.tabText(i) for i in range(page.tables.count())] == ["joined"]
    assert page.table_panels() == []
    with qtbot.waitSignal(app_state.table_changed) as signal:
        page.show_tab("table")
    assert signal.args[1] == "joined.joined-table.json"
    (panel,) = page.table_panels()
    qtbot.waitUntil(lambda: panel.model.rowCount() == 120)


def test_table_file_in_files_tab_focuses_the_table_tab(qtbot, app_state):
    page = page_for(qtbot, app_state, "street-scenes-dataset:v0")
    page.show_tab("files")
    files = page.files
    row = next(
        files.model.index(r, 0)
        for r in range(files.model.rowCount())
        if files.model.item(r).text() == "samples.table.json"
    )
    qtbot.mouseClick(
        files.tree.viewport(), Qt.MouseButton.LeftButton, pos=files.tree.visualRect(row).center()
    )
    assert page.current_tab() == "table"
    assert page.tables.currentWidget().table == "samples.table.json"
    panel = page.tables.currentWidget().panel
    qtbot.waitUntil(lambda: panel.model.rowCount() == 120)


def test_a_hidden_side_opens_on_request(qtbot, app_state):
    page = page_for(qtbot, app_state, "scene-predictions:v1")
    panel = page.show_table("predictions.table.json")
    qtbot.waitUntil(lambda: panel.model.rowCount() == 120)
    assert [page.tables.tabText(i) for i in range(page.tables.count())] == [
        "joined",
        "predictions",
    ]
    assert page.show_table("no-such-table") is None


def test_version_without_tables_says_so(qtbot, app_state):
    page = page_for(qtbot, app_state, "scene-detector:v0")
    page.show_tab("table")
    assert page.no_tables.isVisible() and not page.tables.isVisible()


def _info(path: str, kind: str, wandb: dict) -> TableInfo:
    return TableInfo(1, path, kind, "x.parquet", json.dumps({"columns": [], "wandb": wandb}), 3)


def test_visible_tables_hide_parts_and_sides():
    tables = [
        _info("a.table.json", "table", {}),
        _info("b.table.json", "table", {}),
        _info(
            "j.joined-table.json",
            "joined-table",
            {"table1": "a.table.json", "table2": "b.table.json"},
        ),
        _info("parts/p0.table.json", "table", {}),
        _info("parts/p1.table.json", "table", {}),
        _info(
            "p.partitioned-table.json",
            "partitioned-table",
            {"parts": ["parts/p0.table.json", "parts/p1.table.json"]},
        ),
        _info("plain.csv", "csv", {}),
    ]
    assert [t.path for t in visible_tables(tables)] == [
        "j.joined-table.json",
        "p.partitioned-table.json",
        "plain.csv",
    ]
