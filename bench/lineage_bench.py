"""Lineage tab benchmark (offscreen, 1400x900): a lineage of about 1,000 runs and versions (and,
as the baseline in the same run, about 100) in a real cache, drawn by the Lineage tab.

    python bench/lineage_bench.py
    python bench/lineage_bench.py --nodes 2000 --baseline 200 --steps 60

The lineage is the tests' seeded one (``tests/test_lineage.py::write_big_lineage``: a chain of
dataset versions fanned out to train and eval runs, models and predictions). The view is shown
at depth 2 first; then "depth -> 20" is timed: the graph (``lineage.py``), the scene, Fit and
the first synchronous repaint of the viewport. A zoom step is one wheel notch at the centre plus a
synchronous repaint (in and out by turns, so the scale stays put); a pan step is 20 px of
scrolling plus a synchronous repaint; Fit is the button plus a repaint.
"""

from __future__ import annotations

import argparse
import itertools
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent
sys.path[:0] = [str(ROOT), str(ROOT.parent)]
from gui_bench import PaintClock, wait_until  # noqa: E402 - the event-loop helpers

from tests.test_lineage import BIG_DEPTH, write_big_lineage  # noqa: E402 - the seeded lineage

FRAME_MS = 16
TARGETS_MS: dict[str, int | None] = {
    "graph build (lineage.py)": None,
    "scene build": None,
    "first paint (at Fit)": None,
    "build + first paint": 500,
    "Fit (button + paint)": FRAME_MS,
    "zoom step at Fit": FRAME_MS,
    "zoom step at 100%": FRAME_MS,
    "pan step at 50%": FRAME_MS,
    "pan step at 100%": FRAME_MS,
}


def frames(step: Callable[[], object], viewport, steps: int) -> tuple[float, float]:  # noqa: ANN001
    """Median and worst ms of ``step()`` followed by a synchronous repaint of ``viewport``."""
    times = []
    for _ in range(steps):
        t0 = time.perf_counter()
        step()
        viewport.repaint()
        times.append((time.perf_counter() - t0) * 1000)
    return statistics.median(times), max(times)


def wheel(view, notch: int) -> None:  # noqa: ANN001
    """One wheel notch (``notch`` +1 in, -1 out) at the centre of ``view``'s viewport."""
    from PySide6.QtCore import QPoint, QPointF, Qt
    from PySide6.QtGui import QWheelEvent

    centre = QPointF(view.viewport().rect().center())
    event = QWheelEvent(
        centre, view.viewport().mapToGlobal(centre), QPoint(0, 0), QPoint(0, 120 * notch),
        Qt.MouseButton.NoButton, Qt.KeyboardModifier.NoModifier, Qt.ScrollPhase.NoScrollPhase,
        False,
    )  # fmt: skip
    view.wheelEvent(event)


def measure(work: Path, nodes: int, steps: int) -> tuple[dict[str, float], dict[str, float], str]:
    """The figures (ms), the worst frames (ms) and a description of the drawn graph."""
    from desktopviz.app.state import AppState
    from desktopviz.app.widgets.lineage_view import LineageView
    from desktopviz.lineage import lineage_graph
    from desktopviz.store.cache import Cache

    cache = Cache(work / f"lineage-{nodes}")
    focus = write_big_lineage(cache, nodes)
    state = AppState(cache)
    out: dict[str, float] = {}
    worst: dict[str, float] = {}
    graph_ms = []
    for _ in range(5):
        t0 = time.perf_counter()
        lineage_graph(cache, focus, BIG_DEPTH)
        graph_ms.append((time.perf_counter() - t0) * 1000)
    out["graph build (lineage.py)"] = statistics.median(graph_ms)

    widget = LineageView(state, focus)
    widget.resize(1400, 900)
    clock = PaintClock(widget.view.viewport())
    shown = time.perf_counter()
    widget.show()
    wait_until(lambda: clock.painted_after(shown))
    view, viewport = widget.view, widget.view.viewport()
    t0 = time.perf_counter()
    widget.depth.setValue(BIG_DEPTH)  # rebuilds: graph, scene, fit
    t1 = time.perf_counter()
    viewport.repaint()
    t2 = time.perf_counter()
    out["scene build"] = (t1 - t0) * 1000 - out["graph build (lineage.py)"]
    out["first paint (at Fit)"] = (t2 - t1) * 1000
    out["build + first paint"] = (t2 - t0) * 1000
    out["Fit (button + paint)"], worst["Fit (button + paint)"] = frames(
        widget.fit_button.click, viewport, steps
    )
    for name, level in (("zoom step at Fit", None), ("zoom step at 100%", 1.0)):
        widget.fit()
        if level is not None:
            view.resetTransform()
            view.centerOn(widget.scene.sceneRect().center())
        notches = itertools.cycle((1, -1))  # in and out by turns
        out[name], worst[name] = frames(lambda n=notches: wheel(view, next(n)), viewport, steps)
    for name, level in (("pan step at 50%", 0.5), ("pan step at 100%", 1.0)):
        view.resetTransform()
        view.scale(level, level)
        view.centerOn(widget.scene.sceneRect().center())
        bar = view.horizontalScrollBar()
        bar.setValue(bar.value() - steps * 10)
        out[name], worst[name] = frames(lambda b=bar: b.setValue(b.value() + 20), viewport, steps)
    runs = sum(1 for n in widget.graph.nodes.values() if n.kind != "version")
    drawn = (
        f"{len(widget.graph.nodes)} nodes ({runs} runs), {len(widget.graph.edges)} edges, "
        f"{len(widget.scene.items())} scene items, Fit scale {fit_scale(widget):.2f}"
    )
    widget.close()
    state.engine.close()
    cache.close()
    return out, worst, drawn


def fit_scale(widget) -> float:  # noqa: ANN001
    """The view's scale after Fit."""
    widget.fit()
    return widget.view.transform().m11()


def main() -> int:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("--nodes", type=int, default=1000)
    ap.add_argument("--baseline", type=int, default=100, help="nodes of the baseline graph")
    ap.add_argument("--steps", type=int, default=40, help="frames per pan/zoom/Fit figure")
    args = ap.parse_args()
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    from desktopviz.app.launch import create_application

    create_application(["lineage-bench"], "light")
    with tempfile.TemporaryDirectory(prefix="dv-lbench-") as tmp:
        base, _, base_drawn = measure(Path(tmp), args.baseline, args.steps)
        big, big_worst, big_drawn = measure(Path(tmp), args.nodes, args.steps)

    print(f"\nbaseline: {base_drawn}\nmeasured: {big_drawn}\noffscreen, 1400x900")
    print(
        f"{'measure':<28}{'base ms':>9}{'ms':>9}{'worst ms':>10}{'ratio':>8}{'target':>8}  verdict"
    )
    failed = False
    for name, target in TARGETS_MS.items():
        ms, ok = big[name], target is None or big[name] <= target
        failed |= not ok
        worst = f"{big_worst[name]:.1f}" if name in big_worst else "-"
        print(
            f"{name:<28}{base[name]:>9.1f}{ms:>9.1f}{worst:>10}{ms / max(base[name], 1e-3):>8.1f}"
            f"{(target or '-'):>8}  {'PASS' if ok else 'FAIL'}"
        )
    print("frames: a step plus a synchronous viewport repaint; median (worst) over the steps")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
