"""table.json rows converted in C (desktopviz.formats.fast_table) give the same Parquet file and
column descriptors as the Python converter, whatever the cells; and the C path is taken."""

from __future__ import annotations

import json
import random
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from desktopviz.errors import FormatError
from desktopviz.formats import fast_table, table_json
from desktopviz.formats.cells import BatchConverter
from desktopviz.formats.fast_table import FastTables
from desktopviz.formats.materialize import materialize
from desktopviz.formats.table_json import read_table_json_slabs

WORDS = ["car", "naïve café", 'say "hi"', "a\\b", "[x], [y]", "{a: 1}", "日本", "😀", "", "]"]


def _cell(kind: str, r: random.Random, i: int, words: list[str] = WORDS):
    if r.random() < 0.05 and kind not in ("int_first",):
        return None
    if kind == "int":
        return r.randint(-(10**6), 10**6)
    if kind == "id":
        return i
    if kind == "bigint":
        return r.choice([2**53 + 1, 2**63 + 5, -(2**63) - 1, 10**30, 7])
    if kind == "float":
        return r.choice([r.random(), r.uniform(-1e6, 1e6), 0.1 + 0.2, 1e-300, 5e-324, 0.0])
    if kind == "mixed_num":
        return r.choice([r.randint(0, 9), r.random() * 10])
    if kind == "int_then_float":
        return i if i < 50 else i + 0.5
    if kind == "bool":
        return r.random() < 0.5
    if kind == "bool_float":
        return r.choice([True, 1.0, 0.5])
    if kind == "str":
        return r.choice(words) + str(r.randint(0, 99))
    if kind == "date":
        return f"2024-01-{r.randint(10, 28)}"
    if kind == "mixed":
        return r.choice(["x", 1, 2.5, [1], {"a": 1}])
    if kind == "dict":
        return {"geo": {"lat": r.uniform(-90, 90), "lon": r.random()}, "n": i, "s": r.choice(words)}
    if kind == "dict_keys":
        return {k: r.randint(0, 3) for k in r.sample(["a", "b", "c"], r.randint(1, 3))}
    if kind == "dict_nulls":
        return {"a": r.choice([None, 1]), "b": "x"}
    if kind == "dict_bool":
        return {"flag": r.random() < 0.5, "score": r.choice([0.0, 1.0, 0.5])}
    if kind == "media_like":
        return {"_type": "not-media", "v": i}
    if kind == "floats":
        return [round(r.random(), 4) for _ in range(r.randint(0, 4))]
    if kind == "strs":
        return [r.choice(words) for _ in range(r.randint(0, 3))]
    if kind == "empty":
        return r.choice([[], {}, [[]]])
    if kind == "list_dicts":
        return [{"x": r.randint(0, 5), "y": [r.random()]} for _ in range(r.randint(0, 3))]
    if kind == "deep":
        v = r.randint(0, 9)
        for _ in range(r.randint(1, 6)):
            v = [v]
        return v
    if kind == "nan":
        return r.choice([float("nan"), float("inf"), -float("inf"), 1.5])
    if kind == "null":
        return None
    raise AssertionError(kind)


KINDS = [
    "int", "id", "bigint", "float", "mixed_num", "int_then_float", "bool", "bool_float", "str",
    "date", "mixed", "dict", "dict_keys", "dict_nulls", "dict_bool", "media_like", "floats",
    "strs", "empty", "list_dicts", "deep", "nan", "null",
]  # fmt: skip


def _write(path: Path, columns: list[str], rows: list[list], r: random.Random) -> None:
    seps = r.choice([(", ", ": "), (",", ":"), (" ,", " : ")])
    indent = r.choice([None, None, 1, "\t"])  # (rows over several lines)
    data = (
        json.dumps(rows, separators=seps, ensure_ascii=r.random() < 0.5, indent=indent)
        .replace('"MINUS_ZERO"', "-0")
        .replace('{"DUP": 1', '{"DUP": 1, "DUP": 2')
    )
    path.write_text(
        f'{{"_type": "table", "columns": {json.dumps(columns)}, "data": {data}, "nrows": {len(rows)}}}',
        encoding="utf-8",
    )


def _both_ways(path: Path, tmp: Path, monkeypatch) -> tuple:
    out = []
    for fast in ("1", "0"):
        monkeypatch.setenv("DESKTOPVIZ_FAST_TABLES", fast)
        dest = tmp / f"out{fast}.parquet"
        m = materialize(lambda p: path.parent / p, path.name, dest, tmp)
        out.append((m.num_rows, m.schema_json(), pq.read_table(dest)))
    return out[0], out[1]


@pytest.mark.parametrize("seed", [*range(24), 345])
def test_fast_path_gives_what_python_gives(seed, tmp_path, monkeypatch):
    r = random.Random(seed)
    monkeypatch.setattr(table_json, "SLAB_MIN_CHARS", r.choice([200, 2000, 1 << 20]))
    monkeypatch.setattr(table_json, "SLAB_MAX_CHARS", table_json.SLAB_MIN_CHARS)
    monkeypatch.setattr(fast_table, "HALVES_FROM", r.choice([0, 1 << 18]))  # two threads
    kinds = r.sample(KINDS, r.randint(1, 8))
    # (brackets in strings make the reader cut rows one by one, whichever path converts them)
    words = WORDS if seed % 2 else [w for w in WORDS if "]" not in w]
    rows = [[_cell(k, r, i, words) for k in kinds] for i in range(r.randint(1, 300))]
    if seed % 5 == 0:  # hand-written JSON Python and pyarrow read differently
        rows[-1][0] = r.choice(["MINUS_ZERO", {"DUP": 1}])
    path = tmp_path / "t.table.json"
    _write(path, kinds, rows, r)
    (n_fast, desc_fast, t_fast), (n_py, desc_py, t_py) = _both_ways(path, tmp_path, monkeypatch)
    assert (n_fast, desc_fast) == (n_py, desc_py)
    assert t_fast.schema == t_py.schema
    # (repr: NaN equals NaN, and -0.0 differs from 0.0)
    assert repr(t_fast.to_pylist()) == repr(t_py.to_pylist()), kinds


def test_a_column_pyarrow_cannot_join_goes_to_python(tmp_path, monkeypatch):
    """Before: a null beside a list of nulls made pyarrow's concat fail ("array slice would
    exceed array length") and the import stopped with a traceback."""
    path = tmp_path / "t.table.json"
    path.write_text(json.dumps({"columns": ["a", "b", "id"], "data": [[None, [None, None], 0]]}))
    fast, python = _both_ways(path, tmp_path, monkeypatch)
    assert fast[:2] == python[:2] and fast[2].to_pylist() == python[2].to_pylist()
    assert fast[2].to_pylist() == [{"a": None, "b": [None, None], "id": 0}]


def test_uniform_columns_take_the_c_path(tmp_path):
    r = random.Random(1)
    kinds = ["id", "float", "str", "dict", "floats", "strs", "bool", "date", "mixed", "bigint"]
    words = [w for w in WORDS if "]" not in w]
    rows = [[_cell(k, r, i, words) for k in kinds] for i in range(2000)]
    path = tmp_path / "t.table.json"
    _write(path, kinds, rows, r)
    header, slabs = read_table_json_slabs(path)
    conv = BatchConverter(header.columns)
    fast = FastTables(conv)
    done = 0
    for slab in slabs:
        batch = fast.convert(slab, done)
        assert batch is not None  # mixed, dates and big integers go through Python alone
        done += batch.num_rows
    assert done == 2000
    kinds_of = {s.name: s.kind for s in conv.state}
    assert kinds_of["mixed"] == "json" and kinds_of["id"] == "plain"


def test_a_malformed_slab_fails_as_before(tmp_path, monkeypatch):
    path = tmp_path / "t.table.json"
    path.write_text('{"columns": ["a"], "data": [[1], [2], [3,, 4], [5]]}')
    messages = []
    for fast in ("1", "0"):
        monkeypatch.setenv("DESKTOPVIZ_FAST_TABLES", fast)
        with pytest.raises(FormatError) as e:
            materialize(lambda p: tmp_path / p, path.name, tmp_path / "o.parquet", tmp_path)
        messages.append(str(e.value))
    assert messages[0] == messages[1]
    assert "malformed JSON at line 1" in messages[0]
