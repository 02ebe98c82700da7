"""Reports: named documents of a project, kept in the cache, made of ordered blocks: Markdown text
and panels. A panel is a frozen snapshot (PNG bytes in the content-addressed blob store, or inline
SVG) plus the query that made it (a table spec, a chart of a column, a run's metrics), so it can
be refreshed. A report exports to one self-contained HTML file (images as data: URIs, charts as
SVG, Markdown rendered, a small inline CSS, nothing fetched to open it). No Qt here: PDF export is
the app's (``desktopviz.app.report_pdf``).

Public API: :class:`Report`, :class:`Block`, :class:`ReportInfo`; :func:`create`,
:func:`list_reports`, :func:`get`, :func:`rename`, :func:`delete`, :func:`add_text`,
:func:`add_panel`, :func:`set_text`, :func:`set_snapshot`, :func:`move`, :func:`remove`;
queries: :func:`table_query`, :func:`chart_query`, :func:`run_query`, :func:`describe_query`,
:func:`render_query`, :func:`refresh_panel`; output: :func:`panel_image`,
:func:`markdown_html`, :func:`report_html`, :func:`export_html`; :func:`add_demo_report`.
"""

from __future__ import annotations

import base64
import html
import json
import os
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from desktopviz.errors import DesktopvizError, NotFoundError
from desktopviz.humanize import timestamp_text
from desktopviz.model import Version
from desktopviz.progress import CancelFn, Progress, ProgressFn, check_cancel, no_progress
from desktopviz.query.spec import QuerySpec, spec_from_dict, spec_to_dict
from desktopviz.store.cache import Cache, now_iso

if TYPE_CHECKING:
    from desktopviz.query.engine import QueryEngine

TEXT, PANEL = "text", "panel"
TABLE_ROWS = 10
"""Rows a table panel shows when it is drawn by :func:`render_query`."""
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
SVG_NS = "http://www.w3.org/2000/svg"


@dataclass(frozen=True)
class Block:
    """One block of a report: Markdown ``text`` (kind ``text``), or a panel (kind ``panel``)
    whose ``text`` is its title, with a PNG blob (``image_sha256``) or ``svg``, and ``query``."""

    id: int
    report_id: int
    position: int
    kind: str
    text: str
    image_sha256: str | None
    svg: str | None
    query: dict[str, Any] | None
    created_at: str
    updated_at: str


@dataclass(frozen=True)
class ReportInfo:
    """A report without its blocks (what a listing shows)."""

    id: int
    project: str
    name: str
    created_at: str
    updated_at: str
    block_count: int

    @property
    def ref(self) -> str:
        """``project/name``: what finds this report again."""
        return f"{self.project}/{self.name}"


@dataclass(frozen=True)
class Report(ReportInfo):
    """A report and its blocks, in order."""

    blocks: tuple[Block, ...] = ()

    @property
    def title(self) -> str:
        """The report's title (its name)."""
        return self.name


_INFO_SQL = (
    "SELECT r.id, p.name AS project, r.name, r.created_at, r.updated_at, "
    "(SELECT COUNT(*) FROM report_blocks b WHERE b.report_id = r.id) AS block_count "
    "FROM reports r JOIN projects p ON p.id = r.project_id"
)
_BLOCK_SQL = (
    "SELECT id, report_id, position, kind, text, image_sha256, svg, query, created_at, "
    "updated_at FROM report_blocks"
)


def _check_name(name: str) -> str:
    name = name.strip()
    if not name or len(name) > 200 or any(ord(c) < 32 for c in name) or "/" in name:
        raise DesktopvizError(
            f"a report needs a name of 1 to 200 printable characters without '/', not {name!r}"
        )
    return name


def _block(row: tuple) -> Block:
    *head, query, created, updated = row
    return Block(*head, json.loads(query) if query else None, created, updated)


# -- reports ----------------------------------------------------------------------------------
def create(cache: Cache, project: str, name: str) -> Report:
    """A new, empty report ``name`` in ``project`` (the project is made if it is new)."""
    name = _check_name(name)
    stamp = now_iso()
    with cache.write() as conn:
        pid = cache._project_id(project, create=True)
        taken = conn.execute(
            "SELECT 1 FROM reports WHERE project_id = ? AND name = ?", (pid, name)
        ).fetchone()
        if taken:
            raise DesktopvizError(f"project {project!r} has a report named {name!r} already")
        conn.execute(
            "INSERT INTO reports (project_id, name, created_at, updated_at) VALUES (?,?,?,?)",
            (pid, name, stamp, stamp),
        )
    return get(cache, f"{project}/{name}")


def list_reports(cache: Cache, project: str | None = None) -> list[ReportInfo]:
    """The reports (optionally of one project), by project and name."""
    sql, params = _INFO_SQL, []
    if project is not None:
        sql += " WHERE p.name = ?"
        params.append(project)
    sql += " ORDER BY p.name, r.name"
    return [ReportInfo(**r) for r in cache._q(sql, params)]


def _info(cache: Cache, ref: str | int) -> ReportInfo:
    """The report ``[project/]name`` (or with this id)."""
    if isinstance(ref, int):
        rows = cache._q(_INFO_SQL + " WHERE r.id = ?", (ref,))
        if not rows:
            raise NotFoundError(f"no report with id {ref}")
        return ReportInfo(**rows[0])
    project, _, name = ref.rpartition("/")
    sql, params = _INFO_SQL + " WHERE r.name = ?", [name.strip()]
    if project:
        sql += " AND p.name = ?"
        params.append(project)
    rows = cache._q(sql, params)
    if not rows:
        known = ", ".join(r.ref for r in list_reports(cache, project or None)) or "none"
        raise NotFoundError(f"no report {ref!r} (reports: {known})")
    if len(rows) > 1:
        where = ", ".join(sorted(r["project"] for r in rows))
        raise NotFoundError(
            f"reports named {name!r} are in several projects ({where}); write project/name"
        )
    return ReportInfo(**rows[0])


def get(cache: Cache, ref: str | int) -> Report:
    """The report ``[project/]name`` (or id) with its blocks in order."""
    info = _info(cache, ref)
    rows = cache.conn.execute(
        _BLOCK_SQL + " WHERE report_id = ? ORDER BY position, id", (info.id,)
    ).fetchall()
    return Report(**vars(info), blocks=tuple(_block(r) for r in rows))


def rename(cache: Cache, ref: str | int, new_name: str) -> Report:
    """Give a report another name (unique in its project)."""
    info = _info(cache, ref)
    new_name = _check_name(new_name)
    with cache.write() as conn:
        try:
            conn.execute(
                "UPDATE reports SET name = ?, updated_at = ? WHERE id = ?",
                (new_name, now_iso(), info.id),
            )
        except Exception as e:  # sqlite3.IntegrityError: the name is taken
            raise DesktopvizError(
                f"project {info.project!r} has a report named {new_name!r} already"
            ) from e
    return get(cache, info.id)


def delete(cache: Cache, ref: str | int) -> None:
    """Delete a report and its blocks (their images go at the next ``gc``)."""
    info = _info(cache, ref)
    with cache.write() as conn:
        conn.execute("DELETE FROM report_blocks WHERE report_id = ?", (info.id,))
        conn.execute("DELETE FROM reports WHERE id = ?", (info.id,))


# -- blocks -----------------------------------------------------------------------------------
def _insert(
    cache: Cache,
    ref: str | int,
    kind: str,
    text: str,
    position: int | None,
    image: str | None = None,
    svg: str | None = None,
    query: dict[str, Any] | None = None,
) -> Block:
    info = _info(cache, ref)
    stamp = now_iso()
    with cache.write() as conn:
        count = conn.execute(
            "SELECT COUNT(*) FROM report_blocks WHERE report_id = ?", (info.id,)
        ).fetchone()[0]
        at = count if position is None else max(0, min(position, count))
        conn.execute(
            "UPDATE report_blocks SET position = position + 1 WHERE report_id = ? "
            "AND position >= ?",
            (info.id, at),
        )
        block_id = conn.execute(
            "INSERT INTO report_blocks (report_id, position, kind, text, image_sha256, svg, "
            "query, created_at, updated_at) VALUES (?,?,?,?,?,?,?,?,?)",
            (
                info.id,
                at,
                kind,
                text,
                image,
                svg,
                json.dumps(query) if query is not None else None,
                stamp,
                stamp,
            ),  # fmt: skip
        ).lastrowid
        conn.execute("UPDATE reports SET updated_at = ? WHERE id = ?", (stamp, info.id))
    return block(cache, block_id)


def block(cache: Cache, block_id: int) -> Block:
    """One block by id."""
    row = cache.conn.execute(_BLOCK_SQL + " WHERE id = ?", (block_id,)).fetchone()
    if row is None:
        raise NotFoundError(f"no report block {block_id} (removed already?)")
    return _block(row)


def add_text(cache: Cache, ref: str | int, text: str, *, position: int | None = None) -> Block:
    """Add a Markdown text block (at the end, or at ``position``)."""
    return _insert(cache, ref, TEXT, text, position)


def _store_png(cache: Cache, png: bytes) -> str:
    if not png.startswith(PNG_MAGIC):
        raise DesktopvizError("a panel image must be PNG bytes")
    with cache.lease() as lease:
        return cache.blobs.put_bytes(png, lease).sha256


def add_panel(
    cache: Cache,
    ref: str | int,
    title: str,
    *,
    png: bytes | None = None,
    svg: str | None = None,
    query: dict[str, Any] | None = None,
    position: int | None = None,
) -> Block:
    """Add a panel: a frozen snapshot (``png`` bytes, kept in the blob store, or ``svg``) with
    ``title`` and the ``query`` that made it (see :func:`table_query` and friends)."""
    if (png is None) == (svg is None):
        raise DesktopvizError("a panel needs a PNG or an SVG snapshot (one of them)")
    image = _store_png(cache, png) if png is not None else None
    return _insert(cache, ref, PANEL, title, position, image, svg, query)


def set_text(cache: Cache, block_id: int, text: str) -> Block:
    """Change a text block's Markdown (or a panel's title)."""
    _update(cache, block_id, "text = ?", (text,))
    return block(cache, block_id)


def set_snapshot(
    cache: Cache, block_id: int, *, png: bytes | None = None, svg: str | None = None
) -> Block:
    """Replace a panel's snapshot (after a refresh)."""
    if (png is None) == (svg is None):
        raise DesktopvizError("a panel needs a PNG or an SVG snapshot (one of them)")
    image = _store_png(cache, png) if png is not None else None
    _update(cache, block_id, "image_sha256 = ?, svg = ?", (image, svg))
    return block(cache, block_id)


def _update(cache: Cache, block_id: int, assignments: str, params: tuple) -> None:
    stamp = now_iso()
    with cache.write() as conn:
        report_id = block(cache, block_id).report_id
        conn.execute(
            f"UPDATE report_blocks SET {assignments}, updated_at = ? WHERE id = ?",
            (*params, stamp, block_id),
        )
        conn.execute("UPDATE reports SET updated_at = ? WHERE id = ?", (stamp, report_id))


def move(cache: Cache, block_id: int, position: int) -> Report:
    """Move a block to ``position`` (0 first; beyond the end: last); the others keep their order."""
    moving = block(cache, block_id)
    with cache.write() as conn:
        ids = [
            r[0]
            for r in conn.execute(
                "SELECT id FROM report_blocks WHERE report_id = ? ORDER BY position, id",
                (moving.report_id,),
            )
        ]
        ids.remove(block_id)
        ids.insert(max(0, min(position, len(ids))), block_id)
        conn.executemany(
            "UPDATE report_blocks SET position = ? WHERE id = ?",
            [(i, bid) for i, bid in enumerate(ids)],
        )
        conn.execute(
            "UPDATE reports SET updated_at = ? WHERE id = ?", (now_iso(), moving.report_id)
        )
    return get(cache, moving.report_id)


def remove(cache: Cache, block_id: int) -> Report:
    """Remove a block (its image goes at the next ``gc`` when nothing else uses it)."""
    gone = block(cache, block_id)
    with cache.write() as conn:
        conn.execute("DELETE FROM report_blocks WHERE id = ?", (block_id,))
        conn.execute(
            "UPDATE report_blocks SET position = position - 1 WHERE report_id = ? AND position > ?",
            (gone.report_id, gone.position),
        )
        conn.execute("UPDATE reports SET updated_at = ? WHERE id = ?", (now_iso(), gone.report_id))
    return get(cache, gone.report_id)


def panel_image(cache: Cache, b: Block) -> bytes | None:
    """A panel's PNG bytes (None for an SVG panel, a text block, or an image no longer stored)."""
    if b.image_sha256 is None or not cache.blobs.has(b.image_sha256):
        return None
    return cache.blobs.read(b.image_sha256)


# -- queries ----------------------------------------------------------------------------------
def table_query(
    version: Version, table: str, spec: QuerySpec, *, rows: int = TABLE_ROWS
) -> dict[str, Any]:
    """The query of a table panel: a version's table with a spec (as saved views store it)."""
    return {"kind": "table", "ref": version.ref, "table": table, "spec": spec_to_dict(spec),
            "rows": rows}  # fmt: skip


def chart_query(version: Version, table: str, spec: QuerySpec, column: str) -> dict[str, Any]:
    """The query of a chart panel: the distribution of ``column`` over a table's rows."""
    return {"kind": "chart", "ref": version.ref, "table": table, "spec": spec_to_dict(spec),
            "column": column}  # fmt: skip


def run_query(run_id: str, keys: list[str], *, x: str = "step") -> dict[str, Any]:
    """The query of a run panel: metrics ``keys`` of a run's history over steps."""
    return {"kind": "run", "run_id": run_id, "keys": list(keys), "x": x}


def runs_query(run_ids: list[str], keys: list[str], *, x: str = "step") -> dict[str, Any]:
    """The query of a workspace panel: metrics ``keys`` of several runs' histories over steps."""
    return {"kind": "runs", "run_ids": list(run_ids), "keys": list(keys), "x": x}


def describe_query(query: dict[str, Any] | None) -> str:
    """One line saying what a panel's query shows (what the export prints under it)."""
    if not query:
        return ""
    kind = query.get("kind")
    if kind == "run":
        return f"run {query.get('run_id')} · {', '.join(query.get('keys', ()))} by step"
    if kind == "runs":
        runs, keys = query.get("run_ids", ()), query.get("keys", ())
        return f"runs {', '.join(runs)} · {', '.join(keys)} by step"
    if kind not in ("table", "chart"):
        return str(query.get("description") or "")
    parts = [f"{query.get('ref')} · {query.get('table')}"]
    spec = query.get("spec") or {}
    if kind == "chart":
        parts.append(f"column {query.get('column')}")
    for f in spec.get("filters", ()):
        parts.append(f"filter {f}")
    if spec.get("sort"):
        keys = ", ".join(f"{c}{' desc' if d else ''}" for c, d in spec["sort"])
        parts.append(f"sort {keys}")
    if spec.get("group"):
        parts.append(f"group by {', '.join(spec['group']['by'])}")
    if spec.get("compare"):
        parts.append(f"compared with {spec['compare']['ref']}")
    return " · ".join(parts)


def render_query(
    cache: Cache,
    query: dict[str, Any],
    engine: QueryEngine | None = None,
    *,
    cancel: CancelFn | None = None,
) -> str:
    """Run a panel's query again and draw it as SVG (raises when it cannot be redrawn)."""
    from desktopviz import report_svg

    kind = (query or {}).get("kind")
    if kind in ("run", "runs"):
        run_ids = [query["run_id"]] if kind == "run" else list(query.get("run_ids", ()))
        series = {}
        for run_id in run_ids:
            history = cache.history(run_id)
            for key in query.get("keys", ()):
                name = key if kind == "run" else f"{run_id} · {key}"
                series[name] = [(float(step), float(row[key])) for step, row in history
                                if isinstance(row.get(key), int | float)]  # fmt: skip
        title = f"run {run_ids[0]}" if kind == "run" else f"{len(run_ids)} runs"
        return report_svg.lines_svg(series, title)
    if kind not in ("table", "chart"):
        raise DesktopvizError("this panel keeps no query that can be run again")
    from desktopviz.query.engine import QueryEngine

    own = engine is None
    engine = engine or QueryEngine(cache)
    try:
        version = cache.resolve(query["ref"])
        spec = spec_from_dict(query.get("spec") or {})
        result = engine.result(version, query.get("table"), spec, cancel=cancel)
        check_cancel(cancel)
        if kind == "table":
            return report_svg.table_svg(
                cache, result, version.id, rows=int(query.get("rows", TABLE_ROWS))
            )
        from desktopviz.query.charts import distribution

        column = query["column"]
        return report_svg.distribution_svg(distribution(result, column), column)
    finally:
        if own:
            engine.close()


def refresh_panel(
    cache: Cache,
    block_id: int,
    engine: QueryEngine | None = None,
    *,
    cancel: CancelFn | None = None,
) -> Block:
    """Run a panel's query again and keep the new drawing (SVG) as its snapshot."""
    b = block(cache, block_id)
    if b.kind != PANEL:
        raise DesktopvizError("only a panel can be refreshed")
    svg = render_query(cache, b.query or {}, engine, cancel=cancel)
    check_cancel(cancel)
    return set_snapshot(cache, block_id, svg=svg)


# -- output -----------------------------------------------------------------------------------
_MARKDOWN: Any = None


def markdown_html(text: str) -> str:
    """Markdown (CommonMark, with tables and strikethrough) as HTML; raw HTML is shown as text."""
    global _MARKDOWN
    if _MARKDOWN is None:
        from markdown_it import MarkdownIt

        _MARKDOWN = MarkdownIt("commonmark", {"html": False}).enable(["table", "strikethrough"])
    return _MARKDOWN.render(text)


CSS = """
body { font-family: system-ui, -apple-system, "Segoe UI", sans-serif; color: #1f2328;
  max-width: 980px; margin: 2em auto; padding: 0 1.5em; line-height: 1.5; background: #fff; }
header { border-bottom: 1px solid #d0d7de; margin-bottom: 1.5em; }
header h1 { margin-bottom: 0.2em; } header p { color: #59636e; margin-top: 0; }
figure.panel { margin: 1.5em 0; padding: 0.8em; border: 1px solid #d0d7de; border-radius: 6px; }
figure.panel img, figure.panel svg { max-width: 100%; height: auto; display: block; }
figcaption { font-weight: 600; margin-bottom: 0.5em; }
p.query { font-size: 0.85em; color: #59636e; margin: 0.5em 0 0; word-break: break-word; }
table { border-collapse: collapse; } th, td { border: 1px solid #d0d7de; padding: 4px 8px; }
code, pre { background: #f6f8fa; border-radius: 4px; } pre { padding: 0.8em; overflow: auto; }
@media print { figure.panel { break-inside: avoid; } }
"""
CSP = "default-src 'none'; img-src data:; style-src 'unsafe-inline'"
"""Nothing may be fetched, run or framed: the file opens the same offline."""

ImageSource = Callable[[Block, bytes | None], tuple[str, str] | None]
"""Where a panel's picture comes from in the HTML (a data: URI by default; the PDF export names a
resource it adds): given the block and its PNG bytes, an ``<img src>`` and its size attributes
(`` width='..' height='..'`` or ""), or None to inline the SVG."""


def _data_uri(_block: Block, png: bytes | None) -> tuple[str, str] | None:
    if png is None:
        return None
    return "data:image/png;base64," + base64.b64encode(png).decode(), ""


def report_html(
    cache: Cache,
    report: Report,
    *,
    image_src: ImageSource = _data_uri,
    progress: ProgressFn = no_progress,
    cancel: CancelFn | None = None,
) -> str:
    """The report as one HTML document: its title, the blocks in order (Markdown rendered,
    panels as their picture, title and query), an inline style sheet; nothing external."""
    parts = [
        "<!DOCTYPE html>\n<html lang='en'><head><meta charset='utf-8'>",
        f"<meta http-equiv='Content-Security-Policy' content=\"{CSP}\">",
        "<meta name='viewport' content='width=device-width, initial-scale=1'>",
        f"<meta name='generator' content='desktopviz'><title>{html.escape(report.name)}</title>",
        f"<style>{CSS}</style></head><body>",
        f"<header><h1>{html.escape(report.name)}</h1><p>Report of project "
        f"{html.escape(report.project)} · updated {html.escape(timestamp_text(report.updated_at)[:16])}</p>"
        "</header>",
    ]
    total = len(report.blocks)
    for i, b in enumerate(report.blocks):
        check_cancel(cancel)
        progress(Progress("report", i, total))
        if b.kind == TEXT:
            parts.append(f"<section class='text'>{markdown_html(b.text)}</section>")
            continue
        png = panel_image(cache, b)
        found = image_src(b, png)
        if found is not None:
            src, size = found
            picture = f"<img src='{html.escape(src)}' alt='{html.escape(b.text)}'{size}>"
        elif b.svg is not None:  # inline: HTML gives <svg> its namespace (no URL needed)
            picture = b.svg.replace(f" xmlns='{SVG_NS}'", "", 1)
        else:
            picture = (
                "<p><em>(the picture of this panel is no longer in the cache: refresh it)</em></p>"
            )
        described = describe_query(b.query)
        note = f"<p class='query'>{html.escape(described)}</p>" if described else ""
        parts.append(
            f"<figure class='panel'><figcaption>{html.escape(b.text)}</figcaption>"
            f"{picture}{note}</figure>"
        )
    progress(Progress("report", total, total))
    parts.append("</body></html>\n")
    return "\n".join(parts)


def write_atomic(out: Path, data: bytes) -> Path:
    """Write ``data`` to ``out`` through a temp file in its folder (no half-written file)."""
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.parent / f".{out.name}.{secrets.token_hex(4)}.tmp"
    try:
        with open(tmp, "xb") as f:
            f.write(data)
        os.replace(tmp, out)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return out


def export_html(
    cache: Cache,
    ref: str | int,
    out: str | os.PathLike[str],
    *,
    progress: ProgressFn = no_progress,
    cancel: CancelFn | None = None,
) -> Path:
    """Write report ``ref`` as one self-contained HTML file at ``out``; return its path."""
    text = report_html(cache, get(cache, ref), progress=progress, cancel=cancel)
    return write_atomic(Path(out), text.encode("utf-8"))


# -- demo -------------------------------------------------------------------------------------
DEMO_REPORT = "Where the model is wrong"


def add_demo_report(cache: Cache) -> Report:
    """Add the demo project's report (a Markdown intro, the predictions table filtered to the
    wrong predictions, a chart of their confidence) to a cache holding the demo; idempotent."""
    from desktopviz.demo import PREDICTIONS, PREDICTIONS_TABLE, PROJECT
    from desktopviz.query.spec import SortKey

    ref = f"{PROJECT}/{DEMO_REPORT}"
    try:
        return get(cache, ref)
    except NotFoundError:
        pass
    version = cache.resolve(f"{PROJECT}/{PREDICTIONS}:latest")
    wrong = QuerySpec(
        filters=('row["correct"] == false',),
        sort=(SortKey("confidence", True),),
        select=("id", "image", "label", "prediction", "confidence", "mean_iou"),
    )
    table_q = table_query(version, PREDICTIONS_TABLE, wrong, rows=6)
    chart_q = chart_query(version, PREDICTIONS_TABLE, wrong, "confidence")
    table_svg, chart_svg = render_query(cache, table_q), render_query(cache, chart_q)
    report = create(cache, PROJECT, DEMO_REPORT)
    add_text(
        cache,
        report.id,
        f"The predictions of **{version.name}:{version.tag}** "
        "that miss the label, the most confident first. Every panel keeps its query: "
        "*Refresh* runs it again.\n\n- the table: wrong predictions with their images and boxes\n"
        "- the chart: how confident the model was when it was wrong\n",
    )
    add_panel(cache, report.id, "Wrong predictions, most confident first", svg=table_svg,
              query=table_q)  # fmt: skip
    add_panel(cache, report.id, "Confidence of the wrong predictions", svg=chart_svg, query=chart_q)
    return get(cache, report.id)
