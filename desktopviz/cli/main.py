"""``desktopviz [--cache DIR] COMMAND ...``: import, ls, table, alias, gc, demo, open, gui.

Without a command, ``desktopviz`` opens the window on the cache."""

from __future__ import annotations

import argparse
import os
import sqlite3
import sys
from collections.abc import Sequence

from desktopviz.errors import DesktopvizError

EXIT_OK, EXIT_ERROR, EXIT_BAD_INPUT = 0, 1, 2


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # type: ignore[override]
        self.print_usage(sys.stderr)
        print(f"desktopviz: error: {message}", file=sys.stderr)
        raise SystemExit(EXIT_BAD_INPUT)


def add_query_options(s: argparse.ArgumentParser) -> None:
    """The query options ``table`` and ``gui`` share: filter, sort, group, compare."""
    s.add_argument(
        "--filter",
        action="append",
        metavar="EXPR",
        help="keep rows where EXPR holds: {$gt: ['$0.score', 0.5]} or row[\"score\"] > 0.5 (repeatable)",
    )
    s.add_argument(
        "--sort", action="append", metavar="COL[:desc]", help="sort key, nulls last (repeatable)"
    )
    s.add_argument(
        "--group-by", action="append", metavar="COL", help="one row per group (repeatable)"
    )
    s.add_argument("--compare", metavar="REF2", help="compare with another version or table")
    s.add_argument(
        "--compare-table", metavar="T", help="the table of REF2 (default: the same path)"
    )
    s.add_argument("--key", metavar="COL[,COL2]", help="join key (default id, else row position)")
    s.add_argument(
        "--only",
        choices=["both", "only_0", "only_1", "changed"],
        help="quick filter of a comparison",
    )


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of every command."""
    p = _Parser(
        prog="desktopviz", description="Browse, query and compare versioned ML artifacts offline."
    )
    p.add_argument(
        "--cache",
        metavar="DIR",
        help="cache folder (default: $DESKTOPVIZ_CACHE or the user cache dir)",
    )
    p.add_argument("--version", action="store_true", help="print the version and exit")
    sub = p.add_subparsers(dest="command", parser_class=_Parser)

    s = sub.add_parser(
        "import",
        help="import W&B artifact folders, offline runs, tables, CSV, Parquet, JSONL, images",
    )
    s.add_argument("paths", nargs="+", metavar="PATH")
    s.add_argument("--project", help="project to import into (default: derived from the path)")
    s.add_argument(
        "--type",
        dest="artifact_type",
        help="artifact type when the input does not say (default: dataset)",
    )
    s.add_argument("--quiet", action="store_true", help="no progress bar")

    s = sub.add_parser("ls", help="list projects, artifacts or versions")
    s.add_argument("target", nargs="?", metavar="PROJECT[/ARTIFACT]")
    add_search_parser(sub)

    s = sub.add_parser("table", help="print or export a table of an artifact version")
    s.add_argument("ref", metavar="REF", help="[project/]name:v<N>|latest|<alias>")
    s.add_argument("table", nargs="?", metavar="TABLE", help="the table's path in the artifact")
    add_query_options(s)
    s.add_argument(
        "--concat", action="store_true", help="concatenate the two tables instead of joining"
    )
    s.add_argument(
        "--format",
        choices=["jsonl", "csv", "parquet"],
        help="output format (default: from --output's suffix, else jsonl)",
    )
    s.add_argument("--limit", type=int, metavar="N")
    s.add_argument("--output", "-o", metavar="FILE")
    s.add_argument(
        "--media",
        choices=["cells", "paths", "copy"],
        default="cells",
        help="with --output: media cells as stored (cells), pointing at the cache's files "
        "(paths), or at copies in FILE's folder under <name>_media/ (copy)",
    )
    s.add_argument(
        "--save-as",
        metavar="ARTIFACT",
        help="save the rows as a new version of ARTIFACT (lineage to REF) and print its ref",
    )

    s = sub.add_parser("alias", help="point an alias at a version (moving it within the artifact)")
    s.add_argument("ref", metavar="REF")
    s.add_argument("name", metavar="NAME")
    s.add_argument("--remove", action="store_true", help="remove the alias instead")

    s = sub.add_parser(
        "diff", help="how two versions of a table differ: rows added, removed, changed"
    )
    s.add_argument("ref1", metavar="REF1")
    s.add_argument("ref2", metavar="REF2")
    s.add_argument("table", nargs="?", metavar="TABLE")
    s.add_argument("--key", metavar="COL[,COL2]", help="join key (default id, else row position)")

    sub.add_parser("gc", help="remove unreferenced blobs, derived files and stale temp files")
    s = sub.add_parser(
        "verify",
        help="re-hash the stored files of versions (default: all) against their recorded digests",
    )
    s.add_argument("refs", nargs="*", metavar="REF")
    s.add_argument("--quiet", action="store_true", help="no progress bar")
    s = sub.add_parser(
        "demo", help="build the built-in demo project into the cache and print its summary"
    )
    s.add_argument("--images", type=int, default=600, help="dataset size (default 600)")
    s.add_argument("--quiet", action="store_true", help="no progress bar")
    s.add_argument("--open", action="store_true", help="then open the window on the demo project")

    s = sub.add_parser(
        "open", help="open the window on the cache (PATH: a cache, or files/folders to import)"
    )
    s.add_argument("paths", nargs="*", metavar="PATH")

    s = sub.add_parser(
        "gui", help="open the window in a given state, or render it to a PNG (--screenshot)"
    )
    s.add_argument(
        "--open",
        dest="open_ref",
        nargs="+",
        metavar=("REF", "TABLE"),
        help="open this version (and table)",
    )
    s.add_argument(
        "--tab",
        choices=["overview", "files", "table", "lineage", "run", "project", "registry", "report"],
        help="the tab to show (run: the page of the run that logged the version, or of --run; "
        "project, registry, report: the page of --project, --collection, --report, else of the "
        "version's project, the first collection, the project's first report)",
    )
    s.add_argument("--project", metavar="NAME", help="with --tab project: show this project")
    s.add_argument(
        "--collection", metavar="NAME", help="with --tab registry: show this registry collection"
    )
    s.add_argument("--report", metavar="NAME", help="with --tab report: show this report")
    s.add_argument("--run", metavar="ID", help="with --tab run: show this run's page")
    s.add_argument(
        "--side-by-side",
        action="store_true",
        help="with --compare: each side in its own table, rows aligned",
    )
    s.add_argument("--select", type=int, metavar="ROW", help="select this row of the table")
    s.add_argument("--file", metavar="PATH", help="show this file of the version in the Files tab")
    add_query_options(s)
    s.add_argument("--view", metavar="NAME", help="show the table in a saved view")
    s.add_argument("--size", metavar="WxH", help="window size in pixels (default 1400x900)")
    s.add_argument("--theme", choices=["system", "light", "dark"], help="colour theme")
    s.add_argument(
        "--screenshot", metavar="OUT.png", help="render the window offscreen to OUT.png and exit"
    )
    s.add_argument(
        "--first-paint",
        action="store_true",
        help="quit when the window first paints, printing when (seconds since the epoch): "
        "for startup timings",
    )
    add_serve_parser(sub)
    from desktopviz.cli.registry_commands import add_registry_parser

    add_registry_parser(sub)
    from desktopviz.cli.report_commands import add_report_parser

    add_report_parser(sub)
    add_sync_parsers(sub)
    return p


def add_search_parser(sub: argparse._SubParsersAction) -> None:
    """``desktopviz search TEXT``: find anything in the cache (desktopviz.search)."""
    from desktopviz.search import KINDS

    s = sub.add_parser(
        "search",
        help="find projects, artifacts, versions, runs and tables by name, alias, description, "
        "metadata, config value or column name, best first",
        description="Print one line per hit, best first: kind, reference, the field that matched "
        "and a snippet of it. Each word is a prefix and every word must match. Exit status: 0 "
        "when something matched, 1 when nothing did.",
    )
    s.add_argument("text", nargs="+", metavar="TEXT", help="the words to find")
    s.add_argument("--limit", type=int, default=20, metavar="N", help="at most N hits (default 20)")
    s.add_argument(
        "--kind",
        action="append",
        choices=KINDS,
        help="only things of this kind (repeatable)",
    )
    s.add_argument("--json", action="store_true", help="print the hits as a JSON list")


def add_serve_parser(sub: argparse._SubParsersAction) -> None:
    """``desktopviz serve DIR``: serve a store over HTTP (desktopviz.sync.server)."""
    s = sub.add_parser(
        "serve", help="serve a store folder over HTTP for push and sync (an empty DIR becomes one)"
    )
    s.add_argument("dir", metavar="DIR", help="the store folder")
    s.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1)")
    s.add_argument(
        "--port", type=int, default=8765, help="port to listen on (default 8765; 0: any free one)"
    )
    s.add_argument(
        "--token-file",
        metavar="F",
        help="file holding the token that writes (and, without --public-read, reads) need; "
        "without it the server takes no writes",
    )
    s.add_argument(
        "--public-read", action="store_true", help="reads need no token (writes still do)"
    )
    s.add_argument(
        "--max-upload",
        type=int,
        default=4 << 30,
        metavar="BYTES",
        help="largest upload taken, in bytes (default 4 GiB)",
    )


def add_sync_parsers(sub: argparse._SubParsersAction) -> None:
    """``push``, ``sync``, ``pull`` and ``sources``: publish to and sync from stores and folders
    (desktopviz.sync)."""
    token_help = (
        "file holding the store's token (default: $DESKTOPVIZ_TOKEN, else the source's saved one)"
    )
    s = sub.add_parser(
        "push",
        help="upload versions (default: all) with their runs to a store, sending only "
        "the blobs it lacks",
    )
    s.add_argument(
        "target",
        metavar="TARGET",
        help="a store: http(s):// URL, folder, s3://bucket/prefix or a saved source's name",
    )
    s.add_argument("refs", nargs="*", metavar="REF", help="versions to push (default: all)")
    s.add_argument("--token-file", metavar="F", help=token_help)
    s.add_argument("--quiet", action="store_true", help="no progress bar")

    s = sub.add_parser(
        "sync",
        help="pull what is new from a store (or a folder of W&B runs) into the cache; "
        "without SOURCE, from every saved source",
    )
    s.add_argument(
        "source",
        nargs="?",
        metavar="SOURCE",
        help="a saved source's name, a store URL or "
        "folder, or a folder of W&B offline runs and artifact download folders",
    )
    s.add_argument("--project", action="append", metavar="P", help="only this project (repeatable)")
    s.add_argument(
        "--catalog-only",
        action="store_true",
        help="metadata, files lists, runs and lineage "
        "only; a version's files are fetched when it is opened (or by `desktopviz pull REF`)",
    )
    s.add_argument("--token-file", metavar="F", help=token_help)
    s.add_argument(
        "--watch",
        action="store_true",
        help="with a folder of W&B runs: keep following it, "
        "importing each run once it is complete (Ctrl+C stops)",
    )
    s.add_argument("--quiet", action="store_true", help="no progress bar")

    s = sub.add_parser("pull", help="download the files of a version synced with --catalog-only")
    s.add_argument("ref", metavar="REF")
    s.add_argument("--quiet", action="store_true", help="no progress bar")

    s = sub.add_parser("sources", help="saved sources to sync from: add, ls, rm")
    ssub = s.add_subparsers(dest="sources_command", parser_class=_Parser)
    a = ssub.add_parser("add", help="save a store URL or a folder under a name")
    a.add_argument("name", metavar="NAME")
    a.add_argument("url", metavar="URL|DIR")
    a.add_argument(
        "--token-file",
        metavar="F",
        help="file holding its token (kept in the OS keyring, "
        "else in a file only you can read; never in the cache)",
    )
    ssub.add_parser("ls", help="list the saved sources: URL, last sync, versions, state")
    r = ssub.add_parser("rm", help="forget a source and its token (its versions stay)")
    r.add_argument("name", metavar="NAME")


def _lean_process() -> None:
    # Arrow's default allocator (mimalloc) keeps freed pages; a streaming import frees a batch's
    # memory every few milliseconds, so the system allocator keeps peak memory about 20% lower.
    if "ARROW_DEFAULT_MEMORY_POOL" not in os.environ:
        import pyarrow as pa

        pa.set_memory_pool(pa.system_memory_pool())


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; return the exit code."""
    # No import hook keeps pandas out (pyarrow imports it on its first conversion when installed,
    # about 0.2 s): a hook that hides it breaks `importlib.util.find_spec("pandas")`, which the
    # `wandb` package calls when it reads offline runs.
    _lean_process()
    args = build_parser().parse_args(argv)
    if args.version:
        from desktopviz.build_info import describe_build

        print(f"desktopviz {describe_build()}")
        return EXIT_OK
    from desktopviz.cli import commands

    if not args.command:
        args.command, args.paths = "open", []

    try:
        return getattr(commands, f"cmd_{args.command}")(args)
    except DesktopvizError as e:
        print(f"desktopviz: error: {e}", file=sys.stderr)
        return EXIT_BAD_INPUT
    except BrokenPipeError:  # an OSError too: it must come first (`desktopviz table ... | head`)
        return EXIT_OK
    except (sqlite3.Error, OSError) as e:
        print(f"desktopviz: error: {system_error(e, args)}", file=sys.stderr)
        return EXIT_BAD_INPUT
    except KeyboardInterrupt:
        print("desktopviz: interrupted", file=sys.stderr)
        return 130


def system_error(e: sqlite3.Error | OSError, args: argparse.Namespace) -> str:
    """One line for an error the operating system or SQLite raised past the command's checks."""
    from desktopviz.store.blobs import DISK_FULL
    from desktopviz.store.cache import index_error
    from desktopviz.store.location import cache_dir

    if isinstance(e, sqlite3.Error):
        return str(index_error(e, cache_dir(args.cache) / "index.sqlite"))
    where = e.filename or cache_dir(args.cache)
    if e.errno in DISK_FULL:
        return f"{where}: disk full while writing; the command stopped and changed nothing"
    return f"{where}: {e.strerror or e}"


def open_cache(args: argparse.Namespace, *, create: bool = True):  # noqa: ANN201
    """The cache the command works on."""
    from desktopviz.store.cache import Cache
    from desktopviz.store.location import cache_dir

    return Cache(cache_dir(args.cache), create=create)
