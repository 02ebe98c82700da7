"""SIGKILL the ``desktopviz sync`` client at 10 moments mid-transfer, then sync again.

A real `desktopviz serve` on 127.0.0.1 (started and stopped here) holds a store pushed from a
cache the SDK wrote: five versions of an artifact of ~60 small files each (packed in the cache)
and a 1.5 MB file (a blob file of its own), a table, aliases, runs and lineage. The client is the
installed console script in a subprocess. The moments are chosen by the server's access log: the
k-th kill comes once the client has fetched k/11 of the blobs an uninterrupted sync fetches.

At every kill, what the killed cache shows (opened afresh, as the next `desktopviz` does) is
whole: each visible version is one of the uninterrupted sync's, with the same number, files and
digest, and `desktopviz verify` re-hashes every visible file without damage. After one more
sync the cache equals the uninterrupted sync's (versions, digests, files, tables' rows,
aliases, runs, lineage, and the `ls` listings).
"""

from __future__ import annotations

import random
import signal
import subprocess
import time
from pathlib import Path
from typing import Any

import desktopviz as dv_sdk
from desktopviz.store.cache import Cache
from tests.cli_support import dv
from tests.sync.serve_support import DESKTOPVIZ, Served, serving

VERSIONS = 5
FILES_PER_VERSION = 60
KILLS = 10
BLOB_GET = '"GET /store/blobs/'


def write_source(root: Path, work: Path) -> None:
    """Five versions of ``bench/files`` (60 fresh 1-6 KB files each, a 1.5 MB file in two of
    them, a table of the files), an alias moved along, a run that used the last version and
    logged predictions."""
    rnd = random.Random(7)
    with dv_sdk.init(project="kill", job_type="build", dir=root, config={"seed": 7}) as run:
        for v in range(VERSIONS):
            folder = work / f"v{v}"
            folder.mkdir(parents=True)
            for i in range(FILES_PER_VERSION):
                (folder / f"f{i:03d}.bin").write_bytes(rnd.randbytes(rnd.randint(1000, 6000)))
            if v in (1, 3):
                (folder / "big.bin").write_bytes(rnd.randbytes(1_500_000))
            art = dv_sdk.Artifact("files", "dataset", description=f"v{v}", metadata={"v": v})
            art.add_dir(folder, "data")
            t = dv_sdk.Table(columns=["i", "name", "score"])
            for i in range(FILES_PER_VERSION):
                t.add_data(i, f"f{i:03d}.bin", rnd.random())
            art.add(t, "index")
            run.log_artifact(art, aliases=["production"] if v in (1, 3) else None)
            run.log({"loss": 1.0 / (v + 1)})
    with dv_sdk.init(project="kill", job_type="eval", dir=root) as run:
        used = run.use_artifact("files:latest")
        preds = dv_sdk.Table(columns=["i", "pred"])
        for _, row in used.get("index").iterrows():
            preds.add_data(row[0], row[2] > 0.5)
        art = dv_sdk.Artifact("preds", "predictions")
        art.add(preds, "preds")
        run.log_artifact(art, aliases=["staging"])


def view(cache_dir: Path) -> dict[str, Any]:
    """What the cache shows: every version (number, digest, state, aliases, metadata, files and
    tables' rows), runs and lineage, keyed by what a user sees (no row ids, no pack names)."""
    with Cache(cache_dir, create=False) as cache:
        refs = {v.id: f"{v.project}/{v.name}:{v.tag}" for v in cache.versions()}
        versions = {}
        for v in cache.versions():
            tables = {}
            if v.downloaded:
                for t in cache.tables(v):
                    tables[t.path] = (t.num_rows, t.schema)
            versions[refs[v.id]] = {
                "digest": v.digest,
                "state": v.state,
                "aliases": sorted(v.aliases),
                "description": v.description,
                "metadata": v.metadata,
                "created_at": v.created_at,
                "size": v.size,
                "files": sorted((f.path, f.size, f.sha256, f.wandb_digest) for f in cache.files(v)),
                "tables": tables,
            }
        runs = {
            r.id: (r.project, r.name, r.job_type, r.config, r.summary, cache.history(r.id))
            for r in cache.runs()
        }
        lineage = sorted((e.run_id, refs[e.version_id], e.direction) for e in cache.lineage())
    return {"versions": versions, "runs": runs, "lineage": lineage}


def listings(cache_dir: Path) -> dict[str, str]:
    """`desktopviz ls` at every level, as a user lists the cache."""
    out = {"": dv("ls", cache=cache_dir).stdout}
    for a in ("files", "preds"):
        out[a] = dv("ls", f"kill/{a}", cache=cache_dir).stdout
    return out


def blob_gets(served: Served) -> int:
    """How many blob downloads the server has logged (its access log is flushed per line)."""
    return served.log.read_text(errors="replace").count(BLOB_GET)


def sync_cmd(served: Served, cache_dir: Path) -> list[str]:
    token_file = served.store.parent / f"{served.store.name}.token"
    return [DESKTOPVIZ, "--cache", str(cache_dir), "sync", served.url, "--token-file"] + [
        str(token_file),
        "--quiet",
    ]


def run_sync(served: Served, cache_dir: Path) -> subprocess.CompletedProcess:
    r = subprocess.run(sync_cmd(served, cache_dir), capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr
    return r


def kill_after(served: Served, cache_dir: Path, gets: int) -> tuple[bool, int]:
    """Start a sync and SIGKILL it once the server has served ``gets`` more blobs; whether it
    was still running then, and the blobs it had fetched."""
    start = blob_gets(served)
    proc = subprocess.Popen(
        sync_cmd(served, cache_dir), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    deadline = time.monotonic() + 60
    try:
        while proc.poll() is None and time.monotonic() < deadline:
            if blob_gets(served) - start >= gets:
                break
            time.sleep(0.002)
        alive = proc.poll() is None
        proc.send_signal(signal.SIGKILL)
    finally:
        proc.wait(timeout=30)
    return alive, blob_gets(served) - start


def test_sigkill_mid_transfer_then_sync_again_equals_an_uninterrupted_sync(tmp_path):
    source = tmp_path / "source"
    write_source(source, tmp_path / "files")
    store = tmp_path / "store"
    store.mkdir()
    with serving(store) as served:
        token_file = store.parent / f"{store.name}.token"
        r = dv("push", served.url, "--token-file", str(token_file), "--quiet", cache=source)
        assert r.returncode == 0, r.stderr

        reference = tmp_path / "reference"
        before = blob_gets(served)
        run_sync(served, reference)
        total = blob_gets(served) - before
        expected = view(reference)
        assert expected == view(source) | {"versions": expected["versions"]}
        assert len(expected["versions"]) == VERSIONS + 1 and total > VERSIONS * FILES_PER_VERSION
        expected_ls = listings(reference)
        assert expected_ls == listings(source)

        moments = []
        for k in range(1, KILLS + 1):
            killed = tmp_path / f"killed{k}"
            alive, fetched = kill_after(served, killed, round(total * k / (KILLS + 1)))
            moments.append((alive, fetched, len(view(killed)["versions"])))

            # what a killed sync leaves visible is whole: versions of the uninterrupted sync,
            # each with every file present and verified
            # (aliases as far as the journal got: ``latest`` on the newest version here)
            seen = view(killed)
            for ref, shown in seen["versions"].items():
                assert shown | {"aliases": []} == expected["versions"][ref] | {"aliases": []}, (
                    k,
                    ref,
                )
            v = dv("verify", cache=killed)
            assert v.returncode == 0, (k, v.stdout, v.stderr)

            run_sync(served, killed)
            assert view(killed) == expected, k
            assert listings(killed) == expected_ls, k
            assert dv("verify", cache=killed).returncode == 0
    # (alive, blobs fetched, versions visible) at each kill: all mid-transfer, at distinct
    # points, some before any version was whole and some after
    print("kills:", moments)
    assert all(alive for alive, _, _ in moments), f"killed after it ended: {moments}"
    assert len({fetched for _, fetched, _ in moments}) >= KILLS // 2, moments
    assert len({visible for _, _, visible in moments}) >= 3, moments
