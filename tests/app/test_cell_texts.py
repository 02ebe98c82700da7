"""What a real table model shows of a real Parquet file: a dictionary-encoded column's header
says ``str`` (and is as wide as a plain string column's), and the top rows of a sorted float
column read apart (they read "1.0000" twenty times)."""

from __future__ import annotations

from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from PySide6.QtCore import Qt

from desktopviz.app.models.table_model import TYPE_ROLE, TableModel
from desktopviz.app.state import AppState
from desktopviz.app.widgets.table_view import TypedHeader
from desktopviz.query.spec import QuerySpec, SortKey

H = Qt.Orientation.Horizontal
NEAR_ONE = [0.99999991, 0.99999994, 0.99999997, 0.9999999, 0.99999992, 0.5]


@pytest.fixture
def state(qtbot, tmp_path: Path):
    """A cache holding ``texts/cells:v0``, imported from a Parquet file whose ``label`` column is
    dictionary-encoded (as pandas and Spark write categorical strings)."""
    from desktopviz.importing import import_paths
    from desktopviz.store.cache import Cache

    rows = len(NEAR_ONE)
    words = [("cat", "dog", "bird")[i % 3] for i in range(rows)]
    table = pa.table(
        {
            "label": pa.array(words).dictionary_encode(),
            "plain": pa.array(words),
            "score": pa.array(NEAR_ONE, pa.float64()),
        }
    )
    src = tmp_path / "cells.parquet"
    pq.write_table(table, src)
    assert pa.types.is_dictionary(pq.read_schema(src).field("label").type)
    cache = Cache(tmp_path / "cache")
    import_paths(cache, [src], project="texts")
    s = AppState(cache)
    yield s
    s.engine.close()
    cache.close()


def open_model(qtbot, state: AppState, spec: QuerySpec | None = None) -> TableModel:
    version = state.cache.resolve("texts/cells:v0")
    model = TableModel(state.engine, version, state.cache.tables(version)[0].path, spec)
    with qtbot.waitSignal(model.ready, timeout=10_000):
        model.load()
    model.set_viewport(0, model.rowCount() - 1)
    qtbot.waitUntil(lambda: model.is_loaded(0), timeout=10_000)
    return model


def test_a_dictionary_column_header_says_str(qtbot, state):
    model = open_model(qtbot, state)
    try:
        names = [model.headerData(i, H) for i in range(model.columnCount())]
        label, plain = names.index("label"), names.index("plain")
        assert model.headerData(label, H, TYPE_ROLE) == "str"
        assert model.data(model.index(0, label)) == "cat"
        header = TypedHeader()
        qtbot.addWidget(header)
        header.setModel(model)
        width = header.sectionSizeFromContents(label).width()
        assert width == header.sectionSizeFromContents(plain).width() < 150
    finally:
        model.close()


def test_sorted_neighbours_read_apart(qtbot, state):
    model = open_model(qtbot, state, QuerySpec(sort=(SortKey("score", True),)))
    try:
        score = [model.headerData(i, H) for i in range(model.columnCount())].index("score")
        texts = [model.data(model.index(r, score)) for r in range(model.rowCount())]
        assert texts[:3] == ["0.99999997", "0.99999994", "0.99999992"]
        assert len(set(texts)) == len(NEAR_ONE)
        assert texts[-1] == "0.5"
    finally:
        model.close()
