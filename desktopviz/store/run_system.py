"""A run's system metrics: CPU, memory, disk, network and GPU use sampled over the run's time,
as W&B's offline runs record them (``stats`` records: ``cpu``, ``memory_percent``,
``proc.memory.rssMB``, ``gpu.0.gpu``...), kept in the index beside the metric history.

Public API: :func:`log_system_metrics`, :func:`system_metrics`, :func:`system_series`,
:data:`SYSTEM_GROUPS`, :func:`system_group`.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable
from typing import Any

from desktopviz.store.cache import Cache

SYSTEM_GROUPS = ("CPU", "Memory", "GPU", "Disk", "Network", "Other")
"""How the run page groups system metrics, in order."""


def log_system_metrics(
    cache: Cache, run_id: str, rows: Iterable[tuple[float, dict[str, Any]]]
) -> int:
    """Record samples ``(unix time, {metric: value})`` of ``run_id`` (a sample at a time already
    recorded replaces it); returns how many were written."""
    data = [(run_id, float(t), json.dumps(values, sort_keys=True)) for t, values in rows]
    if data:
        with cache.write() as conn:
            conn.executemany(
                "INSERT OR REPLACE INTO run_system (run_id, time, data) VALUES (?, ?, ?)", data
            )
    return len(data)


def system_metrics(cache: Cache, run_id: str) -> list[tuple[float, dict[str, Any]]]:
    """A run's samples ``(unix time, {metric: value})``, oldest first (none: ``[]``)."""
    rows = cache.conn.execute(
        "SELECT time, data FROM run_system WHERE run_id = ? ORDER BY time", (run_id,)
    ).fetchall()
    return [(t, json.loads(data)) for t, data in rows]


def system_series(
    samples: list[tuple[float, dict[str, Any]]],
) -> dict[str, tuple[list[float], list[float]]]:
    """Numeric system metrics: name -> (seconds since the first sample, values), by name."""
    if not samples:
        return {}
    start = samples[0][0]
    series: dict[str, tuple[list[float], list[float]]] = {}
    for t, values in samples:
        for name, value in values.items():
            if isinstance(value, bool) or not isinstance(value, int | float):
                continue
            if math.isfinite(value):
                xs, ys = series.setdefault(name, ([], []))
                xs.append(t - start)
                ys.append(float(value))
    return dict(sorted(series.items()))


def system_group(name: str) -> str:
    """Which of :data:`SYSTEM_GROUPS` a metric belongs to (``gpu.0.gpu`` -> GPU)."""
    low = name.lower()
    if low.startswith("gpu") or ".gpu" in low:
        return "GPU"
    if low.startswith("cpu") or "cpu" in low:
        return "CPU"
    if "memory" in low or low.startswith("mem"):
        return "Memory"
    if low.startswith("disk"):
        return "Disk"
    if low.startswith("network"):
        return "Network"
    return "Other"
