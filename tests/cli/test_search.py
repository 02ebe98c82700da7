"""``desktopviz search TEXT`` through the console script: one line per hit, best first; exit 0
with hits, 1 with none, 2 for bad input."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.cli_support import dv


@pytest.fixture(scope="module")
def cache(tmp_path_factory) -> Path:
    """Two versions of ``birds/detections`` (a table with columns id, species, confidence),
    ``production`` on the first."""
    base = tmp_path_factory.mktemp("search-cli")
    cache = base / "cache"
    for i, rows in enumerate(([[0, "heron", 0.9]], [[0, "heron", 0.9], [1, "kestrel", 0.4]])):
        folder = base / f"v{i}"
        folder.mkdir()
        table = {"_type": "table", "columns": ["id", "species", "confidence"], "data": rows}
        (folder / "detections.table.json").write_text(json.dumps(table))
        r = dv("import", str(folder / "detections.table.json"), "--project", "birds", cache=cache)
        assert r.returncode == 0, r.stderr
    r = dv("alias", "birds/detections:v0", "production", cache=cache)
    assert r.returncode == 0, r.stderr
    return cache


def test_hits_one_line_each_best_first(cache: Path):
    r = dv("search", "detections", cache=cache)
    assert r.returncode == 0, r.stderr
    lines = r.stdout.splitlines()
    assert lines[0] == "artifact\tbirds/detections\tname: detections"
    assert "version\tbirds/detections:v1\tname: detections:v1" in lines
    assert "table\tbirds/detections:v0 detections.table.json\ttable: detections.table.json" in (
        lines
    )
    assert len(lines) == 5  # the artifact, two versions, their two tables

    r = dv("search", "prod", cache=cache)
    assert r.stdout == "version\tbirds/detections:v0\talias: production\n"
    # every word, each a prefix
    r = dv("search", "confid", "spec", "--kind", "table", cache=cache)
    assert r.stdout.splitlines() == [
        f"table\tbirds/detections:v{i} detections.table.json\tcolumns: id, species, confidence"
        for i in (0, 1)
    ]


def test_kind_limit_and_json(cache: Path):
    r = dv("search", "birds", "--kind", "project", "--kind", "artifact", cache=cache)
    assert [line.split("\t")[:2] for line in r.stdout.splitlines()] == [
        ["project", "birds"],
        ["artifact", "birds/detections"],
    ]
    assert len(dv("search", "birds", "--limit", "2", cache=cache).stdout.splitlines()) == 2

    r = dv("search", "production", "--json", cache=cache)
    assert r.returncode == 0, r.stderr
    (hit,) = json.loads(r.stdout)
    assert hit["kind"] == "version" and hit["ref"] == "birds/detections:v0"
    assert (hit["field"], hit["snippet"], hit["marks"]) == ("alias", "production", [[0, 10]])


def test_nothing_found_exits_1(cache: Path):
    r = dv("search", "albatross", cache=cache)
    assert (r.returncode, r.stdout) == (1, "")
    assert "nothing matches 'albatross'" in r.stderr
    r = dv("search", "albatross", "--json", cache=cache)
    assert (r.returncode, json.loads(r.stdout)) == (1, [])


def test_help_says_the_exit_status():
    r = dv("search", "--help")
    assert r.returncode == 0
    text = " ".join(r.stdout.split())
    assert "0 when something matched, 1 when nothing did" in text
    assert "--kind {project,artifact,version,run,table" in text


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("--", "-:/"), "nothing to search for in '-:/': give a word"),
        (("birds", "--limit", "0"), "--limit must be 1 or more, not 0"),
        (("birds", "--kind", "model"), "invalid choice: 'model'"),
    ],
)
def test_bad_input_exits_2(cache: Path, args, message):
    r = dv("search", *args, cache=cache)
    assert r.returncode == 2 and message in r.stderr, r.stderr


def test_no_cache_here(tmp_path: Path):
    r = dv("search", "birds", cache=tmp_path / "none")
    assert r.returncode == 2 and "no desktopviz cache here" in r.stderr
    assert not (tmp_path / "none" / "index.sqlite").exists()
