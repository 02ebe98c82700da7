"""W&B 3D point clouds (``object3D-file`` cells, ``.pts.json`` files) as arrays.

wandb writes two forms (``wandb.Object3D``): a bare list of points, each ``[x, y, z]``,
``[x, y, z, c]`` (``c`` a category 1..14) or ``[x, y, z, r, g, b]`` (colour 0..255); or a scene
``{"type": "lidar/beta", "points": [...], "boxes": [...], "vectors": [...]}`` whose boxes are
``{"corners": [8 points], "label", "color": [r, g, b], "score"}`` (``wandb.box3d`` writes its
colour in 0..1, the documented raw form in 0..255) and whose vectors are
``{"start": [x, y, z], "end": [x, y, z]}``.

Public API: :class:`Box3D`, :class:`Scene`, :func:`load_scene`, ``CATEGORY_COLOURS``.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import orjson

from desktopviz.errors import FormatError
from desktopviz.media.files import read_within

MAX_FILE_BYTES = 512 * 2**20
"""A point-cloud file larger than this is not parsed."""
MAX_POINTS = 400_000
"""Points kept for drawing (a larger cloud keeps an evenly spaced subset)."""
DEFAULT_POINT = (66, 135, 245)
CATEGORY_COLOURS = np.array(
    [
        (66, 135, 245),  # 0 / unknown
        (230, 25, 75),
        (60, 180, 75),
        (255, 225, 25),
        (0, 130, 200),
        (245, 130, 48),
        (145, 30, 180),
        (70, 240, 240),
        (240, 50, 230),
        (210, 245, 60),
        (250, 190, 212),
        (0, 128, 128),
        (220, 190, 255),
        (170, 110, 40),
        (128, 0, 0),
    ],
    np.uint8,
)
"""Colours of point categories 1..14 (index 0: points without a valid category)."""


@dataclass(frozen=True)
class Box3D:
    """A box of a scene: its 8 corners, colour (0..255), label and score."""

    corners: np.ndarray
    colour: tuple[int, int, int]
    label: str | None = None
    score: float | None = None

    @property
    def text(self) -> str:
        """The label shown beside the box (with its score)."""
        parts = [self.label or ""]
        if self.score is not None:
            parts.append(f"{self.score:.2f}")
        return " ".join(p for p in parts if p)

    def edges(self) -> list[tuple[int, int]]:
        """The 12 edges as corner index pairs, whatever order the corners come in: each corner
        joins its three nearest corners (a face's diagonal is longer than its sides)."""
        d = np.linalg.norm(self.corners[:, None, :] - self.corners[None, :, :], axis=2)
        pairs = set()
        for i in range(8):
            for j in np.argsort(d[i])[1:4]:
                pairs.add((min(i, int(j)), max(i, int(j))))
        return sorted(pairs)


@dataclass(frozen=True, eq=False)
class Scene:
    """Points (float32 ``(n, 3)``), their colours (uint8 ``(n, 3)``), boxes and vectors."""

    points: np.ndarray
    colours: np.ndarray
    boxes: tuple[Box3D, ...] = ()
    vectors: np.ndarray | None = None
    total_points: int = 0
    """Points in the file (more than ``len(points)`` when a subset is kept)."""

    def extent(self) -> tuple[np.ndarray, float]:
        """Centre and radius of the scene: its points (less a few strays) and every box and
        vector."""
        spans = []
        pts = self.points[np.isfinite(self.points).all(axis=1)] if len(self.points) else None
        if pts is not None and len(pts):
            q = [0.5, 99.5] if len(pts) > 200 else [0, 100]
            spans.append(np.percentile(pts, q, axis=0))
        others = [b.corners for b in self.boxes]
        if self.vectors is not None and len(self.vectors):
            others.append(self.vectors.reshape(-1, 3))
        for part in others:
            part = part[np.isfinite(part).all(axis=1)]
            if len(part):
                spans.append(np.stack([part.min(axis=0), part.max(axis=0)]))
        if not spans:
            return np.zeros(3), 1.0
        lo = np.min([s[0] for s in spans], axis=0)
        hi = np.max([s[1] for s in spans], axis=0)
        radius = float(np.linalg.norm(hi - lo) / 2)
        return (lo + hi) / 2, radius if radius > 0 else 1.0

    def subset(self, count: int) -> Scene:
        """This scene with at most ``count`` points (evenly spaced), for drawing while turning."""
        if len(self.points) <= count:
            return self
        step = -(-len(self.points) // count)
        return Scene(
            self.points[::step], self.colours[::step], self.boxes, self.vectors, self.total_points
        )


def _colour(value: Any) -> tuple[int, int, int]:
    try:
        rgb = [float(c) for c in list(value)[:3]]
    except (TypeError, ValueError):
        return DEFAULT_POINT
    if len(rgb) < 3:
        return DEFAULT_POINT
    if max(rgb) <= 1.0:  # wandb.box3d writes 0..1
        rgb = [c * 255 for c in rgb]
    r, g, b = (int(min(max(c, 0), 255)) for c in rgb)
    return r, g, b


def _points(rows: Any, label: str | None) -> tuple[np.ndarray, np.ndarray, int]:
    if not isinstance(rows, list) or not rows:
        return np.zeros((0, 3), np.float32), np.zeros((0, 3), np.uint8), 0
    total = len(rows)
    if total > MAX_POINTS:
        rows = rows[:: -(-total // MAX_POINTS)]
    width = len(rows[0]) if isinstance(rows[0], list) else 0
    if width not in (3, 4, 6):
        raise FormatError(f"a point has {width} values (expected 3, 4 or 6)", file=label)
    try:
        arr = np.asarray(rows, dtype=np.float64)
    except (TypeError, ValueError) as e:
        raise FormatError(f"points of mixed lengths or types: {e}", file=label) from e
    if arr.ndim != 2:
        raise FormatError("points of mixed lengths", file=label)
    xyz = arr[:, :3].astype(np.float32)
    if width == 6:
        rgb = arr[:, 3:6]
        if len(rgb) and np.nanmax(rgb) <= 1.0:
            rgb = rgb * 255
        colours = np.clip(np.nan_to_num(rgb), 0, 255).astype(np.uint8)
    elif width == 4:
        cats = np.nan_to_num(arr[:, 3]).astype(np.int64)
        cats[(cats < 1) | (cats >= len(CATEGORY_COLOURS))] = 0
        colours = CATEGORY_COLOURS[cats]
    else:
        colours = np.tile(np.array(DEFAULT_POINT, np.uint8), (len(xyz), 1))
    return xyz, colours, total


def _boxes(items: Any, label: str | None) -> tuple[Box3D, ...]:
    out = []
    for item in items if isinstance(items, list) else []:
        if not isinstance(item, dict):
            continue
        try:
            corners = np.asarray(item.get("corners"), dtype=np.float64)
        except (TypeError, ValueError) as e:
            raise FormatError(f"a box's corners are not numbers: {e}", file=label) from e
        if corners.shape != (8, 3):
            raise FormatError(f"a box has corners of shape {corners.shape}", file=label)
        score = item.get("score")
        out.append(
            Box3D(
                corners,
                _colour(item.get("color", DEFAULT_POINT)),
                str(item["label"]) if item.get("label") is not None else None,
                float(score) if isinstance(score, int | float) else None,
            )
        )
    return tuple(out)


def _vectors(items: Any) -> np.ndarray:
    pairs = []
    for item in items if isinstance(items, list) else []:
        if isinstance(item, dict) and "start" in item and "end" in item:
            try:
                pairs.append([[float(v) for v in item["start"]], [float(v) for v in item["end"]]])
            except (TypeError, ValueError):
                continue
    pairs = [p for p in pairs if len(p[0]) == 3 and len(p[1]) == 3]
    return np.asarray(pairs, np.float64).reshape(-1, 2, 3)


def parse_scene(data: Any, label: str | None = None) -> Scene:
    """A :class:`Scene` from the parsed JSON of a ``.pts.json`` file."""
    if isinstance(data, list):
        points, colours, total = _points(data, label)
        return Scene(points, colours, total_points=total)
    if isinstance(data, dict):
        kind = data.get("type")
        if kind not in (None, "lidar/beta"):
            raise FormatError(f"3D scene of type {kind!r} (expected 'lidar/beta')", file=label)
        points, colours, total = _points(data.get("points") or [], label)
        return Scene(
            points,
            colours,
            _boxes(data.get("boxes"), label),
            _vectors(data.get("vectors")),
            total,
        )
    raise FormatError("not a W&B point cloud (a list of points or a scene)", file=label)


def load_scene(source: Path | bytes, label: str | None = None) -> Scene:
    """Read a ``.pts.json`` file (or its bytes) within the size limit."""
    name = label or (None if isinstance(source, bytes) else str(source))
    raw = read_within(source, MAX_FILE_BYTES, "point cloud", missing="point cloud file", name=name)
    try:
        data = orjson.loads(raw)
    except orjson.JSONDecodeError as e:
        raise FormatError(f"not JSON: {e}", file=name) from e
    return parse_scene(data, name)
