"""A run's page shows its metric history as line charts: the first metrics drawn, each curve the
logged values by step; ticking a metric in the list adds its curve; a run without history says
so."""

from __future__ import annotations

from PySide6.QtCore import QPoint, Qt

from desktopviz.app.widgets.metric_charts import metric_series
from desktopviz.app.widgets.overview import RunDialog


def test_the_run_page_charts_its_metrics(qtbot, app_state):
    run = app_state.cache.run("train-wide-resnet")
    dialog = RunDialog(app_state, run)
    qtbot.addWidget(dialog)
    dialog.show()
    charts = dialog.metrics
    assert dialog.tabs.tabText(dialog.tabs.currentIndex()) == "Metrics"
    history = app_state.cache.history(run.id)
    # one chart per metric, each on its own scale; the epoch counter is listed, not drawn
    assert charts.shown() == ["accuracy", "loss", "val_loss"]
    assert set(charts.charts) == {"accuracy", "loss", "val_loss"}
    assert charts.charts["accuracy"].viewRange()[1][1] <= 1.5
    xs, ys = charts.curves["loss"].getData()
    assert list(xs) == [step for step, _ in history]
    assert list(ys) == [row["loss"] for _, row in history]
    item = charts.list.findItems("epoch", Qt.MatchFlag.MatchExactly)[0]
    rect = charts.list.visualItemRect(item)
    check = rect.left() + rect.height() // 2  # the check box sits at the row's start
    qtbot.mouseClick(
        charts.list.viewport(),
        Qt.MouseButton.LeftButton,
        pos=QPoint(check, rect.center().y()),
    )
    assert "epoch" in charts.shown() and "epoch" in charts.charts
    charts.show_metrics(["accuracy"])
    assert charts.shown() == ["accuracy"]


def test_a_run_without_history_says_so(qtbot, app_state):
    dialog = RunDialog(app_state, app_state.cache.run("eval-wide-resnet"))
    qtbot.addWidget(dialog)
    assert dialog.metrics.series == {}
    assert dialog.tabs.tabText(dialog.tabs.currentIndex()) == "Config"


def test_metric_series_keeps_numbers_in_step_order():
    history = [
        (0, {"loss": 1.0, "_runtime": 3, "tag": "a", "ok": True}),
        (2, {"loss": float("nan")}),
        (3, {"loss": 0.5, "acc": 1}),
    ]
    assert metric_series(history) == {"acc": ([3], [1.0]), "loss": ([0, 3], [1.0, 0.5])}
