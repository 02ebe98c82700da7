"""Bad table and manifest files through the installed ``desktopviz`` script: exit 2, one line
naming the file (and row or field), the cache as it was; odd column names are kept, renamed."""

from __future__ import annotations

import json
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

import desktopviz
from tests.cli.test_bad_input import assert_refused, dv_cli
from tests.cli_support import snapshot, stored_files


def assert_all_refused(cache: Path, cases: list[tuple[Path, tuple[str, ...]]]) -> None:
    """Like ``assert_refused`` for many inputs, with one look at the cache before and after."""
    before, files_before = snapshot(cache), stored_files(cache)
    for target, needles in cases:
        r = dv_cli(cache, "import", str(target))
        lines = r.stderr.strip().splitlines()
        assert r.returncode == 2 and len(lines) == 1, (target, r.returncode, r.stderr)
        assert lines[0].startswith("desktopviz: error:"), lines[0]
        for needle in (target.name, *needles):
            assert needle in lines[0], (needle, lines[0])
    assert snapshot(cache) == before
    assert dv_cli(cache, "gc").returncode == 0
    assert stored_files(cache) == files_before


def deep(n: int) -> str:
    return "[" * n + "]" * n


def put(path: Path, text: str | bytes) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(text, bytes):
        path.write_bytes(text)
    else:
        path.write_text(text)
    return path


def download(root: Path, manifest: str) -> Path:
    """A download folder ``ds:v0`` holding ``a.txt`` and this manifest text."""
    put(root / "ds:v0" / "a.txt", "a")
    put(root / "ds:v0" / "wandb_manifest.json", manifest)
    return root / "ds:v0"


# -- JSON nested deeper than the limit (100 levels) ---------------------------------------------


def test_table_json_nested_10000_deep(primed, tmp_path):
    p = put(
        tmp_path / "in" / "deep.table.json",
        '{"columns": ["a"], "data": [[1], [' + deep(10_000) + "]]}",
    )
    assert_refused(primed, p, "deep.table.json", "row 1", "nested more than 100 levels")


def test_jsonl_nested_10000_deep(primed, tmp_path):
    p = put(tmp_path / "in" / "deep.jsonl", '{"a": 1}\n{"a": ' + deep(10_000) + "}\n")
    assert_refused(primed, p, "deep.jsonl", "line 2", "nested more than 100 levels")


def test_manifest_nested_10000_deep(primed, tmp_path):
    text = '{"contents": {"a.txt": {"digest": "x", "extra": ' + deep(10_000) + "}}}"
    assert_refused(
        primed, download(tmp_path / "in", text), "wandb_manifest.json", "nested more than 100"
    )


def test_table_json_just_over_a_lowered_depth_limit(primed, tmp_path):
    p = put(tmp_path / "in" / "d.table.json", '{"columns": ["a"], "data": [[' + deep(4) + "]]}")
    assert_refused(
        primed, p, "d.table.json", "row 0", "'a'", "more than 3 levels",
        env={"DESKTOPVIZ_MAX_JSON_DEPTH": "3"},
    )  # fmt: skip


# -- over-long lines and cells --------------------------------------------------------------------


def test_jsonl_line_over_the_limit(primed, tmp_path):
    p = put(tmp_path / "in" / "long.jsonl", '{"a": 1}\n{"a": "' + "x" * 5000 + '"}\n')
    assert_refused(
        primed, p, "long.jsonl", "line 2", "4,096-byte limit",
        env={"DESKTOPVIZ_MAX_LINE_BYTES": "4096"},
    )  # fmt: skip


def test_csv_row_over_the_limit(primed, tmp_path):
    p = put(tmp_path / "in" / "long.csv", "a,b\n1,x\n2," + "y" * 5000 + "\n3,z\n")
    assert_refused(
        primed, p, "long.csv", "line 3", "4,096-byte limit for one line",
        env={"DESKTOPVIZ_MAX_LINE_BYTES": "4096"},
    )  # fmt: skip


def test_table_json_cell_over_the_limit(primed, tmp_path):
    rows = [[0, "x"], [1, "y" * 50_000], [2, "z"]]
    p = put(tmp_path / "in" / "cell.table.json", json.dumps({"columns": ["i", "s"], "data": rows}))
    assert_refused(
        primed, p, "cell.table.json", "row 1", "16,384-byte limit",
        env={"DESKTOPVIZ_MAX_CELL_BYTES": "16384"},
    )  # fmt: skip


# -- corrupted Parquet ----------------------------------------------------------------------------


def parquet_bytes() -> bytes:
    import io

    buf = io.BytesIO()
    table = pa.table({"a": list(range(5000)), "b": [f"s{i}" for i in range(5000)]})
    pq.write_table(table, buf, row_group_size=1000)
    return buf.getvalue()


def garbled_pages() -> bytes:
    good = bytearray(parquet_bytes())
    good[8 : len(good) // 2] = b"\xab" * (len(good) // 2 - 8)  # footer intact, pages garbage
    return bytes(good)


def test_corrupted_parquet(primed, tmp_path):
    good = parquet_bytes()
    contents = {
        "truncated": good[: len(good) // 2],
        "empty": b"",
        "garbage": b"PAR1 but then garbage, garbage, garbage",
        "wrong-magic": good[:-4] + b"XXXX",
        "garbled-pages": garbled_pages(),
    }
    cases = [
        (put(tmp_path / n / "bad.parquet", c), ("not a readable Parquet file",))
        for n, c in contents.items()
    ]
    assert_all_refused(primed, cases)


# -- manifests of the wrong shape -----------------------------------------------------------------


BAD_MANIFESTS = [
    ({"contents": [1, 2]}, "item 0 is not an object"),
    ({"contents": [{"path": 5, "digest": "x"}]}, "path 5 is not a string"),
    ({"contents": {"a.txt": {"size": 1}}}, "'a.txt' has no 'digest'"),
    ({"contents": {"a.txt": {"digest": "", "size": 1}}}, "'a.txt' has no 'digest'"),
    ({"contents": {"a.txt": {"digest": 5, "size": 1}}}, "'digest' is 5, not a string"),
    ({"contents": {"a.txt": {"digest": "x", "size": -1}}}, "'size' is negative"),
    ({"contents": {"a.txt": {"digest": "x", "size": "1"}}}, "'size' is \"1\""),
    ({"contents": {"a.txt": {"digest": "x", "size": True}}}, "not a whole number"),
    ({"contents": {"a.txt": {"digest": "x", "ref": 5}}}, "'ref' is 5"),
    ({"contents": {"a.txt": {"digest": "x", "extra": "{bad"}}}, "'extra' is not an object"),
]


def test_manifest_of_the_wrong_shape(primed, tmp_path):
    cases = [
        (download(tmp_path / f"in{i}", json.dumps(manifest)), ("wandb_manifest.json", needle))
        for i, (manifest, needle) in enumerate(BAD_MANIFESTS)
    ]
    assert_all_refused(primed, cases)


# -- table.json of the wrong shape ----------------------------------------------------------------


@pytest.mark.parametrize(
    "table,needles",
    [
        ({"columns": "ab", "data": [[1]]}, ["no 'columns' list"]),
        ({"columns": [[1], "b"], "data": [[1, 2]]}, ["column 1's name is [1]"]),
        ({"columns": ["a", None], "data": [[1, 2]]}, ["column 2's name is null"]),
        ({"columns": ["a"], "data": {"x": 1}}, ["expected '['"]),
        ({"columns": ["a"], "data": [[1], 2]}, ["row 1", "a int"]),
        ({"columns": ["a", "b"], "data": [[1, 2], [1, 2, 3]]}, ["row 1", "3 cells"]),
    ],
)
def test_table_json_of_the_wrong_shape(primed, tmp_path, table, needles):
    p = put(tmp_path / "in" / "shape.table.json", json.dumps(table))
    assert_refused(primed, p, "shape.table.json", *needles)


# -- empty and repeated column names: kept, renamed, with one warning line ------------------------


def imported(cache: Path, path: Path) -> tuple[list[dict], str]:
    r = dv_cli(cache, "import", str(path))
    assert r.returncode == 0, r.stderr
    ref = r.stdout.strip().splitlines()[-1].split()[0]
    rows = desktopviz.open_cache(cache).table(ref).rows(0, 10).to_pylist()
    return rows, r.stderr


@pytest.mark.parametrize(
    "name,content,rows,warning",
    [
        ("dup.csv", "a,a,b\n1,2,3\n", [{"a": 1, "a_2": 2, "b": 3}], "column 2 (repeated name 'a')"),
        ("gap.csv", "a,,b\n1,2,3\n", [{"a": 1, "column_2": 2, "b": 3}], "column 2 (empty name"),
        ("trail.csv", "a,b,\n1,2,3\n", [{"a": 1, "b": 2, "column_3": 3}], "'column_3'"),
        (
            "taken.csv",
            "a,a,a_2\n1,2,3\n",
            [{"a": 1, "a_3": 2, "a_2": 3}],
            "column 2 (repeated name 'a') is named 'a_3'",
        ),
        (
            "dup.table.json",
            json.dumps({"columns": ["x", "x", ""], "data": [[1, 2, 3]]}),
            [{"x": 1, "x_2": 2, "column_3": 3}],
            "column 3 (empty name",
        ),
        ("key.jsonl", '{"": 1, "b": 2}\n', [{"column_1": 1, "b": 2}], "column 1 (empty name"),
    ],
)
def test_odd_column_names_are_renamed(tmp_path, name, content, rows, warning):
    got, stderr = imported(tmp_path / "c", put(tmp_path / "in" / name, content))
    assert got == rows
    lines = stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith(f"desktopviz: warning: {name}: "), stderr
    assert warning in lines[0], lines[0]


def test_parquet_with_repeated_and_empty_column_names(tmp_path):
    table = pa.Table.from_arrays(
        [pa.array([1]), pa.array([2]), pa.array([3])], names=["a", "a", ""]
    )
    pq.write_table(table, put(tmp_path / "in" / "odd.parquet", b""))
    got, stderr = imported(tmp_path / "c", tmp_path / "in" / "odd.parquet")
    assert got == [{"a": 1, "a_2": 2, "column_3": 3}]
    assert stderr.count("\n") == 1 and "desktopviz: warning: odd.parquet" in stderr
