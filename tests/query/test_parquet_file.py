"""Reading a stored Parquet table by position and its column ranges from the footer."""

from __future__ import annotations

import math

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from desktopviz.query.parquet_file import column_ranges, fetch_rows, read_rows


@pytest.fixture(scope="module")
def stored(tmp_path_factory):
    """1,000 rows in row groups of 37 (so most windows cross several groups)."""
    n = 1000
    rng = np.random.default_rng(3)
    table = pa.table(
        {
            "id": np.arange(n),
            "score": [
                float("nan") if i % 11 == 0 else float(x) for i, x in enumerate(rng.random(n))
            ],
            "maybe": [None if i < 400 else i * 0.5 for i in range(n)],
            "label": [f"l{i % 7}" for i in range(n)],
            "boxes": [[{"c": i, "s": 0.5}] * (i % 3) for i in range(n)],
        }
    )
    path = tmp_path_factory.mktemp("pf") / "t.parquet"
    pq.write_table(table, path, row_group_size=37)
    return path, table


@pytest.mark.parametrize(
    "offset,count", [(0, 1), (0, 37), (36, 2), (500, 300), (990, 50), (1000, 5)]
)
def test_read_rows_is_a_window(stored, offset, count):
    path, table = stored
    got = read_rows(path, offset, count, ["id", "boxes"])
    assert got.to_pylist() == table.select(["id", "boxes"]).slice(offset, count).to_pylist()


@pytest.mark.parametrize("spread", ["whole table", "two row groups"])
def test_fetch_rows_keeps_the_order_asked_for_with_repeats(stored, spread):
    """Rows scattered over many row groups (DuckDB's row-number filter) and rows in a few groups
    (whole groups decoded) come back alike: in the order asked for, with the file's types."""
    path, table = stored
    high = 1000 if spread == "whole table" else 74
    positions = np.random.default_rng(0).integers(0, high, 250)
    positions[5] = positions[6]  # a repeat
    cols = ["id", "label", "score", "boxes"]
    got = fetch_rows(path, positions, cols)
    assert got.column("id").to_pylist() == positions.tolist()
    want = table.select(cols).take(positions)
    assert got.schema == pq.read_table(path, columns=cols).schema
    assert (
        got.select(["id", "label", "boxes"]).to_pylist()
        == want.select(["id", "label", "boxes"]).to_pylist()
    )
    nan = [math.isnan(x) for x in got.column("score").to_pylist()]
    assert nan == [math.isnan(x) for x in want.column("score").to_pylist()]
    assert fetch_rows(path, np.array([], dtype=np.int64), ["id"]).num_rows == 0


def test_column_ranges_leave_nan_and_null_only_groups_out(stored):
    path, table = stored
    ranges = column_ranges(path, ["id", "score", "maybe", "label", "missing"])
    scores = [s for s in table.column("score").to_pylist() if not math.isnan(s)]
    assert ranges["id"] == (0.0, 999.0)
    assert ranges["score"] == (min(scores), max(scores))
    assert ranges["maybe"] == (200.0, 499.5)
    assert ranges["label"] is None and ranges["missing"] is None
