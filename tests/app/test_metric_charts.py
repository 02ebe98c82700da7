"""A run's page shows its metric history as line charts: the first metrics drawn, each curve the
logged values by step over that metric's own steps (a metric logged once beside a table neither
vanishes nor squashes the others); ticking a metric in the list adds its curve; a run without
history says so; a run that logs more is charted again, keeping the metrics ticked."""

from __future__ import annotations

from PySide6.QtCore import QPoint, Qt
from PySide6.QtGui import QColor

from desktopviz.app.palette import class_colour
from desktopviz.app.widgets.metric_charts import metric_series
from desktopviz.app.widgets.run_page import RunPage
from desktopviz.sdk.run import Run
from desktopviz.sdk.table import Table


def run_page(qtbot, app_state, run_id: str) -> RunPage:
    page = RunPage(app_state, app_state.cache.run(run_id))
    page.resize(1000, 700)
    qtbot.addWidget(page)
    page.show()
    qtbot.waitExposed(page)
    return page


def test_the_run_page_charts_its_metrics(qtbot, app_state):
    run = app_state.cache.run("train-wide-resnet")
    page = run_page(qtbot, app_state, run.id)
    charts = page.metrics
    assert page.tabs.tabText(page.tabs.currentIndex()) == "Metrics"
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
    page = run_page(qtbot, app_state, "eval-wide-resnet")
    assert page.metrics.series == {}
    assert not page.metrics.empty_note.isHidden() and page.metrics.plot.isHidden()
    assert page.tabs.tabText(page.tabs.currentIndex()) == "Config"


def colour_pixels(chart, colour: QColor) -> int:
    """Pixels of a chart (as painted in its window) within a small distance of ``colour``."""
    image = chart.getViewWidget().grab(chart.sceneBoundingRect().toRect()).toImage()
    return sum(
        1
        for y in range(image.height())
        for x in range(image.width())
        if abs(image.pixelColor(x, y).red() - colour.red()) < 24
        and abs(image.pixelColor(x, y).green() - colour.green()) < 24
        and abs(image.pixelColor(x, y).blue() - colour.blue()) < 24
    )


def test_each_metric_is_charted_over_its_own_steps(qtbot, app_state):
    # a training run (the real SDK, writing into the cache) logs a loss for 50 steps and, at
    # step 4, a table of samples together with a metric it logs only then
    with Run("street-scenes", "train", dir=app_state.cache, name="long-train") as run:
        for step in range(50):
            row = {"loss": 2.0 / (step + 1)}
            if step == 4:
                row |= {"samples": Table(columns=["a"], data=[[1], [2]]), "eval_iou": 0.61}
            run.log(row)
    page = run_page(qtbot, app_state, run.id)
    charts = page.metrics
    assert charts.shown() == ["eval_iou", "loss"]
    for name in charts.shown():
        steps = charts.series[name][0]
        low, high = charts.charts[name].viewRange()[0]
        assert low <= min(steps) and max(steps) <= high, (name, low, high)
    assert charts.charts["loss"].viewRange()[0][1] - charts.charts["loss"].viewRange()[0][0] > 45
    # the lone point is drawn where a user sees it (a dot in its colour, not a hairline)
    lone = list(charts.series).index("eval_iou")
    assert colour_pixels(charts.charts["eval_iou"], class_colour(lone)) > 20


def test_a_run_that_logs_more_is_charted_again(qtbot, app_state, tmp_path):
    run = Run("street-scenes", "train", dir=app_state.cache, name="live")
    for step in range(5):
        run.log({"loss": 1.0 / (step + 1), "lr": 0.1})
    run._flush()
    page = run_page(qtbot, app_state, run.id)
    page.metrics.show_metrics(["loss"])
    for step in range(5, 20):
        run.log({"loss": 1.0 / (step + 1), "lr": 0.1, "grad_norm": 3.0})
    run.finish()
    page.reload()
    assert page.metrics.shown() == ["loss"]
    assert page.metrics.charts["loss"].viewRange()[0][1] >= 19
    assert "grad_norm" in page.metrics.series
    assert page.fields["State"].text() == "finished"


def test_metric_series_keeps_numbers_in_step_order():
    history = [
        (0, {"loss": 1.0, "_runtime": 3, "tag": "a", "ok": True}),
        (2, {"loss": float("nan")}),
        (3, {"loss": 0.5, "acc": 1}),
    ]
    assert metric_series(history) == {"acc": ([3], [1.0]), "loss": ([0, 3], [1.0, 0.5])}
