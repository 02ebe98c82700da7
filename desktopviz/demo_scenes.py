"""Seeded, procedurally drawn toy street scenes for the built-in demo project.

Everything here is pure numpy + Pillow: each :class:`Scene` carries an RGB image, an
8-bit class-id mask, tight ground-truth boxes and a few scalar attributes; :func:`predict`
simulates a detector/segmenter of a given ``skill`` on a scene. The output is deterministic
for a given random generator state.

Run ``python -m desktopviz.demo_scenes [out.png [seed]]`` to write a contact sheet of 24 scenes
(per scene: image | ground truth overlay | simulated skill-0.6 prediction overlay).
"""

from __future__ import annotations

import math
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass

import numpy as np
from PIL import Image, ImageDraw, ImageFont

__all__ = [
    "CLASSES",
    "CLASS_COLORS",
    "CLASS_IDS",
    "CLASS_NAMES",
    "WEATHERS",
    "Box",
    "Prediction",
    "Scene",
    "make_scene",
    "make_scenes",
    "predict",
]

Color = tuple[int, int, int]

CLASSES: list[tuple[int, str, Color]] = [
    (0, "background", (0, 0, 0)),
    (1, "car", (222, 84, 72)),
    (2, "bus", (242, 178, 52)),
    (3, "person", (156, 104, 212)),
    (4, "bicycle", (40, 178, 188)),
    (5, "tree", (84, 166, 78)),
    (6, "building", (176, 140, 108)),
    (7, "sign", (62, 118, 224)),
]
CLASS_NAMES: dict[int, str] = {cid: name for cid, name, _ in CLASSES}
CLASS_IDS: dict[str, int] = {name: cid for cid, name, _ in CLASSES}
CLASS_COLORS: dict[int, Color] = {cid: rgb for cid, _, rgb in CLASSES}
WEATHERS: tuple[str, ...] = ("sunny", "cloudy", "night", "rain", "fog")

_CAR, _BUS, _PERSON, _BICYCLE, _TREE, _BUILDING, _SIGN = range(1, 8)
_OBJECT_IDS = [cid for cid, _, _ in CLASSES if cid != 0]
_N_CLS = len(CLASSES)


@dataclass(frozen=True)
class Box:
    """Axis-aligned box in pixel coordinates.

    ``min_*`` are inclusive and ``max_*`` exclusive (pixel edges), so the box covers pixels
    ``min_x <= x < max_x`` and its width is ``max_x - min_x``. ``score`` is ``None`` for
    ground truth and a confidence in 0..1 for predictions.
    """

    class_id: int
    min_x: int
    min_y: int
    max_x: int
    max_y: int
    caption: str
    score: float | None = None

    @property
    def class_name(self) -> str:
        return CLASS_NAMES[self.class_id]

    @property
    def width(self) -> int:
        return self.max_x - self.min_x

    @property
    def height(self) -> int:
        return self.max_y - self.min_y


@dataclass(frozen=True, eq=False)
class Scene:
    """One generated picture with its ground truth (arrays are read-only)."""

    image: np.ndarray  # H x W x 3 uint8
    mask: np.ndarray  # H x W uint8 class ids (0 = background)
    instances: np.ndarray  # H x W uint8; value i + 1 marks the pixels of boxes[i]
    boxes: list[Box]
    label: str  # class name covering the most pixels
    weather: str  # one of WEATHERS
    brightness: float  # mean luminance, 0..1
    coverage: float  # fraction of pixels covered by objects, 0..1
    occlusion: float  # fraction of object area hidden by nearer objects, 0..1
    object_count: int

    @property
    def label_id(self) -> int:
        return CLASS_IDS[self.label]


@dataclass(frozen=True, eq=False)
class Prediction:
    """Simulated model output for one scene."""

    boxes: list[Box]  # with scores; captions like "car 0.87"
    mask: np.ndarray  # H x W uint8 class ids
    label: str
    confidence: float  # probability of ``label``
    label_probs: dict[str, float]  # object class name -> probability (sums to 1)
    class_iou: dict[str, float]  # per object class present in truth or prediction
    skill: float

    @property
    def mean_iou(self) -> float:
        """Mean of ``class_iou`` (1.0 when both masks are empty)."""
        return float(np.mean(list(self.class_iou.values()))) if self.class_iou else 1.0


# --------------------------------------------------------------------------- colours


def _clip(v: float) -> int:
    return 0 if v < 0 else 255 if v > 255 else int(v + 0.5)


def _mix(a: Color, b: Color, f: float) -> Color:
    return (
        _clip(a[0] + (b[0] - a[0]) * f),
        _clip(a[1] + (b[1] - a[1]) * f),
        _clip(a[2] + (b[2] - a[2]) * f),
    )


def _shade(c: Color, f: float) -> Color:
    return (_clip(c[0] * f), _clip(c[1] * f), _clip(c[2] * f))


def _jitter(
    rng: np.random.Generator, c: Color, amount: int = 14, light: tuple[float, float] = (0.88, 1.08)
) -> Color:
    f = rng.uniform(*light)
    d = rng.integers(-amount, amount + 1, 3)
    return (_clip(c[0] * f + d[0]), _clip(c[1] * f + d[1]), _clip(c[2] * f + d[2]))


@dataclass(frozen=True)
class _Look:
    """Weather-dependent lighting: sky colours, light tint and depth haze."""

    weather: str
    sky_top: Color
    sky_horizon: Color
    light: tuple[float, float, float]
    haze: Color
    haze_k: float

    def apply(self, c: Color, t: float, emissive: bool = False) -> Color:
        """Colour ``c`` seen at depth ``t`` (0 = horizon, 1 = camera)."""
        if not emissive:
            c = (
                _clip(c[0] * self.light[0]),
                _clip(c[1] * self.light[1]),
                _clip(c[2] * self.light[2]),
            )
        return _mix(c, self.haze, self.haze_k * (1.0 - t) ** 1.4)


_LOOKS: dict[str, tuple[Color, Color, tuple[float, float, float], float]] = {
    # weather: sky top, sky at horizon, light multiplier, haze strength
    "sunny": ((82, 142, 214), (176, 208, 234), (1.0, 1.0, 1.0), 0.32),
    "cloudy": ((138, 150, 170), (196, 201, 210), (0.9, 0.91, 0.94), 0.38),
    "night": ((10, 14, 36), (42, 52, 90), (0.5, 0.54, 0.7), 0.3),
    "rain": ((92, 102, 118), (146, 153, 164), (0.74, 0.77, 0.83), 0.45),
    "fog": ((196, 199, 204), (214, 216, 219), (0.97, 0.97, 0.98), 0.74),
}
_WEATHER_P = np.array([0.3, 0.24, 0.16, 0.15, 0.15])


def _make_look(weather: str) -> _Look:
    top, hor, light, k = _LOOKS[weather]
    return _Look(weather, top, hor, light, hor, k)


# --------------------------------------------------------------------------- objects


@dataclass
class _Obj:
    cls: int
    x: float  # anchor x on the 2x canvas (centre of the footprint)
    base: float  # ground-contact y on the 2x canvas
    s: float  # 2x-canvas pixels per model unit
    t: float  # depth, 0 = horizon .. 1 = camera
    flip: int  # +1 faces right, -1 faces left
    colors: dict[str, Color]
    p: dict[str, float]  # shape parameters
    theme: bool = False  # the scene's subject


Paint = Callable[[str], "int | Color"]


class _Pen:
    """Draws an object's parts in object units; ``paint(part)`` gives the fill."""

    def __init__(self, d: ImageDraw.ImageDraw, o: _Obj, paint: Paint, edge: Paint) -> None:
        self.d, self.o, self.paint, self.edge = d, o, paint, edge
        self.ew = max(1, round(0.55 * o.s))

    def pt(self, dx: float, dy: float) -> tuple[float, float]:
        return (self.o.x + dx * self.o.s * self.o.flip, self.o.base + dy * self.o.s)

    def box(self, dx0: float, dy0: float, dx1: float, dy1: float) -> list[float]:
        x0, y0 = self.pt(dx0, dy0)
        x1, y1 = self.pt(dx1, dy1)
        return [min(x0, x1), min(y0, y1), max(x0, x1), max(y0, y1)]

    def w(self, units: float) -> int:
        return max(2, round(units * self.o.s))

    def rect(
        self, part: str, b: tuple[float, float, float, float], r: float = 0, edge: bool = True
    ) -> None:
        xy = self.box(*b)
        ol, wd = (self.edge(part), self.ew) if edge else (None, 0)
        if r > 0:
            self.d.rounded_rectangle(
                xy, radius=r * self.o.s, fill=self.paint(part), outline=ol, width=wd
            )
        else:
            self.d.rectangle(xy, fill=self.paint(part), outline=ol, width=wd)

    def ellipse(
        self, part: str, cx: float, cy: float, rx: float, ry: float | None = None, edge: bool = True
    ) -> None:
        ry = rx if ry is None else ry
        ol, wd = (self.edge(part), self.ew) if edge else (None, 0)
        self.d.ellipse(
            self.box(cx - rx, cy - ry, cx + rx, cy + ry),
            fill=self.paint(part),
            outline=ol,
            width=wd,
        )

    def ring(self, part: str, cx: float, cy: float, r: float, width: float) -> None:
        self.d.ellipse(
            self.box(cx - r, cy - r, cx + r, cy + r), outline=self.paint(part), width=self.w(width)
        )

    def poly(self, part: str, pts: list[tuple[float, float]], edge: bool = True) -> None:
        ol, wd = (self.edge(part), self.ew) if edge else (None, 0)
        self.d.polygon([self.pt(*q) for q in pts], fill=self.paint(part), outline=ol, width=wd)

    def line(self, part: str, pts: list[tuple[float, float]], width: float) -> None:
        self.d.line(
            [self.pt(*q) for q in pts], fill=self.paint(part), width=self.w(width), joint="curve"
        )


def _draw_car(pen: _Pen) -> None:
    p = pen.o.p
    ln, hh = 23 * p["len"], p["roof"]
    pen.rect("body", (-ln, -18, ln, -5), r=4)
    pen.poly(
        "body",
        [
            (-14 * p["len"], -17),
            (-9 * p["len"], -18 - hh),
            (8 * p["len"], -18 - hh),
            (15 * p["len"], -17),
        ],
    )
    pen.poly(
        "glass",
        [(-11.5 * p["len"], -17.5), (-7.6 * p["len"], -16 - hh), (-0.8, -16 - hh), (-0.8, -17.5)],
        edge=False,
    )
    pen.poly(
        "glass",
        [(0.8, -17.5), (0.8, -16 - hh), (6.8 * p["len"], -16 - hh), (12.4 * p["len"], -17.5)],
        edge=False,
    )
    pen.rect("trim", (-ln + 1, -9.5, ln - 1, -8), edge=False)
    pen.ellipse("headlight", ln - 2, -13.5, 1.8, 1.4, edge=False)
    pen.ellipse("taillight", -ln + 1.5, -13.5, 1.3, 1.6, edge=False)
    for wx in (-14 * p["len"], 14 * p["len"]):
        pen.ellipse("wheel", wx, -5.2, 5.2)
        pen.ellipse("hub", wx, -5.2, 2.2, edge=False)


def _draw_bus(pen: _Pen) -> None:
    p = pen.o.p
    ln = 40 * p["len"]
    pen.rect("body", (-ln, -40, ln, -6), r=5)
    pen.rect("stripe", (-ln + 1, -17, ln - 1, -14), edge=False)
    n = int(p["windows"])
    x0, x1 = -ln + 5, ln - 13
    step = (x1 - x0) / n
    for i in range(n):
        a = x0 + i * step
        pen.rect("glass", (a + 1, -35, a + step - 1, -23), r=1.5, edge=False)
    pen.rect("glass", (ln - 10, -35, ln - 3, -23), r=1.5, edge=False)  # windscreen
    pen.rect("door", (ln - 19, -35, ln - 12.5, -9), r=1)
    pen.line("body", [(ln - 15.75, -34), (ln - 15.75, -10)], 0.8)
    pen.rect("sign", (ln - 10, -39, ln - 3, -36.5), edge=False)
    pen.ellipse("headlight", ln - 2.5, -11, 1.8, edge=False)
    for wx in (-ln + 13, ln - 15):
        pen.ellipse("wheel", wx, -6.2, 6.2)
        pen.ellipse("hub", wx, -6.2, 2.6, edge=False)


def _draw_person(pen: _Pen) -> None:
    p = pen.o.p
    sw = p["stride"]
    pen.line("legs", [(-0.2, -16), (-2.8 - sw, -0.8)], 3.6)
    pen.line("legs", [(0.2, -16), (2.8 + sw, -0.8)], 3.6)
    pen.line("shirt", [(-4.5, -27), (-6.5 - sw * 0.5, -17)], 2.8)
    pen.line("shirt", [(4.5, -27), (6.5 + sw * 0.5, -17)], 2.8)
    pen.rect("shirt", (-5.5, -29, 5.5, -14.5), r=3)
    pen.ellipse("skin", 0.4, -34, 4.6, 4.9)
    if p["hat"] > 0.5:
        pen.rect("hair", (-4.6, -40.2, 5.2, -36.3), r=1.6, edge=False)
    else:
        pen.d.chord(pen.box(-4.6, -38.9, 5.4, -29.1), 180, 360, fill=pen.paint("hair"))


def _draw_bicycle(pen: _Pen) -> None:
    r = 8.0
    rear, front = (-12.0, -r), (12.0, -r)
    bb, seat, head = (-1.0, -8.5), (-4.5, -20.0), (8.0, -20.0)
    for cx, cy in (rear, front):
        pen.ring("wheel", cx, cy, r, 2.2)
        pen.ellipse("hub", cx, cy, 1.4, edge=False)
    pen.line("frame", [rear, bb, head, seat, rear], 2.0)
    pen.line("frame", [bb, seat], 2.0)
    pen.line("frame", [head, front], 2.0)
    pen.line("dark", [(-7.5, -22.0), (-1.5, -22.0)], 2.4)  # saddle
    pen.line("dark", [head, (9.0, -24.0), (12.5, -24.5)], 2.0)  # handlebar


def _draw_tree(pen: _Pen) -> None:
    p = pen.o.p
    hgt = p["height"]
    if p["conifer"] > 0.5:
        pen.rect("trunk", (-2.5, -9, 2.5, 0), edge=False)
        for i in range(3):
            y0 = -8 - i * hgt * 0.2
            half = 15 - i * 3.6
            pen.poly(
                "crown" if i % 2 == 0 else "crown2", [(-half, y0), (0, y0 - hgt * 0.42), (half, y0)]
            )
    else:
        pen.poly("trunk", [(-3.2, 0), (-2.2, -hgt * 0.5), (2.2, -hgt * 0.5), (3.2, 0)])
        c = -hgt * 0.68
        r = 8 + hgt * 0.13
        pen.ellipse("crown2", -r * 0.62, c + r * 0.35, r * 0.72)
        pen.ellipse("crown2", r * 0.62, c + r * 0.3, r * 0.75)
        pen.ellipse("crown", 0, c - r * 0.1, r)
        pen.ellipse("light", -r * 0.3, c - r * 0.4, r * 0.42, edge=False)


def _draw_building(pen: _Pen) -> None:
    p = pen.o.p
    hw, h = p["width"] / 2, p["height"]
    pen.rect("wall", (-hw, -h, hw, 0))
    pen.rect("roof", (-hw - 1.5, -h - 3, hw + 1.5, -h + 1.5))
    cols, rows = int(p["cols"]), int(p["rows"])
    mx, top, bottom = 5.0, -h + 7, -14.0
    cw, rh = (2 * hw - 2 * mx) / cols, (bottom - top) / rows
    for r in range(rows):
        for c in range(cols):
            x = -hw + mx + c * cw
            y = top + r * rh
            part = "lit" if (r * 7 + c * 3 + int(p["lit_seed"])) % 5 < 2 else "glass"
            pen.rect(part, (x + cw * 0.2, y + rh * 0.18, x + cw * 0.8, y + rh * 0.82), edge=False)
    pen.rect("door", (-4, -10, 4, 0), edge=False)


def _draw_sign(pen: _Pen) -> None:
    p = pen.o.p
    hgt = p["height"]
    pen.line("pole", [(0, 0), (0, -hgt)], 1.6)
    cy = -hgt - 6
    shape = int(p["shape"])
    if shape == 0:
        pen.ellipse("plate", 0, cy, 7.0)
        pen.ellipse("plate", 0, cy, 5.4, edge=False)
        pen.poly(
            "symbol",
            [
                (-3.6, cy - 1),
                (1, cy - 1),
                (1, cy - 3.2),
                (4, cy),
                (1, cy + 3.2),
                (1, cy + 1),
                (-3.6, cy + 1),
            ],
            edge=False,
        )
    elif shape == 1:
        pen.rect("plate", (-6.5, cy - 6.5, 6.5, cy + 6.5), r=1.5)
        pen.rect("symbol", (-4.4, cy - 4.4, 4.4, cy + 4.4), r=1.0, edge=False)
        pen.rect("plate", (-2.6, cy - 2.6, 2.6, cy + 2.6), edge=False)
    else:
        pen.poly("plate", [(0, cy - 8), (8, cy), (0, cy + 8), (-8, cy)])
        pen.poly("symbol", [(0, cy - 5), (5, cy), (0, cy + 5), (-5, cy)], edge=False)
        pen.poly("plate", [(0, cy - 2.5), (2.5, cy), (0, cy + 2.5), (-2.5, cy)], edge=False)


_DRAWERS: dict[int, Callable[[_Pen], None]] = {
    _CAR: _draw_car,
    _BUS: _draw_bus,
    _PERSON: _draw_person,
    _BICYCLE: _draw_bicycle,
    _TREE: _draw_tree,
    _BUILDING: _draw_building,
    _SIGN: _draw_sign,
}

_SKIN = [(241, 198, 164), (226, 176, 134), (196, 137, 98), (146, 94, 62), (98, 66, 46)]
_HAIR = [(40, 32, 28), (70, 48, 32), (150, 110, 60), (200, 170, 110), (90, 90, 95)]
_PANTS = [(52, 58, 80), (66, 84, 122), (70, 66, 62), (40, 40, 44)]
_CAR_BODY = [(222, 84, 72), (196, 58, 62), (232, 112, 80), (188, 70, 96)]
_WALLS = [(206, 182, 146), (186, 150, 118), (200, 190, 172), (164, 134, 112), (192, 168, 140)]
_NIGHT_LAMP: Color = (255, 214, 120)


def _object_colors(
    rng: np.random.Generator, cls: int, look: _Look, t: float, p: dict[str, float]
) -> dict[str, Color]:
    night = look.weather == "night"
    base = CLASS_COLORS[cls]
    raw: dict[str, Color] = {}
    emissive: set[str] = set()
    if cls == _CAR:
        body = _jitter(rng, _CAR_BODY[rng.integers(len(_CAR_BODY))])
        raw = {
            "body": body,
            "glass": (150, 182, 206),
            "trim": _shade(body, 0.72),
            "headlight": (236, 234, 214),
            "taillight": (150, 30, 30),
            "wheel": (38, 38, 42),
            "hub": (150, 152, 158),
        }
        if night:
            raw["headlight"], raw["taillight"] = (255, 240, 170), (255, 70, 60)
            emissive |= {"headlight", "taillight"}
    elif cls == _BUS:
        body = _jitter(rng, base, 12)
        raw = {
            "body": body,
            "stripe": _shade(body, 0.7),
            "glass": (70, 92, 114),
            "door": (92, 112, 132),
            "sign": (40, 40, 40),
            "headlight": (236, 234, 214),
            "wheel": (38, 38, 42),
            "hub": (140, 142, 148),
        }
        if night:
            raw.update(glass=(230, 205, 140), headlight=(255, 240, 170), sign=(255, 160, 60))
            emissive |= {"glass", "headlight", "sign"}
    elif cls == _PERSON:
        raw = {
            "shirt": _jitter(rng, base, 24, (0.8, 1.1)),
            "skin": _SKIN[rng.integers(len(_SKIN))],
            "hair": _HAIR[rng.integers(len(_HAIR))],
            "legs": _jitter(rng, _PANTS[rng.integers(len(_PANTS))], 8),
        }
    elif cls == _BICYCLE:
        raw = {
            "frame": _jitter(rng, base, 16),
            "wheel": (44, 46, 50),
            "hub": (150, 152, 158),
            "dark": (36, 36, 40),
        }
    elif cls == _TREE:
        crown = _jitter(rng, base, 16, (0.75, 1.05))
        if p["conifer"] > 0.5:
            crown = _shade(_mix(crown, (40, 110, 80), 0.45), 0.8)
        raw = {
            "crown": crown,
            "crown2": _shade(crown, 0.84),
            "light": _mix(crown, (210, 230, 140), 0.22),
            "trunk": _jitter(rng, (112, 80, 56), 10),
        }
    elif cls == _BUILDING:
        wall = _jitter(rng, _WALLS[rng.integers(len(_WALLS))], 10)
        raw = {
            "wall": wall,
            "roof": _shade(wall, 0.66),
            "glass": (150, 176, 196),
            "lit": (150, 176, 196),
            "door": _shade(wall, 0.45),
        }
        if night:
            raw.update(glass=(36, 40, 58), lit=_NIGHT_LAMP)
            emissive.add("lit")
    elif cls == _SIGN:
        raw = {"pole": (150, 154, 160), "plate": _jitter(rng, base, 12), "symbol": (244, 246, 248)}
    return {k: look.apply(c, t, k in emissive) for k, c in raw.items()}


def _object_params(rng: np.random.Generator, cls: int, theme: bool) -> dict[str, float]:
    if cls == _CAR:
        return {"len": rng.uniform(0.9, 1.12), "roof": rng.uniform(7.5, 10.5)}
    if cls == _BUS:
        return {"len": rng.uniform(0.85, 1.1), "windows": float(rng.integers(4, 7))}
    if cls == _PERSON:
        return {"stride": rng.uniform(-1.0, 2.0), "hat": float(rng.random() < 0.25)}
    if cls == _TREE:
        return {"height": rng.uniform(38, 58), "conifer": float(rng.random() < 0.35)}
    if cls == _BUILDING:
        w, h = rng.uniform(56, 96), rng.uniform(90, 170) * (1.15 if theme else 1.0)
        return {
            "width": w,
            "height": h,
            "cols": float(max(2, round(w / 18))),
            "rows": float(max(3, round(h / 22))),
            "lit_seed": float(rng.integers(5)),
        }
    if cls == _SIGN:
        return {"height": rng.uniform(26, 36), "shape": float(rng.integers(3))}
    return {}


# object half-widths in model units (for placement)
_HALF_W = {_CAR: 24, _BUS: 42, _PERSON: 7, _BICYCLE: 20, _TREE: 16, _SIGN: 8}
_EXTRA_P = np.array([0.22, 0.07, 0.2, 0.1, 0.19, 0.1, 0.12])  # car..sign


@dataclass(frozen=True)
class _Road:
    horizon: float
    cx_top: float
    cx_bot: float
    hw_top: float
    hw_bot: float

    def at(self, t: float) -> tuple[float, float]:
        """Road centre and half-width at depth ``t``."""
        return (
            self.cx_top + (self.cx_bot - self.cx_top) * t,
            self.hw_top + (self.hw_bot - self.hw_top) * t,
        )


def _plan_object(
    rng: np.random.Generator,
    cls: int,
    theme: bool,
    road: _Road,
    s2: int,
    look: _Look,
    t_max: float = 0.9,
    anchor: _Obj | None = None,
) -> _Obj:
    k = s2 / 128.0  # 2x-canvas pixels per model unit at depth t = 1
    if cls == _BUILDING:
        t = rng.uniform(0.22, 0.4) if theme else rng.uniform(0.0, 0.14)
    elif theme:
        t = rng.uniform(0.62, 0.95)
    else:
        t = 0.16 + (max(0.3, t_max) - 0.16) * rng.random() ** 0.7
    s = k * (0.22 + 0.78 * t) * rng.uniform(0.92, 1.1)
    if cls == _BUILDING:
        s *= 1.25
    elif theme and cls in (_PERSON, _BICYCLE, _SIGN):
        s *= 1.3
    base = road.horizon + t * (s2 - road.horizon) + (1.5 * k if cls == _BUILDING else 0)
    cx, hw = road.at(t)
    p = _object_params(rng, cls, theme)
    half = (p["width"] / 2 if cls == _BUILDING else _HALF_W[cls]) * s
    on_road = cls in (_CAR, _BUS) or (cls in (_PERSON, _BICYCLE) and rng.random() < 0.25)
    u_side, u_gap, u_group = rng.random(3)
    side = 1 if u_side < 0.5 else -1
    if on_road:
        x = cx + (2 * u_gap - 1) * 0.6 * max(hw - half * 0.6, 0)
    else:
        gap = half * 0.8 + u_gap * (0.22 if cls != _BUILDING else 0.05) * s2
        x = cx + side * (hw + gap)
        if not (-0.3 * half < x < s2 + 0.3 * half):
            x = cx - side * (hw + gap)
    if anchor is not None and cls != _BUILDING and u_group < 0.35:
        # stand next to the subject (partial overlaps make occlusion happen)
        a_half = _HALF_W.get(anchor.cls, 20) * anchor.s
        x = anchor.x + side * (0.3 + 0.7 * u_gap) * (a_half + half)
    lo, hi = (half, s2 - half) if theme else (-0.3 * half, s2 + 0.3 * half)
    x = float(np.clip(x, lo, max(lo, hi)))
    flip = 1 if rng.random() < 0.5 else -1
    return _Obj(cls, x, base, s, t, flip, _object_colors(rng, cls, look, t, p), p, theme)


# ------------------------------------------------------------------------- background


def _background(rng: np.random.Generator, look: _Look, road: _Road, s2: int) -> Image.Image:
    hz = int(round(road.horizon))
    col = np.empty((s2, 3), np.float32)
    f = np.linspace(0.0, 1.0, hz, dtype=np.float32)[:, None] ** 1.3
    col[:hz] = (
        np.array(look.sky_top, np.float32) * (1 - f) + np.array(look.sky_horizon, np.float32) * f
    )
    grass = _jitter(rng, (104, 156, 78) if rng.random() < 0.75 else (150, 160, 88), 10)
    g_far, g_near = look.apply(grass, 0.0), look.apply(_shade(grass, 0.9), 1.0)
    f = np.linspace(0.0, 1.0, s2 - hz, dtype=np.float32)[:, None] ** 0.7
    col[hz:] = np.array(g_far, np.float32) * (1 - f) + np.array(g_near, np.float32) * f
    im = Image.fromarray(col.astype(np.uint8)[:, None, :], "RGB").resize(
        (s2, s2), Image.Resampling.NEAREST
    )
    d = ImageDraw.Draw(im)
    u = s2 / 128.0

    w = look.weather
    if w == "sunny":
        sx, sy = rng.uniform(0.1, 0.9) * s2, rng.uniform(0.15, 0.6) * hz
        d.ellipse(
            [sx - 14 * u, sy - 14 * u, sx + 14 * u, sy + 14 * u],
            fill=_mix(look.sky_horizon, (255, 250, 220), 0.45),
        )
        d.ellipse([sx - 8 * u, sy - 8 * u, sx + 8 * u, sy + 8 * u], fill=(255, 246, 206))
    elif w == "night":
        n = 45
        xs, ys = rng.uniform(0, s2, n), rng.uniform(0, 0.85, n) ** 1.5 * hz
        bright = rng.integers(120, 240, n)
        for x, y, b in zip(xs, ys, bright, strict=True):
            d.rectangle([x, y, x + 1, y + 1], fill=(int(b), int(b), int(b * 0.9)))
        mx, my, mr = rng.uniform(0.1, 0.9) * s2, rng.uniform(0.2, 0.55) * hz, 6 * u
        d.ellipse([mx - mr, my - mr, mx + mr, my + mr], fill=(238, 236, 214))
        sky_here = _mix(look.sky_top, look.sky_horizon, (my / hz) ** 1.3)
        o = mr * rng.uniform(0.45, 0.7)
        d.ellipse([mx - mr + o, my - mr - o * 0.4, mx + mr + o, my + mr - o * 0.4], fill=sky_here)
    if w in ("cloudy", "rain") or (w == "sunny" and rng.random() < 0.6):
        col = {"cloudy": (226, 229, 234), "rain": (118, 126, 138)}.get(w, (246, 248, 251))
        col2 = _shade(col, 0.93)
        for _ in range(int(rng.integers(2, 5))):
            cx, cy = rng.uniform(-0.1, 1.1) * s2, rng.uniform(0.1, 0.7) * hz
            sc = rng.uniform(0.7, 1.3) * u
            for j in range(5):
                dx, dy = (j - 2) * 7 * sc + rng.normal(0, 2 * sc), rng.normal(0, 2 * sc)
                r = (9 - abs(j - 2) * 2) * sc
                d.ellipse(
                    [cx + dx - r * 1.3, cy + dy - r, cx + dx + r * 1.3, cy + dy + r],
                    fill=col if j % 2 == 0 else col2,
                )

    if rng.random() < 0.7:  # distant hills / treeline
        hill = look.apply(_mix(grass, (60, 100, 90), 0.4), 0.0)
        hill = _mix(hill, look.haze, 0.35)
        n = 9
        xs = np.linspace(-0.1, 1.1, n) * s2
        hs = hz - rng.uniform(2, 12, n) * u
        d.polygon(
            [(float(xs[0]), hz + 1.0)]
            + [(float(x), float(y)) for x, y in zip(xs, hs, strict=True)]
            + [(float(xs[-1]), hz + 1.0)],
            fill=hill,
        )

    # road in depth bands so the haze fades it towards the horizon
    asphalt = (112, 112, 118) if w != "rain" else (84, 86, 94)
    pavement = _jitter(rng, (178, 172, 160), 8)
    bands = np.linspace(0.0, 1.0, 9)
    for a, b in zip(bands[:-1], bands[1:], strict=True):
        ca, wa = road.at(a)
        cb, wb = road.at(b)
        ya, yb = hz + a * (s2 - hz), hz + b * (s2 - hz) + 1
        pa, pb = wa * 0.2, wb * 0.2
        walk = look.apply(pavement, (a + b) / 2)
        d.polygon(
            [(ca - wa - pa, ya), (ca + wa + pa, ya), (cb + wb + pb, yb), (cb - wb - pb, yb)],
            fill=walk,
        )
        d.polygon(
            [(ca - wa, ya), (ca + wa, ya), (cb + wb, yb), (cb - wb, yb)],
            fill=look.apply(asphalt, (a + b) / 2),
        )
        curb = look.apply((196, 194, 186), (a + b) / 2)
        lw = max(1, round(1.5 * u * (0.3 + b)))
        d.line([(ca - wa, ya), (cb - wb, yb)], fill=curb, width=lw)
        d.line([(ca + wa, ya), (cb + wb, yb)], fill=curb, width=lw)
    dash = (232, 226, 196)
    for i in range(14):  # centre dashes, shrinking with distance
        a, b = (i + 0.25) / 14, (i + 0.6) / 14
        a, b = a * a, b * b
        ca, _ = road.at(a)
        cb, _ = road.at(b)
        d.line(
            [(ca, hz + a * (s2 - hz)), (cb, hz + b * (s2 - hz))],
            fill=look.apply(dash, b),
            width=max(1, round(2 * u * (0.2 + b))),
        )
    return im


# ----------------------------------------------------------------------------- scenes


def _render_silhouette(o: _Obj, s2: int) -> np.ndarray:
    im = Image.new("L", (s2, s2), 0)
    _DRAWERS[o.cls](_Pen(ImageDraw.Draw(im), o, lambda _p: 255, lambda _p: 255))
    return np.asarray(im.reduce(2)) >= 128


def make_scene(rng: np.random.Generator, size: int = 128) -> Scene:
    """Draw one random scene of ``size`` x ``size`` pixels with its ground truth."""
    s2 = 2 * size
    weather = str(WEATHERS[rng.choice(len(WEATHERS), p=_WEATHER_P)])
    look = _make_look(weather)
    horizon = rng.uniform(0.36, 0.5) * s2
    road = _Road(
        horizon,
        rng.uniform(0.3, 0.7) * s2,
        rng.uniform(0.15, 0.85) * s2,
        rng.uniform(0.012, 0.04) * s2,
        rng.uniform(0.2, 0.36) * s2,
    )

    theme = int(rng.choice(_OBJECT_IDS))
    n_extra = int(rng.choice(6, p=[0.03, 0.1, 0.2, 0.27, 0.24, 0.16]))
    extras = [int(c) for c in rng.choice(_OBJECT_IDS, size=n_extra, p=_EXTRA_P)]
    if theme == _PERSON and extras and rng.random() < 0.5:
        extras[0] = _PERSON  # people often come in pairs
    objs = [_plan_object(rng, theme, True, road, s2, look)]
    # extras stand mostly behind the subject, sometimes in front of it
    t_max = 0.92 if rng.random() < 0.2 else objs[0].t - 0.05
    objs += [_plan_object(rng, c, False, road, s2, look, t_max, objs[0]) for c in extras]
    objs.sort(key=lambda o: (o.cls != _BUILDING, o.base))

    # occlusion: compose silhouettes far -> near, drop objects that end up barely visible
    sil = [_render_silhouette(o, s2) for o in objs]
    full = [int(np.count_nonzero(m)) for m in sil]
    min_px = max(6, int(20 * (size / 128) ** 2))

    def compose(keep: list[int]) -> np.ndarray:
        inst = np.zeros((size, size), np.uint8)
        for j, i in enumerate(keep):
            inst[sil[i]] = j + 1
        return inst

    keep = [i for i in range(len(objs)) if full[i] > 0]
    inst = compose(keep)
    vis = np.bincount(inst.ravel(), minlength=len(keep) + 1)[1:]
    good = [i for j, i in enumerate(keep) if vis[j] >= min_px and vis[j] >= 0.35 * full[i]]
    if not good:  # pragma: no cover - degenerate, keep the most visible object
        good = [keep[int(np.argmax(vis))]]
    if good != keep:
        keep = good
        inst = compose(keep)
        vis = np.bincount(inst.ravel(), minlength=len(keep) + 1)[1:]
    # the subject's class must cover the most pixels: drop the biggest rival objects
    while len(keep) > 1:
        area = np.zeros(_N_CLS, np.int64)
        for j, i in enumerate(keep):
            area[objs[i].cls] += vis[j]
        winner = int(np.argmax(area))
        rivals = [
            (int(vis[j]), j)
            for j, i in enumerate(keep)
            if objs[i].cls == winner and not objs[i].theme
        ]
        if winner == theme or not rivals or area[theme] == 0:
            break
        del keep[max(rivals)[1]]
        inst = compose(keep)
        vis = np.bincount(inst.ravel(), minlength=len(keep) + 1)[1:]

    # image at 2x, then downsample
    canvas = _background(rng, look, road, s2)
    d = ImageDraw.Draw(canvas)
    u = s2 / 128.0
    for i in keep:
        o = objs[i]
        if o.cls in (_CAR, _BUS, _BICYCLE, _PERSON, _TREE, _SIGN):  # soft contact shadow
            hw = (_HALF_W[o.cls] if o.cls != _TREE else 11) * o.s
            shadow = _mix(look.apply((70, 80, 70), o.t), (0, 0, 0), 0.25)
            d.ellipse([o.x - hw, o.base - 2.2 * o.s, o.x + hw, o.base + 1.6 * o.s], fill=shadow)
        cols = o.colors
        _DRAWERS[o.cls](_Pen(d, o, cols.__getitem__, lambda part, c=cols: _shade(c[part], 0.58)))
    if weather == "rain":
        n = int(170 * (size / 128) ** 2)
        xs, ys = rng.uniform(-0.1, 1.1, n) * s2, rng.uniform(0, 1, n) * s2
        ln = rng.uniform(7, 14, n) * u
        for x, y, L in zip(xs, ys, ln, strict=True):
            d.line([(x, y), (x - 0.28 * L, y + L)], fill=(196, 204, 216), width=1)

    img = np.asarray(canvas.resize((size, size), Image.Resampling.LANCZOS), np.float32)
    if weather == "fog":
        img = img * 0.9 + np.float32(0.1) * np.array(look.haze, np.float32)
    elif weather == "night":
        yy, xx = np.mgrid[0:size, 0:size].astype(np.float32) / size - 0.5
        img = img * (1.0 - 0.45 * (xx * xx + yy * yy))[..., None]
    image = np.clip(img + 0.5, 0, 255).astype(np.uint8)

    lut = np.zeros(256, np.uint8)
    lut[1 : len(keep) + 1] = [objs[i].cls for i in keep]
    mask = lut[inst]

    boxes: list[Box] = []
    for j, i in enumerate(keep):
        m = inst == j + 1
        cols_any, rows_any = np.flatnonzero(m.any(axis=0)), np.flatnonzero(m.any(axis=1))
        cls = objs[i].cls
        boxes.append(
            Box(
                cls,
                int(cols_any[0]),
                int(rows_any[0]),
                int(cols_any[-1]) + 1,
                int(rows_any[-1]) + 1,
                CLASS_NAMES[cls],
            )
        )

    area = np.bincount(mask.ravel(), minlength=_N_CLS)
    area[0] = 0
    label = CLASS_NAMES[int(np.argmax(area))]
    lum = image.astype(np.float32) @ np.array([0.299, 0.587, 0.114], np.float32)
    hidden = 1.0 - float(vis.sum()) / max(1, sum(full[i] for i in keep))
    for a in (image, mask, inst):
        a.setflags(write=False)
    return Scene(
        image=image,
        mask=mask,
        instances=inst,
        boxes=boxes,
        label=label,
        weather=weather,
        brightness=round(float(lum.mean()) / 255.0, 4),
        coverage=round(float((mask > 0).mean()), 4),
        occlusion=round(max(0.0, hidden), 4),
        object_count=len(boxes),
    )


def make_scenes(n: int, seed: int = 0, size: int = 128) -> Iterator[Scene]:
    """Yield ``n`` scenes; scene ``i`` is ``make_scene(np.random.default_rng((seed, i)), size)``.

    Each scene has its own random stream, so any scene can be regenerated on its own.
    """
    for i in range(n):
        yield make_scene(np.random.default_rng((seed, i)), size)


# ------------------------------------------------------------------------- prediction

# plausible confusions: class -> classes it gets mistaken for
_CONFUSE: dict[int, list[int]] = {
    _CAR: [_BUS, _BICYCLE, _SIGN],
    _BUS: [_CAR, _BUILDING],
    _PERSON: [_BICYCLE, _SIGN, _TREE],
    _BICYCLE: [_PERSON, _CAR],
    _TREE: [_BUILDING, _PERSON, _SIGN],
    _BUILDING: [_BUS, _TREE],
    _SIGN: [_PERSON, _TREE, _BICYCLE],
}


def _sigmoid(x: float) -> float:
    return 1.0 / (1.0 + math.exp(-x))


def _dilate(m: np.ndarray, r: int) -> np.ndarray:
    out = m.copy()
    for _ in range(r):
        src = out.copy()
        out[1:] |= src[:-1]
        out[:-1] |= src[1:]
        out[:, 1:] |= src[:, :-1]
        out[:, :-1] |= src[:, 1:]
    return out


def _erode(m: np.ndarray, r: int) -> np.ndarray:
    return ~_dilate(~m, r)


def _smooth_noise(rng: np.random.Generator, h: int, w: int, cell: int) -> np.ndarray:
    small = rng.random((max(2, h // cell + 2), max(2, w // cell + 2))).astype(np.float32)
    im = Image.fromarray(small, "F").resize((w + 2 * cell, h + 2 * cell), Image.Resampling.BICUBIC)
    return np.asarray(im)[cell : cell + h, cell : cell + w]


def predict(scene: Scene, rng: np.random.Generator, skill: float) -> Prediction:
    """Simulate a detector + segmenter + classifier of ``skill`` (0..1) on ``scene``.

    The number of random draws does not depend on ``skill``, so two models fed identically
    seeded generators make correlated mistakes, the weaker one making more of them.
    """
    skill = float(np.clip(skill, 0.0, 1.0))
    err = 1.0 - skill
    h, w = scene.mask.shape
    size_ref = max(1.0, h * w * 0.02)

    noise = _smooth_noise(rng, h, w, max(3, h // 20))
    pmask = np.zeros((h, w), np.uint8)
    boxes: list[Box] = []
    for i, b in enumerate(scene.boxes):
        u_miss, u_cls, u_seg, u_r = rng.random(4)
        alt = int(rng.integers(0, 3))
        jit = rng.normal(0.0, 1.0, 4)
        z_score, z_seg = rng.normal(0.0, 1.0, 2)
        area = max(1.0, b.width * b.height)
        small = min(1.0, math.sqrt(area / size_ref))  # ~0 tiny .. 1 large
        p_miss = err * (0.15 + 0.55 * (1.0 - small))
        missed = u_miss < p_miss
        confusions = _CONFUSE[b.class_id]
        cls = confusions[alt % len(confusions)] if u_cls < err * 0.32 else b.class_id

        # segmentation: wobbly boundary, over/under segmentation, occasional drop/relabel
        obj = scene.instances == i + 1
        if not (missed and u_seg < 0.8):
            r = int(err * 5.0 * (0.3 + 0.7 * small) + u_r)  # stochastic rounding
            if r > 0:
                core = _erode(obj, r)
                if np.count_nonzero(core) < 0.5 * np.count_nonzero(obj):
                    core = obj  # thin structure: only bleed outwards
                band = _dilate(obj, r) & ~core
                thr = 0.5 + 0.25 * z_seg * err
                obj = core | (band & (noise > thr))
            pmask[obj] = cls

        if missed:
            continue
        sx, sy = b.width * (0.015 + 0.16 * err), b.height * (0.015 + 0.16 * err)
        x0 = int(np.clip(round(b.min_x + jit[0] * sx), 0, w - 1))
        y0 = int(np.clip(round(b.min_y + jit[1] * sy), 0, h - 1))
        x1 = int(np.clip(round(b.max_x + jit[2] * sx), x0 + 1, w))
        y1 = int(np.clip(round(b.max_y + jit[3] * sy), y0 + 1, h))
        logit = (
            4.2 * skill - 0.9 + 1.2 * small + 0.55 * z_score - (1.6 if cls != b.class_id else 0.0)
        )
        score = round(_sigmoid(logit), 3)
        boxes.append(Box(cls, x0, y0, x1, y1, f"{CLASS_NAMES[cls]} {score:.2f}", score))

    # false positives and spurious mask patches
    yy, xx = np.mgrid[0:h, 0:w]
    present = sorted({b.class_id for b in scene.boxes})
    for _ in range(3):
        u_fp, u_patch, u_src = rng.random(3)
        cls = int(_OBJECT_IDS[int(rng.integers(len(_OBJECT_IDS)))])
        spill = present[int(u_src * 1000) % len(present)] if present else cls
        cx, cy = rng.uniform(0.05, 0.95) * w, rng.uniform(0.35, 0.95) * h
        bw, bh = rng.uniform(0.06, 0.25) * w, rng.uniform(0.06, 0.25) * h
        z = rng.normal()
        if u_fp < err * 0.9:
            x0, y0 = int(max(0, cx - bw / 2)), int(max(0, cy - bh / 2))
            x1, y1 = int(min(w, max(x0 + 1, cx + bw / 2))), int(min(h, max(y0 + 1, cy + bh / 2)))
            score = round(_sigmoid(-0.6 - 2.0 * skill + 0.7 * z), 3)
            boxes.append(Box(cls, x0, y0, x1, y1, f"{CLASS_NAMES[cls]} {score:.2f}", score))
        if u_patch < err * 0.6:  # a blob of a wrong (usually already present) class
            rx, ry = bw * 0.3, bh * 0.3
            blob = ((xx - cx) / rx) ** 2 + ((yy - cy) / ry) ** 2 < 0.6 + 0.8 * noise
            pmask[blob] = spill if u_src < 0.7 else cls
    boxes.sort(key=lambda bx: -(bx.score or 0.0))

    # image-level label
    names = [CLASS_NAMES[c] for c in _OBJECT_IDS]
    logits = rng.normal(0.0, 0.55, len(names))
    u_lab = rng.random()
    alt = int(rng.integers(0, 3))
    true_idx = names.index(scene.label)
    conf_list = _CONFUSE[scene.label_id]
    tgt = (
        names.index(CLASS_NAMES[conf_list[alt % len(conf_list)]])
        if u_lab < err * 0.45
        else true_idx
    )
    logits[tgt] += 0.8 + 4.0 * skill
    if tgt != true_idx:
        logits[true_idx] += 0.4 + 2.5 * skill
    probs = np.exp(logits - logits.max())
    probs /= probs.sum()
    best = int(np.argmax(probs))
    label_probs = {n: round(float(q), 4) for n, q in zip(names, probs, strict=True)}

    # per-class IoU over object classes present in either mask
    t_area = np.bincount(scene.mask.ravel(), minlength=_N_CLS)
    p_area = np.bincount(pmask.ravel(), minlength=_N_CLS)
    inter = np.bincount(scene.mask[scene.mask == pmask].ravel(), minlength=_N_CLS)
    class_iou = {
        CLASS_NAMES[c]: round(float(inter[c] / (t_area[c] + p_area[c] - inter[c])), 4)
        for c in _OBJECT_IDS
        if t_area[c] + p_area[c] > 0
    }
    pmask.setflags(write=False)
    return Prediction(
        boxes=boxes,
        mask=pmask,
        label=names[best],
        confidence=round(float(probs[best]), 4),
        label_probs=label_probs,
        class_iou=class_iou,
        skill=skill,
    )


# ---------------------------------------------------------------------------- preview


def _overlay(
    image: np.ndarray,
    mask: np.ndarray,
    boxes: list[Box],
    scale: int,
    font: ImageFont.ImageFont | ImageFont.FreeTypeFont,
) -> Image.Image:
    pal = np.zeros((256, 3), np.float32)
    for cid, rgb in CLASS_COLORS.items():
        pal[cid] = rgb
    a = (mask > 0)[..., None] * np.float32(0.5)
    blended = image.astype(np.float32) * (1 - a) + pal[mask] * a
    im = Image.fromarray(blended.astype(np.uint8)).resize(
        (image.shape[1] * scale, image.shape[0] * scale), Image.Resampling.NEAREST
    )
    d = ImageDraw.Draw(im)
    for b in boxes:
        col = CLASS_COLORS[b.class_id]
        d.rectangle(
            [b.min_x * scale, b.min_y * scale, b.max_x * scale - 1, b.max_y * scale - 1],
            outline=col,
            width=2,
        )
        tx, ty = b.min_x * scale + 2, max(0, b.min_y * scale - 11)
        d.rectangle([tx - 2, ty, tx + 6 * len(b.caption), ty + 10], fill=(0, 0, 0))
        d.text((tx, ty), b.caption, fill=col, font=font)
    return im


def _contact_sheet(n: int = 24, seed: int = 0, size: int = 128, cols: int = 3) -> Image.Image:
    font = ImageFont.load_default()
    scale, pad, text_h = 2, 8, 16
    tile_w, tile_h = 3 * size * scale + 2 * 4, size * scale + text_h
    rows = (n + cols - 1) // cols
    sheet = Image.new(
        "RGB", (cols * (tile_w + pad) + pad, rows * (tile_h + pad) + pad), (32, 34, 38)
    )
    d = ImageDraw.Draw(sheet)
    for i, sc in enumerate(make_scenes(n, seed, size)):
        pr = predict(sc, np.random.default_rng((seed, i, 1)), 0.6)
        x0 = pad + (i % cols) * (tile_w + pad)
        y0 = pad + (i // cols) * (tile_h + pad)
        sheet.paste(
            Image.fromarray(sc.image).resize((size * scale,) * 2, Image.Resampling.NEAREST),
            (x0, y0),
        )
        sheet.paste(_overlay(sc.image, sc.mask, sc.boxes, scale, font), (x0 + size * scale + 4, y0))
        sheet.paste(
            _overlay(sc.image, pr.mask, pr.boxes, scale, font), (x0 + 2 * (size * scale + 4), y0)
        )
        d.text(
            (x0, y0 + size * scale + 3),
            f"#{i} {sc.label} | {sc.weather} | n={sc.object_count} "
            f"bright={sc.brightness:.2f} occl={sc.occlusion:.2f} | pred(0.6): {pr.label} "
            f"{pr.confidence:.2f} mIoU={pr.mean_iou:.2f}",
            fill=(220, 220, 220),
            font=font,
        )
    return sheet


if __name__ == "__main__":
    out = sys.argv[1] if len(sys.argv) > 1 else "/tmp/demo_scenes.png"
    seed = int(sys.argv[2]) if len(sys.argv) > 2 else 0
    t0 = time.perf_counter()
    _contact_sheet(seed=seed).save(out)
    print(f"wrote {out} in {time.perf_counter() - t0:.2f}s")
