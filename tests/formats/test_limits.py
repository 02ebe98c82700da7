"""Input limits: over-long lines and cells, and too-deep JSON, are refused in bounded memory."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from desktopviz.errors import FormatError, LimitError
from desktopviz.formats import jsonio
from desktopviz.formats.jsonio import json_depth, load_json_file
from desktopviz.formats.manifest import read_manifest
from desktopviz.formats.materialize import materialize
from desktopviz.formats.table_json import read_table_json


def run(root: Path, name: str, tmp_path: Path):
    """Materialise the table file ``root/name`` (as an import does)."""
    return materialize(lambda rel: root / rel, name, tmp_path / "out.parquet", tmp_path)


def deep(n: int) -> str:
    return "[" * n + "]" * n


def write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


def test_json_depth_counts_levels_and_stops_early():
    assert json_depth(5, 10) == 0
    assert json_depth([], 10) == 1
    assert json_depth({"a": [1, {"b": []}]}, 10) == 4
    assert json_depth(json.loads(deep(500)), 10) == 11  # stops one past the limit


def test_jsonl_line_over_the_limit(tmp_path, monkeypatch):
    monkeypatch.setenv("DESKTOPVIZ_MAX_LINE_BYTES", "1000")
    lines = [json.dumps({"i": i, "s": "x" * 900}) for i in range(3)]
    lines.insert(2, json.dumps({"i": 9, "s": "y" * 5000}))
    write(tmp_path / "t.jsonl", "\n".join(lines) + "\n")
    with pytest.raises(LimitError, match=r"line 3: over the 1,000-byte limit") as e:
        run(tmp_path, "t.jsonl", tmp_path)
    assert e.value.file == "t.jsonl"
    # a line of exactly the limit (newline not counted) is fine
    write(tmp_path / "ok.jsonl", json.dumps({"s": "x" * (1000 - 9)}) + "\n")
    assert len((tmp_path / "ok.jsonl").read_bytes()) == 1001
    assert run(tmp_path, "ok.jsonl", tmp_path).num_rows == 1


def test_table_json_cell_over_the_limit(tmp_path, monkeypatch):
    monkeypatch.setenv("DESKTOPVIZ_MAX_CELL_BYTES", str(1 << 16))
    rows = [[i, "x" * 10] for i in range(5)] + [[5, "y" * (1 << 20)]] + [[6, "z"]]
    write(tmp_path / "t.table.json", json.dumps({"columns": ["i", "s"], "data": rows}))
    with pytest.raises(LimitError, match=r"65,536-byte limit") as e:
        run(tmp_path, "t.table.json", tmp_path)
    assert e.value.row == 5 and e.value.file.endswith("t.table.json")


def test_table_json_huge_cell_is_refused_quickly(tmp_path):
    """A cell far over the default limit: refused after reading about the limit, not the cell
    (before, each chunk re-scanned the whole cell: quadratic, never finished at 1 GB)."""
    p = tmp_path / "t.table.json"
    with open(p, "w") as f:
        f.write('{"columns": ["s"], "data": [["')
        block = "a" * (1 << 20)
        for _ in range(48):
            f.write(block)
        f.write('"]]}')
    t = time.monotonic()
    with pytest.raises(LimitError, match="DESKTOPVIZ_MAX_CELL_BYTES") as e:
        list(read_table_json(p)[1])
    assert time.monotonic() - t < 5
    assert e.value.row == 0


def test_table_json_header_value_over_the_limit(tmp_path, monkeypatch):
    monkeypatch.setenv("DESKTOPVIZ_MAX_CELL_BYTES", "1000")
    p = write(tmp_path / "t.table.json", json.dumps({"columns": ["x" * 5000], "data": []}))
    with pytest.raises(LimitError, match="1,000-byte limit"):
        read_table_json(p)


@pytest.mark.parametrize("n", [101, 10_000])
def test_table_json_nested_too_deep(tmp_path, n):
    text = '{"columns": ["a", "b"], "data": [[1, 2], [3, ' + deep(n) + "]]}"
    write(tmp_path / "t.table.json", text)
    with pytest.raises(LimitError, match="nested more than 100 levels") as e:
        run(tmp_path, "t.table.json", tmp_path)
    assert e.value.row == 1


def test_table_json_at_the_depth_limit_is_kept(tmp_path, monkeypatch):
    monkeypatch.setenv("DESKTOPVIZ_MAX_JSON_DEPTH", "5")
    write(tmp_path / "ok.table.json", '{"columns": ["a"], "data": [[' + deep(5) + "]]}")
    assert run(tmp_path, "ok.table.json", tmp_path).num_rows == 1
    for cell in (deep(6), '{"k": [1, "x", ' + deep(5) + "]}"):  # plain and mixed (JSON) cells
        write(tmp_path / "t.table.json", '{"columns": ["a"], "data": [[1], [' + cell + "]]}")
        with pytest.raises(LimitError, match="more than 5 levels") as e:
            run(tmp_path, "t.table.json", tmp_path)
        assert e.value.row == 1 and e.value.field == "a"


def test_table_json_header_nested_too_deep(tmp_path):
    p = write(tmp_path / "t.table.json", '{"column_types": ' + deep(300) + ', "data": []}')
    with pytest.raises(LimitError, match="nested more than 100 levels") as e:
        read_table_json(p)
    assert e.value.field == "column_types"


@pytest.mark.parametrize("n", [101, 10_000])
def test_jsonl_nested_too_deep(tmp_path, n):
    write(tmp_path / "t.jsonl", '{"a": 1}\n{"a": ' + deep(n) + "}\n")
    with pytest.raises(LimitError, match="nested more than 100 levels"):
        run(tmp_path, "t.jsonl", tmp_path)


@pytest.mark.parametrize("n", [101, 10_000])
def test_manifest_nested_too_deep(tmp_path, n):
    p = write(
        tmp_path / "wandb_manifest.json",
        '{"contents": {"a.txt": {"digest": "x", "extra": {"k": ' + deep(n) + "}}}}",
    )
    with pytest.raises(LimitError, match="nested more than 100 levels") as e:
        read_manifest(p)
    assert e.value.file == str(p)


def test_bad_limit_setting(tmp_path, monkeypatch):
    monkeypatch.setenv("DESKTOPVIZ_MAX_JSON_DEPTH", "lots")
    with pytest.raises(FormatError, match="DESKTOPVIZ_MAX_JSON_DEPTH"):
        load_json_file(write(tmp_path / "x.json", "[]"))


MEASURE = textwrap.dedent(
    """
    import resource, sys
    from pathlib import Path
    from desktopviz.errors import LimitError
    from desktopviz.formats.materialize import materialize
    root, name = Path(sys.argv[1]), sys.argv[2]
    try:
        materialize(lambda rel: root / rel, name, root / "out.parquet", root)
        print("imported")
    except LimitError as e:
        print(e)
    print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)
    """
)


def peak_rss_kb(root: Path, name: str, env: dict[str, str]) -> tuple[str, int]:
    import os

    r = subprocess.run(
        [sys.executable, "-c", MEASURE, str(root), name],
        capture_output=True,
        text=True,
        env={**os.environ, **env},
        timeout=120,
    )
    assert r.returncode == 0, r.stderr
    message, peak = r.stdout.strip().splitlines()
    return message, int(peak)


def test_over_long_jsonl_line_is_refused_in_bounded_memory(tmp_path):
    """A 64 MB line with a 1 MB limit: peak memory stays near that of a tiny import."""
    (tmp_path / "small").mkdir()
    write(tmp_path / "small" / "t.jsonl", '{"a": 1}\n')
    with open(tmp_path / "t.jsonl", "w") as f:
        f.write('{"a": 1}\n{"s": "')
        for _ in range(64):
            f.write("x" * (1 << 20))
        f.write('"}\n')
    env = {"DESKTOPVIZ_MAX_LINE_BYTES": str(1 << 20)}
    _, base = peak_rss_kb(tmp_path / "small", "t.jsonl", env)
    message, peak = peak_rss_kb(tmp_path, "t.jsonl", env)
    assert "line 2: over the 1,048,576-byte limit" in message
    assert peak - base < 24 * 1024, (base, peak)  # KiB: far less than the 64 MB line


def test_limits_are_documented():
    doc = jsonio.__doc__
    for var in (
        "DESKTOPVIZ_MAX_JSON_BYTES",
        "DESKTOPVIZ_MAX_LINE_BYTES",
        "DESKTOPVIZ_MAX_CELL_BYTES",
        "DESKTOPVIZ_MAX_JSON_DEPTH",
    ):
        assert var in doc
