"""The CLI as a user runs it: a real process, a real cache folder."""

from __future__ import annotations

import csv
import io
import json
import subprocess
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from tests.cli_support import console_script, dv


@pytest.fixture
def table_file(tmp_path) -> Path:
    p = tmp_path / "proj" / "preds.table.json"
    p.parent.mkdir()
    p.write_text(
        json.dumps(
            {
                "_type": "table",
                "columns": ["id", "score", "meta", "text"],
                "data": [
                    [0, 0.5, {"k": [1, 2]}, "naïve"],
                    [1, None, {"k": []}, "日本"],
                    [2, 0.75, {"k": [3]}, None],
                ],
            }
        )
    )
    return p


def test_import_ls_table_alias_gc(tmp_path, table_file):
    cache = tmp_path / "cache"
    r = dv("import", str(table_file), cache=cache)
    assert r.returncode == 0, r.stderr
    assert "project: proj" in r.stdout and "proj/preds:v0" in r.stdout
    assert dv("ls", cache=cache).stdout.startswith("proj\t1 artifacts")
    assert dv("ls", "proj", cache=cache).stdout == "preds\tdataset\t1 versions\n"
    line = dv("ls", "proj/preds", cache=cache).stdout
    assert line.startswith("v0\tlatest\t1 files\t")

    rows = [
        json.loads(x) for x in dv("table", "proj/preds:latest", cache=cache).stdout.splitlines()
    ]
    assert rows[0] == {"id": 0, "score": 0.5, "meta": {"k": [1, 2]}, "text": "naïve"}
    assert rows[1]["score"] is None and rows[1]["text"] == "日本"

    out = dv(
        "table", "preds:v0", "preds.table.json", "--format", "csv", "--limit", "2", cache=cache
    ).stdout
    got = list(csv.reader(io.StringIO(out)))
    assert (
        got[0] == ["id", "score", "meta", "text"] and len(got) == 3 and got[1][2] == '{"k": [1, 2]}'
    )

    target = tmp_path / "out.parquet"
    assert (
        dv(
            "table", "preds:v0", "--format", "parquet", "--output", str(target), cache=cache
        ).returncode
        == 0
    )
    assert pq.read_table(target).num_rows == 3

    r = dv("table", "preds:v0", "--filter", 'row["id"] > 0', "--save-as", "picked", cache=cache)
    assert r.returncode == 0 and r.stdout.strip() == "proj/picked:v0", r.stderr
    got = dv("table", "picked:v0", cache=cache).stdout.splitlines()
    assert len(got) == 2 and all(json.loads(x)["id"] > 0 for x in got)

    r = dv("alias", "proj/preds:v0", "production", cache=cache)
    assert r.returncode == 0 and "production" in r.stdout
    assert "production" in dv("ls", "proj/preds", cache=cache).stdout
    assert dv("table", "preds:production", "--limit", "1", cache=cache).stdout.count("\n") == 1
    r = dv("gc", cache=cache)
    assert r.returncode == 0 and r.stdout.startswith("removed 0 blobs")


def test_import_prints_latest_only_on_the_newest_version(tmp_path):
    """Two versions of one artifact in one import (a folder of download folders, or two paths):
    the summary, printed when the command is done, marks only the newest ``[latest]``."""
    cache, downloads = tmp_path / "cache", tmp_path / "proj" / "downloads"
    for n in range(3):
        (downloads / f"notes-v{n}").mkdir(parents=True)
        (downloads / f"notes-v{n}" / "a.txt").write_text(f"version {n}\n")
    r = dv("import", str(downloads), cache=cache)
    assert r.returncode == 0, r.stderr
    assert r.stdout.splitlines() == [
        "project: proj",
        "  proj/notes:v0 (dataset, 1 files, new version)",
        "  proj/notes:v1 (dataset, 1 files, new version)",
        "  proj/notes:v2 [latest] (dataset, 1 files, new version)",
    ], r.stdout
    # two paths of one command, both folders named notes: one summary, true when it ends
    for n in (3, 4):
        (tmp_path / f"later{n}" / "notes").mkdir(parents=True)
        (tmp_path / f"later{n}" / "notes" / "a.txt").write_text(f"version {n}\n")
    paths = [str(tmp_path / f"later{n}" / "notes") for n in (3, 4)]
    r = dv("import", "--project", "proj", *paths, cache=cache)
    assert r.returncode == 0, r.stderr
    assert r.stdout.splitlines() == [
        "project: proj",
        "  proj/notes:v3 (dataset, 1 files, new version)",
        "  proj/notes:v4 [latest] (dataset, 1 files, new version)",
    ], r.stdout
    listing = dv("ls", "proj/notes", cache=cache).stdout.splitlines()
    assert [line.split("\t")[:2] for line in listing] == [
        ["v0", "-"],
        ["v1", "-"],
        ["v2", "-"],
        ["v3", "-"],
        ["v4", "latest"],
    ]


def test_cache_location_from_environment(tmp_path, table_file):
    env = {"DESKTOPVIZ_CACHE": str(tmp_path / "envcache")}
    assert dv("import", str(table_file), env=env).returncode == 0
    assert (tmp_path / "envcache" / "index.sqlite").is_file()
    assert "preds" in dv("ls", "proj", env=env).stdout


def test_bad_ref_is_one_line_exit_2(tmp_path, table_file):
    cache = tmp_path / "cache"
    dv("import", str(table_file), cache=cache)
    for args in (
        ["table", "nope:v0"],
        ["table", "preds:v9"],
        ["table", "preds:v0", "other.table.json"],
        ["alias", "preds:v0", "latest"],
    ):
        r = dv(*args, cache=cache)
        assert (
            r.returncode == 2
            and r.stderr.count("\n") == 1
            and r.stderr.startswith("desktopviz: error:")
        ), (args, r.stderr)


def test_unknown_option_exits_2(tmp_path):
    r = dv("import", cache=tmp_path / "c")
    assert r.returncode == 2


def test_demo_builds_and_prints_summary(tmp_path):
    cache = tmp_path / "cache"
    r = dv("demo", "--images", "40", cache=cache)
    assert r.returncode == 0, r.stderr
    assert (
        "street-scenes-dataset" in r.stdout
        and "[latest, staging]" in r.stdout
        and "production" in r.stdout
    )
    again = dv("demo", "--images", "40", cache=cache)
    assert again.returncode == 0
    assert dv("ls", "street-scenes/scene-predictions", cache=cache).stdout.count("\n") == 2
    rows = [
        json.loads(x)
        for x in dv(
            "table",
            "scene-predictions:production",
            "predictions.table.json",
            "--limit",
            "3",
            cache=cache,
        ).stdout.splitlines()
    ]
    assert rows[0]["image"]["_type"] == "image-file" and rows[0]["image"]["boxes"]["predictions"]


def test_output_format_follows_the_file_name(tmp_path, table_file):
    cache = tmp_path / "cache"
    assert dv("import", str(table_file), cache=cache).returncode == 0
    out = tmp_path / "rows.csv"
    r = dv("table", "proj/preds:v0", "--output", str(out), cache=cache)
    assert r.returncode == 0, r.stderr
    rows = list(csv.DictReader(io.StringIO(out.read_text())))
    assert [row["id"] for row in rows] == ["0", "1", "2"]
    pq_out = tmp_path / "rows.parquet"
    assert dv("table", "proj/preds:v0", "-o", str(pq_out), cache=cache).returncode == 0
    assert pq.read_table(pq_out).column("score").to_pylist() == [0.5, None, 0.75]


def test_a_reader_that_stops_early_is_no_error(tmp_path):
    """``desktopviz table REF | head -1``: the closed pipe ends the command quietly, exit 0."""
    cache = tmp_path / "cache"
    rows = tmp_path / "many.csv"
    rows.write_text("id,text\n" + "".join(f"{i},{'x' * 200}\n" for i in range(20_000)))
    assert dv("import", str(rows), cache=cache).returncode == 0
    proc = subprocess.Popen(
        [console_script(), "--cache", str(cache), "table", "many:v0"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    assert json.loads(proc.stdout.readline())["id"] == 0
    proc.stdout.close()  # as `head -1` does
    assert proc.wait(timeout=120) == 0
    assert proc.stderr.read() == b""
