"""``desktopviz report ...``: reports kept in the cache (desktopviz.reports): ls, show, new,
add-text, refresh, export (HTML here; PDF through the app's Qt text layout, imported lazily), rm.

Public API: :func:`add_report_parser`, :func:`cmd_report`.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from desktopviz import reports
from desktopviz.cli.main import EXIT_OK, open_cache
from desktopviz.errors import DesktopvizError
from desktopviz.humanize import timestamp_text


def add_report_parser(sub: argparse._SubParsersAction) -> None:
    """``report ls|show|new|add-text|refresh|export|rm``."""
    s = sub.add_parser("report", help="reports: Markdown and frozen panels, exported as HTML/PDF")
    rsub = s.add_subparsers(dest="report_command", parser_class=type(s), required=True)
    a = rsub.add_parser("ls", help="list the reports (of PROJECT)")
    a.add_argument("project", nargs="?", metavar="PROJECT")
    a = rsub.add_parser("show", help="print a report's blocks in order")
    a.add_argument("name", metavar="NAME", help="[project/]name")
    a = rsub.add_parser("new", help="make an empty report")
    a.add_argument("name", metavar="NAME")
    a.add_argument("--project", required=True, metavar="P")
    a = rsub.add_parser("add-text", help="add a Markdown text block at the end (TEXT - : stdin)")
    a.add_argument("name", metavar="NAME")
    a.add_argument("text", metavar="TEXT")
    a = rsub.add_parser("refresh", help="run every panel's query again and redraw it")
    a.add_argument("name", metavar="NAME")
    a = rsub.add_parser(
        "export", help="write one self-contained HTML file (no network needed) or a PDF"
    )
    a.add_argument("name", metavar="NAME")
    a.add_argument("out", metavar="OUT.html|OUT.pdf")
    a = rsub.add_parser("rm", help="delete a report")
    a.add_argument("name", metavar="NAME")


def cmd_report(args: argparse.Namespace) -> int:
    """Run ``desktopviz report ...``."""
    cache = open_cache(args, create=args.report_command == "new")
    try:
        command = args.report_command
        if command == "ls":
            found = reports.list_reports(cache, args.project)
            if not found:
                where = f" in project {args.project!r}" if args.project else ""
                print(
                    f"(no reports{where}: make one with `desktopviz report new NAME --project P`)"
                )
            for r in found:
                blocks = f"{r.block_count} block{'s' if r.block_count != 1 else ''}"
                print(f"{r.ref}\t{blocks}\tupdated {timestamp_text(r.updated_at)}")
        elif command == "show":
            _show(reports.get(cache, args.name))
        elif command == "new":
            r = reports.create(cache, args.project, args.name)
            print(f"made report {r.ref}")
        elif command == "add-text":
            text = sys.stdin.read() if args.text == "-" else args.text
            b = reports.add_text(cache, args.name, text)
            print(f"added text block {b.position + 1} to {reports.get(cache, b.report_id).ref}")
        elif command == "refresh":
            report = reports.get(cache, args.name)
            panels = [b for b in report.blocks if b.kind == reports.PANEL]
            for b in panels:
                reports.refresh_panel(cache, b.id)
                print(f"refreshed {b.position + 1}. {b.text}")
            if not panels:
                print(f"{report.ref} has no panels")
        elif command == "export":
            out = Path(args.out)
            suffix = out.suffix.lower()
            if suffix in (".html", ".htm"):
                reports.export_html(cache, args.name, out)
            elif suffix == ".pdf":
                try:  # Qt lays out the PDF: imported only here
                    from desktopviz.app.report_pdf import export_pdf
                except ImportError as e:
                    raise DesktopvizError(f"PDF export needs Qt, which cannot load: {e}") from e
                export_pdf(cache, args.name, out)
            else:
                raise DesktopvizError(f"export writes .html or .pdf, not {out.name!r}")
            print(f"wrote {out}")
        elif command == "rm":
            report = reports.get(cache, args.name)
            reports.delete(cache, report.id)
            print(f"deleted report {report.ref}")
    finally:
        cache.close()
    return EXIT_OK


def _show(report: reports.Report) -> None:
    print(f"{report.ref}  (made {timestamp_text(report.created_at)}, "
          f"updated {timestamp_text(report.updated_at)})")  # fmt: skip
    if not report.blocks:
        print("  (empty)")
    for b in report.blocks:
        if b.kind == reports.TEXT:
            lines = b.text.strip().splitlines() or [""]
            more = f"  (+{len(lines) - 1} lines)" if len(lines) > 1 else ""
            print(f"{b.position + 1}. text: {lines[0]}{more}")
        else:
            what = "png" if b.image_sha256 else "svg"
            print(f"{b.position + 1}. panel ({what}): {b.text}")
            described = reports.describe_query(b.query)
            if described:
                print(f"   {described}")
