"""Column distributions for charts: numeric histograms equal numpy's over the filtered rows,
value counts equal Python's, both sides of a comparison share bins, and a bar's filter selects
exactly that bar's rows."""

from __future__ import annotations

import math
from collections import Counter

import numpy as np
import pytest

import desktopviz as dv
from desktopviz.query.charts import bin_filter, distribution


@pytest.fixture(scope="module")
def cache(tmp_path_factory):
    cache_dir = tmp_path_factory.mktemp("charts") / "cache"
    rng = np.random.default_rng(5)
    for _version in range(2):
        with dv.init(project="p", dir=cache_dir) as run:
            rows = []
            for i in range(3000):
                score = float(rng.random()) if i % 50 else (None if i % 100 else float("nan"))
                rows.append([i, ["cat", "dog", "bus"][int(rng.integers(0, 3))], score])
            art = dv.Artifact("preds", "predictions")
            art.add(dv.Table(columns=["id", "label", "score"], data=rows), "predictions")
            run.log_artifact(art)
    c = dv.open_cache(cache_dir)
    yield c
    c.close()


def test_numeric_histogram_of_the_filtered_rows(cache):
    q = cache.table("preds:v0").filter('row["label"] != "bus"')
    rows = q.to_arrow().to_pylist()
    d = distribution(q.result, "score", bins=10)
    scores = [r["score"] for r in rows if r["score"] is not None and not math.isnan(r["score"])]
    want, edges = np.histogram(scores, bins=10, range=(min(scores), max(scores)))
    assert d.numeric and d.columns == ("score",)
    assert list(d.counts[0]) == want.tolist()
    assert d.edges == pytest.approx(tuple(edges))
    assert d.missing == (len(rows) - len(scores),)
    for i in (0, 4, 9):  # a bar's filter selects exactly that bar's rows
        assert q.filter(bin_filter(d, i)).num_rows == want[i]


def test_value_counts_and_their_filters(cache):
    q = cache.table("preds:v0")
    d = distribution(q.result, "label")
    want = Counter(r["label"] for r in q.to_arrow().to_pylist())
    assert not d.numeric and d.values == tuple(v for v, _ in want.most_common())
    assert list(d.counts[0]) == [want[v] for v in d.values]
    assert q.filter(bin_filter(d, 1)).num_rows == want[d.values[1]]


def test_both_sides_of_a_comparison_share_bins(cache):
    q = cache.table("preds:v1").compare("preds:v0")
    d = distribution(q.result, "1.score", bins=8)
    assert d.columns == ("0.score", "1.score") and len(d.counts) == 2
    assert sum(d.counts[0]) + d.missing[0] == q.num_rows == sum(d.counts[1]) + d.missing[1]
    assert len(d.edges) == 9
