"""push, sync, pull and sources through the installed console script, as a user runs them: real
caches, a real store folder, a real `desktopviz serve` on 127.0.0.1 (started and stopped here),
real W&B offline runs and artifact folders written by the `wandb` SDK, and the SDK's ``store=``.

Tokens: every test here gets its own config folder (XDG_CONFIG_HOME) and the keyring library's
``fail`` backend (so tokens go to the private file), except the one that sets a keyring backend
standing in for the OS keyring (tests/keyring_standin.py)."""

from __future__ import annotations

import json
import os
import queue
import shutil
import signal
import stat
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from desktopviz.sync.wandb_folder import SETTLE_SECONDS
from tests.cli_support import console_script, dv, small_table, snapshot
from tests.wandb_support import SCRIPTS, build_wandb_artifacts, wandb_env

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(autouse=True)
def private_config(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A config folder of the test's own, no keyring, no token or store in the environment."""
    config = tmp_path / "config"
    monkeypatch.setenv("XDG_CONFIG_HOME", str(config))
    monkeypatch.setenv("PYTHON_KEYRING_BACKEND", "keyring.backends.fail.Keyring")
    for name in ("DESKTOPVIZ_TOKEN", "DESKTOPVIZ_STORE", "DESKTOPVIZ_CACHE"):
        monkeypatch.delenv(name, raising=False)
    return config


def ok(r: subprocess.CompletedProcess) -> subprocess.CompletedProcess:
    assert r.returncode == 0, r.stderr
    return r


def one_line_error(r: subprocess.CompletedProcess, text: str) -> None:
    """Exit 2 and the one line ``desktopviz: error: ...text...`` (no traceback)."""
    assert r.returncode == 2, (r.stdout, r.stderr)
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("desktopviz: error: "), r.stderr
    assert text in lines[0], r.stderr


def rows(cache: Path, ref: str) -> list[dict]:
    return [json.loads(x) for x in ok(dv("table", ref, cache=cache)).stdout.splitlines()]


def two_versions(tmp_path: Path, cache: Path) -> None:
    """``good/ok``: v0 (alias production) and v1, imported from W&B table files."""
    table = small_table(tmp_path / "good")
    ok(dv("import", str(table), cache=cache))
    table.write_text(json.dumps({"_type": "table", "columns": ["a"], "data": [[1], [2], [3]]}))
    ok(dv("import", str(table), cache=cache))
    ok(dv("alias", "good/ok:v0", "production", cache=cache))


def content(cache: Path) -> dict:
    """What a user sees of the cache, less the sources' last-sync times (each sync moves them)."""
    snap = snapshot(cache)
    snap["index"].pop("sources", None)
    return snap


def index_bytes(cache: Path) -> bytes:
    """The SQLite index as stored, with its write-ahead log."""
    return b"".join(p.read_bytes() for p in sorted(cache.glob("index.sqlite*")))


@pytest.fixture
def server(tmp_path: Path) -> Iterator[tuple[str, Path]]:
    """`desktopviz serve` on a free port of 127.0.0.1 with a token: (its URL, the token file)."""
    token_file = tmp_path / "server-token"
    token_file.write_text("s3cret-token-for-tests\n")
    proc = subprocess.Popen(
        [console_script(), "serve", str(tmp_path / "served"), "--port", "0"]
        + ["--token-file", str(token_file)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        url = proc.stdout.readline().strip()
        assert url.startswith("http://127.0.0.1:"), proc.stderr.read()
        yield url, token_file
    finally:
        proc.send_signal(signal.SIGINT)
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


# -- push and sync ------------------------------------------------------------------------
def test_push_to_a_folder_then_sync_from_it_into_another_cache(tmp_path):
    a, b, store = tmp_path / "a", tmp_path / "b", tmp_path / "store"
    two_versions(tmp_path, a)
    r = ok(dv("push", str(store), cache=a))
    assert "2" in r.stdout and (store / "store.json").is_file()

    ok(dv("sync", str(store), cache=b))
    assert dv("ls", "good/ok", cache=b).stdout == dv("ls", "good/ok", cache=a).stdout
    for ref in ("good/ok:v0", "good/ok:production", "good/ok:latest"):
        assert rows(b, ref) == rows(a, ref)

    # the same again: nothing new, in either direction
    before = content(b)
    ok(dv("sync", str(store), cache=b))
    assert content(b) == before
    journal = sorted(p.name for p in (store / "journal").iterdir())
    r = ok(dv("push", str(store), cache=a))
    assert sorted(p.name for p in (store / "journal").iterdir()) == journal, r.stdout


def test_push_and_sync_name_what_is_wrong(tmp_path):
    a = tmp_path / "a"
    two_versions(tmp_path, a)
    one_line_error(dv("sync", "nosuchsource", cache=a), "no saved source")
    one_line_error(dv("sync", cache=a), "no saved sources")
    one_line_error(dv("push", str(tmp_path / "s"), "good/ok:v9", cache=a), "v9")
    ok(dv("push", str(tmp_path / "s"), cache=a))
    one_line_error(dv("sync", str(tmp_path / "s"), "--watch", cache=a), "--watch")


# -- sources and tokens -------------------------------------------------------------------
def test_sources_add_ls_rm_and_the_token_is_never_in_the_index(tmp_path, server, private_config):
    url, server_token = server
    a, b = tmp_path / "a", tmp_path / "b"
    token = server_token.read_text().strip()
    two_versions(tmp_path, a)
    ok(dv("push", url, "--token-file", str(server_token), cache=a))

    r = ok(dv("sources", "add", "team", url, "--token-file", str(server_token), cache=b))
    kept = private_config / "desktopviz" / "tokens.json"
    assert str(kept) in r.stdout
    assert stat.S_IMODE(kept.stat().st_mode) == 0o600
    assert json.loads(kept.read_text())["team"]["token"] == token
    ok(dv("sources", "add", "share", str(tmp_path), cache=b))
    listing = ok(dv("sources", "ls", cache=b)).stdout.splitlines()
    assert listing == [
        f"share\t{tmp_path.resolve()}\tnever synced\t0 versions\t-",
        f"team\t{url}\tnever synced\t0 versions\t-",
    ]

    ok(dv("sync", "team", cache=b))  # the saved token
    assert rows(b, "good/ok:production") == rows(a, "good/ok:v0")
    team = ok(dv("sources", "ls", cache=b)).stdout.splitlines()[1].split("\t")
    assert team[0] == "team" and team[2].startswith("synced ") and team[3] == "2 versions"
    assert token.encode() not in index_bytes(b)

    # a wrong or missing token: one line naming the source, exit 2
    wrong = tmp_path / "wrong"
    wrong.write_text("not-the-token")
    one_line_error(
        dv("sync", "team", "--token-file", str(wrong), cache=b), f"authentication failed for {url}"
    )
    bad_env = dv("sync", "team", cache=b, env={"DESKTOPVIZ_TOKEN": "nope"})
    one_line_error(bad_env, f"authentication failed for {url}")
    one_line_error(dv("sync", url, cache=tmp_path / "c"), f"authentication failed for {url}")
    one_line_error(dv("push", url, cache=a), f"authentication failed for {url}")

    one_line_error(dv("sources", "add", "team", url, cache=b), "exists already")
    r = ok(dv("sources", "rm", "team", cache=b))
    assert "2 versions stay" in r.stdout
    assert "team" not in json.loads(kept.read_text())
    assert [x.split("\t")[0] for x in dv("sources", "ls", cache=b).stdout.splitlines()] == ["share"]
    one_line_error(dv("sync", url, cache=b), f"authentication failed for {url}")  # token gone
    assert dv("ls", "good/ok", cache=b).stdout.count("\n") == 2  # the versions stay
    one_line_error(dv("sources", "rm", "team", cache=b), "no saved source 'team'")


def test_a_token_goes_to_the_os_keyring_where_there_is_one(tmp_path, private_config):
    keyring_file = tmp_path / "keyring.json"
    env = {
        "PYTHON_KEYRING_BACKEND": "tests.keyring_standin.JsonFileKeyring",
        "DESKTOPVIZ_TEST_KEYRING": str(keyring_file),
        "PYTHONPATH": str(ROOT),
    }
    token_file = tmp_path / "token"
    token_file.write_text("keyring-kept-token\n")
    cache = tmp_path / "cache"
    r = dv(
        "sources",
        "add",
        "team",
        "https://example.invalid/",
        "--token-file",
        str(token_file),
        cache=cache,
        env=env,
    )
    assert ok(r).stdout.startswith("added source team: https://example.invalid;"), r.stdout
    assert "OS keyring" in r.stdout
    saved = json.loads(json.loads(keyring_file.read_text())["desktopviz/team"])
    assert saved == {"url": "https://example.invalid", "token": "keyring-kept-token"}
    assert not (private_config / "desktopviz" / "tokens.json").exists()
    assert b"keyring-kept-token" not in index_bytes(cache)
    ok(dv("sources", "rm", "team", cache=cache, env=env))
    assert json.loads(keyring_file.read_text()) == {}


# -- catalog only, then pull --------------------------------------------------------------
def test_catalog_only_sync_then_pull_a_version(tmp_path):
    a, b, store = tmp_path / "a", tmp_path / "b", tmp_path / "store"
    two_versions(tmp_path, a)
    ok(dv("push", str(store), cache=a))
    ok(dv("sync", str(store), "--catalog-only", cache=b))
    assert dv("ls", "good/ok", cache=b).stdout.splitlines() == [
        line + "\tnot downloaded" for line in dv("ls", "good/ok", cache=a).stdout.splitlines()
    ]
    assert not [p for p in (b / "blobs").rglob("*") if p.is_file()]
    one_line_error(dv("table", "good/ok:v1", cache=b), "desktopviz pull good/ok:v1")

    r = ok(dv("pull", "good/ok:v1", cache=b))
    assert r.stdout.startswith("good/ok:v1: downloaded 1 files")
    assert rows(b, "good/ok:v1") == rows(a, "good/ok:v1")
    one_line_error(dv("table", "good/ok:v0", cache=b), "desktopviz pull good/ok:v0")
    assert ok(dv("pull", "good/ok:v1", cache=b)).stdout == "good/ok:v1: already downloaded\n"


# -- the SDK logs straight to a store -----------------------------------------------------
SDK_SCRIPT = """
import sys
import desktopviz as dv

cache, name = sys.argv[1], sys.argv[2]
store = sys.argv[3] if len(sys.argv) > 3 else None
with dv.init(project="sdkp", job_type="train", dir=cache, store=store) as run:
    art = dv.Artifact(name, "dataset")
    art.add(dv.Table(columns=["a", "b"], data=[[1, "x"], [2, "y"]]), "t")
    run.log_artifact(art)
    run.log({"loss": 0.5})
"""


def sdk(*args: str, env: dict | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-c", SDK_SCRIPT, *args],
        capture_output=True,
        text=True,
        env={**os.environ, **(env or {})},
        timeout=300,
    )


def test_sdk_pushes_each_logged_version_to_its_store(tmp_path, server):
    url, server_token = server
    a, b, store = tmp_path / "a", tmp_path / "b", tmp_path / "store"
    ok(sdk(str(a), "tbl", str(store)))  # store=: a folder
    ok(dv("sync", str(store), cache=b))
    assert rows(b, "sdkp/tbl:v0") == [{"a": 1, "b": "x"}, {"a": 2, "b": "y"}]

    env = {"DESKTOPVIZ_STORE": url, "DESKTOPVIZ_TOKEN": server_token.read_text().strip()}
    ok(sdk(str(a), "tbl2", env=env))  # $DESKTOPVIZ_STORE: a server
    ok(dv("sync", url, "--token-file", str(server_token), cache=b))
    assert rows(b, "sdkp/tbl2:v0") == rows(a, "sdkp/tbl2:v0")

    # a store that cannot be reached: the run goes on, the version is in the local cache
    r = ok(sdk(str(a), "tbl3", "http://127.0.0.1:9"))
    assert "could not push sdkp/tbl3:v0 to http://127.0.0.1:9" in r.stderr
    assert rows(a, "sdkp/tbl3:v0") == [{"a": 1, "b": "x"}, {"a": 2, "b": "y"}]


# -- folders of W&B runs and artifact download folders ------------------------------------
@pytest.fixture(scope="module")
def downloads(tmp_path_factory) -> Path:
    """Artifact download folders (``demo-dataset:v0``, ``demo-predictions:v0``, the second
    referring to the first) logged by a real offline wandb run."""
    base = tmp_path_factory.mktemp("wandb")
    build_wandb_artifacts(base)
    return base / "artifacts"


def write_run(share: Path, name: str, *pause: Path) -> subprocess.Popen:
    """A training job writing an offline run into ``share/wandb/`` (its staged artifact files
    in ``share/artifacts/staging``), with the real SDK; see wandb_scripts/folder_run.py."""
    env = {**wandb_env(share.parent / f"wandb-{name}"), "WANDB_DIR": str(share)}
    env["WANDB_DATA_DIR"] = str(share)
    return subprocess.Popen(
        [sys.executable, str(SCRIPTS / "folder_run.py"), name, *map(str, pause)],
        cwd=share,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def wrote_run(share: Path, name: str) -> None:
    """A run written whole, and left alone long enough to be taken as complete."""
    proc = write_run(share, name)
    out, err = proc.communicate(timeout=300)
    assert proc.returncode == 0, err[-3000:]
    time.sleep(SETTLE_SECONDS + 0.5)


def summary(r: subprocess.CompletedProcess) -> str:
    return r.stderr.strip().splitlines()[-1]


def test_sync_a_folder_of_wandb_runs_and_downloads(tmp_path, downloads):
    share, cache = tmp_path / "share", tmp_path / "cache"
    share.mkdir()
    shutil.copytree(downloads, share / "compat" / "artifacts")
    wrote_run(share, "alpha")

    r = ok(dv("sync", str(share), cache=cache))
    assert "  share/alpha-preds:v0 [latest] (predictions, 1 files, new version)" in r.stdout
    assert "compat/demo-dataset:v0" in r.stdout and "compat/demo-predictions:v0" in r.stdout
    assert summary(r).startswith(f"synced {share}: 3 new versions; 0 unchanged")
    assert rows(cache, "share/alpha-preds:v0") == [{"id": i, "score": i / 10} for i in range(5)]
    assert "share\t1 artifacts\t1 runs" in dv("ls", cache=cache).stdout

    before = content(cache)
    r = ok(dv("sync", str(share), cache=cache))
    assert summary(r).startswith(f"synced {share}: 0 new versions; 3 unchanged"), r.stderr
    assert r.stdout == "" and content(cache) == before

    wrote_run(share, "beta")
    r = ok(dv("sync", str(share), cache=cache))
    assert summary(r).startswith(f"synced {share}: 1 new versions; 3 unchanged"), r.stderr
    assert "share/beta-preds:v0" in r.stdout and "alpha" not in r.stdout

    # as a saved source, with a project filter
    other = tmp_path / "other"
    ok(dv("sources", "add", "share", str(share), cache=other))
    r = ok(dv("sync", "--project", "share", cache=other))
    assert "beta-preds" in r.stdout and "compat" not in r.stdout
    fields = dv("sources", "ls", cache=other).stdout.rstrip("\n").split("\t")
    assert fields[2].startswith("synced ") and fields[3:] == ["2 versions", "ok"], fields
    r = ok(dv("sync", cache=other))
    assert "compat/demo-dataset:v0" in r.stdout and "alpha" not in r.stdout
    one_line_error(dv("sync", "share", "--catalog-only", cache=other), "--catalog-only")


def test_watch_imports_a_run_once_it_is_complete(tmp_path):
    share, cache = tmp_path / "share", tmp_path / "cache"
    share.mkdir()
    watcher = subprocess.Popen(
        [console_script(), "--cache", str(cache), "sync", str(share), "--watch"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    out: queue.Queue[str] = queue.Queue()
    err: list[str] = []
    threading.Thread(target=lambda: [out.put(x) for x in watcher.stdout], daemon=True).start()
    threading.Thread(target=lambda: err.extend(watcher.stderr), daemon=True).start()
    paused, go = tmp_path / "paused", tmp_path / "go"
    writer = write_run(share, "gamma", paused, go)
    try:
        deadline = time.monotonic() + 120
        while not paused.exists():
            assert writer.poll() is None and time.monotonic() < deadline, writer.stderr.read()
            time.sleep(0.1)
        # the run is being written (its artifact logged, no exit record): seen, not imported
        time.sleep(8)
        assert any("still being written" in line and "offline-run-" in line for line in err), err
        assert out.empty() and "share" not in dv("ls", cache=cache).stdout

        go.write_text("")
        assert writer.wait(timeout=120) == 0, writer.stderr.read()
        lines = [out.get(timeout=60) for _ in range(2)]
        assert lines[0] == "project: share\n"
        assert lines[1] == "  share/gamma-preds:v0 [latest] (predictions, 1 files, new version)\n"
        assert rows(cache, "share/gamma-preds:v0") == [{"id": i, "score": i / 10} for i in range(5)]
    finally:
        if writer.poll() is None:
            writer.kill()
        watcher.send_signal(signal.SIGINT)  # Ctrl+C stops watching
        code = watcher.wait(timeout=30)
    assert code == 130 and "desktopviz: interrupted" in "".join(err)
