"""Query benchmark: a 10M-row predictions table (and a second version) in a real cache; median of
5 runs of each operation through desktopviz and through hand-written DuckDB SQL on the same
Parquet files, with the ratio desktopviz / raw and the targets.

    python bench/query_bench.py                # 10,000,000 rows
    python bench/query_bench.py --rows 1000000 --repeat 3
"""

from __future__ import annotations

import argparse
import resource
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import duckdb
import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

LABELS = np.array(["cat", "dog", "car", "bus", "person", "tree", "road", "sign"])
BOX = pa.struct(
    [
        ("class_id", pa.int64()),
        ("score", pa.float64()),
        ("min_x", pa.float64()),
        ("min_y", pa.float64()),
    ]
)
BOXES_EXPR = "{$gte: [{$size: {$filter: {input: '$0.boxes', as: 'box', cond: {$eq: ['$$box.class_id', 13]}}}}, 1]}"


def make_table(n: int, seed: int, start_id: int = 0) -> pa.Table:
    rng = np.random.default_rng(seed)
    counts = rng.integers(0, 6, n)
    total = int(counts.sum())
    offsets = np.concatenate([[0], np.cumsum(counts)]).astype(np.int32)
    boxes = pa.StructArray.from_arrays(
        [
            pa.array(rng.integers(0, 20, total)),
            pa.array(rng.random(total).round(3)),
            pa.array(rng.random(total).round(3)),
            pa.array(rng.random(total).round(3)),
        ],
        fields=list(BOX),
    )
    return pa.table(
        {
            "id": np.arange(start_id, start_id + n),
            "label": pa.array(LABELS[rng.integers(0, len(LABELS), n)]),
            "pred": pa.array(LABELS[rng.integers(0, len(LABELS), n)]),
            "score": rng.random(n).round(4),
            "iou": rng.random(n).round(4),
            "road": (rng.random(n) * 0.2).round(4),
            "boxes": pa.ListArray.from_arrays(pa.array(offsets), boxes),
        }
    )


def second_version(v1: pa.Table, seed: int) -> pa.Table:
    rng = np.random.default_rng(seed)
    n = v1.num_rows
    keep = rng.random(n) >= 0.01  # 1% removed
    score = v1.column("score").to_numpy().copy()
    changed = rng.random(n) < 0.05  # 5% of scores changed
    score[changed] = rng.random(int(changed.sum())).round(4)
    v2 = v1.set_column(v1.schema.get_field_index("score"), "score", pa.array(score)).filter(
        pa.array(keep)
    )
    added = make_table(n // 100, seed + 1, start_id=n)  # 1% added
    return pa.concat_tables([v2, added])


def median_ms(fn: Callable[[], object], repeat: int) -> float:
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        times.append((time.perf_counter() - t0) * 1000)
    return statistics.median(times)


def main() -> int:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("--rows", type=int, default=10_000_000)
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument("--keep", metavar="DIR")
    args = ap.parse_args()

    import desktopviz as dv
    from desktopviz.importing import import_path
    from desktopviz.query.spec import QuerySpec, SortKey
    from desktopviz.store.cache import Cache

    work = Path(args.keep) if args.keep else Path(tempfile.mkdtemp(prefix="dv-qbench-"))
    src = work / "bench"
    src.mkdir(parents=True, exist_ok=True)
    t0 = time.perf_counter()
    v1 = make_table(args.rows, 0)
    pq.write_table(v1, src / "preds.parquet", row_group_size=122_880)
    with Cache(work / "cache") as cache:
        import_path(cache, src / "preds.parquet", project="bench")
        pq.write_table(second_version(v1, 1), src / "preds.parquet", row_group_size=122_880)
        import_path(cache, src / "preds.parquet", project="bench")
    arrow_mb = v1.nbytes / 2**20
    del v1
    print(
        f"built {args.rows:,} rows (Arrow {arrow_mb:,.0f} MB) and a second version in {time.perf_counter() - t0:.1f} s"
    )

    c = dv.open_cache(work / "cache")
    p1 = c.cache.parquet_path(c.cache.table_info(c.version("bench/preds:v0")))
    p2 = c.cache.parquet_path(c.cache.table_info(c.version("bench/preds:v1")))
    raw = duckdb.connect()
    last = args.rows - 1000

    engine = c._engine()

    def fresh() -> object:
        engine.clear()  # no cached results between runs
        return c.table("bench/preds:v0")

    def r(sql: str, params: list | None = None) -> object:
        return raw.sql(sql, params=params or []).to_arrow_table()

    scan1 = f"read_parquet('{p1}')"

    def raw_group() -> object:
        """The same work by hand: a pass for the shared bin ranges, then the grouped aggregates."""
        lo = r(
            f"SELECT min(score), max(score), min(iou), max(iou), min(road), max(road) FROM {scan1}"
        ).to_pylist()[0]
        s0, s1, i0, i1, r0, r1 = lo.values()
        hist = ", ".join(
            f"min({c}), avg({c}), max({c}), histogram(least(greatest(floor(({c} - {a}) / {(b - a) / 20}), 0), 19))"
            for c, a, b in (("score", s0, s1), ("iou", i0, i1), ("road", r0, r1))
        )
        return r(
            f"SELECT label, count(*), {hist}, approx_top_k(pred, 3) FROM {scan1} GROUP BY label ORDER BY label"
        )

    def raw_diff() -> object:
        """The same work by hand: the outer join, row statuses and changed cells per column."""
        both = "a.id IS NOT NULL AND b.id IS NOT NULL"
        per = ", ".join(
            f"sum(CAST({both} AND a.{c} IS DISTINCT FROM b.{c} AS INTEGER))"
            for c in ("label", "pred", "score", "iou", "road", "boxes")
        )
        return r(
            f"SELECT count(*) FILTER (WHERE a.id IS NULL), count(*) FILTER (WHERE b.id IS NULL), {per} "
            f"FROM {scan1} a FULL OUTER JOIN read_parquet('{p2}') b ON a.id = b.id"
        )

    cases = [
        (
            "open + first page",
            lambda: fresh().rows(0, 100),
            lambda: r(f"SELECT * FROM {scan1} LIMIT 100"),
            100,
        ),
        (
            "filter score>0.5 and label=='cat'",
            lambda: (
                (q := fresh().filter('row["score"] > 0.5 and row["label"] == "cat"')).num_rows
                and q.rows(0, 100)
            ),
            lambda: (
                r(f"SELECT count(*) FROM {scan1} WHERE score > 0.5 AND label = 'cat'"),
                r(f"SELECT * FROM {scan1} WHERE score > 0.5 AND label = 'cat' LIMIT 100"),
            ),
            150,
        ),
        (
            "$filter/$size boxes",
            lambda: (q := fresh().filter(BOXES_EXPR)).num_rows and q.rows(0, 100),
            lambda: (
                r(
                    f"SELECT count(*) FROM {scan1} WHERE len(list_filter(boxes, lambda b: b.class_id = 13)) >= 1"
                ),
                r(
                    f"SELECT * FROM {scan1} WHERE len(list_filter(boxes, lambda b: b.class_id = 13)) >= 1 LIMIT 100"
                ),
            ),
            None,
        ),
        (
            "full sort by score (+ row 5M page)",
            lambda: fresh().sort("score").rows(args.rows // 2, 100),
            lambda: r(
                f"SELECT * FROM {scan1} ORDER BY score, id LIMIT 100 OFFSET {args.rows // 2}"
            ),
            1500,
        ),
        (
            "top-1000 by score",
            lambda: fresh().sort("score", descending=True).rows(0, 1000),
            lambda: r(f"SELECT * FROM {scan1} ORDER BY score DESC LIMIT 1000"),
            None,
        ),
        (
            "group by label + histograms",
            lambda: fresh().group_by("label").to_arrow(),
            raw_group,
            400,
        ),
        (
            "compare v0/v1 + diff summary",
            lambda: fresh().compare("bench/preds:v1").diff(),
            raw_diff,
            1500,
        ),
        (
            f"page at row {last:,}",
            lambda: fresh().rows(last, 100),
            lambda: r(f"SELECT * FROM {scan1} LIMIT 100 OFFSET {last}"),
            20,
        ),
    ]
    print(
        f"\n{'operation':<36}{'desktopviz ms':>14}{'raw DuckDB ms':>15}{'ratio':>8}{'target ms':>11}  verdict"
    )
    failed = False
    for name, ours, theirs, target in cases:
        a = median_ms(ours, args.repeat)
        b = median_ms(theirs, args.repeat)
        ratio = a / b if b else float("inf")
        ok = ratio <= 1.2 and (target is None or a <= target)
        failed |= not ok
        print(
            f"{name:<36}{a:>14.1f}{b:>15.1f}{ratio:>8.2f}{(target or 0):>11}  {'PASS' if ok else 'FAIL'}"
        )
    engine.clear()
    res = engine.result(c.version("bench/preds:v0"), None, QuerySpec(sort=(SortKey("score"),)))
    res.rows(last, 100)
    page = median_ms(lambda: res.rows(last, 100), args.repeat)
    print(
        f"{'sorted: page at row ' + format(last, ','):<36}{page:>14.1f}{'':>15}{'':>8}{20:>11}  {'PASS' if page <= 20 else 'FAIL'}"
    )
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(
        f"\npeak RSS {peak:,.0f} MB; table Arrow size {arrow_mb:,.0f} MB; ratio {peak / arrow_mb:.2f} (target < 2)"
    )
    return 1 if failed else 0


if __name__ == "__main__":
    main()
