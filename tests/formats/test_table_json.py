"""The streaming table.json reader: every token, chunk boundaries, errors with positions."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest

from desktopviz.errors import FormatError
from desktopviz.formats import table_json
from desktopviz.formats.table_json import read_table_json


def write(tmp_path: Path, text: str, name: str = "t.table.json") -> Path:
    p = tmp_path / name
    p.write_text(text, encoding="utf-8")
    return p


def test_reads_header_rows_and_trailing_keys(tmp_path):
    p = write(
        tmp_path,
        '{"_type": "table", "column_types": {"wb_type": "typedDict"}, "columns": ["a", "b"], '
        '"data": [[1, "x"], [NaN, "\\u65e5\\u672c"], [Infinity, null], [-Infinity, true]], '
        '"log_mode": "IMMUTABLE", "ncols": 2, "nrows": 4}',
    )
    header, rows = read_table_json(p)
    assert header.columns == ["a", "b"]
    rows = list(rows)
    assert rows[0] == [1, "x"]
    assert math.isnan(rows[1][0]) and rows[1][1] == "日本"
    assert rows[2] == [math.inf, None] and rows[3] == [-math.inf, True]
    assert header.keys["nrows"] == 4 and header.keys["log_mode"] == "IMMUTABLE"


def test_rows_split_across_chunks(tmp_path, monkeypatch):
    monkeypatch.setattr(table_json, "CHUNK_CHARS", 7)
    data = [[i, f"s{i}" * (i % 5), {"n": [i, i + 0.5]}, 123456789 * i] for i in range(300)]
    p = write(tmp_path, json.dumps({"columns": ["a", "b", "c", "d"], "data": data}, indent=1))
    _, rows = read_table_json(p)
    assert list(rows) == data


def test_multibyte_characters_on_chunk_boundaries(tmp_path, monkeypatch):
    monkeypatch.setattr(table_json, "CHUNK_CHARS", 3)
    data = [["naïve café 日本語 🎉"] for _ in range(20)]
    p = tmp_path / "u.table.json"
    p.write_bytes(json.dumps({"columns": ["t"], "data": data}, ensure_ascii=False).encode())
    assert list(read_table_json(p)[1]) == data


def test_data_before_columns_is_refused_clearly(tmp_path):
    p = write(tmp_path, '{"data": [[1]], "columns": ["a"]}')
    header, rows = read_table_json(p)
    assert header.columns is None


def test_malformed_row_names_line_and_column(tmp_path):
    p = write(tmp_path, '{"columns": ["a"],\n "data": [[1],\n [2,,]]}')
    _, rows = read_table_json(p)
    with pytest.raises(FormatError) as e:
        list(rows)
    assert "line 3" in str(e.value) and "t.table.json" in str(e.value)


def test_truncated_file(tmp_path):
    p = write(tmp_path, '{"columns": ["a"], "data": [[1], [2')
    with pytest.raises(FormatError, match="line 1"):
        list(read_table_json(p)[1])


def test_not_utf8(tmp_path):
    p = tmp_path / "t.table.json"
    p.write_bytes(b'{"columns": ["a"], "data": [["caf\xe9"]]}')
    with pytest.raises(FormatError, match="not UTF-8"):
        list(read_table_json(p)[1])


def test_size_limit(tmp_path, monkeypatch):
    monkeypatch.setenv("DESKTOPVIZ_MAX_TABLE_BYTES", "10")
    p = write(tmp_path, '{"columns": ["a"], "data": [[1]]}')
    with pytest.raises(FormatError, match="limit"):
        read_table_json(p)


@pytest.mark.parametrize("seps", [(", ", ": "), (" ,", " : "), (",", ":")])
def test_brackets_in_strings_still_cut_rows_in_slabs(tmp_path, monkeypatch, seps):
    """Strings holding "]," (captions, code, JSON text) once sent the reader row by row."""
    monkeypatch.setattr(table_json, "SLAB_MIN_CHARS", 500)
    monkeypatch.setattr(table_json, "SLAB_MAX_CHARS", 500)
    data = [[i, f'say "[{i}], [x]" \\ ]', {"k": "]],"}] for i in range(300)]
    text = json.dumps({"columns": ["i", "s", "d"], "data": data, "nrows": 300}, separators=seps)
    header, slabs = table_json.read_table_json_slabs(write(tmp_path, text))
    rows, sizes = [], []
    for slab in slabs:
        assert slab.text is not None  # a slab of rows, not one row read alone
        rows.extend(slab.rows())
        sizes.append(len(slab.rows()))
    assert rows == data and header.keys["nrows"] == 300
    assert max(sizes) > 1
