"""Search benchmark: a cache of 10,000 versions (``--versions``) answering while the user types.

    python bench/search_bench.py
    python bench/search_bench.py --versions 50000 --repeat 9 --keep /tmp/dv-search

The cache is real and built quickly through the Cache API, in one transaction: ``--versions``
versions spread over 40 projects and 400 artifacts (seeded names, descriptions, metadata,
aliases; each version has a table of 6 to 12 columns named from a vocabulary) and one run per 5
versions (seeded names, job types and configs). Its Parquet file is one small file every table
row names (the index is what is searched; nothing reads the rows).

Measured, median of ``--repeat``:

* the build with the search triggers in place against the same build without them (what the
  index costs each import, per version), and the full index build on an existing cache (what the
  first search of an old cache costs);
* each prefix of typical queries as typed (one search per keystroke, ``limit`` 20, best first,
  with the field and snippet): ms per keystroke, the worst keystroke, against a plain ``LIKE
  '%word%'`` scan of the same texts (every word of the query must occur; the baseline ranks
  nothing and shows no snippet, so it is a floor for a naive search), and the ratio.
"""

from __future__ import annotations

import argparse
import json
import random
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent
sys.path[:0] = [str(ROOT), str(ROOT.parent)]

import pyarrow as pa  # noqa: E402
import pyarrow.parquet as pq  # noqa: E402
from query_bench import median_ms  # noqa: E402 - a timer

from desktopviz import search  # noqa: E402
from desktopviz.model import Run  # noqa: E402
from desktopviz.store.cache import Cache, NewTable, NewVersion, VersionHeader  # noqa: E402

WORDS = (
    "street city highway rural night rain snow fog dusk dawn urban traffic pedestrian cyclist "
    "vehicle truck bus sign lane crossing bridge tunnel parking harbour airport campus"
).split()
MODELS = "resnet efficientnet vit convnext yolo detr mobilenet swin unet segformer".split()
TYPES = ("dataset", "model", "predictions", "evaluation")
COLUMNS = (
    "id image label prediction confidence score iou mean_iou boxes mask split weather "
    "brightness occlusion caption camera timestamp latitude longitude annotator"
).split()
JOBS = ("train", "eval", "preprocess", "sweep")
TYPED = ("resnet production", "confidence", "rain night", "lr 0.003", "yolo-v5 staging")
"""Queries typed a key at a time (each prefix is one search)."""


def build(root: Path, n_versions: int, *, triggers: bool) -> float:
    """A cache of ``n_versions`` seeded versions and their runs; seconds the inserts took."""
    rng = random.Random(0)
    with Cache(root) as cache:
        if triggers:
            search.ensure_index(cache.conn)
        parquet = cache.derived_dir / "tables" / "bench.parquet"
        parquet.parent.mkdir(parents=True, exist_ok=True)
        pq.write_table(pa.table({"id": ["a"]}), parquet)
        rel = parquet.relative_to(cache.root).as_posix()
        artifacts = [
            (f"team-{a % 40:02d}", f"{rng.choice(WORDS)}-{rng.choice(MODELS)}-{a}", TYPES[a % 4])
            for a in range(400)
        ]
        t0 = time.perf_counter()
        with cache.write():
            for i in range(n_versions):
                project, name, kind = artifacts[i % len(artifacts)]
                model = rng.choice(MODELS)
                run_id = f"run{i // 5:06d}"
                if i % 5 == 0:
                    cache.upsert_run(
                        Run(
                            id=run_id,
                            project=project,
                            name=f"{rng.choice(JOBS)}-{model}-{rng.choice(WORDS)}-{i // 5}",
                            job_type=rng.choice(JOBS),
                            config={
                                "model": model,
                                "lr": rng.choice([0.001, 0.003, 0.01, 0.03]),
                                "epochs": rng.randint(5, 90),
                                "optimizer": {"name": rng.choice(["adam", "sgd"]), "wd": 1e-4},
                                "dataset": rng.choice(WORDS),
                            },
                        )
                    )
                cols = rng.sample(COLUMNS, rng.randint(6, 12))
                schema = json.dumps({"columns": [{"name": c} for c in cols]})
                aliases = rng.choice([(), (), (), ("staging",), ("production",), ("best",)])
                cache.add_version(
                    NewVersion(
                        VersionHeader(
                            project=project,
                            name=name,
                            type=kind,
                            description=f"{model} on {rng.choice(WORDS)} {rng.choice(WORDS)} "
                            f"scenes, {rng.choice(WORDS)} split",
                            metadata={
                                "model": f"{model}-v{rng.randint(1, 9)}",
                                "accuracy": round(rng.random(), 3),
                                "source": {"camera": rng.choice(WORDS), "frames": i},
                            },
                            aliases=aliases,
                            produced_by=run_id,
                        ),
                        digest=f"{i:032x}",
                        files=[],
                        tables=[NewTable("preds.table.json", "table", rel, schema, 1)],
                    )
                )
        return time.perf_counter() - t0


def like_search(conn, text: str, limit: int = 20) -> list[tuple]:  # noqa: ANN001
    """The baseline: every word of ``text`` somewhere in a thing's texts (``LIKE '%word%'``)."""
    words = search.match_query(text)
    if words is None:
        return []
    terms = [w.strip('"*') for w in words.split()]
    blobs = {
        "project": "SELECT 'project', p.name, p.name AS t FROM projects p",
        "artifact": "SELECT 'artifact', p.name || '/' || c.name, c.name || ' ' || c.type || ' ' "
        "|| p.name AS t FROM collections c JOIN projects p ON p.id = c.project_id",
        "version": "SELECT 'version', p.name || '/' || c.name || ':v' || v.idx, c.name || ' v' "
        "|| v.idx || ' ' || coalesce((SELECT group_concat(alias, ' ') FROM aliases a WHERE "
        "a.version_id = v.id), '') || ' ' || c.type || ' ' || p.name || ' ' || "
        "coalesce(v.description, '') || ' ' || v.metadata AS t FROM versions v "
        "JOIN collections c ON c.id = v.collection_id JOIN projects p ON p.id = c.project_id",
        "run": "SELECT 'run', r.id, coalesce(r.name, '') || ' ' || r.id || ' ' || "
        "coalesce(r.job_type, '') || ' ' || r.config AS t FROM runs r",
        "table": "SELECT 'table', t.version_id || '/' || t.path, t.path || ' ' || t.schema AS t "
        "FROM tables t",
    }
    where = " AND ".join("t LIKE ?" for _ in terms)
    sql = " UNION ALL ".join(f"SELECT * FROM ({b}) WHERE {where}" for b in blobs.values())
    params = [f"%{w}%" for w in terms] * len(blobs)
    return conn.execute(f"{sql} LIMIT ?", [*params, limit]).fetchall()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--versions", type=int, default=10_000)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--keep", type=Path, help="build the caches here and keep them")
    args = parser.parse_args()
    base = args.keep or Path(tempfile.mkdtemp(prefix="dv-search-"))
    if base.exists():
        shutil.rmtree(base)
    base.mkdir(parents=True)
    n = args.versions
    try:
        with_index = build(base / "indexed", n, triggers=True)
        without = build(base / "plain", n, triggers=False)
        print(f"{n:,} versions, {n // 5:,} runs, {n:,} tables")
        print(f"build with the search triggers   {with_index:8.2f} s")
        print(f"build without them (baseline)    {without:8.2f} s")
        extra = (with_index - without) / n * 1000
        print(f"  the index costs each version   {extra:8.3f} ms ({with_index / without:.2f}x)")
        with Cache(base / "plain") as cache:
            t0 = time.perf_counter()
            search.ensure_index(cache.conn)
            print(
                f"first search of an old cache     {time.perf_counter() - t0:8.2f} s (full build)"
            )
        with Cache(base / "indexed") as cache:
            conn = cache.conn
            docs = conn.execute("SELECT COUNT(*) FROM search_docs").fetchone()[0]
            print(f"documents indexed                {docs:8,}")
            print()
            print(
                f"{'typed':24} {'hits':>5} {'ms/key':>8} {'worst':>8} {'LIKE ms':>8} {'ratio':>7}"
            )
            for text in TYPED:
                prefixes = [text[:k] for k in range(1, len(text) + 1)]
                fts = [median_ms(lambda p=p: search.search(conn, p), args.repeat) for p in prefixes]
                like = [median_ms(lambda p=p: like_search(conn, p), args.repeat) for p in prefixes]
                hits = len(search.search(conn, text))
                mean, mean_like = statistics.mean(fts), statistics.mean(like)
                print(
                    f"{text!r:24} {hits:5d} {mean:8.2f} {max(fts):8.2f} {mean_like:8.2f} "
                    f"{mean_like / mean:6.1f}x"
                )
            one = search.search(conn, "resnet production", limit=3)
            print()
            for hit in one:
                print(f"  {hit.kind:8} {hit.ref:44} {hit.field}: {hit.marked()}")
    finally:
        if args.keep is None:
            shutil.rmtree(base, ignore_errors=True)


if __name__ == "__main__":
    main()
