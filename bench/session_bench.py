"""Memory over a long session: a scripted user working on a table for ``--minutes`` (default 30),
through the query engine as the app calls it, printing the process's RSS every minute and, at
the end, the ratio of the last minute's RSS to the first's (flat memory is about 1.0).

    python bench/session_bench.py                          # 30 minutes, 1,000,000 rows
    python bench/session_bench.py --minutes 3 --keep /tmp/dv-s1m

The user (seeded, so every run does the same): types filters character by character with a
live count after each keystroke (the filter bar), applies them and reads the first page; sorts by
a column and jumps deep into the result; groups by label; compares with the second version
(first rows, the 'changed' quick filter, the diff summary); drags a brush over the score
histogram (a count per position); draws the Charts histograms; scrolls through pages. Like the
app, it holds on to the result the table shows and lets go of the one before. Each action
makes a new spec (new thresholds), so results pile up unless the engine lets them go.

The tables are ``bench/query_bench.py``'s (two versions of a predictions table), built with its
``build`` helper; ``--keep DIR`` reuses them.
"""

from __future__ import annotations

import argparse
import random
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from query_bench import BOXES_EXPR, LABELS, build  # noqa: E402


def rss_mb() -> float:
    """This process's resident memory in MB (psutil when installed, else /proc)."""
    try:
        import psutil

        return psutil.Process().memory_info().rss / 2**20
    except ImportError:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return float("nan")


def main() -> int:  # noqa: PLR0915 - one script of a session
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("--minutes", type=float, default=30)
    ap.add_argument("--rows", type=int, default=1_000_000)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--keep", metavar="DIR", help="build into DIR (reused when it has the tables)")
    args = ap.parse_args()

    work = Path(args.keep) if args.keep else Path(tempfile.mkdtemp(prefix="dv-sbench-"))
    work.mkdir(parents=True, exist_ok=True)
    rows_file = work / "rows.txt"
    if not ((work / "cache").exists() and rows_file.exists()):
        t0 = time.perf_counter()
        build(work, args.rows)
        rows_file.write_text(str(args.rows))
        print(f"built {args.rows:,} rows and a second version in {time.perf_counter() - t0:.1f} s")
    rows = int(rows_file.read_text())

    import desktopviz as dv
    from desktopviz.errors import DesktopvizError
    from desktopviz.query.charts import distribution
    from desktopviz.query.compare import diff_summary
    from desktopviz.query.engine import RESULTS_KEPT, TEMP_PREFIX
    from desktopviz.query.spec import CompareSpec, GroupSpec, QuerySpec, SortKey

    api = dv.open_cache(work / "cache")
    engine = api._engine()
    v0 = api.version("bench/preds:v0")
    rnd = random.Random(args.seed)
    base = QuerySpec()
    shown = engine.result(v0, None, base)  # what the table shows (the app holds it)
    counts: dict[str, int] = {}

    def show(spec: QuerySpec) -> None:
        nonlocal shown
        shown = engine.result(v0, None, spec)
        shown.rows(0, 100)

    def type_filter() -> None:
        """Type a filter, counting after each keystroke as the filter bar does, then apply it."""
        templates = [
            lambda: f'row["score"] > {rnd.random():.3f}',
            lambda: f'row["label"] == "{rnd.choice(LABELS)}" and row["iou"] < {rnd.random():.3f}',
            lambda: f"{{$gt: ['$road', {rnd.random() * 0.2:.4f}]}}",
            lambda: BOXES_EXPR.replace("13", str(rnd.randrange(20))),
        ]
        text = rnd.choice(templates)()
        for end in range(max(1, len(text) - 12), len(text) + 1):  # the last keystrokes
            typed = text[:end]
            try:
                engine.check_filter(v0, None, base, typed)
            except DesktopvizError:
                continue
            _ = engine.result(v0, None, base.with_(filters=(typed,))).num_rows
        show(base.with_(filters=(text,)))

    def sort_and_jump() -> None:
        column = rnd.choice(["score", "iou", "road", "label", "id"])
        spec = base.with_(
            filters=(f'row["score"] > {rnd.random() * 0.5:.3f}',),
            sort=(SortKey(column, rnd.random() < 0.5),),
        )
        show(spec)
        shown.rows(rnd.randrange(max(1, shown.num_rows - 100)), 100)

    def group() -> None:
        spec = base.with_(
            filters=(f'row["iou"] > {rnd.random() * 0.5:.3f}',), group=GroupSpec(("label",))
        )
        show(spec)

    def compare() -> None:
        only = rnd.choice([None, "changed", "only_0"])
        spec = base.with_(compare=CompareSpec("bench/preds:v1", only=only))
        show(spec)
        diff_summary(engine, shown.relation)
        shown.rows(rnd.randrange(max(1, shown.num_rows - 100)), 100)

    def brush() -> None:
        """Drag a brush over the score histogram: a count at each position."""
        spec = shown.spec if shown.spec.group is None else base
        lo = rnd.random() * 0.8
        for step in range(8):
            hi = lo + 0.02 * (step + 1)
            brushed = f'row["score"] >= {lo:.4f} and row["score"] < {hi:.4f}'
            _ = engine.result(v0, None, spec.with_(filters=(*spec.filters, brushed))).num_rows

    def charts() -> None:
        if shown.spec.group is None:
            for column in ("score", "label"):
                if column in shown.columns or f"0.{column}" in shown.columns:
                    distribution(shown, column if column in shown.columns else f"0.{column}")

    def scroll() -> None:
        for _ in range(10):
            shown.rows(rnd.randrange(max(1, shown.num_rows)), 100)

    actions: list[tuple[Callable[[], None], int]] = [
        (type_filter, 5),
        (sort_and_jump, 3),
        (group, 1),
        (compare, 1),
        (brush, 2),
        (charts, 2),
        (scroll, 3),
    ]
    names = [a.__name__ for a, _ in actions]
    weights = [w for _, w in actions]

    def temp_tables() -> int:
        return engine.fetch_one(
            "SELECT count(*) FROM duckdb_tables() WHERE starts_with(table_name, ?)",
            [TEMP_PREFIX],
        )

    print(
        f"session on {rows:,} rows for {args.minutes:g} min (results kept: {RESULTS_KEPT}); "
        f"start RSS {rss_mb():,.0f} MB"
    )
    print(f"{'minute':>6}  {'RSS MB':>8}  {'actions':>7}  {'results':>7}  {'temp tables':>11}")
    start = time.monotonic()
    per_minute: list[float] = []
    done = 0
    minute = 1
    while True:
        action = rnd.choices(actions, weights)[0][0]
        action()
        done += 1
        counts[action.__name__] = counts.get(action.__name__, 0) + 1
        elapsed = time.monotonic() - start
        if elapsed >= minute * 60 or elapsed >= args.minutes * 60:
            per_minute.append(rss_mb())
            print(
                f"{minute:>6}  {per_minute[-1]:>8,.0f}  {done:>7,}  {len(engine._results):>7}  "
                f"{temp_tables():>11}",
                flush=True,
            )
            minute += 1
            if elapsed >= args.minutes * 60:
                break
    print("actions: " + ", ".join(f"{n} {counts.get(n, 0)}" for n in names))
    print(
        f"RSS first minute {per_minute[0]:,.0f} MB, last {per_minute[-1]:,.0f} MB, "
        f"ratio {per_minute[-1] / per_minute[0]:.2f}"
    )
    api.close()
    if not args.keep:
        import shutil

        shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
