"""GUI benchmark (offscreen): launch to first paint, a 10M-row table's first paint and scroll
steps at its start, middle and end, and a screen of image thumbnails cold and warm.

    python bench/gui_bench.py                 # 10,000,000 rows
    python bench/gui_bench.py --rows 1000000 --keep /tmp/dv-gbench

"Launch to first paint" runs a fresh Python process that imports desktopviz, creates the
QApplication and the MainWindow on the demo cache, shows it, and reports when the window's first
paint event arrives (wall clock from just before the process was started). The other figures are
measured in this process on a TablePanel: a scroll step is one row of scrolling plus a
synchronous repaint of the table's viewport; "first paint" is from constructing the panel to the
first paint that shows rows.
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import pyarrow.parquet as pq

sys.path.insert(0, str(Path(__file__).resolve().parent))
from query_bench import make_table, median_ms  # noqa: E402 - the 10M-row table, a timer

TARGETS_MS = {
    "launch to first paint": 1500,
    "10M-row table: first paint": 150,
    "scroll step at row 0": 16,
    "scroll step in the middle": 16,
    "scroll step at the end": 16,
    "image screen, cold (decode + disk cache)": None,
    "image screen, warm from disk": None,
    "image rows painted from memory": 30,
    "image rows: scroll step (cached)": 30,
}
STEPS = 40


def wait_until(condition: Callable[[], bool], timeout: float = 60.0) -> float:
    """Run the Qt event loop until ``condition()`` holds; return when it did (perf_counter)."""
    from PySide6.QtCore import QEventLoop, QTimer

    loop = QEventLoop()
    deadline = time.perf_counter() + timeout
    found: list[float] = []

    def check() -> None:
        if condition():
            found.append(time.perf_counter())
            loop.quit()
        elif time.perf_counter() > deadline:
            loop.quit()

    timer = QTimer()
    timer.setInterval(1)  # not 0: a busy main thread would hold the GIL from the workers
    timer.timeout.connect(check)
    timer.start()
    loop.exec()
    timer.stop()
    if not found:
        raise TimeoutError("the GUI did not get there in time")
    return found[0]


class PaintClock:
    """Records when a widget was painted (an event filter on it)."""

    def __init__(self, widget) -> None:  # noqa: ANN001
        from PySide6.QtCore import QEvent, QObject

        clock = self

        class Filter(QObject):
            def eventFilter(self, _obj, event) -> bool:  # noqa: ANN001, N802
                if event.type() == QEvent.Type.Paint:
                    clock.times.append(time.perf_counter())
                return False

        self.times: list[float] = []
        self._filter = Filter()
        widget.installEventFilter(self._filter)

    def painted_after(self, t: float) -> bool:
        """Whether a paint happened after ``t``."""
        return any(p > t for p in self.times)


# -- launch -----------------------------------------------------------------------------------
def first_paint_child(cache: str, started: float) -> int:
    """Child process: open the window on ``cache``; print seconds from ``started`` to its first
    paint event."""
    import os

    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    from PySide6.QtCore import QEvent, QObject, QSettings

    from desktopviz.app.launch import create_application
    from desktopviz.app.main_window import MainWindow
    from desktopviz.app.state import AppState
    from desktopviz.store.cache import Cache

    app = create_application(["desktopviz"], "light")
    state = AppState(Cache(cache))
    window = MainWindow(
        state, QSettings(str(Path(cache) / "bench.ini"), QSettings.IniFormat), remember=False
    )

    class FirstPaint(QObject):
        def eventFilter(self, _obj, event) -> bool:  # noqa: ANN001, N802
            if event.type() == QEvent.Type.Paint:
                print(f"FIRST_PAINT {time.time() - started:.4f}", flush=True)
                app.quit()
            return False

    watcher = FirstPaint()
    window.installEventFilter(watcher)
    window.show()
    app.exec()
    window.close()
    state.engine.close()
    return 0


def launch_to_first_paint(cache: Path, repeat: int) -> float:
    """Median ms from starting a process to its window's first paint."""
    times = []
    for _ in range(repeat):
        started = time.time()
        out = subprocess.run(
            [sys.executable, __file__, "--first-paint-child", str(cache), str(started)],
            capture_output=True,
            text=True,
            check=True,
        ).stdout
        line = next(x for x in out.splitlines() if x.startswith("FIRST_PAINT"))
        times.append(float(line.split()[1]) * 1000)
    return statistics.median(times)


# -- tables -----------------------------------------------------------------------------------
def build_big(work: Path, rows: int) -> Path:
    """A cache holding ``bench/preds:v0`` with ``rows`` rows (reused when already built)."""
    from desktopviz.importing import import_path
    from desktopviz.store.cache import Cache

    cache_dir = work / "big-cache"
    marker = work / f"big-{rows}.done"
    if marker.exists():
        print(f"reusing the {rows:,}-row table in {work}")
        return cache_dir
    shutil.rmtree(cache_dir, ignore_errors=True)
    t0 = time.perf_counter()
    src = work / "src"
    src.mkdir(parents=True, exist_ok=True)
    pq.write_table(make_table(rows, 0), src / "preds.parquet", row_group_size=122_880)
    with Cache(cache_dir) as cache:
        import_path(cache, src / "preds.parquet", project="bench")
    (src / "preds.parquet").unlink()
    marker.write_text("ok")
    print(f"built {rows:,} rows in {time.perf_counter() - t0:.1f} s")
    return cache_dir


def build_demo_cache(work: Path) -> Path:
    """The demo project in a cache under ``work`` (reused when already built)."""
    from desktopviz.demo import build_demo
    from desktopviz.store.cache import Cache

    cache_dir = work / "demo-cache"
    if not (work / "demo.done").exists():
        shutil.rmtree(cache_dir, ignore_errors=True)
        with Cache(cache_dir) as cache:
            build_demo(cache)
        (work / "demo.done").write_text("ok")
    return cache_dir


def open_panel(state, ref: str, table: str | None = None, size=(1400, 900)):  # noqa: ANN001, ANN201
    """A shown TablePanel; returns (panel, ms from construction to the first paint with rows)."""
    from desktopviz.app.widgets.table_panel import TablePanel

    version = state.cache.resolve(ref)
    t0 = time.perf_counter()
    panel = TablePanel(state, version, table or state.cache.tables(version)[0].path)
    clock = PaintClock(panel.view.viewport())
    panel.resize(*size)
    panel.show()
    loaded: list[float] = []

    def rows_painted() -> bool:
        if not loaded and panel.model.result is not None and panel.model.is_loaded(0):
            loaded.append(time.perf_counter())
        return bool(loaded) and clock.painted_after(loaded[0])

    wait_until(rows_painted)
    first = min(p for p in clock.times if p > loaded[0])
    return panel, (first - t0) * 1000


def scroll_steps(panel, start: int, steps: int = STEPS) -> tuple[float, float]:  # noqa: ANN001
    """Median and worst ms of one-row scroll steps (scroll + synchronous repaint) from ``start``."""
    view, model = panel.view, panel.model
    view.scroll_to_result_row(start, select=False)
    top = view.top_result_row()
    wait_until(
        lambda: all(model.is_loaded(top + i) for i in range(0, view.visible_rows() + steps, 32))
    )
    times = []
    bar = view.window_bar if model.windowed else view.verticalScrollBar()
    for _ in range(steps):
        t0 = time.perf_counter()
        bar.setValue(bar.value() + 1)
        view.viewport().repaint()
        times.append((time.perf_counter() - t0) * 1000)
    return statistics.median(times), max(times)


def visible_thumbnails_ready(panel) -> bool:  # noqa: ANN001
    """Whether every image (and mask) on screen is decoded."""
    from desktopviz.app.models.table_model import CELL_ROLE

    view, delegate, model = panel.view, panel.delegate, panel.model
    first, last = view.rowAt(0), view.rowAt(view.viewport().height() - 1)
    if model.rowCount() == 0 or first < 0:
        return False
    last = last if last >= 0 else model.rowCount() - 1
    for row in range(first, last + 1):
        for col, column in enumerate(model.columns):
            if column.render != "media":
                continue
            index = model.index(row, col)
            cell = index.data(CELL_ROLE)
            if cell is None:
                return False
            target = delegate.image_target(view.visualRect(index), cell)
            if not all(panel.loader.cached(r) for r in delegate.image_requests(cell, target)):
                return False
    return True


def image_screen(demo_cache: Path, label: str, *, from_memory: bool) -> dict[str, float]:
    """ms from opening the demo's joined table to a full screen of painted thumbnails (96 px);
    with ``from_memory`` also repaints and scroll steps once they are all decoded."""
    from desktopviz.app.state import AppState
    from desktopviz.store.cache import Cache

    cache = Cache(demo_cache)
    state = AppState(cache)
    out: dict[str, float] = {}
    t0 = time.perf_counter()
    panel, _ = open_panel(
        state, "street-scenes/scene-predictions:latest", "joined.joined-table.json"
    )
    view = panel.view
    clock = PaintClock(view.viewport())
    done = wait_until(lambda: visible_thumbnails_ready(panel))
    view.viewport().update()  # ready before a repaint was due: ask for the paint that shows them
    wait_until(lambda: clock.painted_after(done))
    out[label] = (min(p for p in clock.times if p > done) - t0) * 1000
    if from_memory:
        out["image rows painted from memory"] = median_ms(view.viewport().repaint, STEPS)
        bar = view.verticalScrollBar()

        def step() -> None:  # rows already decoded: back and forth over them
            bar.setValue(bar.value() + (1 if bar.value() == 0 else -1))
            view.viewport().repaint()

        out["image rows: scroll step (cached)"] = median_ms(step, STEPS)
    panel.close()
    state.engine.close()
    cache.close()
    return out


def main() -> int:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("--rows", type=int, default=10_000_000)
    ap.add_argument("--repeat", type=int, default=3, help="launches to time (median)")
    ap.add_argument("--keep", metavar="DIR", help="build into DIR (reused when it has the data)")
    ap.add_argument("--first-paint-child", nargs=2, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.first_paint_child:
        return first_paint_child(args.first_paint_child[0], float(args.first_paint_child[1]))

    import os

    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    work = Path(args.keep) if args.keep else Path(tempfile.mkdtemp(prefix="dv-gbench-"))
    work.mkdir(parents=True, exist_ok=True)
    demo = build_demo_cache(work)
    big = build_big(work, args.rows)

    from desktopviz.app.launch import create_application
    from desktopviz.app.state import AppState
    from desktopviz.store.cache import Cache

    figures: dict[str, float] = {}
    worst: dict[str, float] = {}
    figures["launch to first paint"] = launch_to_first_paint(demo, args.repeat)

    create_application(["gui-bench"], "light")
    cache = Cache(big)
    state = AppState(cache)
    panel, first_paint = open_panel(state, "bench/preds:v0")
    figures["10M-row table: first paint"] = first_paint
    rows = panel.model.total_rows
    for label, start in (
        ("scroll step at row 0", 0),
        ("scroll step in the middle", rows // 2),
        ("scroll step at the end", rows - panel.view.visible_rows() - STEPS - 1),
    ):
        figures[label], worst[label] = scroll_steps(panel, start)
    windowed = panel.model.windowed
    panel.close()
    state.engine.close()
    cache.close()
    shutil.rmtree(demo / "derived" / "thumbs", ignore_errors=True)
    figures.update(
        image_screen(demo, "image screen, cold (decode + disk cache)", from_memory=False)
    )
    figures.update(image_screen(demo, "image screen, warm from disk", from_memory=True))

    print(f"\n{rows:,} rows ({'windowed' if windowed else 'not windowed'}), offscreen, 1400x900")
    print(f"{'measure':<44}{'ms':>9}{'worst ms':>10}{'target ms':>11}  verdict")
    failed = False
    for name, target in TARGETS_MS.items():
        ms = figures[name]
        ok = target is None or ms <= target
        failed |= not ok
        worst_text = f"{worst[name]:.1f}" if name in worst else "-"
        print(
            f"{name:<44}{ms:>9.1f}{worst_text:>10}{(target or '-'):>11}  {'PASS' if ok else 'FAIL'}"
        )
    print(
        "launch: a new process (imports, QApplication, MainWindow on the demo cache, show) to the"
        " window's first paint event"
    )
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
