"""Values kept exactly: integers beyond 64 bits, and empty versus null CSV fields."""

from __future__ import annotations

import json
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

import desktopviz
from desktopviz.formats.cells import BIG_INT, table_rows
from desktopviz.formats.materialize import materialize
from desktopviz.importing import import_path

BIG = 123456789012345678901234567890
HUGE = 10**45 + 7  # over 38 digits: no decimal type DuckDB reads holds it


def run(root: Path, name: str, tmp_path: Path):
    m = materialize(lambda rel: root / rel, name, tmp_path / "out.parquet", tmp_path)
    table = pq.read_table(tmp_path / "out.parquet")
    return m, table


def big_int_files(root: Path) -> dict[str, Path]:
    """The same column (big, small and null integers) as table.json, JSON Lines and CSV."""
    root.mkdir(parents=True, exist_ok=True)
    values = [BIG, 1, None, -(2**64), 2**63]
    files = {
        "t.table.json": json.dumps({"columns": ["big", "s"], "data": [[v, "x"] for v in values]}),
        "t.jsonl": "".join(json.dumps({"big": v, "s": "x"}) + "\n" for v in values),
        "t.csv": "big,s\n" + "".join(f"{'' if v is None else v},x\n" for v in values),
    }
    for name, text in files.items():
        (root / name).write_text(text)
    return {name: root / name for name in files}


@pytest.mark.parametrize("name", ["t.table.json", "t.jsonl", "t.csv"])
def test_integers_beyond_64_bits_are_exact(tmp_path, name):
    big_int_files(tmp_path / "in")
    m, table = run(tmp_path / "in", name, tmp_path)
    assert table.schema.field("big").type == BIG_INT
    assert m.columns[0] == {"name": "big", "kind": "plain", "arrow": "decimal128(38, 0)"}
    cells = [r[0] for r in table_rows(table, m.columns)]
    assert cells == [BIG, 1, None, -(2**64), 2**63]
    assert all(type(c) is int for c in cells if c is not None)


def test_big_integer_after_a_batch_of_small_ones(tmp_path):
    """The column is int64 for 20,000 rows, then a big integer: the whole column widens."""
    rows = [[i] for i in range(20_000)] + [[BIG], [-BIG]]
    (tmp_path / "t.table.json").write_text(json.dumps({"columns": ["n"], "data": rows}))
    m, table = run(tmp_path, "t.table.json", tmp_path)
    assert table.schema.field("n").type == BIG_INT
    values = table.column("n").to_pylist()
    assert values[:3] == [0, 1, 2] and values[-2:] == [BIG, -BIG]


def test_integers_over_38_digits_and_mixed_columns_are_exact_json(tmp_path):
    rows = [[HUGE, 1.5], [1, BIG], [None, None]]
    (tmp_path / "t.table.json").write_text(json.dumps({"columns": ["huge", "mixed"], "data": rows}))
    m, table = run(tmp_path, "t.table.json", tmp_path)
    assert [c["kind"] for c in m.columns] == ["json", "json"]
    assert table_rows(table, m.columns) == rows


def test_float_column_gaining_a_big_integer_later_stays_exact(tmp_path):
    rows = [[i + 0.5] for i in range(20_000)] + [[BIG]]
    (tmp_path / "t.table.json").write_text(json.dumps({"columns": ["x"], "data": rows}))
    m, table = run(tmp_path, "t.table.json", tmp_path)
    assert m.columns[0]["kind"] == "json"
    assert table_rows(table, m.columns)[-1] == [BIG]


def test_big_integers_through_the_query_api(tmp_path, cache_dir):
    from desktopviz.store.cache import Cache

    paths = big_int_files(tmp_path / "proj")
    with Cache(cache_dir) as cache:
        refs = [import_path(cache, p)[0].result.version.ref for p in paths.values()]
    c = desktopviz.open_cache(cache_dir)
    for ref in refs:
        t = c.table(ref)
        assert [int(v) if v is not None else None for v in t.rows(0, 10).column("big").to_pylist()][
            :2
        ] == [BIG, 1]
        hit = t.filter(f'row["big"] == {BIG}').rows(0, 10).column("big").to_pylist()
        assert hit == [BIG], ref
        bigger = t.filter('row["big"] > 2 ** 62').rows(0, 10).column("big").to_pylist()
        assert sorted(bigger) == [2**63, BIG], ref


def write_csv(root: Path, text: str, name: str = "t.csv") -> Path:
    root.mkdir(parents=True, exist_ok=True)
    (root / name).write_text(text)
    return root / name


def test_csv_empty_unquoted_field_is_null_quoted_empty_is_empty(tmp_path):
    write_csv(tmp_path / "in", 'name,city,n\nann,,1\nbob,"",2\n,paris,\n"",NA,NA\n')
    m, table = run(tmp_path / "in", "t.csv", tmp_path)
    assert table.column("name").to_pylist() == ["ann", "bob", None, ""]
    # text stays text: "NA" is a city name here, as DuckDB reads it
    assert table.column("city").to_pylist() == [None, "", "paris", "NA"]
    # typed columns read the usual null spellings as null, as before
    assert table.schema.field("n").type == pa.int64()
    assert table.column("n").to_pylist() == [1, 2, None, None]


def test_csv_types_as_before(tmp_path):
    text = (
        "i,f,b,d,ts,t,empty\n"
        "1,0.5,true,2020-01-02,2020-01-01 10:00:00,10:00:00,\n"
        "NA,nan,false,,2021-05-06 07:08:09,11:00:00,\n"
    )
    write_csv(tmp_path / "in", text)
    _, table = run(tmp_path / "in", "t.csv", tmp_path)
    types = dict(zip(table.column_names, table.schema.types, strict=True))
    assert types["i"] == pa.int64() and types["f"] == pa.float64() and types["b"] == pa.bool_()
    assert types["d"] == pa.date32() and pa.types.is_timestamp(types["ts"])
    assert pa.types.is_time(types["t"]) and types["empty"] == pa.null()
    rows = table.to_pylist()
    assert rows[1]["i"] is None and rows[1]["d"] is None and rows[1]["b"] is False
    assert str(rows[1]["t"]) == "11:00:00" and str(rows[1]["ts"]) == "2021-05-06 07:08:09"
