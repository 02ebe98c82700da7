"""The project page, driven as a user does: opened from the sidebar's project row; the runs table
filtered by typing and sorted by a header click; runs picked from its selection and compared in
the Workspace (overlaid curves, grouping by a config key); the sweep's parallel coordinates; and
the run page's system metrics, git state and files."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest
from PySide6.QtCore import QItemSelectionModel, Qt

from desktopviz.app.widgets.project_page import ProjectPage, project_overview
from desktopviz.demo import PROJECT
from desktopviz.demo_sweep import SWEEP_ID, add_demo_sweep
from tests.app.test_filter_bar import header_click
from tests.app.test_main_window import make_window

SHOTS = Path("/work/notes/shots/i15")


def shoot(widget, name: str) -> None:
    if SHOTS.parent.is_dir():
        SHOTS.mkdir(exist_ok=True)
        widget.grab().save(str(SHOTS / f"{name}.png"))


@pytest.fixture
def sweep_state(app_state):
    add_demo_sweep(app_state.cache)
    return app_state


@pytest.fixture
def window(qtbot, sweep_state, tmp_path):
    return make_window(qtbot, sweep_state, tmp_path)


def open_from_sidebar(qtbot, window) -> ProjectPage:
    tree = window.sidebar.tree
    index = window.sidebar._index_of(PROJECT)
    assert index is not None
    rect = tree.visualRect(index)
    qtbot.mouseClick(tree.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())
    page = window.pages.currentWidget()
    assert isinstance(page, ProjectPage) and page.project == PROJECT
    return page


def wait_rows(qtbot, page: ProjectPage, rows: int) -> None:
    model = page.runs_panel.model
    qtbot.waitUntil(
        lambda: model.result is not None and not model.opening and model.total_rows == rows,
        timeout=10_000,
    )


def column(page: ProjectPage, name: str) -> list:
    model = page.runs_panel.model
    col = [c.name for c in model.columns].index(name)
    return [model.value(model.index(r, col)) for r in range(model.total_rows)]


def test_the_project_opens_from_the_sidebar_with_its_overview(qtbot, window, sweep_state):
    page = open_from_sidebar(qtbot, window)
    assert window.pages.tabText(window.pages.currentIndex()) == PROJECT
    assert page.current_tab() == "overview"
    fields = page.overview.fields
    assert fields["Runs"].text().startswith("10")
    overview = project_overview(sweep_state.cache, PROJECT)
    assert fields["Artifacts"].text().startswith(str(len(overview.artifacts)))
    assert fields["Versions"].text() == str(len(overview.versions))
    assert "trial-4" in page.overview.run_list.text()
    # a second click brings the same page forward
    open_from_sidebar(qtbot, window)
    assert (
        sum(isinstance(window.pages.widget(i), ProjectPage) for i in range(window.pages.count()))
        == 1
    )
    shoot(page, "project_overview")


def test_the_runs_table_filters_by_typing_and_sorts_by_a_header_click(qtbot, window):
    page = open_from_sidebar(qtbot, window)
    page.show_tab("runs")
    panel = page.runs_panel
    wait_rows(qtbot, page, 10)
    editor = panel.filter_bar.editor
    editor.setFocus()
    qtbot.keyClicks(editor, 'row["job_type"] == "sweep"')
    qtbot.keyClick(editor, Qt.Key.Key_Return)
    wait_rows(qtbot, page, 5)
    header_click(qtbot, panel, "summary.best_acc")
    qtbot.waitUntil(
        lambda: not panel.model.opening and bool(panel.model.result.spec.sort), timeout=10_000
    )
    qtbot.waitUntil(lambda: None not in column(page, "summary.best_acc"), timeout=10_000)
    values = column(page, "summary.best_acc")
    assert values == sorted(values) and len(values) == 5
    # the Mongo form, as W&B writes a run's config
    editor.clear()
    qtbot.keyClicks(editor, '{$lt: ["$config.lr", 0.02]}')
    qtbot.keyClick(editor, Qt.Key.Key_Return)
    wait_rows(qtbot, page, 5)  # three trials, and the two training runs (lr 0.001, 0.002)
    qtbot.waitUntil(lambda: None not in column(page, "name"), timeout=10_000)
    assert {n for n in column(page, "name") if n.startswith("trial")} == {
        "trial-2 lr=0.01 bs=32", "trial-3 lr=0.003 bs=64", "trial-4 lr=0.001 bs=64"
    }  # fmt: skip
    shoot(page, "project_runs_filtered")


def test_picked_rows_are_compared_in_the_workspace_and_grouped(qtbot, window):
    page = open_from_sidebar(qtbot, window)
    page.show_tab("runs")
    panel = page.runs_panel
    panel.set_filter('row["sweep"] == "sweep-lr-bs"')
    wait_rows(qtbot, page, 5)
    view, model = panel.view, panel.model
    qtbot.waitUntil(lambda: None not in column(page, "id"), timeout=10_000)
    ids = column(page, "id")
    selection = view.selectionModel()
    for row in (0, 1, 3):
        selection.select(
            model.index(row, 0),
            QItemSelectionModel.SelectionFlag.Select | QItemSelectionModel.SelectionFlag.Rows,
        )
    qtbot.mouseClick(page.compare_button, Qt.MouseButton.LeftButton)
    assert page.current_tab() == "workspace"
    workspace = page.workspace
    assert workspace.picked() == [ids[0], ids[1], ids[3]]
    assert set(workspace.curves["loss"]) == {
        page.state.cache.run(i).name for i in (ids[0], ids[1], ids[3])
    }
    curve = next(iter(workspace.curves["loss"].values()))
    xs, _ys = curve.getData()
    assert len(xs) == 40 and xs[0] == 0
    # smoothing and time on x
    raw = list(curve.getData()[1])
    workspace.set_smoothing(0.8)
    smoothed = list(next(iter(workspace.curves["loss"].values())).getData()[1])
    assert smoothed[0] == raw[0] and smoothed != raw
    workspace.set_x("time")
    assert next(iter(workspace.curves["loss"].values())).getData()[0][0] > 0  # seconds
    workspace.set_x("step")
    # group by a config key: a mean line and a min-max band per group
    workspace.pick(ids)
    workspace.set_group_key("batch_size")
    assert set(workspace.curves["acc"]) == {
        "batch_size=16 (n=1)", "batch_size=32 (n=2)", "batch_size=64 (n=2)"
    }  # fmt: skip
    assert set(workspace.bands["acc"]) == set(workspace.curves["acc"])
    shoot(page, "project_workspace_grouped")


def test_runs_are_picked_by_a_filter(qtbot, window):
    page = open_from_sidebar(qtbot, window)
    page.show_tab("workspace")
    workspace = page.workspace
    workspace.filter.setFocus()
    qtbot.keyClicks(workspace.filter, 'row["config.batch_size"] == 64')
    qtbot.keyClick(workspace.filter, Qt.Key.Key_Return)
    qtbot.waitUntil(
        lambda: workspace.picked() == ["sweep-trial-3", "sweep-trial-4"], timeout=10_000
    )
    assert workspace.filter_note.text() == "2 runs match"


def test_the_sweep_is_drawn_as_parallel_coordinates(qtbot, window):
    page = open_from_sidebar(qtbot, window)
    page.show_tab("sweeps")
    sweeps = page.sweeps
    assert f"sweep {SWEEP_ID}" in sweeps.studies
    sweeps.show_study(f"sweep {SWEEP_ID}")
    sweeps.set_metric("best_acc")
    assert sweeps.axes == ["config.batch_size", "config.lr", "summary.best_acc"]
    assert len(sweeps.lines) == 5
    xs, ys = sweeps.lines["sweep-trial-0"].getData()
    assert list(xs) == [0, 1, 2] and all(0 <= y <= 1 for y in ys)
    assert ys[0] == 0.0  # batch size 16: the axis's bottom
    # the training runs of one job type whose lr differs are a study too
    assert "job type train" in sweeps.studies
    shoot(page, "project_sweeps")


def test_a_new_run_shows_in_the_open_page(qtbot, window, sweep_state):
    from desktopviz.sdk.run import Run

    page = open_from_sidebar(qtbot, window)
    page.show_tab("runs")
    wait_rows(qtbot, page, 10)
    with Run(PROJECT, "sweep", {"lr": 0.5, "batch_size": 8}, dir=sweep_state.cache) as run:
        run.log({"loss": 1.0, "acc": 0.1})
    sweep_state.refresh()
    wait_rows(qtbot, page, 11)
    qtbot.waitUntil(lambda: run.id in column(page, "id"), timeout=10_000)
    assert run.id in [page.workspace.run_list.item(i).data(Qt.ItemDataRole.UserRole + 1)
                      for i in range(page.workspace.run_list.count())]  # fmt: skip


def test_the_run_page_shows_system_metrics_git_and_files(qtbot, window, sweep_state, tmp_path):
    from desktopviz.importing.offline_run import import_offline_run
    from tests.wandb_support import run_script

    page = window.show_run("sweep-trial-2")
    system = page.system
    assert {"cpu", "gpu.0.gpu", "memory_percent"} <= set(system.charts)
    page.tabs.setCurrentWidget(system)
    shoot(page, "run_system")
    assert "Commit" in page.git.text() or "No git state" in page.git.text()
    folder = Path(run_script("sweep_runs.py", "1", base=tmp_path / "wb").split()[0])
    (folder / "files" / "output.log").write_text("epoch 1\nepoch 2\n")
    import_offline_run(sweep_state.cache, folder)
    run = sweep_state.cache.runs("study")[0]
    git = {"remote": "https://example.org/x.git", "commit": "abc123"}
    sweep_state.cache.upsert_run(replace(run, environment={**run.environment, "git": git}))
    run_id = run.id
    run_page = window.show_run(run_id)
    assert "memory_percent" in run_page.system.charts
    assert "abc123" in run_page.git.text() and "example.org" in run_page.git.text()
    assert "output.log" in run_page.files.paths() and "requirements.txt" in run_page.files.paths()
    run_page.tabs.setCurrentWidget(run_page.files)
    item = run_page.files.tree.findItems("output.log", Qt.MatchFlag.MatchExactly)[0]
    qtbot.mouseClick(
        run_page.files.tree.viewport(),
        Qt.MouseButton.LeftButton,
        pos=run_page.files.tree.visualItemRect(item).center(),
    )
    assert run_page.files.preview.toPlainText() == "epoch 1\nepoch 2\n"
    shoot(run_page, "run_files")


def test_the_workspace_goes_to_a_report_and_refreshes(qtbot, window, tmp_path):
    """Workspace > *Add to report…*: the charts land in a report with the runs and metrics that
    made them; a refresh draws them again from the runs' histories."""
    from desktopviz import reports
    from desktopviz.app.widgets.add_to_report_dialog import AddToReportDialog
    from desktopviz.app.widgets.report_page import ReportPage

    page = open_from_sidebar(qtbot, window)
    page.show_tab("workspace")
    workspace = page.workspace
    trials = [r.id for r in window.state.cache.runs(PROJECT) if r.id.startswith("sweep-trial")]
    workspace.pick(trials[:2])
    qtbot.mouseClick(workspace.report_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: any(d.isVisible() for d in window.findChildren(AddToReportDialog)))
    (dialog,) = [d for d in window.findChildren(AddToReportDialog) if d.isVisible()]
    qtbot.keyClicks(dialog.name_edit, "Sweep notes")
    qtbot.mouseClick(dialog.ok_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: isinstance(window.pages.currentWidget(), ReportPage), timeout=5_000)
    report = reports.get(window.state.cache, window.pages.currentWidget().report_id)
    (panel,) = report.blocks
    assert panel.query["kind"] == "runs" and panel.query["run_ids"] == trials[:2]
    assert {"acc", "loss"} <= set(panel.query["keys"])
    assert "runs sweep-trial-0" in reports.describe_query(panel.query)
    svg = reports.render_query(window.state.cache, panel.query)
    assert svg.startswith("<svg") and "sweep-trial-1 · loss" in svg
