"""`desktopviz ls` marks the versions synced with --catalog-only (metadata here, files not) as
"not downloaded" until `desktopviz pull` fetches them: the console script on real caches and a
real store folder."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

from tests.cli_support import dv, small_table


def ok(r: subprocess.CompletedProcess) -> subprocess.CompletedProcess:
    assert r.returncode == 0, r.stderr
    return r


def listing(cache: Path, target: str) -> list[list[str]]:
    return [line.split("\t") for line in ok(dv("ls", target, cache=cache)).stdout.splitlines()]


def test_ls_marks_catalog_only_versions_not_downloaded_until_pulled(tmp_path):
    a, b, store = tmp_path / "a", tmp_path / "b", tmp_path / "store"
    table = small_table(tmp_path / "good")
    ok(dv("import", str(table), cache=a))
    table.write_text(json.dumps({"_type": "table", "columns": ["a"], "data": [[1], [2], [3]]}))
    ok(dv("import", str(table), cache=a))
    ok(dv("push", str(store), cache=a))
    source = listing(a, "good/ok")
    assert [len(line) for line in source] == [5, 5]  # downloaded versions: no mark

    ok(dv("sync", str(store), "--catalog-only", cache=b))
    synced = listing(b, "good/ok")
    assert synced == [line + ["not downloaded"] for line in source]

    ok(dv("pull", "good/ok:v1", cache=b))
    assert listing(b, "good/ok") == [source[0] + ["not downloaded"], source[1]]
    ok(dv("pull", "good/ok:v0", cache=b))
    assert listing(b, "good/ok") == source
