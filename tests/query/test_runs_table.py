"""A project's runs table: every run a row, served by the query engine like an artifact's table
(filter in both forms, sort, group), rewritten when the runs change; runs written by the real
wandb SDK (offline) keep their config, summary, environment and system metrics."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

from desktopviz.importing.offline_run import import_offline_run
from desktopviz.model import Run
from desktopviz.query.engine import QueryEngine
from desktopviz.query.export import export_result
from desktopviz.query.run_curves import band, run_curves, smooth
from desktopviz.query.runs_table import (
    BASE_COLUMNS,
    runs_arrow,
    serve_runs_table,
    sweep_of,
    varied_keys,
)
from desktopviz.query.spec import GroupSpec, QuerySpec, SortKey
from desktopviz.store.cache import Cache
from desktopviz.store.run_system import system_metrics, system_series
from tests.wandb_support import run_script


def _run(i: int, **kw) -> Run:
    base = dict(
        id=f"r{i}",
        project="p",
        name=f"run-{i}",
        job_type="train",
        state="finished",
        config={"lr": [0.1, 0.01, 0.001][i % 3], "opt": {"name": "adam", "beta": 0.9}},
        summary={"loss": 1.0 / (i + 1), "acc": i / 10, "_wandb": {"runtime": 3}},
        environment={"host": f"h{i % 2}"},
        created_at=f"2025-01-0{i + 1}T10:00:00+00:00",
        finished_at=f"2025-01-0{i + 1}T10:01:30+00:00",
    )
    base.update(kw)
    return Run(**base)


@pytest.fixture
def runs_cache(tmp_path: Path) -> Cache:
    c = Cache(tmp_path / "cache")
    for i in range(4):
        c.upsert_run(_run(i))
    yield c
    c.close()


def test_rows_have_the_base_columns_then_flattened_config_and_summary(runs_cache):
    table = runs_arrow(runs_cache.runs("p"))
    assert table.column_names[: len(BASE_COLUMNS)] == list(BASE_COLUMNS)
    rest = table.column_names[len(BASE_COLUMNS) :]
    assert rest == [
        "config.lr",
        "config.opt.beta",
        "config.opt.name",
        "summary.acc",
        "summary.loss",
    ]
    row = table.to_pylist()[1]
    assert row["name"] == "run-1" and row["host"] == "h1" and row["duration"] == 90.0
    assert row["config.lr"] == 0.01 and row["config.opt.name"] == "adam"
    assert str(table.schema.field("config.lr").type) == "double"


def test_mixed_values_become_json_text_and_missing_ones_null():
    runs = [
        _run(0, config={"k": 1, "mixed": "a"}),
        _run(1, config={"k": 2.5, "mixed": [1, 2]}),
        _run(2, config={}),
    ]
    rows = runs_arrow(runs).to_pylist()
    assert [r["config.k"] for r in rows] == [1.0, 2.5, None]
    assert [r["config.mixed"] for r in rows] == ["a", "[1, 2]", None]


def test_the_engine_filters_sorts_and_groups_runs_like_any_table(runs_cache):
    engine = QueryEngine(runs_cache)
    version, table = serve_runs_table(engine, "p")
    assert version.id < 0 and version.type == "runs"

    def names(spec: QuerySpec) -> list[str]:
        result = engine.result(version, table, spec)
        return result.rows(0, result.num_rows).column("name").to_pylist()

    assert names(QuerySpec(filters=('row["config.lr"] < 0.05',))) == ["run-1", "run-2"]
    # the Mongo form names a config key as W&B does: $config.lr, $config.opt.name
    assert names(QuerySpec(filters=('{$gte: ["$config.lr", 0.01]}',))) == [
        "run-0", "run-1", "run-3"
    ]  # fmt: skip
    assert len(names(QuerySpec(filters=('{$eq: ["$config.opt.name", "adam"]}',)))) == 4
    assert names(QuerySpec(sort=(SortKey("summary.loss"),))) == ["run-3", "run-2", "run-1", "run-0"]
    grouped = engine.result(version, table, QuerySpec(group=GroupSpec(("host",))))
    counts = dict(
        zip(
            grouped.table.column("host").to_pylist(),
            grouped.table.column("count").to_pylist(),
            strict=True,
        )
    )
    assert counts == {"h0": 2, "h1": 2}
    engine.close()


def test_a_changed_run_shows_at_the_next_serve_and_old_results_are_not_reused(runs_cache):
    engine = QueryEngine(runs_cache)
    version, table = serve_runs_table(engine, "p")
    spec = QuerySpec(filters=('row["summary.acc"] > 0.15',))
    assert engine.result(version, table, spec).num_rows == 2
    runs_cache.upsert_run(_run(7, summary={"acc": 0.9, "new_metric": 1}))
    runs_cache.upsert_run(replace(_run(0), summary={"acc": 0.5}))
    serve_runs_table(engine, "p")
    result = engine.result(version, table, spec)
    assert result.num_rows == 4
    assert "summary.new_metric" in result.columns
    files = list((runs_cache.derived_dir / "runs").glob("*.parquet"))
    assert len(files) == 1  # the earlier state's file is gone
    engine.close()


def test_export_writes_the_runs_shown(runs_cache, tmp_path):
    engine = QueryEngine(runs_cache)
    version, table = serve_runs_table(engine, "p")
    result = engine.result(version, table, QuerySpec(filters=('row["host"] == "h0"',)))
    out = tmp_path / "runs.csv"
    export_result(result, out)
    text = out.read_text()
    assert "run-0" in text and "run-2" in text and "run-1" not in text
    engine.close()


def test_sweeps_and_varied_keys():
    runs = [_run(i, environment={"sweep_id": "sw1"}) for i in range(3)]
    assert sweep_of(runs[0]) == "sw1" and sweep_of(_run(5)) is None
    assert varied_keys(runs) == ["lr"]


def test_curves_smoothing_and_bands():
    history = [(s, {"loss": 1.0 / (s + 1), "_runtime": 2.0 * s, "flag": True}) for s in range(4)]
    assert run_curves(history) == {"loss": ([0.0, 1.0, 2.0, 3.0], [1.0, 0.5, 1 / 3, 0.25])}
    assert run_curves(history, "time")["loss"][0] == [0.0, 2.0, 4.0, 6.0]
    assert smooth([1.0, 3.0], 0.0) == [1.0, 3.0]
    smoothed = smooth([1.0, 3.0, 3.0], 0.5)
    assert smoothed[0] == 1.0 and 1.0 < smoothed[1] < 3.0
    xs, mean, low, high = band([([0, 1], [1.0, 2.0]), ([1, 2], [4.0, 5.0])])
    assert xs == [0, 1, 2] and mean == [1.0, 3.0, 5.0] and low[1] == 2.0 and high[1] == 4.0


def test_a_wandb_offline_run_gives_its_row_environment_and_system_metrics(tmp_path):
    folders = run_script("sweep_runs.py", "2", base=tmp_path / "wb").split()
    cache = Cache(tmp_path / "cache")
    for folder in folders:
        import_offline_run(cache, Path(folder))
    runs = cache.runs("study")
    assert [r.name for r in runs] == ["trial-0", "trial-1"]
    run = runs[0]
    assert run.environment["python"].startswith("CPython") and run.environment["host"]
    assert run.environment["cpu_count"] >= 1  # the environment record of newer SDKs
    samples = system_metrics(cache, run.id)
    assert samples, "the stats records are kept"
    series = system_series(samples)
    assert "memory_percent" in series and all(x >= 0 for x in series["memory_percent"][0])
    engine = QueryEngine(cache)
    version, table = serve_runs_table(engine, "study")
    result = engine.result(version, table, QuerySpec(sort=(SortKey("config.batch_size", True),)))
    rows = result.rows(0, 10).to_pylist()
    assert [r["name"] for r in rows] == ["trial-1", "trial-0"]
    assert rows[0]["config.lr"] == 0.01 and rows[0]["config.optimizer.name"] == "adam"
    assert rows[0]["summary.best_acc"] == pytest.approx(5 / 6) and rows[0]["state"] == "finished"
    assert not any(c.startswith("summary._wandb") for c in result.columns)
    filtered = engine.result(version, table, QuerySpec(filters=('{$lt: ["$config.lr", 0.05]}',)))
    assert filtered.num_rows == 1
    engine.close()
    cache.close()


def test_the_demo_sweep_is_added_once(tmp_path):
    from desktopviz.demo_sweep import SWEEP_ID, TRIALS, add_demo_sweep

    cache = Cache(tmp_path / "cache")
    ids = add_demo_sweep(cache)
    assert add_demo_sweep(cache) == ids
    runs = [cache.run(i) for i in ids]
    assert len(runs) == len(TRIALS) and {sweep_of(r) for r in runs} == {SWEEP_ID}
    assert varied_keys(runs) == ["batch_size", "lr"]
    assert len(cache.history(ids[0])) == 40 and system_metrics(cache, ids[0])
    assert runs[1].created_at > runs[0].created_at and runs[0].finished_at
    cache.close()
