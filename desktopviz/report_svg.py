"""Report panels drawn as SVG without Qt: a table snapshot (text cells, image thumbnails with
their boxes), a histogram or top-values bar chart, and metric lines over steps. What a report
panel is re-rendered with when it is refreshed (and what the CLI and the demo draw).

Public API: :func:`table_svg`, :func:`distribution_svg`, :func:`lines_svg`, :data:`COLOURS`.
"""

from __future__ import annotations

import base64
import math
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any
from xml.sax.saxutils import escape

from desktopviz.errors import DesktopvizError
from desktopviz.formats.image_cells import image_cell
from desktopviz.query.display import column_info, display_text, short_number

if TYPE_CHECKING:
    from desktopviz.query.charts import Distribution
    from desktopviz.query.engine import Result
    from desktopviz.store.cache import Cache

COLOURS = ("#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9", "#D55E00", "#F0E442")
"""Series colours (Okabe-Ito; the first two are the comparison sides' blue and orange)."""
FONT = "font-family='sans-serif' font-size='12'"
THUMB = 72
"""Side of an image cell's thumbnail in a table snapshot (pixels)."""
TEXT_WIDTH = 150
MAX_CHARS = 22


def _svg(width: float, height: float, body: list[str], title: str) -> str:
    return (
        f"<svg xmlns='http://www.w3.org/2000/svg' width='{width:.0f}' height='{height:.0f}' "
        f"viewBox='0 0 {width:.0f} {height:.0f}' role='img'><title>{escape(title)}</title>"
        f"<rect width='100%' height='100%' fill='#ffffff'/>{''.join(body)}</svg>"
    )


def _text(x: float, y: float, text: str, *, anchor: str = "start", extra: str = "") -> str:
    return (
        f"<text x='{x:.1f}' y='{y:.1f}' text-anchor='{anchor}' {FONT} fill='#222222' {extra}>"
        f"{escape(text)}</text>"
    )


def _short(text: str, limit: int = MAX_CHARS) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _thumbnail(cache: Cache, version_id: int, value: Mapping[str, Any]) -> str | None:
    """An image cell as a data: URI of its thumbnail (None when it cannot be read)."""
    from desktopviz.store.thumbnails import ThumbnailStore, bucket_for, media_source

    try:
        source, digest = media_source(cache, version_id, value.get("sha256"), value.get("path"))
        path = ThumbnailStore.of(cache).thumbnail(source, digest, bucket_for(THUMB))
    except (DesktopvizError, OSError):
        return None
    mime = "image/jpeg" if path.suffix == ".jpg" else "image/png"
    return f"data:{mime};base64,{base64.b64encode(path.read_bytes()).decode()}"


def _image_cell_svg(
    cache: Cache, version_id: int, value: Mapping[str, Any], x: float, y: float
) -> list[str]:
    """A thumbnail fitted in a THUMB square at (x, y), with the cell's boxes outlined."""
    uri = _thumbnail(cache, version_id, value)
    if uri is None:
        return [_text(x, y + THUMB / 2, "(image missing)")]
    w, h = value.get("width") or THUMB, value.get("height") or THUMB
    scale = THUMB / max(w, h)
    dw, dh = w * scale, h * scale
    out = [f"<image x='{x:.1f}' y='{y:.1f}' width='{dw:.1f}' height='{dh:.1f}' href='{uri}'/>"]
    cell = image_cell(value)
    for i, box in enumerate(cell.boxes):
        x0, y0, x1, y1 = box.normalised(w, h)
        colour = COLOURS[(box.class_id or i) % len(COLOURS)]
        out.append(
            f"<rect x='{x + x0 * dw:.1f}' y='{y + y0 * dh:.1f}' width='{(x1 - x0) * dw:.1f}' "
            f"height='{(y1 - y0) * dh:.1f}' fill='none' stroke='{colour}' stroke-width='1.5'/>"
        )
    return out


def table_svg(
    cache: Cache,
    result: Result,
    version_id: int,
    *,
    rows: int = 10,
    columns: Sequence[str] | None = None,
) -> str:
    """The first ``rows`` rows of a query result as a table (media cells as thumbnails with their
    boxes), with the number of rows the query selects under it."""
    names = list(columns or result.columns)
    kinds, types = result.relation.kinds, result.relation.types()
    infos = [column_info(n, kinds.get(n, "plain"), types.get(n)) for n in names]
    page = result.rows(0, rows, names).to_pylist()
    widths = [THUMB + 12 if i.render == "media" else TEXT_WIDTH for i in infos]
    has_media = any(i.render == "media" for i in infos)
    row_h = THUMB + 8 if has_media else 24
    head_h, foot_h = 28, 26
    width = sum(widths) + 2
    height = head_h + row_h * len(page) + foot_h
    body: list[str] = [f"<rect x='0' y='0' width='{width}' height='{head_h}' fill='#eef2f6'/>"]
    x = 1.0
    for info, w in zip(infos, widths, strict=True):
        body.append(_text(x + 6, 18, _short(info.name), extra="font-weight='bold'"))
        x += w
    for r, record in enumerate(page):
        y = head_h + r * row_h
        if r % 2:
            body.append(f"<rect x='0' y='{y}' width='{width}' height='{row_h}' fill='#f7f9fb'/>")
        x = 1.0
        for info, w in zip(infos, widths, strict=True):
            value = record.get(info.name)
            if info.render == "media" and isinstance(value, dict):
                body.extend(_image_cell_svg(cache, version_id, value, x + 6, y + 4))
            else:
                text = _short(display_text(value, info))
                body.append(_text(x + 6, y + row_h / 2 + 4, text))
            x += w
        body.append(
            f"<line x1='0' y1='{y + row_h}' x2='{width}' y2='{y + row_h}' stroke='#dde3ea'/>"
        )
    shown = f"{len(page):,} of {result.num_rows:,} rows"
    body.append(_text(6, height - 9, shown, extra="fill-opacity='0.7'"))
    return _svg(width, height, body, f"table: {shown}")


def _plot_frame(
    width: float, height: float, title: str, lo: float, hi: float, left: float
) -> tuple[list[str], Any]:
    """A chart's title, y axis with ticks; returns the parts and a function mapping y to pixels."""
    top, bottom = 34, height - 46
    span = hi - lo or 1.0
    body = [_text(width / 2, 20, title, anchor="middle", extra="font-weight='bold'")]

    def to_y(v: float) -> float:
        return bottom - (v - lo) / span * (bottom - top)

    for i in range(5):
        v = lo + span * i / 4
        y = to_y(v)
        body.append(
            f"<line x1='{left}' y1='{y:.1f}' x2='{width - 12}' y2='{y:.1f}' stroke='#e6e6e6'/>"
        )
        body.append(_text(left - 6, y + 4, short_number(v), anchor="end"))
    body.append(
        f"<line x1='{left}' y1='{bottom}' x2='{width - 12}' y2='{bottom}' stroke='#888888'/>"
    )
    return body, to_y


def distribution_svg(dist: Distribution, title: str, width: int = 640, height: int = 320) -> str:
    """A histogram (numeric column) or bar chart of the top values, one colour per side."""
    counts = dist.counts or ((),)
    n = len(counts[0])
    top = max((c for side in counts for c in side), default=0) or 1
    left = 56.0
    body, to_y = _plot_frame(width, height, title, 0.0, float(top), left)
    plot_w = width - 12 - left
    slot = plot_w / max(n, 1)
    bar_w = slot * 0.85 / max(len(counts), 1)
    bottom = to_y(0.0)
    for side, values in enumerate(counts):
        colour = COLOURS[side % len(COLOURS)]
        for i, c in enumerate(values):
            x = left + i * slot + slot * 0.075 + side * bar_w
            y = to_y(float(c))
            body.append(
                f"<rect x='{x:.1f}' y='{y:.1f}' width='{bar_w:.1f}' height='{bottom - y:.1f}' "
                f"fill='{colour}'><title>{c:,}</title></rect>"
            )
    if dist.numeric and dist.edges:
        for i in (0, n // 2, n):
            x = left + i * slot
            body.append(_text(x, bottom + 16, short_number(dist.edges[i]), anchor="middle"))
    else:
        step = max(1, math.ceil(n / max(1, plot_w // 60)))
        for i in range(0, n, step):
            label = _short(str(dist.values[i]), 10)
            body.append(_text(left + (i + 0.5) * slot, bottom + 16, label, anchor="middle"))
    body.append(_legend(dist.columns, width, height))
    return _svg(width, height, body, title)


def _legend(names: Sequence[str], width: float, height: float) -> str:
    parts, x = [], 60.0
    for i, name in enumerate(names):
        colour = COLOURS[i % len(COLOURS)]
        parts.append(
            f"<rect x='{x:.1f}' y='{height - 20}' width='10' height='10' fill='{colour}'/>"
        )
        parts.append(_text(x + 14, height - 11, _short(name, 30)))
        x += 24 + 7 * min(len(name), 30)
    return "".join(parts)


def lines_svg(
    series: Mapping[str, Sequence[tuple[float, float]]],
    title: str,
    width: int = 640,
    height: int = 320,
) -> str:
    """Lines of (x, y) points, one colour per series (a run's metric over its steps)."""
    points = [p for s in series.values() for p in s if math.isfinite(p[1])]
    if not points:
        raise DesktopvizError(f"nothing to chart for {title}: no finite values")
    x_lo, x_hi = min(p[0] for p in points), max(p[0] for p in points)
    y_lo, y_hi = min(p[1] for p in points), max(p[1] for p in points)
    left = 56.0
    body, to_y = _plot_frame(width, height, title, y_lo, y_hi if y_hi > y_lo else y_lo + 1, left)
    x_span = (x_hi - x_lo) or 1.0

    def to_x(v: float) -> float:
        return left + (v - x_lo) / x_span * (width - 12 - left)

    for i, (_name, pts) in enumerate(series.items()):
        path = " ".join(f"{to_x(x):.1f},{to_y(y):.1f}" for x, y in pts if math.isfinite(y))
        colour = COLOURS[i % len(COLOURS)]
        body.append(f"<polyline points='{path}' fill='none' stroke='{colour}' stroke-width='2'/>")
    bottom = to_y(y_lo)
    for v in (x_lo, x_hi):
        body.append(_text(to_x(v), bottom + 16, short_number(v), anchor="middle"))
    body.append(_legend(list(series), width, height))
    return _svg(width, height, body, title)
