"""The demo project's sweep: a few short training runs of one study (varied learning rate and
batch size) with a loss / accuracy history, times, a sweep id and sampled system metrics, so the
project page's Workspace and Sweeps tabs have something to compare.

Public API: :func:`add_demo_sweep`, :data:`SWEEP_ID`, :data:`TRIALS`.
"""

from __future__ import annotations

import math
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import numpy as np

from desktopviz.demo import PROJECT
from desktopviz.model import Run as RunRecord
from desktopviz.sdk.run import Run
from desktopviz.store.cache import Cache
from desktopviz.store.run_system import log_system_metrics

SWEEP_ID = "sweep-lr-bs"
"""The demo sweep's id (every trial records it, as W&B's sweep runs do)."""
TRIALS = (
    (0.1, 16),
    (0.03, 32),
    (0.01, 32),
    (0.003, 64),
    (0.001, 64),
)
"""(learning rate, batch size) of each trial."""
STEPS = 40
STEP_SECONDS = 3.0
"""Seconds a demo step takes (the history's ``_runtime`` and ``_timestamp``)."""
START = datetime(2025, 3, 1, 9, 0, 0, tzinfo=UTC)


def add_demo_sweep(cache: Cache) -> list[str]:
    """Add the demo sweep's runs to ``cache``'s demo project (again: nothing changes); returns
    their ids."""
    ids = []
    for n, (lr, batch) in enumerate(TRIALS):
        run_id = f"sweep-trial-{n}"
        ids.append(run_id)
        if cache.runs(run_id=run_id):
            continue
        _trial(cache, run_id, n, lr, batch)
    return ids


def _trial(cache: Cache, run_id: str, n: int, lr: float, batch: int) -> None:
    rng = np.random.default_rng(100 + n)
    started = START + timedelta(minutes=5 * n)
    config = {"lr": lr, "batch_size": batch, "optimizer": "adam", "epochs": STEPS}
    # recorded first with its (fixed) start time: the SDK's run keeps it (a run's creation time
    # is written once), so the demo's runs look as if they ran one after another
    cache.upsert_run(RunRecord(run_id, PROJECT, created_at=started.isoformat()))
    run = Run(
        PROJECT, "sweep", config, dir=cache, name=f"trial-{n} lr={lr:g} bs={batch}", id=run_id
    )
    # a good learning rate learns fastest; a too-large one is noisy, a small one slow
    speed = 1.0 / (1.0 + abs(math.log10(lr) + 2.0) * 1.5) * (1.0 + 16 / batch * 0.1)
    noise = 0.02 + 0.15 * lr
    pace = STEP_SECONDS * batch / 32
    t0 = started.timestamp()
    best = 0.0
    for step in range(STEPS):
        t = (step + 1) / STEPS
        loss = 2.2 * math.exp(-4 * speed * t) + 0.1 + noise * float(rng.normal())
        acc = min(max(0.95 * (1 - math.exp(-5 * speed * t)) + noise / 2 * rng.normal(), 0.0), 1.0)
        best = max(best, acc)
        run.log(
            {
                "loss": round(loss, 4),
                "acc": round(float(acc), 4),
                "_runtime": round((step + 1) * pace, 2),
                "_timestamp": round(t0 + (step + 1) * pace, 2),
            }
        )
    run.summary["best_acc"] = round(float(best), 4)
    run.finish()
    record = cache.run(run_id)
    finished = started + timedelta(seconds=STEPS * pace)
    cache.upsert_run(
        replace(
            record,
            finished_at=finished.isoformat(),
            environment={**record.environment, "sweep_id": SWEEP_ID, "host": "demo-gpu-1"},
        )
    )
    samples = []
    for k in range(int(STEPS * pace / 5) + 1):
        busy = 0.8 + 0.15 * float(rng.random())
        samples.append(
            (
                t0 + 5 * k,
                {
                    "cpu": round(100 * busy * 0.6, 1),
                    "memory_percent": round(30 + 10 * k / (STEPS * pace / 5 + 1), 1),
                    "proc.memory.rssMB": round(900 + batch * 12 + 3 * k, 1),
                    "gpu.0.gpu": round(100 * busy, 1),
                    "gpu.0.memoryAllocated": round(20 + batch * 0.8, 1),
                    "gpu.0.temp": round(55 + 20 * busy, 1),
                },
            )
        )
    log_system_metrics(cache, run_id, samples)
