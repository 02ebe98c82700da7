"""Where the nodes of a lineage graph go (Qt-free arithmetic, testable without a window).

:func:`layer_rows` gives each node a layer (column, by generation) and a row: an edge goes at
least one layer right, except the edges that close a cycle (a run that used a version it logged
itself), which are set aside as *back edges* and never stretch the layering; a node with no
inputs sits just left of its first consumer rather than at the far left. :func:`place` turns
layers and rows into positions, wrapping a long chain of layers into bands stacked top to bottom
so the scene's shape matches the view's; :func:`route` gives each edge's path between two
placed nodes.

Public API: :func:`layer_rows`, :class:`Placement`, :func:`place`, :class:`Route`, :func:`route`.
"""

from __future__ import annotations

import math
import re
from collections import defaultdict
from collections.abc import Hashable, Iterable, Mapping
from dataclasses import dataclass, field

Key = Hashable
Edge = tuple[Key, Key]
VIEW = 1000.0, 640.0
"""The view (width, height) a scene is shaped for when the window's is not known yet."""
COMFORTABLE = 0.9
"""A scale at which a scene reads well: wrapping into more bands to draw it larger is not worth
it beyond this."""
BAND_GAP = 3
"""Between two bands, this many row gaps (room for the edges that pass from one to the next)."""


def layer_rows(
    nodes: Iterable[Key],
    edges: Iterable[Edge],
    sort_key: Mapping[Key, tuple] | None = None,
    sweeps: int = 4,
) -> tuple[dict[Key, int], dict[Key, int], set[Edge]]:
    """``(layer, row, back_edges)``. Layers: longest path over the edges left once the cycles are
    cut (a depth-first search from the nodes with no inputs, then from the others in
    ``sort_key`` order, sets aside each edge that returns to a node on its path: sort runs before
    versions, and a run's use of its own output is what is set aside), then nodes
    without inputs moved right next to their nearest consumer. Rows: each layer ordered by
    ``sort_key`` and centred on the tallest, then ``sweeps`` passes each way that order a layer
    by the mean row of its neighbours on the side already placed (fewer crossings)."""
    order = list(nodes)
    keys = sort_key or {}
    order.sort(key=lambda n: keys.get(n, ()))
    edges = set(edges)
    after: dict[Key, list[Key]] = defaultdict(list)
    for a, b in sorted(edges, key=lambda e: (keys.get(e[0], ()), keys.get(e[1], ()))):
        after[a].append(b)
    back = _back_edges(order, after)
    forward = edges - back
    before: dict[Key, list[Key]] = defaultdict(list)
    after = defaultdict(list)
    for a, b in forward:
        after[a].append(b)
        before[b].append(a)
    layer = _longest_path(order, before, after)
    columns: dict[int, list[Key]] = defaultdict(list)
    for n in order:
        columns[layer[n]].append(n)
    return layer, _rows(columns, before, after, sweeps), back


def _back_edges(order: list[Key], after: Mapping[Key, list[Key]]) -> set[Edge]:
    """The edges a depth-first search finds returning to a node on its current path (iterative:
    a chain of thousands of nodes does not hit the recursion limit)."""
    has_input = {b for bs in after.values() for b in bs}
    roots = [n for n in order if n not in has_input] + [n for n in order if n in has_input]
    state: dict[Key, int] = {}  # 1 on the path, 2 done
    back: set[Edge] = set()
    for root in roots:
        if root in state:
            continue
        state[root] = 1
        stack = [(root, iter(after.get(root, ())))]
        while stack:
            node, children = stack[-1]
            for child in children:
                seen = state.get(child)
                if seen == 1:
                    back.add((node, child))
                elif seen is None:
                    state[child] = 1
                    stack.append((child, iter(after.get(child, ()))))
                    break
            else:
                state[node] = 2
                stack.pop()
    return back


def _longest_path(
    order: list[Key], before: Mapping[Key, list[Key]], after: Mapping[Key, list[Key]]
) -> dict[Key, int]:
    """Layers of an acyclic graph: each node one right of its furthest input; then each node
    without inputs one left of its nearest consumer."""
    waiting = {n: len(before.get(n, ())) for n in order}
    ready = [n for n in order if not waiting[n]]
    layer = dict.fromkeys(order, 0)
    topo: list[Key] = []
    while ready:
        n = ready.pop()
        topo.append(n)
        for m in after.get(n, ()):
            layer[m] = max(layer[m], layer[n] + 1)
            waiting[m] -= 1
            if not waiting[m]:
                ready.append(m)
    for n in topo:
        if not before.get(n) and after.get(n):
            layer[n] = min(layer[m] for m in after[n]) - 1
    shift = min(layer.values(), default=0)
    return {n: v - shift for n, v in layer.items()}


def _rows(
    columns: Mapping[int, list[Key]],
    before: Mapping[Key, list[Key]],
    after: Mapping[Key, list[Key]],
    sweeps: int,
) -> dict[Key, int]:
    height = max(map(len, columns.values()), default=0)
    row: dict[Key, int] = {}

    def place_column(members: list[Key]) -> None:  # centred on the tallest
        row.update((n, i + (height - len(members)) // 2) for i, n in enumerate(members))

    for members in columns.values():
        place_column(members)
    order = sorted(columns)
    for sweep in range(2 * sweeps):
        side = before if sweep % 2 == 0 else after
        for col in order if sweep % 2 == 0 else order[::-1]:
            wanted = {
                n: sum(row[m] for m in side[n]) / len(side[n]) if side.get(n) else row[n]
                for n in columns[col]
            }
            columns[col].sort(key=lambda n: (wanted[n], row[n]))
            place_column(columns[col])
    return row


def natural(label: str) -> list[str | int]:
    """A sort key that puts ``run-2`` before ``run-10``."""
    return [int(p) if i % 2 else p for i, p in enumerate(re.split(r"(\d+)", label))]


@dataclass
class Placement:
    """Node positions (top-left corners) in one cell size; ``bands`` the ``(top, bottom)`` of
    each band of layers, ``band`` each node's band, ``width``/``height`` the whole extent."""

    pos: dict[Key, tuple[float, float]] = field(default_factory=dict)
    band: dict[Key, int] = field(default_factory=dict)
    bands: list[tuple[float, float]] = field(default_factory=list)
    node: tuple[float, float] = (0.0, 0.0)
    gap: tuple[float, float] = (0.0, 0.0)
    width: float = 0.0
    height: float = 0.0


def place(
    layer: Mapping[Key, int],
    row: Mapping[Key, int],
    node: tuple[float, float],
    gap: tuple[float, float],
    view: tuple[float, float] = VIEW,
) -> Placement:
    """Positions of nodes ``node`` (width, height) apart by ``gap`` (x, y): layers left to right,
    wrapped into bands (stacked top to bottom, each trimmed to the rows it uses,
    :data:`BAND_GAP` row gaps apart): the fewest that let the scene fit ``view`` (width, height)
    at the largest scale any number of bands reaches, or at :data:`COMFORTABLE` (at most 1)."""
    (w, h), (gx, gy) = node, gap
    if not layer:
        return Placement(node=node, gap=gap)
    count = max(layer.values()) + 1
    span: dict[int, tuple[int, int]] = {}
    for n, col in layer.items():
        lo, hi = span.get(col, (row[n], row[n]))
        span[col] = min(lo, row[n]), max(hi, row[n])

    def bands_of(per: int) -> list[tuple[int, int]]:  # (first row, last row) of each band
        out = []
        for start in range(0, count, per):
            cols = [span[c] for c in range(start, min(count, start + per)) if c in span]
            out.append((min(c[0] for c in cols), max(c[1] for c in cols)) if cols else (0, 0))
        return out

    def extent(per: int) -> tuple[float, float]:
        spans = bands_of(per)
        rows = sum(hi - lo + 1 for lo, hi in spans)
        return per * (w + gx) - gx, rows * (h + gy) - gy + (len(spans) - 1) * BAND_GAP * gy

    def scale(per: int) -> float:
        width, height = extent(per)
        return min(1.0, view[0] / max(width, 1.0), view[1] / max(height, 1.0))

    options = sorted({math.ceil(count / b) for b in range(1, count + 1)}, reverse=True)
    enough = min(COMFORTABLE, max(map(scale, options)))
    per = next(p for p in options if scale(p) >= enough)
    out = Placement(node=node, gap=gap)
    top, firsts = 0.0, []
    for lo, hi in bands_of(per):
        out.bands.append((top, top + (hi - lo + 1) * (h + gy) - gy))
        firsts.append(lo)
        top = out.bands[-1][1] + BAND_GAP * gy
    for n, col in layer.items():
        b = col // per
        out.band[n] = b
        out.pos[n] = ((col - b * per) * (w + gx), out.bands[b][0] + (row[n] - firsts[b]) * (h + gy))
    out.width, out.height = extent(per)
    return out


@dataclass(frozen=True)
class Route:
    """An edge's path: ``curve`` (``points`` its two ends: right side of a node, left side of
    a later one in the same band), ``wrap`` (a polyline from a band down to a later band, in
    the gaps between columns and bands) or ``loop`` (its two ends at the bottom of both nodes:
    an edge back to an earlier or same layer, which closes a cycle)."""

    kind: str
    points: tuple[tuple[float, float], ...]


def route(p: Placement, a: Key, b: Key) -> Route:
    """The path of edge ``a`` -> ``b`` between placed nodes."""
    (w, h), (gx, gy) = p.node, p.gap
    (ax, ay), (bx, by) = p.pos[a], p.pos[b]
    start, end = (ax + w, ay + h / 2), (bx, by + h / 2)
    if p.band[a] == p.band[b] and ax < bx:
        return Route("curve", (start, end))
    if p.band[a] < p.band[b]:
        lane = p.bands[p.band[a]][1] + BAND_GAP * gy / 2
        out, into = start[0] + gx / 2, end[0] - gx / 2
        points = (start, (out, start[1]), (out, lane), (into, lane), (into, end[1]), end)
        return Route("wrap", points)
    return Route("loop", ((ax + w / 2, ay + h), (bx + w / 2, by + h)))
