"""Queries cancel like every other long operation: a job's ``cancel`` callable (the one of
desktopviz.progress) interrupts its running statement within a fraction of a second, stops the
ones it would start, touches no other job's statement, and leaves the engine answering."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from desktopviz.errors import Cancelled
from desktopviz.query.engine import TEMP_PREFIX, QueryEngine
from desktopviz.query.spec import GroupSpec, QuerySpec
from desktopviz.store.cache import Cache

ROWS = 300_000
SLOW_SQL = "SELECT sum(hash(a.x * b.x) % 7) FROM range(100000) a(x), range(100000) b(x)"
"""Ten billion pairs: minutes of work, whatever the machine."""
SLOW_SORT = "SELECT x FROM range(2000000000) t(x) ORDER BY hash(x) DESC"


@pytest.fixture(scope="module")
def engine(tmp_path_factory):
    """An engine on a cache holding ``big/rows:v0``: 300,000 rows (id, score, note)."""
    from desktopviz.importing import import_paths

    work = tmp_path_factory.mktemp("cancel")
    rng = np.random.default_rng(3)
    table = pa.table(
        {
            "id": np.arange(ROWS),
            "score": rng.random(ROWS),
            "note": pa.array([f"row {i}" for i in range(ROWS)]),
        }
    )
    pq.write_table(table, work / "rows.parquet", row_group_size=100_000)
    with Cache(work / "cache") as cache:
        import_paths(cache, [work / "rows.parquet"], project="big")
    cache = Cache(work / "cache")
    engine = QueryEngine(cache)
    yield engine
    engine.close()
    cache.close()


class Job:
    """Run ``fn(cancel=...)`` in a thread with a cancel flag; remember how it ended and when."""

    def __init__(self, fn: Callable[..., Any]) -> None:
        self.flag = threading.Event()
        self.outcome: Any = None
        self.ended = 0.0
        self.thread = threading.Thread(target=self._run, args=(fn,), daemon=True)
        self.thread.start()

    def _run(self, fn: Callable[..., Any]) -> None:
        try:
            self.outcome = fn(cancel=self.flag.is_set)
        except BaseException as e:  # noqa: BLE001 - the test looks at it
            self.outcome = e
        self.ended = time.perf_counter()

    def cancel_after(self, engine: QueryEngine, seconds: float) -> float:
        """Cancel once its statement has run ``seconds``; return how long the job took to stop."""
        wait_for_statement(engine, self.thread)
        time.sleep(seconds)
        assert self.thread.is_alive(), "the slow statement ended before it was cancelled"
        asked = time.perf_counter()
        self.flag.set()
        self.thread.join(30)
        assert not self.thread.is_alive()
        return self.ended - asked


def wait_for_statement(engine: QueryEngine, thread: threading.Thread) -> None:
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        running = engine._running
        if running is not None and running.thread == thread.ident:
            return
        time.sleep(0.005)
    raise AssertionError("the job's statement never started")


def version(engine: QueryEngine):
    return engine.cache.resolve("big/rows:v0")


def test_cancel_stops_a_slow_statement_quickly_and_the_engine_answers_after(engine):
    job = Job(lambda cancel: engine.fetch_one(SLOW_SQL, [], cancel=cancel))
    took = job.cancel_after(engine, 0.3)
    assert isinstance(job.outcome, Cancelled), job.outcome
    assert took < 0.5, f"cancel took {took * 1000:.0f} ms"
    assert engine.fetch_one("SELECT count(*) FROM range(1234)", []) == 1234


def test_cancel_stops_a_sort_and_a_stream(engine):
    job = Job(lambda cancel: engine.arrow(SLOW_SORT + " LIMIT 3", [], cancel=cancel))
    assert job.cancel_after(engine, 0.3) < 0.5
    assert isinstance(job.outcome, Cancelled), job.outcome

    flag = threading.Event()
    batches = engine.stream(SLOW_SORT, [], 65536, cancel=flag.is_set)
    timer = threading.Timer(0.3, flag.set)
    timer.start()
    started = time.perf_counter()
    with pytest.raises(Cancelled):
        next(batches)  # the first batch needs the whole sort
    assert time.perf_counter() - started < 2
    timer.join()


def test_a_cancelled_result_is_not_kept_and_the_next_one_is_right(engine):
    """Grouping 300,000 rows by their id takes seconds: cancel stops it, nothing of it is kept
    (no result, no temp table), and the engine's next results are right."""
    by_id = QuerySpec(group=GroupSpec(("id",)))
    job = Job(lambda cancel: engine.result(version(engine), None, by_id, cancel=cancel))
    took = job.cancel_after(engine, 0.2)
    assert isinstance(job.outcome, Cancelled), job.outcome
    assert took < 0.5, f"cancel took {took * 1000:.0f} ms"
    assert not any(key[2] == by_id for key in engine._results)
    tables = engine.arrow("SELECT table_name FROM duckdb_tables()", []).column(0).to_pylist()
    assert not any(t.startswith(TEMP_PREFIX) for t in tables if t not in _kept_tables(engine))

    spec = QuerySpec(filters=('row["score"] > 0.95',))
    result = engine.result(version(engine), None, spec)
    score = pq.read_table(engine._source(version(engine), None).parquet, columns=["score"])
    assert result.num_rows == int((score.column("score").to_numpy() > 0.95).sum())
    small = engine.result(version(engine), None, spec.with_(group=GroupSpec(("id",)), limit=None))
    assert small.num_rows == result.num_rows  # the same grouping, filtered, runs to its end


def _kept_tables(engine: QueryEngine) -> set[str]:
    return {r._table for r in engine._results.held.values() if r._table}


def test_a_cancel_before_the_start_runs_nothing(engine):
    with pytest.raises(Cancelled):
        engine.execute("CREATE TABLE never_made AS SELECT 1 AS a", [], cancel=lambda: True)
    spec = QuerySpec(filters=('row["score"] < 0.25',))
    with pytest.raises(Cancelled):
        engine.result(version(engine), None, spec, cancel=lambda: True)
    assert not any(key[2] == spec for key in engine._results)

    # cancelled while it waits for its turn (another statement holds the engine): it never runs
    flag = threading.Event()
    with engine.lock:
        job = Job(
            lambda cancel: engine.execute(
                "CREATE TABLE never_made AS SELECT 1 AS a", [], cancel=lambda: flag.is_set()
            )
        )
        time.sleep(0.1)
        assert job.thread.is_alive()  # waiting for the lock
        flag.set()
    job.thread.join(10)
    assert isinstance(job.outcome, Cancelled)
    tables = engine.arrow("SELECT table_name FROM duckdb_tables()", []).column(0).to_pylist()
    assert "never_made" not in tables


def test_cancelling_one_job_stops_none_of_the_others(engine):
    """Job A is cancelled while job B waits for its turn: B's statement starts as A's stops,
    and no interrupt meant for A reaches it."""
    a = Job(lambda cancel: engine.fetch_one(SLOW_SQL, [], cancel=cancel))
    wait_for_statement(engine, a.thread)
    b = Job(
        lambda cancel: engine.fetch_one(
            "SELECT sum(x) FROM range(30000000) t(x)", [], cancel=cancel
        )
    )
    time.sleep(0.1)
    a.flag.set()
    a.thread.join(10)
    b.thread.join(30)
    assert isinstance(a.outcome, Cancelled)
    assert b.outcome == sum(range(30_000_000))


def test_a_cancelling_block_covers_every_statement_of_the_job(engine):
    """What a worker does: ``with engine.cancelling(cancel)`` around code that runs several
    statements (its own cursor each) stops the one running and every later one."""
    ran: list[int] = []

    def job(cancel):
        with engine.cancelling(cancel):
            ran.append(engine.fetch_one("SELECT 1", []))
            ran.append(engine.fetch_one(SLOW_SQL, []))
            ran.append(engine.fetch_one("SELECT 3", []))  # never runs

    j = Job(job)
    assert j.cancel_after(engine, 0.1) < 0.5
    assert isinstance(j.outcome, Cancelled)
    assert ran == [1]
    assert engine.fetch_one("SELECT 2", []) == 2  # the block is over: nothing cancels now
