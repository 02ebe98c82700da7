"""The bodies of the CLI commands (each returns an exit code)."""

from __future__ import annotations

import argparse
import io
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from desktopviz.cli.main import EXIT_ERROR, EXIT_OK, open_cache
from desktopviz.cli.progress_bar import TerminalProgress
from desktopviz.cli.registry_commands import cmd_registry as cmd_registry  # `registry ...`
from desktopviz.cli.registry_commands import print_registry
from desktopviz.cli.report_commands import cmd_report as cmd_report  # `report ...`
from desktopviz.errors import DesktopvizError, NotFoundError
from desktopviz.humanize import human_size, timestamp_text

if TYPE_CHECKING:
    from desktopviz.importing.detect import ImportResult
    from desktopviz.progress import CancelFn
    from desktopviz.store.cache import Cache


def cmd_import(args: argparse.Namespace) -> int:
    from desktopviz.importing import import_path

    cache = open_cache(args)
    bar = TerminalProgress(False if args.quiet else None)
    done: list[ImportResult] = []
    try:
        for raw in args.paths:
            done += import_path(
                cache,
                Path(raw),
                project=args.project,
                artifact_type=args.artifact_type,
                progress=bar,
            )
    finally:
        bar.close()
        try:
            _print_imported(cache, done)  # also what was imported before an error
        finally:
            cache.close()
    return EXIT_OK


def _print_imported(cache: Cache, results: list[ImportResult]) -> None:
    """One line per import, under its project, with each version's aliases as they are now: a
    later import of the same artifact moved ``latest`` off the versions made before it."""
    project = None
    for r in results:
        if r.project != project:
            project = r.project
            print(f"project: {project}")
        if r.result is not None:
            now = cache.version_by_id(r.result.version.id)
            r = replace(r, result=replace(r.result, version=now))
        print(f"  {r.line()}")


def cmd_verify(args: argparse.Namespace) -> int:
    from desktopviz.store.verify import verify

    cache = open_cache(args, create=False)
    bar = TerminalProgress(False if args.quiet else None)
    try:
        versions = [cache.resolve(ref) for ref in args.refs] if args.refs else None
        report = verify(cache, versions, progress=bar)
    finally:
        bar.close()
        cache.close()
    for d in report.damaged:
        print(d.line())
    files = f"{report.files} files ({human_size(report.bytes)}) of {report.versions} versions"
    if report.damaged:
        print(f"desktopviz: {len(report.damaged)} damaged of {files}", file=sys.stderr)
        return EXIT_ERROR
    print(f"verified {files}: no damage", file=sys.stderr)
    return EXIT_OK


def cmd_ls(args: argparse.Namespace) -> int:
    cache = open_cache(args)
    try:
        target = args.target or ""
        project, _, artifact = target.partition("/")
        if project == "registry" and project not in {p.name for p in cache.projects()}:
            print_registry(cache, artifact or None)  # `ls registry[/COLLECTION]`
        elif not project:
            projects = cache.projects()
            if not projects:
                print("(the cache is empty: try `desktopviz demo` or `desktopviz import PATH`)")
            counts = {}
            for c in cache.collections():
                counts[c.project] = counts.get(c.project, 0) + 1
            runs = {}
            for r in cache.runs():
                runs[r.project] = runs.get(r.project, 0) + 1
            for p in projects:
                print(f"{p.name}\t{counts.get(p.name, 0)} artifacts\t{runs.get(p.name, 0)} runs")
        elif not artifact:
            cols = cache.collections(project)
            if not cols and project not in {p.name for p in cache.projects()}:
                raise NotFoundError(f"no project {project!r}")
            for c in cols:
                print(f"{c.name}\t{c.type}\t{c.version_count} versions")
        else:
            versions = cache.versions(project, artifact)
            if not versions:
                raise NotFoundError(f"no artifact {artifact!r} in project {project!r}")
            for v in versions:
                aliases = ",".join(v.aliases) or "-"
                state = "" if v.downloaded else "\tnot downloaded"  # synced with --catalog-only
                print(
                    f"{v.tag}\t{aliases}\t{v.file_count} files\t{human_size(v.size)}\t{timestamp_text(v.created_at)}{state}"
                )
    finally:
        cache.close()
    return EXIT_OK


def cmd_search(args: argparse.Namespace) -> int:
    """``desktopviz search TEXT``: the hits, best first; exit 1 when there is none."""
    import json

    from desktopviz.search import match_query, search

    text = " ".join(args.text)
    if match_query(text) is None:
        raise DesktopvizError(f"nothing to search for in {text!r}: give a word")
    if args.limit < 1:
        raise DesktopvizError(f"--limit must be 1 or more, not {args.limit}")
    cache = open_cache(args, create=False)
    try:
        hits = search(cache, text, limit=args.limit, kinds=args.kind)
    finally:
        cache.close()
    if args.json:
        print(json.dumps([h.as_json() for h in hits], indent=2))
    else:
        bold = ("\x1b[1m", "\x1b[0m") if sys.stdout.isatty() else ("", "")
        for h in hits:
            print(f"{h.kind}\t{h.label}\t{h.field}: {h.marked(*bold)}")
    if not hits:
        print(f"nothing matches {text!r}", file=sys.stderr)
    return EXIT_OK if hits else EXIT_ERROR


def cmd_table(args: argparse.Namespace) -> int:

    from desktopviz.query.engine import QueryEngine
    from desktopviz.query.spec import CompareSpec, GroupSpec, QuerySpec, SortKey

    if args.limit is not None and args.limit < 0:
        raise DesktopvizError(f"--limit must be 0 or more, not {args.limit}")
    cache = open_cache(args, create=False)
    engine = QueryEngine(cache)
    try:
        version = cache.resolve(args.ref)
        if args.only and not args.compare:
            raise DesktopvizError("--only applies to a comparison: add --compare REF2")
        compare = None
        if args.compare:
            compare = CompareSpec(
                args.compare,
                args.compare_table,
                _key(args.key),
                "concat" if args.concat else "join",
                args.only,
            )
        spec = QuerySpec(
            filters=tuple(args.filter or ()),
            sort=tuple(SortKey.parse(s) for s in args.sort or ()),
            limit=args.limit,
            group=GroupSpec(tuple(args.group_by)) if args.group_by else None,
            compare=compare,
        )
        result = engine.result(version, args.table, spec)
        if args.save_as:
            from desktopviz.sdk.subset import save_as_version

            table = args.table or cache.table_info(version, None).path
            print(save_as_version(result, version, table, args.save_as).ref)
        elif args.output:  # written atomically: a failed or interrupted export leaves no half file
            from desktopviz.query.export import export_result

            export_result(result, Path(args.output), args.format, media=args.media, source=version)
        else:
            descs = {n: {"kind": k} for n, k in result.kinds.items()}
            fmt = args.format or "jsonl"
            _write_stdout(result.batches(), result.rows(0, 0).schema, descs, fmt)
    finally:
        engine.close()
        cache.close()
    return EXIT_OK


def _key(text: str | None) -> tuple[str, str] | None:
    if not text:
        return None
    parts = [p.strip() for p in text.split(",")]
    if len(parts) not in (1, 2) or not all(parts):
        raise DesktopvizError(f"--key takes COL or COL0,COL1, not {text!r}")
    return (parts[0], parts[-1])


def cmd_diff(args: argparse.Namespace) -> int:
    from desktopviz.query.compare import diff_summary
    from desktopviz.query.engine import QueryEngine
    from desktopviz.query.spec import CompareSpec, QuerySpec

    cache = open_cache(args, create=False)
    engine = QueryEngine(cache)
    try:
        v1 = cache.resolve(args.ref1)
        spec = QuerySpec(compare=CompareSpec(args.ref2, None, _key(args.key)))
        result = engine.result(v1, args.table, spec)
        print(f"{v1.ref} -> {cache.resolve(args.ref2).ref} ({result.num_rows:,} rows compared)")
        for line in diff_summary(engine, result.relation).lines():
            print(line)
    finally:
        engine.close()
        cache.close()
    return EXIT_OK


def _write_stdout(batches: Any, schema: Any, descs: dict[str, Any], fmt: str) -> None:
    """Write Arrow pages as Parquet, CSV or JSON Lines (W&B cell encoding) to stdout."""
    from desktopviz.query.export import write_batches

    if fmt == "csv" and isinstance(sys.stdout, io.TextIOWrapper):
        sys.stdout.reconfigure(newline="")  # the CSV's own CRLF, not CR CR LF on Windows
    write_batches(
        batches, schema, descs, fmt, sys.stdout.buffer if fmt == "parquet" else sys.stdout
    )


def cmd_alias(args: argparse.Namespace) -> int:
    cache = open_cache(args, create=False)
    try:
        version = cache.resolve(args.ref)
        if args.remove:
            version = cache.remove_alias(version, args.name)
        else:
            version = cache.set_alias(version, args.name)
        print(f"{version.ref} [{', '.join(version.aliases)}]")
    finally:
        cache.close()
    return EXIT_OK


def cmd_gc(args: argparse.Namespace) -> int:
    cache = open_cache(args)
    try:
        report = cache.gc()
        print(
            f"removed {report.blobs_removed} blobs, {report.derived_removed} derived files, "
            f"{report.tmp_removed} temp files; freed {human_size(report.bytes_freed)}"
        )
    finally:
        cache.close()
    return EXIT_OK


def cmd_demo(args: argparse.Namespace) -> int:
    from desktopviz.demo import build_demo, demo_summary

    cache = open_cache(args)
    bar = TerminalProgress(False if args.quiet else None)
    try:
        build_demo(cache, n_images=args.images, progress=bar)
        bar.close()
        print(f"cache: {cache.root}")
        print(demo_summary(cache))
    finally:
        bar.close()
        cache.close()
    if args.open:
        from desktopviz.demo import PREDICTIONS, PREDICTIONS_TABLE, PROJECT

        return _launch(
            args,
            open_ref=f"{PROJECT}/{PREDICTIONS}:latest",
            open_table=PREDICTIONS_TABLE,
            tab="table",
        )
    return EXIT_OK


def cmd_open(args: argparse.Namespace) -> int:
    """The window on the cache; a PATH that is a cache opens it, other PATHs are imported."""
    paths = [Path(p) for p in args.paths]
    caches = [p for p in paths if (p / "index.sqlite").is_file()]
    if caches:
        if len(paths) > 1:
            raise DesktopvizError("open takes one cache, or files and folders to import")
        args.cache = str(caches[0])
        paths = []
    for p in paths:
        if not p.exists():
            raise DesktopvizError("no such file or folder", file=p)
    return _launch(args, import_paths=paths)


def cmd_gui(args: argparse.Namespace) -> int:
    """The window in the state the options give, or its screenshot."""
    ref, table = None, None
    if args.open_ref:
        if len(args.open_ref) > 2:
            raise DesktopvizError("--open takes REF and at most one TABLE")
        ref, table = args.open_ref[0], (args.open_ref[1:] or [None])[0]
    if args.run and args.tab not in (None, "run"):
        raise DesktopvizError("--run ID shows a run page: use it with --tab run")
    pages = {"project": args.project, "registry": args.collection, "report": args.report}
    for tab, option in (
        ("project", "--project"),
        ("registry", "--collection"),
        ("report", "--report"),
    ):
        if pages[tab] and args.tab != tab:
            raise DesktopvizError(f"{option} NAME shows a {tab} page: use it with --tab {tab}")
    if (
        (args.tab and not args.run and args.tab not in pages)
        or args.select is not None
        or args.file
        or args.filter
        or args.sort
        or args.compare
        or args.group_by
        or args.view
    ) and not ref:
        raise DesktopvizError(
            "--tab, --select, --file, --filter, --sort and --compare need --open REF"
        )
    if (args.only or args.key or args.compare_table or args.side_by_side) and not args.compare:
        raise DesktopvizError(
            "--only, --key, --compare-table and --side-by-side need --compare REF2"
        )
    compare = None
    if args.compare:
        from desktopviz.query.spec import CompareSpec

        compare = CompareSpec(args.compare, args.compare_table, _key(args.key), only=args.only)
    from desktopviz.query.spec import SortKey

    filters = tuple(args.filter or ())
    sort = tuple(SortKey.parse(s) for s in args.sort or ())
    return _launch(
        args,
        open_ref=ref,
        open_table=table,
        tab="run" if args.run else args.tab,
        run_id=args.run,
        select_row=args.select,
        open_file=args.file,
        filters=filters,
        sort=sort,
        compare=compare,
        group_by=tuple(args.group_by or ()),
        side_by_side=args.side_by_side,
        view=args.view,
        size=_window_size(args.size) if args.size else None,
        screenshot=Path(args.screenshot) if args.screenshot else None,
        theme=args.theme,
        first_paint=args.first_paint,
        page_name=pages.get(args.tab or ""),
    )


def _window_size(text: str) -> tuple[int, int]:
    width, sep, height = text.lower().partition("x")
    if not sep or not width.isdigit() or not height.isdigit():
        raise DesktopvizError(f"--size takes WIDTHxHEIGHT in pixels, like 1400x900, not {text!r}")
    size = (int(width), int(height))
    if not all(200 <= n <= 10000 for n in size):
        raise DesktopvizError(f"--size must be 200 to 10000 pixels each way, not {text!r}")
    return size


def _launch(args: argparse.Namespace, **options: Any) -> int:
    """Start the window (Qt is imported only here, so other commands start fast without it)."""
    from desktopviz.store.location import cache_dir

    root = cache_dir(args.cache)
    ref = options.get("open_ref")
    if ref:  # a bad reference is a one-line error here, before any window appears
        cache = open_cache(args, create=False)
        try:
            version = cache.resolve(ref)
            if options.get("open_table"):
                cache.table_info(version, options["open_table"])
            if any(options.get(k) for k in ("filters", "sort", "compare", "group_by")):
                from desktopviz.query.engine import QueryEngine
                from desktopviz.query.spec import GroupSpec, QuerySpec

                engine = QueryEngine(cache)  # a bad filter or column: one line, before the window
                try:
                    group = GroupSpec(options["group_by"]) if options.get("group_by") else None
                    spec = QuerySpec(
                        sort=options.get("sort", ()), compare=options.get("compare"), group=group
                    )
                    for text in options.get("filters", ()):
                        engine.check_filter(version, options.get("open_table"), spec, text)
                    engine.result(version, options.get("open_table"), spec)
                finally:
                    engine.close()
            if options.get("view"):
                table = cache.table_info(version, options.get("open_table")).path
                cache.view(version, table, options["view"])
            wanted = options.get("open_file")
            if wanted and not any(f.path == wanted for f in cache.files(version)):
                raise NotFoundError(f"{version.ref} has no file {wanted!r}")
        finally:
            cache.close()
    try:
        from desktopviz.app.launch import LaunchOptions, run
    except ImportError as e:
        print(f"desktopviz: the window cannot start: {e}", file=sys.stderr)
        return EXIT_ERROR
    return run(LaunchOptions(cache_dir=root, **options))


def cmd_serve(args: argparse.Namespace) -> int:
    """Serve a store folder over HTTP until SIGINT/SIGTERM; print its URL first."""
    from desktopviz.sync.server import make_app, serve
    from desktopviz.sync.sources import read_token_file

    token = read_token_file(args.token_file) if args.token_file else None
    app = make_app(args.dir, token=token, public_read=args.public_read, max_upload=args.max_upload)
    if token is None:
        print("desktopviz serve: no --token-file: the store is read-only", file=sys.stderr)

    def announce(url: str) -> None:
        print(url, flush=True)  # the only line on stdout: `--port 0` users read the port here
        print(f"desktopviz serve: {args.dir} at {url}; Ctrl+C stops", file=sys.stderr, flush=True)

    serve(app, host=args.host, port=args.port, announce=announce)
    return EXIT_OK


# -- push, sync, pull, sources (desktopviz.sync) ----------------------------------------------
@contextmanager
def _interruptible() -> Iterator[CancelFn]:
    """A cancel callback that turns true on Ctrl+C, so a transfer stops its workers and leaves
    the cache as it was; a second Ctrl+C interrupts at once. Ends in ``KeyboardInterrupt``
    (``desktopviz: interrupted``, exit 130)."""
    import signal
    import threading

    from desktopviz.errors import Cancelled

    asked = threading.Event()

    def on_sigint(_signum: int, _frame: object) -> None:
        if asked.is_set():
            raise KeyboardInterrupt
        asked.set()

    previous = signal.signal(signal.SIGINT, on_sigint)
    try:
        yield asked.is_set
        if asked.is_set():
            raise KeyboardInterrupt
    except Cancelled:
        if asked.is_set():
            raise KeyboardInterrupt from None
        raise
    finally:
        signal.signal(signal.SIGINT, previous)


def _store_url(cache: Cache, text: str, *, made: bool = True) -> tuple[str, str]:
    """``(source name, URL)`` for a saved source's name, a store URL or a folder (``made``: it
    must exist). One not saved is named by its URL or the folder's absolute path, unless a saved
    source has that URL."""
    from desktopviz.sync import sources as src

    saved = src.sources(cache)
    for s in saved:
        if s.name == text:
            return s.name, s.url
    url = text.rstrip("/") if src.is_url(text) else str(Path(text).expanduser().resolve())
    if made and not src.is_url(text) and not Path(url).is_dir():
        raise NotFoundError(f"{text}: no saved source of that name and no such folder")
    for s in saved:
        if s.url == url:
            return s.name, s.url
    return url, url


def _is_wandb_folder(url: str) -> bool:
    """A folder that is not a store (it has no ``store.json``): W&B runs and downloads."""
    from desktopviz.sync.sources import is_url
    from desktopviz.sync.store import STORE_INFO

    return not is_url(url) and Path(url).is_dir() and not (Path(url) / STORE_INFO).is_file()


def cmd_push(args: argparse.Namespace) -> int:
    from desktopviz.sync.backends import open_backend
    from desktopviz.sync.push import push
    from desktopviz.sync.sources import token_for

    cache = open_cache(args, create=False)
    bar = TerminalProgress(False if args.quiet else None)
    try:
        name, url = _store_url(cache, args.target, made=False)
        backend = open_backend(url, token_for(name, url, token_file=args.token_file))
        try:
            with _interruptible() as cancel:
                report = push(cache, backend, args.refs or None, progress=bar, cancel=cancel)
        finally:
            backend.close()
    finally:
        bar.close()
        cache.close()
    print(
        f"pushed {report.versions} versions to {url} ({report.unchanged} there already): "
        f"{report.blobs} files ({human_size(report.bytes)}) sent, {report.runs} runs, "
        f"{report.aliases} aliases"
    )
    for ref in report.skipped:
        print(
            f"desktopviz: {ref} left out: not downloaded here (desktopviz pull {ref})",
            file=sys.stderr,
        )
    return EXIT_OK


def cmd_sync(args: argparse.Namespace) -> int:
    from desktopviz.cli.main import EXIT_BAD_INPUT
    from desktopviz.errors import Cancelled
    from desktopviz.sync import sources as src

    cache = open_cache(args)
    bar = TerminalProgress(False if args.quiet else None)
    failed = 0
    try:
        if args.source:
            targets = [_store_url(cache, args.source)]
        else:
            targets = [(s.name, s.url) for s in src.sources(cache)]
            if not targets:
                raise DesktopvizError(
                    "no saved sources: name a SOURCE, or add one with "
                    "`desktopviz sources add NAME URL|DIR`"
                )
        folders = [_is_wandb_folder(url) for _, url in targets]
        if args.watch and (len(targets) != 1 or not folders[0]):
            raise DesktopvizError("--watch follows one folder of W&B runs: name it as SOURCE")
        if args.catalog_only and any(folders):
            which = next(url for (_, url), f in zip(targets, folders, strict=True) if f)
            raise DesktopvizError(
                "--catalog-only applies to stores; this folder holds W&B runs", file=which
            )
        with _interruptible() as cancel:
            for (name, url), is_folder in zip(targets, folders, strict=True):
                try:
                    if not src.is_url(url) and not Path(url).is_dir():
                        raise DesktopvizError("no such folder (is it mounted?)", file=url)
                    if is_folder:
                        failed += _sync_wandb_folder(cache, args, name, url, bar, cancel)
                    else:
                        _sync_store(cache, args, name, url, bar, cancel)
                except Cancelled:
                    raise
                except DesktopvizError as e:
                    cache.set_source_state(name, state=f"error: {e}"[:500])  # `sources ls`
                    if args.source:
                        raise
                    bar.close()
                    print(f"desktopviz: error: {name}: {e}", file=sys.stderr)
                    failed += 1
    finally:
        bar.close()
        cache.close()
    return EXIT_BAD_INPUT if failed else EXIT_OK


def _sync_store(
    cache: Cache, args: argparse.Namespace, name: str, url: str, bar: Any, cancel: Any
) -> None:
    from desktopviz.sync.backends import open_backend
    from desktopviz.sync.pull import sync
    from desktopviz.sync.sources import token_for

    backend = open_backend(url, token_for(name, url, token_file=args.token_file))
    try:
        report = sync(
            cache,
            backend,
            source=name,
            projects=args.project or None,
            catalog_only=args.catalog_only,
            progress=bar,
            cancel=cancel,
        )
    finally:
        backend.close()
    bar.close()
    catalog = f" ({report.catalog} not downloaded)" if report.catalog else ""
    left = f"; {report.skipped} entries of other projects left" if report.skipped else ""
    print(
        f"synced {name}: {report.versions + report.catalog} new versions{catalog}, "
        f"{report.deleted} deleted, {report.blobs} files ({human_size(report.bytes)}) "
        f"fetched{left}"
    )


def _sync_wandb_folder(
    cache: Cache, args: argparse.Namespace, name: str, url: str, bar: Any, cancel: Any
) -> int:
    """Import what is new in a folder of W&B runs (and follow it with --watch); the number of
    entries that failed."""
    from desktopviz.sync.wandb_folder import FolderSyncReport, sync_folder, watch

    told: set[Path] = set()
    failures: list[str] = []

    def imported(results: list[ImportResult]) -> None:
        bar.close()
        _print_imported(cache, results)
        sys.stdout.flush()

    def tell(report: FolderSyncReport) -> None:
        bar.close()
        for path in report.pending:
            if path not in told:
                told.add(path)
                print(f"desktopviz: waiting for {path}: still being written", file=sys.stderr)
        for e in report.failed:
            failures.append(str(e))
            print(f"desktopviz: error: {e}", file=sys.stderr)
        sys.stderr.flush()

    options = {"source": name, "projects": args.project or None, "progress": bar}
    if args.watch:
        print(f"desktopviz: watching {url}; Ctrl+C stops", file=sys.stderr, flush=True)
        watch(cache, Path(url), cancel=cancel, on_report=tell, on_import=imported, **options)
        return 0
    report = sync_folder(cache, Path(url), cancel=cancel, on_import=imported, **options)
    tell(report)
    versions = sum(1 for r in report.imported if r.result is not None and r.result.created)
    print(
        f"synced {url}: {versions} new versions; {report.skipped} unchanged, "
        f"{len(report.pending)} still being written, {len(report.failed)} failed",
        file=sys.stderr,
    )
    return len(report.failed)


def cmd_pull(args: argparse.Namespace) -> int:
    from desktopviz.sync.pull import fetch_version

    cache = open_cache(args, create=False)
    bar = TerminalProgress(False if args.quiet else None)
    try:
        version = cache.resolve(args.ref)
        if version.downloaded:
            print(f"{version.ref}: already downloaded")
            return EXIT_OK
        with _interruptible() as cancel:
            version = fetch_version(cache, version, progress=bar, cancel=cancel)
    finally:
        bar.close()
        cache.close()
    print(f"{version.ref}: downloaded {version.file_count} files ({human_size(version.size)})")
    return EXIT_OK


def cmd_sources(args: argparse.Namespace) -> int:
    from desktopviz.sync import sources as src

    cache = open_cache(args)
    try:
        if args.sources_command == "add":
            token = src.read_token_file(args.token_file) if args.token_file else None
            s = src.add_source(cache, args.name, args.url, token)
            kept = f"; its token is kept in {src.token_location()}" if token else ""
            print(f"added source {s.name}: {s.url}{kept}")
        elif args.sources_command == "rm":
            s = src.source(cache, args.name)
            src.remove_source(cache, args.name)
            print(f"removed source {s.name} ({s.url}); its {s.versions} versions stay in the cache")
        else:
            listed = src.sources(cache)
            if not listed:
                print("(no saved sources: add one with `desktopviz sources add NAME URL|DIR`)")
            for s in listed:
                synced = f"synced {timestamp_text(s.last_sync)}" if s.last_sync else "never synced"
                print(f"{s.name}\t{s.url}\t{synced}\t{s.versions} versions\t{s.state or '-'}")
    finally:
        cache.close()
    return EXIT_OK
