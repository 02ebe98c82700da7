"""Analysis panels on a 10M-row table (offscreen, 1400x900): the time from a user's action to
the screen that answers it, against the same query through the Python API in the same process
(the engine alone), so the ratio is what the panel adds (worker hop, model pages, paint).

    python bench/panel_bench.py --keep /tmp/dv-q10m      # the tables of bench/query_bench.py

Each action starts from the plain table with every cached result forgotten (a cold query), and
is timed to the first paint of the table's viewport that shows the new rows (or, for the Charts
panel, to the bars being drawn; for export and "Save as new version", to the job's end).
Median of ``--repeat`` runs.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from gui_bench import PaintClock, open_panel, wait_until  # noqa: E402
from query_bench import build  # noqa: E402

FILTER = 'row["score"] > 0.5 and row["label"] == "cat"'
SMALL = 'row["score"] > 0.99 and row["label"] == "cat"'
"""A subset of about 12,000 rows (for Save as new version)."""


def timed(repeat: int, prepare: Callable[[], None], act: Callable[[], Callable[[], bool]]) -> float:
    """Median ms from ``act()`` to its returned condition holding (``prepare`` runs untimed)."""
    times = []
    for _ in range(repeat):
        prepare()
        t0 = time.perf_counter()
        done = act()
        times.append((wait_until(done, timeout=300) - t0) * 1000)
    return statistics.median(times)


def engine_ms(repeat: int, engine, fn: Callable[[], object]) -> float:  # noqa: ANN001
    """Median ms of ``fn`` with the engine's results forgotten before each call."""
    times = []
    for _ in range(repeat):
        engine.clear()
        t0 = time.perf_counter()
        fn()
        times.append((time.perf_counter() - t0) * 1000)
    return statistics.median(times)


def main() -> int:  # noqa: PLR0915 - one table of measures
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("--rows", type=int, default=10_000_000)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--keep", metavar="DIR", help="query_bench's folder (built when missing)")
    args = ap.parse_args()

    import os

    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    work = Path(args.keep) if args.keep else Path(tempfile.mkdtemp(prefix="dv-pbench-"))
    work.mkdir(parents=True, exist_ok=True)
    if not (work / "cache").exists():
        build(work, args.rows)
        (work / "arrow_mb.txt").write_text("0")

    import desktopviz as dv
    from desktopviz.app.launch import create_application
    from desktopviz.app.state import AppState
    from desktopviz.app.widgets.charts_panel import ChartsPanel
    from desktopviz.query.charts import distribution
    from desktopviz.query.export import export_result
    from desktopviz.query.spec import QuerySpec
    from desktopviz.sdk.subset import save_as_version
    from desktopviz.store.cache import Cache

    create_application(["panel-bench"], "light")
    cache = Cache(work / "cache")
    state = AppState(cache)
    engine = state.engine
    api = dv.open_cache(work / "cache")
    api_engine = api._engine()
    source = cache.resolve("bench/preds:v0")
    table = cache.tables(source)[0].path

    def query() -> dv.query.api.Query:
        return api.table("bench/preds:v0")

    open_times = []
    for _ in range(args.repeat):
        engine.clear()
        panel, ms = open_panel(state, "bench/preds:v0")
        open_times.append(ms)
        panel.close()
        panel.deleteLater()
    panel, _ = open_panel(state, "bench/preds:v0")
    clock = PaintClock(panel.view.viewport())
    model = panel.model
    columns = [c.name for c in model.columns]

    def plain() -> None:
        """The plain table, nothing left running from the last action, nothing cached."""
        wait_until(
            lambda: (
                panel.compare_tool.summary_worker is None
                or panel.compare_tool.summary_worker.is_done
            )
        )
        panel.filter_bar.set_text("")  # nothing typed in the filter box either
        panel.set_spec(QuerySpec())
        wait_until(lambda: model.result is not None and model.result.spec == panel.spec)
        engine.clear()
        panel.compare_tool.summary_for = None  # the diff summary is computed again
        panel.compare_bar.set_summary(None, "")

    arrived: list[float] = []  # when results, and the first page of rows, reached the model
    model.ready.connect(lambda *_: arrived.append(time.perf_counter()))
    model.page_loaded.connect(lambda start: start == 0 and arrived.append(time.perf_counter()))

    def shown() -> Callable[[], bool]:
        """A condition: the panel's spec is the result's, row 0 is loaded, and the viewport was
        painted after the data that shows it arrived."""
        seen: list[float] = []

        def check() -> bool:
            if not seen and (
                model.result is not None
                and model.result.spec == panel.spec
                and (model.total_rows == 0 or model.is_loaded(0))
            ):
                seen.append(max(arrived, default=0.0))
            return bool(seen) and clock.painted_after(seen[0])

        return check

    def act(fn: Callable[[], None], check: Callable[[], bool] | None = None):  # noqa: ANN202
        def start() -> Callable[[], bool]:
            fn()
            return check or shown()

        return start

    rows: list[tuple[str, float, float]] = []
    rows.append(
        (
            "open the table: first paint",
            statistics.median(open_times),
            engine_ms(args.repeat, api_engine, lambda: query().rows(0, 100)),
        )
    )
    rows.append(
        (
            "filter (Enter in the filter bar)",
            timed(args.repeat, plain, act(lambda: panel.set_filter(FILTER))),
            engine_ms(
                args.repeat,
                api_engine,
                lambda: (q := query().filter(FILTER)).num_rows and q.rows(0, 100),
            ),
        )
    )
    score = columns.index("score")
    rows.append(
        (
            "sort (header click on score)",
            timed(args.repeat, plain, act(lambda: panel.sort_by_column(score))),
            engine_ms(args.repeat, api_engine, lambda: query().sort("score").rows(0, 100)),
        )
    )
    rows.append(
        (
            "group by label (histogram cells)",
            timed(args.repeat, plain, act(lambda: panel.group_by(("label",)))),
            engine_ms(args.repeat, api_engine, lambda: query().group_by("label").to_arrow()),
        )
    )
    rows.append(
        (
            "compare with v1: first rows",
            timed(args.repeat, plain, act(lambda: panel.compare_with("bench/preds:v1"))),
            engine_ms(
                args.repeat, api_engine, lambda: query().compare("bench/preds:v1").rows(0, 100)
            ),
        )
    )
    bar = panel.compare_bar

    def summary_shown() -> bool:
        return bool(bar.summary.text()) and "counting" not in bar.summary.text()

    rows.append(
        (
            "compare with v1: diff summary bar",
            timed(
                args.repeat,
                plain,
                act(lambda: panel.compare_with("bench/preds:v1"), summary_shown),
            ),
            engine_ms(args.repeat, api_engine, lambda: query().compare("bench/preds:v1").diff()),
        )
    )

    def forget_changed(eng) -> None:  # noqa: ANN001
        """Drop the cached 'changed' results only: the comparison itself stays open."""
        with eng.lock:
            for key in [k for k in eng._results if k[2].compare and k[2].compare.only]:
                eng._results.pop(key).close()

    def compared() -> None:
        if panel.spec.compare is None:
            panel.compare_with("bench/preds:v1")
        elif panel.spec.compare.only is not None:
            bar.filter_buttons[None].click()
        wait_until(shown())
        wait_until(
            lambda: (
                panel.compare_tool.summary_worker is None
                or panel.compare_tool.summary_worker.is_done
            )
        )
        forget_changed(engine)

    def api_changed() -> float:
        q = query().compare("bench/preds:v1")
        q.rows(0, 100)  # the comparison is open (untimed) ...
        forget_changed(api_engine)
        t0 = time.perf_counter()
        changed = q.only("changed")  # ... the quick filter is what is timed
        changed.num_rows and changed.rows(0, 100)
        return time.perf_counter() - t0

    rows.append(
        (
            "compare: 'Changed' quick filter",
            timed(
                args.repeat,
                compared,
                act(lambda: bar.filter_buttons["changed"].click()),
            ),
            statistics.median(api_changed() * 1000 for _ in range(args.repeat)),
        )
    )
    state.focus_table(panel.table_state)
    charts = ChartsPanel(state)
    charts.resize(420, 600)
    charts.show()

    def chart_drawn() -> bool:
        return charts.distribution is not None and charts.column == "score" and bool(charts.bars)

    def chart_prepare() -> None:
        plain()
        charts.distribution, charts.column, charts._asked = None, None, None

    rows.append(
        (
            "charts: histogram of score",
            timed(
                args.repeat, chart_prepare, act(lambda: charts.show_column("score"), chart_drawn)
            ),
            engine_ms(args.repeat, api_engine, lambda: distribution(query().result, "score")),
        )
    )
    out = work / "panel-export.parquet"

    def filtered() -> None:
        plain()
        panel.set_filter(FILTER)
        wait_until(shown())

    rows.append(
        (
            "export the filtered rows (about 625,000) to Parquet",
            timed(
                args.repeat,
                filtered,
                act(lambda: panel.export_to(out), lambda: panel.export_tool.export_job.is_done),
            ),
            engine_ms(
                args.repeat, api_engine, lambda: export_result(query().filter(FILTER).result, out)
            ),
        )
    )

    def small() -> None:
        plain()
        panel.set_filter(SMALL)
        wait_until(shown())

    rows.append(
        (
            "save about 12,000 rows as a new version",
            timed(
                args.repeat,
                small,
                act(
                    lambda: panel.save_as_version("bench-subset"),
                    lambda: (
                        panel.export_tool.save_job is not None
                        and panel.export_tool.save_job.is_done
                    ),
                ),
            ),
            engine_ms(
                args.repeat,
                api_engine,
                lambda: save_as_version(
                    query().filter(SMALL).result, source, table, "bench-subset"
                ),
            ),
        )
    )

    print(f"\n{model.table_rows:,} rows, offscreen, 1400x900, median of {args.repeat}")
    print(f"{'action':<52}{'panel ms':>10}{'engine ms':>11}{'ratio':>8}")
    for name, ms, base in rows:
        print(f"{name:<52}{ms:>10.0f}{base:>11.0f}{ms / base:>8.2f}")
    print(
        "panel: from the action to the first paint showing its answer (charts: bars drawn; export "
        "and save: the job done); engine: the same query through the Python API, results forgotten"
    )
    panel.close()
    charts.close()
    api.close()
    engine.close()
    cache.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
