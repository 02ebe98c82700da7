"""A report as PDF: the report's HTML (desktopviz.reports.report_html) laid out by Qt's rich text
(QTextDocument) onto A4 pages of a QPdfWriter; panel pictures are document resources (SVG panels
rasterised at twice their size), so nothing is fetched. Safe to run in a worker thread; the CLI
calls it too (a QGuiApplication is made, offscreen, when there is none).

Public API: :func:`export_pdf`.
"""

from __future__ import annotations

import os
from pathlib import Path

from PySide6.QtCore import QByteArray, QMarginsF, QSizeF, QUrl
from PySide6.QtGui import (
    QGuiApplication,
    QImage,
    QPageLayout,
    QPageSize,
    QPainter,
    QPdfWriter,
    QTextDocument,
)
from PySide6.QtSvg import QSvgRenderer

from desktopviz import reports
from desktopviz.errors import DesktopvizError
from desktopviz.progress import CancelFn, ProgressFn, check_cancel, no_progress
from desktopviz.store.cache import Cache

IMAGE_WIDTH = 640
"""Width of a panel's picture on the page, in the document's pixels (A4 text width ~ 680)."""
SVG_SCALE = 2


def _application() -> None:
    """Qt needs a GUI application for fonts: make one (offscreen without a display) if none."""
    if QGuiApplication.instance() is None:
        if not os.environ.get("DISPLAY") and not os.environ.get("WAYLAND_DISPLAY"):
            os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
        _application.app = QGuiApplication([])  # type: ignore[attr-defined]  # kept alive


def _svg_image(svg: str) -> QImage:
    renderer = QSvgRenderer(QByteArray(svg.encode("utf-8")))
    if not renderer.isValid():
        raise DesktopvizError("a panel's SVG cannot be drawn")
    size = renderer.defaultSize() * SVG_SCALE
    image = QImage(size, QImage.Format.Format_ARGB32)
    image.fill(0xFFFFFFFF)
    painter = QPainter(image)
    renderer.render(painter)
    painter.end()
    return image


def export_pdf(
    cache: Cache,
    ref: str | int,
    out: str | os.PathLike[str],
    *,
    progress: ProgressFn = no_progress,
    cancel: CancelFn | None = None,
) -> Path:
    """Write report ``ref`` as an A4 PDF at ``out``; return its path."""
    _application()
    report = reports.get(cache, ref)
    doc = QTextDocument()
    doc.setDocumentMargin(0)

    def resource(block: reports.Block, png: bytes | None) -> tuple[str, str] | None:
        check_cancel(cancel)
        image = QImage.fromData(png) if png is not None else None
        if image is None and block.svg is not None:
            image = _svg_image(block.svg)
        if image is None or image.isNull():
            return None
        name = f"panel-{block.id}.png"
        doc.addResource(QTextDocument.ResourceType.ImageResource, QUrl(name), image)
        scale = SVG_SCALE if png is None else 1
        width = min(IMAGE_WIDTH, image.width() / scale)
        height = image.height() * width / image.width()
        return name, f" width='{width:.0f}' height='{height:.0f}'"

    html = reports.report_html(
        cache, report, image_src=resource, progress=progress, cancel=cancel
    )  # fmt: skip
    doc.setHtml(html)
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(f".{out.name}.tmp")
    writer = QPdfWriter(str(tmp))
    writer.setTitle(report.name)
    writer.setCreator("desktopviz")
    writer.setPageLayout(
        QPageLayout(
            QPageSize(QPageSize.PageSizeId.A4),
            QPageLayout.Orientation.Portrait,
            QMarginsF(15, 15, 15, 15),
            QPageLayout.Unit.Millimeter,
        )
    )
    writer.setResolution(96)
    doc.setPageSize(QSizeF(writer.width(), writer.height()))
    check_cancel(cancel)
    doc.print_(writer)
    del writer  # closes the file
    if not tmp.is_file() or tmp.stat().st_size == 0:
        tmp.unlink(missing_ok=True)
        raise DesktopvizError(f"the PDF could not be written to {out}")
    os.replace(tmp, out)
    return out
