"""The lineage graph around a version: the runs that produced and used artifact versions, as a
layered left-to-right graph (inputs left of the runs that used them, outputs right of the run
that logged them; laid out by :mod:`desktopviz.lineage_layout`). Qt-free: the window draws what
:func:`lineage_graph` returns.

Public API: :class:`Node`, :class:`Graph`, :func:`lineage_graph`.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field

from desktopviz.lineage_layout import layer_rows, natural
from desktopviz.model import LineageEdge, Version
from desktopviz.store.cache import Cache


@dataclass(frozen=True)
class Node:
    """A version (``kind`` "version", ``key`` its id), a run (``run``, its id) or, unexploded,
    the runs of one job type (``job``, the job type; ``members`` the run ids)."""

    kind: str
    key: str
    label: str
    detail: str = ""
    type: str = ""
    members: tuple[str, ...] = ()


@dataclass
class Graph:
    """Nodes with their layer (column, left to right) and row, and the edges between them."""

    nodes: dict[tuple[str, str], Node] = field(default_factory=dict)
    edges: set[tuple[tuple[str, str], tuple[str, str]]] = field(default_factory=set)
    layer: dict[tuple[str, str], int] = field(default_factory=dict)
    row: dict[tuple[str, str], int] = field(default_factory=dict)
    focus: tuple[str, str] | None = None


def lineage_graph(cache: Cache, version: Version, depth: int = 2, explode: bool = True) -> Graph:
    """The runs and versions within ``depth`` run hops of ``version`` (a hop: version -> run ->
    version), laid out in layers. With ``explode`` False, runs of one job type that touch the
    same versions' neighbourhood are drawn as one node."""
    edges = cache.lineage()
    by_version: dict[int, list[LineageEdge]] = defaultdict(list)
    by_run: dict[str, list[LineageEdge]] = defaultdict(list)
    for e in edges:
        by_version[e.version_id].append(e)
        by_run[e.run_id].append(e)
    versions: set[int] = {version.id}
    runs: set[str] = set()
    frontier = {version.id}
    for _ in range(max(0, depth)):
        next_runs = {e.run_id for v in frontier for e in by_version[v]} - runs
        runs |= next_runs
        next_versions = {e.version_id for r in next_runs for e in by_run[r]} - versions
        versions |= next_versions
        frontier = next_versions
        if not frontier:
            break
    graph = Graph()
    run_info = {r.id: r for r in cache.runs() if r.id in runs}

    def run_node(run_id: str) -> tuple[str, str]:
        run = run_info.get(run_id)
        job = (run.job_type if run else None) or "run"
        if explode:
            key = ("run", run_id)
            if key not in graph.nodes:
                graph.nodes[key] = Node(
                    "run", run_id, (run.name if run else None) or run_id, job, job
                )
            return key
        key = ("job", job)
        old = graph.nodes.get(key)
        members = tuple(sorted({*(old.members if old else ()), run_id}))
        graph.nodes[key] = Node(
            "job", job, job, f"{len(members)} run{'s' * (len(members) > 1)}", job, members
        )
        return key

    for vid in versions:
        v = cache.version_by_id(vid)
        graph.nodes[("version", str(vid))] = Node(
            "version", str(vid), f"{v.name}:{v.tag}", ", ".join(v.aliases), v.type
        )
    for e in edges:
        if e.run_id in runs and e.version_id in versions:
            vnode, rnode = ("version", str(e.version_id)), run_node(e.run_id)
            graph.edges.add((vnode, rnode) if e.direction == "input" else (rnode, vnode))
    graph.focus = ("version", str(version.id))
    order = {k: (n.kind, natural(n.label)) for k, n in graph.nodes.items()}
    graph.layer, graph.row, _back = layer_rows(graph.nodes, graph.edges, order)
    return graph
