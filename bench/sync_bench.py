"""Sync benchmark: ``desktopviz serve``, ``push`` and ``sync`` on loopback, against ``curl`` (and
nginx) moving the same files from and to the same folder in the same run.

    python bench/sync_bench.py                          # 2 GB of 10,000 files, 1,000 versions
    python bench/sync_bench.py --size-gb 0.2 --versions 200 --requests 4000   # a quick run
    python bench/sync_bench.py --keep /tmp/dv-sync      # keep (reuse) the files and caches

What it does, each ``desktopviz`` command a whole process of the console script beside this
Python (so its start-up counts), timed until it exits, with the peak memory of its process tree:

* Input: ``--files`` files (default 10,000) of seeded random bytes, ``--size-gb`` in all
  (default 2; each file 0.5x-1.5x the mean size), written streaming, then imported into a
  source cache with ``desktopviz import`` (one version of ``bench/files``).
* Push: ``desktopviz push URL`` of that version to a fresh store behind ``desktopviz serve``,
  MB/s, against ``curl --parallel --parallel-max 8`` PUTting the same files to the same server's
  blob URLs (the server hashes and keeps each, as for a push) in a scratch store.
* First sync: ``desktopviz sync URL`` into an empty cache, MB/s, against ``curl --parallel
  --parallel-max 8`` GETting the same blob files from the same server into a folder on the same
  disk (the faster of a run before and one after the sync). Target: >= 80% of curl's rate.
* No-op re-sync: ``desktopviz sync URL`` again (nothing new), median of 3. Target: < 1 s. The
  process start-up alone (``desktopviz --version``) is printed beside it.
* Catalog-only sync of ``--versions`` (default 1,000) small versions (the SDK logs them into a
  second source cache, 10 artifacts, each version a small file and metadata; pushed to a second
  server): ``desktopviz sync URL --catalog-only``, against curl GETting the files such a sync
  must read (journal entries, manifests, run records), 8 at a time.
* Small files: requests per second of ``desktopviz serve`` for ``--requests`` GETs of the small
  blob files of the second store under ``--clients`` (20) concurrent connections (curl
  ``--parallel --parallel-max 20``), against nginx serving the same folder read-only (skipped,
  saying why, when nginx is not installed).

``--keep DIR`` writes the input files and source caches there and reuses them next time (the
stores, synced caches and curl's copies are made afresh each run and removed). ``--check``
exits 1 when a target is missed. Servers listen on 127.0.0.1 only and are stopped at the end.
"""

from __future__ import annotations

import argparse
import os
import random
import re
import select
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # the nginx helper of the tests

from import_bench_support import Measure, measure, median, remove  # noqa: E402

from tests.sync import serve_support  # noqa: E402 - starts nginx as the tests do

DESKTOPVIZ = str(Path(sys.executable).parent / "desktopviz")
TOKEN = "sync-bench-token-5d1e"
CURL_PARALLEL = 8
SYNC_RATE_TARGET = 0.80  # of curl's rate
NOOP_TARGET = 1.0  # seconds
CHUNK = 1 << 20


@dataclass
class Figure:
    """One line of the closing table."""

    what: str
    ours: float | None
    theirs: float | None
    unit: str
    target: str = "-"
    verdict: str = "-"
    ratio: str = ""
    note: str = ""


def fmt(value: float | None, unit: str) -> str:
    if value is None:
        return "-"
    if unit in ("MB/s", "req/s"):
        return f"{value:,.0f} {unit}"
    return f"{value:.2f} {unit}"


def print_figures(figures: list[Figure]) -> None:
    head = f"{'figure':<44}{'desktopviz':>14}{'baseline':>14}{'ratio':>8}  {'target':<9}{'':<6}note"
    print("\n" + head)
    print("-" * len(head))
    for f in figures:
        print(
            f"{f.what:<44}{fmt(f.ours, f.unit):>14}{fmt(f.theirs, f.unit):>14}{f.ratio:>8}  "
            f"{f.target:<9}{f.verdict:<6}{f.note}"
        )


# -- inputs -------------------------------------------------------------------------------------
def write_files(folder: Path, count: int, total: int, seed: int = 0) -> int:
    """``count`` files of seeded random bytes, ``total`` bytes in all, written in 1 MB chunks;
    the bytes written."""
    rnd = random.Random(seed)
    weights = [0.5 + rnd.random() for _ in range(count)]
    scale = total / sum(weights)
    sizes = [int(w * scale) for w in weights]
    sizes[-1] += total - sum(sizes)
    rng = np.random.default_rng(seed)
    written = 0
    for i, size in enumerate(sizes):
        sub = folder / f"{i // 1000:03d}"
        if i % 1000 == 0:
            sub.mkdir(parents=True, exist_ok=True)
        with open(sub / f"f{i:06d}.bin", "wb") as f:
            left = size
            while left:
                n = min(CHUNK, left)
                f.write(rng.bytes(n))
                left -= n
        written += size
    return written


def ready(marker: Path, make) -> float:  # noqa: ANN001
    """Run ``make`` unless ``marker`` says it was done; the seconds it took (0 when reused)."""
    if marker.exists():
        return 0.0
    t0 = time.perf_counter()
    make()
    marker.write_text("done\n")
    return time.perf_counter() - t0


def log_versions(cache_dir: Path, versions: int) -> None:
    """``versions`` small versions through the SDK: 10 artifacts, each version one small file
    (its own bytes) and metadata, all logged by one run."""
    import desktopviz as dv

    work = cache_dir.parent / f"{cache_dir.name}-files"
    work.mkdir(parents=True, exist_ok=True)
    with dv.init(project="catalog", job_type="build", dir=cache_dir) as run:
        for i in range(versions):
            path = work / "note.txt"
            path.write_text(f"version {i} of artifact a{i % 10}: " + "x" * (i % 200) + "\n")
            art = dv.Artifact(f"a{i % 10}", "dataset", metadata={"i": i})
            art.add_file(path, "note.txt")
            run.log_artifact(art)
    remove(work)


# -- servers ------------------------------------------------------------------------------------
@dataclass
class Server:
    url: str
    proc: subprocess.Popen[bytes]

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


def start_serve(store: Path, token_file: Path, log: Path, env: dict[str, str]) -> Server:
    """``desktopviz serve STORE --port 0 --token-file F`` on 127.0.0.1; its URL from stdout."""
    cmd = [DESKTOPVIZ, "serve", str(store), "--host", "127.0.0.1", "--port", "0"]
    cmd += ["--token-file", str(token_file)]
    with open(log, "wb") as err:
        proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=err, env=env)
    assert proc.stdout is not None
    ok, _, _ = select.select([proc.stdout], [], [], 60)
    line = proc.stdout.readline().decode().strip() if ok else ""
    if not line.startswith("http://"):
        proc.kill()
        proc.wait()
        raise SystemExit(f"desktopviz serve did not start: {line!r}\n{log.read_text()}")
    return Server(line, proc)


def start_nginx(folder: Path, run: Path) -> Server | str:
    """nginx on 127.0.0.1 serving ``folder`` read-only at ``/store/``; or why it cannot."""
    started = serve_support.start_nginx(folder, run)
    return started if isinstance(started, str) else Server(*started)


# -- curl ---------------------------------------------------------------------------------------
def curl(
    name: str,
    config: list[str],
    parallel: int,
    env: dict[str, str],
    token: str | None = TOKEN,
) -> Measure:
    """``curl --parallel --parallel-max N -K config`` (one process); failed transfers fail it."""
    conf = Path(tempfile.mkstemp(prefix="curl-", suffix=".conf")[1])
    lines = [f'header = "Authorization: Bearer {token}"'] if token else []
    conf.write_text("\n".join(lines + config) + "\n")
    cmd = ["curl", "--silent", "--show-error", "--fail", "--parallel"]
    cmd += ["--parallel-max", str(parallel), "--parallel-immediate", "-K", str(conf)]
    m = measure(name, cmd, env)
    conf.unlink()
    return m


def blob_url(base: str, sha: str) -> str:
    return f"{base}/store/blobs/sha256/{sha[:2]}/{sha}"


def get_config(urls: list[str], out: Path | None) -> list[str]:
    """curl config lines: each URL to ``out/<same path>`` (or /dev/null)."""
    lines = []
    for u in urls:
        dest = "/dev/null" if out is None else str(out / u.split("/store/", 1)[1])
        lines += [f'url = "{u}"', f'output = "{dest}"']
    if out is not None:
        lines.append("create-dirs")
    return lines


def put_config(base: str, files: list[tuple[Path, str]]) -> list[str]:
    lines = []
    for path, sha in files:
        lines += [
            f'upload-file = "{path}"',
            f'url = "{blob_url(base, sha)}"',
            'output = "/dev/null"',
        ]
    return lines


# -- the bench ----------------------------------------------------------------------------------
def dv_cmd(cache: Path, *args: str) -> list[str]:
    return [DESKTOPVIZ, "--cache", str(cache), *args]


def ok(m: Measure) -> Measure:
    if not m.ok:
        raise SystemExit(f"{m.name} failed: {m.note}")
    return m


def stored_files(cache_dir: Path) -> list[tuple[str, str, int]]:
    """(path, sha256, size) of every file of every version of ``cache_dir``."""
    from desktopviz.store.cache import Cache

    with Cache(cache_dir, create=False) as cache:
        return [
            (f.path, f.sha256, f.size)
            for v in cache.versions()
            for f in cache.files(v)
            if f.sha256 is not None
        ]


def count_versions(cache_dir: Path) -> tuple[int, int]:
    """(versions, of them not downloaded) in ``cache_dir``."""
    from desktopviz.store.cache import Cache

    with Cache(cache_dir, create=False) as cache:
        vs = cache.versions()
        return len(vs), sum(1 for v in vs if not v.downloaded)


def rate_figure(what: str, nbytes: int, ours: Measure, theirs: Measure, target: float | None):
    """MB/s of ours against theirs for the same ``nbytes``."""
    a, b = nbytes / 1e6 / ours.seconds, nbytes / 1e6 / theirs.seconds
    verdict = "-" if target is None else ("PASS" if a >= target * b else "MISS")
    return Figure(
        what,
        a,
        b,
        "MB/s",
        f">= {target:.0%}" if target else "-",
        verdict,
        f"{a / b:.0%}",
        f"{ours.seconds:.2f} s vs {theirs.seconds:.2f} s; peak {ours.peak_mb:.0f} MB",
    )


def run(args: argparse.Namespace, work: Path, scratch: Path, env: dict[str, str]) -> list[Figure]:
    figures: list[Figure] = []
    servers: list[Server] = []
    token_file = scratch / "token"
    token_file.write_text(TOKEN + "\n")
    token_file.chmod(0o600)
    auth = ["--token-file", str(token_file)]
    total = int(args.size_gb * 1e9)
    try:
        # -- the 2 GB artifact ------------------------------------------------------------------
        key = f"{args.files}-{total}"
        files, source = work / f"files-{key}", work / f"source-{key}"
        t = ready(work / f".files-{key}", lambda: write_files(files, args.files, total))
        print(
            f"input: {args.files:,} files, {total / 1e9:.2f} GB in {files}"
            + (f" (written in {t:.1f} s)" if t else " (reused)"),
            flush=True,
        )

        def imp() -> None:
            remove(source)
            ok(
                measure(
                    "import",
                    dv_cmd(source, "import", str(files), "--project", "bench", "--quiet"),
                    env,
                )
            )

        t = ready(work / f".source-{key}", imp)
        print(f"source cache: {source}" + (f" (imported in {t:.1f} s)" if t else " (reused)"))
        blobs = stored_files(source)
        nbytes = sum(size for _, _, size in blobs)
        by_sha = {sha: files / path for path, sha, _ in blobs}
        print(f"  {len(by_sha):,} distinct blobs, {nbytes / 1e6:,.1f} MB", flush=True)

        store = scratch / "store"
        server = start_serve(store, token_file, scratch / "serve.log", env)
        servers.append(server)
        print(f"desktopviz serve: {server.url} on {store}", flush=True)

        # push, against curl PUTting the same blobs into a scratch store of another server
        os.sync()
        push = ok(
            measure("desktopviz push", dv_cmd(source, "push", server.url, *auth, "--quiet"), env)
        )
        print(f"  push: {push.seconds:.2f} s, {push.stdout.strip()}", flush=True)
        put_store = scratch / "put-store"
        put_server = start_serve(put_store, token_file, scratch / "put.log", env)
        servers.append(put_server)
        os.sync()
        put = ok(
            curl(
                "curl PUT",
                put_config(put_server.url, sorted((p, s) for s, p in by_sha.items())),
                CURL_PARALLEL,
                env,
            )
        )
        put_server.stop()
        kept = sum(1 for p in (put_store / "blobs").rglob("*") if p.is_file())
        print(f"  curl PUT: {put.seconds:.2f} s, {kept:,} blobs kept", flush=True)
        remove(put_store)
        figures.append(rate_figure("push (MB/s) vs curl PUT x8", nbytes, push, put, None))

        # first sync, against curl GETting the same blob files (before and after it)
        urls = [blob_url(server.url, sha) for sha in sorted(by_sha)]
        gets = []

        def curl_get() -> None:
            out = scratch / "curl-out"
            os.sync()
            m = ok(curl("curl GET", get_config(urls, out), CURL_PARALLEL, env))
            got = sum(p.stat().st_size for p in out.rglob("*") if p.is_file())
            if got != nbytes:
                raise SystemExit(f"curl fetched {got} bytes, not {nbytes}")
            print(f"  curl GET x{CURL_PARALLEL}: {m.seconds:.2f} s", flush=True)
            gets.append(m)
            remove(out)

        curl_get()
        synced = scratch / "synced"
        os.sync()
        first = ok(
            measure("desktopviz sync", dv_cmd(synced, "sync", server.url, *auth, "--quiet"), env)
        )
        print(
            f"  sync: {first.seconds:.2f} s, peak {first.peak_mb:.0f} MB; {first.stdout.strip()}",
            flush=True,
        )
        if count_versions(synced) != (1, 0):
            raise SystemExit(f"the synced cache holds {count_versions(synced)} versions")
        curl_get()
        best = min(gets, key=lambda m: m.seconds)
        figures.append(
            rate_figure("first sync (MB/s) vs curl GET x8", nbytes, first, best, SYNC_RATE_TARGET)
        )

        # no-op re-sync
        again = [
            ok(measure("re-sync", dv_cmd(synced, "sync", server.url, *auth, "--quiet"), env))
            for _ in range(3)
        ]
        noop = median(again)
        start = median([ok(measure("start-up", [DESKTOPVIZ, "--version"], env)) for _ in range(3)])
        figures.append(
            Figure(
                "no-op re-sync (s)",
                noop.seconds,
                None,
                "s",
                f"< {NOOP_TARGET:g} s",
                "PASS" if noop.seconds < NOOP_TARGET else "MISS",
                note=f"{noop.stdout.strip()}; `desktopviz --version` alone {start.seconds:.2f} s",
            )
        )
        print(f"  no-op re-sync: {', '.join(f'{m.seconds:.2f}' for m in again)} s", flush=True)
        remove(synced)

        # -- catalog-only sync of many small versions -----------------------------------------
        catalog_src = work / f"catalog-{args.versions}"
        t = ready(
            work / f".catalog-{args.versions}",
            lambda: (remove(catalog_src), log_versions(catalog_src, args.versions)),
        )
        print(
            f"\n{args.versions:,} small versions: {catalog_src}"
            + (f" (logged by the SDK in {t:.1f} s)" if t else " (reused)"),
            flush=True,
        )
        store2 = scratch / "store2"
        server2 = start_serve(store2, token_file, scratch / "serve2.log", env)
        servers.append(server2)
        push2 = ok(
            measure(
                "push versions", dv_cmd(catalog_src, "push", server2.url, *auth, "--quiet"), env
            )
        )
        print(f"  push: {push2.seconds:.2f} s, {push2.stdout.strip()}", flush=True)
        figures.append(
            Figure(
                f"push {args.versions:,} small versions (s)",
                push2.seconds,
                None,
                "s",
                note=f"{args.versions / push2.seconds:,.0f} versions/s",
            )
        )
        catalog = scratch / "catalog"
        cat = ok(
            measure(
                "sync --catalog-only",
                dv_cmd(catalog, "sync", server2.url, *auth, "--catalog-only", "--quiet"),
                env,
            )
        )
        n, not_downloaded = count_versions(catalog)
        if (n, not_downloaded) != (args.versions, args.versions):
            raise SystemExit(f"catalog-only sync made {n} versions ({not_downloaded} catalog)")
        meta = [
            f"{server2.url}/store/{p.relative_to(store2).as_posix()}"
            for d in ("journal", "manifests", "runs")
            for p in sorted((store2 / d).glob("*.json"))
        ]
        cat_curl = ok(curl("curl GET metadata", get_config(meta, None), CURL_PARALLEL, env))
        figures.append(
            Figure(
                f"catalog-only sync, {args.versions:,} versions (s)",
                cat.seconds,
                cat_curl.seconds,
                "s",
                ratio=f"{cat_curl.seconds / cat.seconds:.2f}x",
                note=f"{args.versions / cat.seconds:,.0f} versions/s; baseline: curl GET of "
                f"its {len(meta):,} journal/manifest/run files x{CURL_PARALLEL}",
            )
        )
        print(f"  catalog-only sync: {cat.seconds:.2f} s; {cat.stdout.strip()}", flush=True)
        remove(catalog)

        # -- requests per second for small files ----------------------------------------------
        small = sorted(p for p in (store2 / "blobs").rglob("*") if p.is_file())
        rel = [p.relative_to(store2).as_posix() for p in small]
        picks = [rel[i % len(rel)] for i in range(args.requests)]
        mean = sum(p.stat().st_size for p in small) / len(small)
        ours = ok(
            curl(
                f"GET x{args.clients}",
                get_config([f"{server2.url}/store/{r}" for r in picks], None),
                args.clients,
                env,
            )
        )
        theirs, why = None, ""
        nginx = start_nginx(store2, scratch / "nginx")
        if isinstance(nginx, Server):
            servers.append(nginx)
            theirs = ok(
                curl(
                    "nginx",
                    get_config([f"{nginx.url}/store/{r}" for r in picks], None),
                    args.clients,
                    env,
                    token=None,
                )
            )
        else:
            why = f"; nginx skipped: {nginx}"
        a = args.requests / ours.seconds
        b = args.requests / theirs.seconds if theirs else None
        figures.append(
            Figure(
                f"small files, {args.clients} clients (req/s)",
                a,
                b,
                "req/s",
                ratio=f"{a / b:.0%}" if b else "",
                note=f"{args.requests:,} GETs of {len(small):,} files of {mean:,.0f} B; "
                f"baseline: nginx on the same folder{why}",
            )
        )
        print(
            f"  {args.requests:,} small GETs: {ours.seconds:.2f} s"
            + (f", nginx {theirs.seconds:.2f} s" if theirs else why),
            flush=True,
        )
    finally:
        for s in servers:
            s.stop()
    return figures


def load() -> str:
    return " ".join(f"{x:.2f}" for x in os.getloadavg())


def main() -> int:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("--files", type=int, default=10_000, help="files of the artifact (10000)")
    ap.add_argument("--size-gb", type=float, default=2.0, help="the artifact's size, GB (2)")
    ap.add_argument("--versions", type=int, default=1000, help="versions, catalog-only (1000)")
    ap.add_argument("--requests", type=int, default=20_000, help="small-file GETs (20000)")
    ap.add_argument("--clients", type=int, default=20, help="concurrent connections (20)")
    ap.add_argument("--keep", metavar="DIR", help="write the inputs here and keep (reuse) them")
    ap.add_argument("--check", action="store_true", help="exit 1 when a target is missed")
    args = ap.parse_args()
    if shutil.which("curl") is None:
        raise SystemExit("curl is not installed: it is the baseline")

    work = Path(args.keep) if args.keep else Path(tempfile.mkdtemp(prefix="dv-sync-bench-"))
    work.mkdir(parents=True, exist_ok=True)
    scratch = Path(tempfile.mkdtemp(prefix="run-", dir=work))
    env = {k: v for k, v in os.environ.items() if not k.startswith("DESKTOPVIZ_")}
    version = subprocess.run([DESKTOPVIZ, "--version"], capture_output=True, text=True).stdout
    print(f"desktopviz: {DESKTOPVIZ} ({version.strip()}); {re.sub(chr(10), ' ', _curl_version())}")
    print(f"inputs in {work}; load average at start: {load()} ({os.cpu_count()} cores)")
    try:
        figures = run(args, work, scratch, env)
    finally:
        remove(scratch)
        if not args.keep:
            remove(work)
    print_figures(figures)
    print(
        f"\nload average at the end: {load()} ({os.cpu_count()} cores; other work skews the "
        "figures)\nratio: desktopviz's rate / the baseline's (MB/s, req/s), the baseline's time / "
        "desktopviz's (s); each desktopviz figure is a whole process (start-up included)"
    )
    missed = [f for f in figures if f.verdict == "MISS"]
    return 1 if (args.check and missed) else 0


def _curl_version() -> str:
    out = subprocess.run(["curl", "--version"], capture_output=True, text=True).stdout
    return " ".join(out.splitlines()[0].split()[:2])


if __name__ == "__main__":
    raise SystemExit(main())
