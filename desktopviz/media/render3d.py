"""A small software 3D renderer (numpy and Pillow, no OpenGL): point clouds with their boxes and
vectors, and molecules as balls and sticks with element labels, seen through a :class:`Camera`
that turns about the scene's centre. The cell thumbnails and the Inspector's rotatable views both
draw with it, so they render the same everywhere (offscreen too).

Public API: :class:`Camera`, :func:`render_scene`, :func:`render_molecule`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace

import numpy as np
from PIL import Image, ImageDraw, ImageFont

from desktopviz.media.molecule import Molecule, covalent_radius, element_colour
from desktopviz.media.scene import Scene

SCENE_BACKGROUND = (24, 26, 30)
MOLECULE_BACKGROUND = (250, 250, 250)
EYE_DISTANCE = 3.2
"""Distance of the eye from the centre, in scene radii (sets the perspective)."""
MOLECULE_LABEL_ATOMS = 300
"""Molecules with more atoms are drawn without labels."""
BALL_ATOMS = 6000
"""Molecules with more atoms are drawn as points, coloured by element."""
AXIS_COLOURS = ((230, 60, 60), (60, 190, 80), (70, 120, 240))


@dataclass(frozen=True)
class Camera:
    """Turn about the vertical axis (``yaw``) and tilt (``pitch``), in radians, and ``zoom``."""

    yaw: float = -0.6
    pitch: float = 0.45
    zoom: float = 1.0

    def turned(self, dyaw: float, dpitch: float) -> Camera:
        """This camera turned by a drag (pitch kept within straight up and down)."""
        pitch = min(max(self.pitch + dpitch, -math.pi / 2), math.pi / 2)
        return replace(self, yaw=self.yaw + dyaw, pitch=pitch)

    def zoomed(self, factor: float) -> Camera:
        """This camera zoomed by ``factor`` (kept within 0.2 and 20)."""
        return replace(self, zoom=min(max(self.zoom * factor, 0.2), 20.0))


@dataclass(frozen=True)
class _View:
    centre: np.ndarray
    radius: float
    camera: Camera
    width: int
    height: int

    def project(self, xyz: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Screen x, y and distance from the eye of points ``(n, 3)`` (z is up)."""
        p = (np.asarray(xyz, np.float64).reshape(-1, 3) - self.centre) / self.radius
        cy, sy = math.cos(self.camera.yaw), math.sin(self.camera.yaw)
        x = p[:, 0] * cy - p[:, 1] * sy
        y = p[:, 0] * sy + p[:, 1] * cy
        z = p[:, 2]
        cp, sp = math.cos(self.camera.pitch), math.sin(self.camera.pitch)
        # view frame: right = x, up = z, towards the eye = -y; then tilt about "right"
        up = z * cp - y * sp
        towards = -y * cp - z * sp
        dist = np.maximum(EYE_DISTANCE - towards, 0.05)
        focal = 0.47 * min(self.width, self.height) * EYE_DISTANCE * self.camera.zoom
        sx = self.width / 2 + x * focal / dist
        sy_ = self.height / 2 - up * focal / dist
        return sx, sy_, dist

    @property
    def pixels_per_unit(self) -> float:
        """Screen pixels of one scene unit at the centre's depth."""
        return 0.47 * min(self.width, self.height) * self.camera.zoom / self.radius


def _font(size: int) -> ImageFont.FreeTypeFont | ImageFont.ImageFont:
    return ImageFont.load_default(size=max(6, size))


def _splat(
    canvas: np.ndarray,
    sx: np.ndarray,
    sy: np.ndarray,
    dist: np.ndarray,
    colours: np.ndarray,
    size: int,
) -> None:
    """Draw points as ``size``-pixel squares, the nearest point winning each pixel, shaded by
    depth."""
    h, w = canvas.shape[:2]
    ok = np.isfinite(sx) & np.isfinite(sy)
    sx, sy, dist, colours = sx[ok], sy[ok], dist[ok], colours[ok]
    if not len(sx):
        return
    near, far = float(dist.min()), float(dist.max())
    shade = 1.0 - 0.45 * (dist - near) / max(far - near, 1e-9)
    shaded = (colours.astype(np.float32) * shade[:, None]).astype(np.uint8)
    base_x = np.floor(sx - (size - 1) / 2).astype(np.int64)
    base_y = np.floor(sy - (size - 1) / 2).astype(np.int64)
    xs, ys, ds, cs = [], [], [], []
    for dx in range(size):
        for dy in range(size):
            xs.append(base_x + dx)
            ys.append(base_y + dy)
            ds.append(dist)
            cs.append(shaded)
    x, y, d, c = (np.concatenate(a) for a in (xs, ys, ds, cs))
    inside = (x >= 0) & (x < w) & (y >= 0) & (y < h)
    x, y, d, c = x[inside], y[inside], d[inside], c[inside]
    pix = y * w + x
    order = np.lexsort((d, pix))  # by pixel, nearest first
    pix = pix[order]
    first = np.ones(len(pix), bool)
    first[1:] = pix[1:] != pix[:-1]
    flat = canvas.reshape(-1, 3)
    flat[pix[first]] = c[order][first]


def _point_size(count: int, width: int, height: int) -> int:
    size = 3 if count < 3000 else 2 if count < 60_000 else 1
    return max(1, size - (1 if min(width, height) < 160 else 0))


def _axes(draw: ImageDraw.ImageDraw, camera: Camera, width: int, height: int) -> None:
    """A small x/y/z gizmo in the lower left corner, turning with the view."""
    length = max(8, min(width, height) // 12)
    view = _View(np.zeros(3), 1.0, replace(camera, zoom=1.0), 2, 2)
    ox, oy = length + 6, height - length - 6
    tips = view.project(np.eye(3))
    origin = view.project(np.zeros((1, 3)))
    for k in range(3):
        dx = (tips[0][k] - origin[0][0]) * length / 0.47
        dy = (tips[1][k] - origin[1][0]) * length / 0.47
        draw.line([(ox, oy), (ox + dx, oy + dy)], fill=AXIS_COLOURS[k], width=2)


def render_scene(
    scene: Scene,
    size: tuple[int, int],
    camera: Camera | None = None,
    *,
    background: tuple[int, int, int] = SCENE_BACKGROUND,
    labels: bool = True,
) -> Image.Image:
    """A point cloud with its boxes (edges in their colours, labelled) and vectors."""
    camera = camera or Camera()
    width, height = max(1, size[0]), max(1, size[1])
    centre, radius = scene.extent()
    view = _View(centre, radius, camera, width, height)
    canvas = np.empty((height, width, 3), np.uint8)
    canvas[:] = background
    if len(scene.points):
        sx, sy, dist = view.project(scene.points)
        _splat(canvas, sx, sy, dist, scene.colours, _point_size(len(sx), width, height))
    im = Image.fromarray(canvas, "RGB")
    draw = ImageDraw.Draw(im)
    line = 2 if min(width, height) >= 200 else 1
    font = _font(max(9, min(width, height) // 32))
    for box in scene.boxes:
        bx, by, _ = view.project(box.corners)
        if not (np.isfinite(bx).all() and np.isfinite(by).all()):
            continue
        for i, j in box.edges():
            draw.line([(bx[i], by[i]), (bx[j], by[j])], fill=box.colour, width=line)
        if labels and box.text and min(width, height) >= 120:
            top = int(np.argmin(by))
            draw.text((bx[top] + 2, by[top] - font.size - 2), box.text, fill=box.colour, font=font)
    if scene.vectors is not None and len(scene.vectors):
        vx, vy, _ = view.project(scene.vectors.reshape(-1, 3))
        for k in range(0, len(vx), 2):
            draw.line([(vx[k], vy[k]), (vx[k + 1], vy[k + 1])], fill=(255, 210, 60), width=line)
            r = line + 1
            draw.ellipse(
                [vx[k + 1] - r, vy[k + 1] - r, vx[k + 1] + r, vy[k + 1] + r], fill=(255, 210, 60)
            )
    if min(width, height) >= 120:
        _axes(draw, camera, width, height)
    return im


def _darker(rgb: tuple[int, int, int], factor: float = 0.55) -> tuple[int, int, int]:
    return tuple(int(c * factor) for c in rgb)  # type: ignore[return-value]


MOLECULE_CAMERA = Camera(yaw=0.2, pitch=0.2)


def _principal(coords: np.ndarray) -> np.ndarray:
    """Coordinates turned onto their principal axes: the longest across the screen, the next
    up it, the thinnest into it (the view where atoms hide each other least)."""
    centred = coords - coords.mean(axis=0)
    if len(coords) < 3:
        return centred
    _, _, axes = np.linalg.svd(centred, full_matrices=False)
    p = centred @ axes.T  # columns: along the 1st, 2nd, 3rd axis
    return np.stack([p[:, 0], -p[:, 2], p[:, 1]], axis=1)  # x right, y into the screen, z up


def render_molecule(
    mol: Molecule,
    size: tuple[int, int],
    camera: Camera | None = None,
    *,
    labels: bool | None = None,
    background: tuple[int, int, int] = MOLECULE_BACKGROUND,
) -> Image.Image:
    """Balls (CPK colours, sized by covalent radius) and sticks, nearest drawn last; labels are
    the element symbols (by default when the molecule is small enough to read them)."""
    camera = camera or MOLECULE_CAMERA
    width, height = max(1, size[0]), max(1, size[1])
    coords = _principal(mol.coords)
    lo, hi = coords.min(axis=0), coords.max(axis=0)
    radius = max(float(np.linalg.norm(hi - lo) / 2) + 0.5, 1.2)  # + an atom's reach
    view = _View((lo + hi) / 2, radius, camera, width, height)
    sx, sy, dist = view.project(coords)
    colours = np.array([element_colour(e) for e in mol.elements], np.uint8)
    if len(coords) > BALL_ATOMS:
        canvas = np.empty((height, width, 3), np.uint8)
        canvas[:] = background
        _splat(canvas, sx, sy, dist, colours, _point_size(len(coords), width, height))
        return Image.fromarray(canvas, "RGB")
    im = Image.new("RGB", (width, height), background)
    draw = ImageDraw.Draw(im)
    unit = view.pixels_per_unit * EYE_DISTANCE  # pixels of 1 Å at distance 1 from the eye
    radii = np.array([0.18 + 0.3 * covalent_radius(e) for e in mol.elements]) * unit / dist
    stick = max(1, round(0.16 * unit / EYE_DISTANCE))
    items: list[tuple[float, int, int]] = [(float(d), 1, i) for i, d in enumerate(dist)]
    items += [(float(dist[a] + dist[b]) / 2 + 1e-6, 0, k) for k, (a, b) in enumerate(mol.bonds)]
    items.sort(key=lambda t: -t[0])  # far first
    for _depth, kind, k in items:
        if kind == 0:
            a, b = mol.bonds[k]
            mx, my = (sx[a] + sx[b]) / 2, (sy[a] + sy[b]) / 2
            for end, (x, y) in ((a, (sx[a], sy[a])), (b, (sx[b], sy[b]))):
                draw.line([(x, y), (mx, my)], fill=_darker(tuple(colours[end]), 0.8), width=stick)
        else:
            r = float(radii[k])
            colour = tuple(int(c) for c in colours[k])
            draw.ellipse(
                [sx[k] - r, sy[k] - r, sx[k] + r, sy[k] + r],
                fill=colour,
                outline=_darker(colour),
                width=1 if r < 12 else 2,
            )
            if r > 5:  # a highlight gives the ball its roundness
                h = r * 0.35
                hx, hy = sx[k] - r * 0.35, sy[k] - r * 0.35
                light = tuple(min(255, int(c * 0.4 + 255 * 0.6)) for c in colour)
                draw.ellipse([hx - h, hy - h, hx + h, hy + h], fill=light)
    show = labels if labels is not None else len(coords) <= MOLECULE_LABEL_ATOMS
    if show and len(coords) <= 4 * MOLECULE_LABEL_ATOMS:
        _label_atoms(draw, mol, sx, sy, dist, radii, min(width, height))
    return im


def _label_atoms(
    draw: ImageDraw.ImageDraw,
    mol: Molecule,
    sx: np.ndarray,
    sy: np.ndarray,
    dist: np.ndarray,
    radii: np.ndarray,
    side: int,
) -> None:
    """Element symbols on the atoms, nearest last (so they stay readable on top)."""
    font = _font(max(9, min(18, side // 28)))
    for k in np.argsort(-dist):
        text = mol.elements[k]
        box = draw.textbbox((0, 0), text, font=font)
        tw, th = box[2] - box[0], box[3] - box[1]
        x, y = sx[k] - tw / 2 - box[0], sy[k] - th / 2 - box[1]
        colour = element_colour(text)
        dark = sum(colour) < 380
        if radii[k] < max(tw, th) * 0.6:  # too small a ball: beside it, on a white tag
            x, y = sx[k] + radii[k] + 1 - box[0], sy[k] - th - box[1]
            draw.rectangle(
                [x + box[0] - 1, y + box[1] - 1, x + box[2] + 1, y + box[3] + 1],
                fill=(255, 255, 255),
            )
            dark = False
        draw.text((x, y), text, fill=(255, 255, 255) if dark else (20, 20, 20), font=font)
