"""Metric curves of runs for comparing them (the project page's Workspace): a run's history as
one (x, y) series per metric with x the step or the time, smoothing, and the mean and min-max
band of a group of runs.

Public API: :func:`run_curves`, :func:`smooth`, :func:`band`, :data:`X_MODES`.
"""

from __future__ import annotations

import math
from typing import Any

X_MODES = ("step", "time")
"""What a curve's x is: the logged step, or seconds since the run started."""


def _time(row: dict[str, Any], first_timestamp: float | None) -> float | None:
    runtime = row.get("_runtime")
    if isinstance(runtime, int | float) and not isinstance(runtime, bool):
        return float(runtime)
    stamp = row.get("_timestamp")
    if isinstance(stamp, int | float) and first_timestamp is not None:
        return float(stamp) - first_timestamp
    return None


def run_curves(
    history: list[tuple[int, dict[str, Any]]], x: str = "step"
) -> dict[str, tuple[list[float], list[float]]]:
    """Numeric metrics of a run's history: name -> (xs, ys) in step order. ``x="time"`` uses the
    row's ``_runtime`` (else its ``_timestamp`` since the first): rows without a time are left
    out. Names starting with ``_`` and non-numbers are left out."""
    stamps = [
        r.get("_timestamp") for _, r in history if isinstance(r.get("_timestamp"), int | float)
    ]
    first = min(stamps) if stamps else None
    curves: dict[str, tuple[list[float], list[float]]] = {}
    for step, row in history:
        where = float(step) if x == "step" else _time(row, first)
        if where is None:
            continue
        for name, value in row.items():
            if name.startswith("_") or isinstance(value, bool):
                continue
            if isinstance(value, int | float) and math.isfinite(value):
                xs, ys = curves.setdefault(name, ([], []))
                xs.append(where)
                ys.append(float(value))
    return dict(sorted(curves.items()))


def smooth(values: list[float], weight: float) -> list[float]:
    """An exponential moving average with bias correction (TensorBoard's and W&B's smoothing):
    ``weight`` 0 leaves the values as they are, 0.99 smooths hard; the first value stays."""
    if weight <= 0 or not values:
        return list(values)
    weight = min(weight, 0.999)
    out, last, n = [], 0.0, 0
    for v in values:
        n += 1
        last = last * weight + (1 - weight) * v
        out.append(last / (1 - weight**n))
    return out


def band(
    curves: list[tuple[list[float], list[float]]],
) -> tuple[list[float], list[float], list[float], list[float]]:
    """The mean, min and max of several curves at each x any of them has (runs logged at other
    steps count where they have a value): (xs, mean, low, high)."""
    at: dict[float, list[float]] = {}
    for xs, ys in curves:
        for x, y in zip(xs, ys, strict=True):
            at.setdefault(x, []).append(y)
    xs = sorted(at)
    return (
        xs,
        [sum(at[x]) / len(at[x]) for x in xs],
        [min(at[x]) for x in xs],
        [max(at[x]) for x in xs],
    )
