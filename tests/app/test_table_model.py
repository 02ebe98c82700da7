"""The virtual table model: typed columns, pages read in a worker, a bounded page cache, windows
over long results, TSV copies. The big table is a real 200k-row Parquet import made by code."""

from __future__ import annotations

import threading
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from PySide6.QtCore import Qt

from desktopviz.app.models.table_model import (
    CELL_ROLE,
    LOADING_ROLE,
    RENDER_ROLE,
    TYPE_ROLE,
    VALUE_ROLE,
    TableModel,
)
from desktopviz.app.state import AppState
from desktopviz.app.thumbnail_loader import JobQueue
from desktopviz.formats.image_cells import ImageCell

BIG_ROWS = 200_000
WORDS = np.array(["alpha", "beta", "gamma", "delta"])


def big_table(rows: int, seed: int = 11) -> pa.Table:
    """Seeded rows: id, a word, a score, a flag, a list of tags and a note with tabs/newlines."""
    rng = np.random.default_rng(seed)
    ids = np.arange(rows)
    return pa.table(
        {
            "id": ids,
            "word": WORDS[rng.integers(0, len(WORDS), rows)],
            "score": rng.random(rows).round(6),
            "flag": ids % 3 == 0,
            "tags": pa.array([[f"t{i % 5}", "x"] for i in range(rows)]),
            "note": pa.array([f"row {i}\tnote" if i % 2 else f"row {i}" for i in range(rows)]),
        }
    )


@pytest.fixture(scope="session")
def big_cache_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A cache holding ``big/rows:v0``: 200,000 rows imported from a Parquet file."""
    from desktopviz.importing import import_paths
    from desktopviz.store.cache import Cache

    work = tmp_path_factory.mktemp("big")
    src = work / "rows.parquet"
    pq.write_table(big_table(BIG_ROWS), src, row_group_size=50_000)
    with Cache(work / "cache") as cache:
        import_paths(cache, [src], project="big")
    return work / "cache"


@pytest.fixture
def big_state(qtbot, big_cache_dir: Path):
    """An AppState on the big table's cache (read only)."""
    from desktopviz.store.cache import Cache

    cache = Cache(big_cache_dir)
    state = AppState(cache)
    yield state
    state.engine.close()
    cache.close()


@pytest.fixture
def open_model(qtbot):
    """Open a table's model and wait until it is ready; models are closed before the engine."""
    models: list[TableModel] = []

    def open_(state: AppState, ref: str, table: str | None = None, **kw) -> TableModel:
        version = state.cache.resolve(ref)
        path = table or state.cache.tables(version)[0].path
        model = TableModel(state.engine, version, path, **kw)
        models.append(model)
        with qtbot.waitSignal(model.ready, timeout=10_000):
            model.load()
        return model

    yield open_
    for model in models:
        model.close()


def wait_loaded(qtbot, model: TableModel, first: int, last: int) -> None:
    model.set_viewport(first, last)
    qtbot.waitUntil(lambda: model.is_loaded(first) and model.is_loaded(last), timeout=10_000)


def test_columns_have_types_and_rows_arrive_from_a_worker(qtbot, big_state, open_model):
    model = open_model(big_state, "big/rows:v0")
    assert model.rowCount() == BIG_ROWS
    labels = [model.headerData(i, Qt.Orientation.Horizontal, TYPE_ROLE) for i in range(6)]
    assert labels == ["int", "str", "float", "bool", "list[str]", "str"]
    first = model.index(0, 0)
    assert model.data(first, LOADING_ROLE) is True  # asked before its page is read
    assert model.data(first, RENDER_ROLE) == "loading"
    qtbot.waitUntil(lambda: not model.data(first, LOADING_ROLE), timeout=10_000)
    assert model.data(model.index(0, 1)) in WORDS
    assert model.data(model.index(7, 0)) == "7"
    assert model.data(model.index(3, 3), VALUE_ROLE) is True
    assert model.data(model.index(1, 4)) == "[t1, x]"
    assert model.data(model.index(2, 2), Qt.ItemDataRole.TextAlignmentRole) & int(
        Qt.AlignmentFlag.AlignRight
    )


def test_page_cache_stays_bounded_while_scrolling_through(qtbot, big_state, open_model):
    model = open_model(big_state, "big/rows:v0", page_rows=128, max_pages=8)
    bound = 8 * 128
    most = 0
    for top in range(0, BIG_ROWS, BIG_ROWS // 40):
        wait_loaded(qtbot, model, top, min(top + 30, BIG_ROWS - 1))
        assert model.data(model.index(top, 0)) == str(top)
        most = max(most, model.cached_row_count())
    assert 0 < most <= bound


def test_job_queue_runs_newest_first_and_drops_what_is_no_longer_wanted(qtbot):
    gate = threading.Event()
    ran: list[int] = []

    def work(key: int) -> int:
        if key == 0:
            gate.wait(10)
        ran.append(key)
        return key * 10

    queue = JobQueue(work, threads=1)
    results: dict[int, int] = {}
    queue.done.connect(lambda key, value: results.__setitem__(key, value))
    queue.submit(0)  # occupies the only thread until the gate opens
    qtbot.waitUntil(lambda: not queue.pending(), timeout=5000)
    for key in (1, 2, 3, 4, 2):  # 2 again: not queued twice, moved to the front
        queue.submit(key)
    assert queue.pending() == [1, 3, 4, 2]
    assert queue.retain(lambda key: key != 1) == 1  # the view scrolled away from row 1
    gate.set()
    qtbot.waitUntil(lambda: len(results) == 4, timeout=5000)
    assert ran == [0, 2, 4, 3]
    assert results == {0: 0, 2: 20, 3: 30, 4: 40}
    queue.close()


def test_window_moves_and_keeps_indexes_on_their_rows(qtbot, big_state, open_model):
    model = open_model(big_state, "big/rows:v0", row_limit=1000)
    assert model.windowed and model.rowCount() == 1000
    model.shift_window(120_000)
    assert model.window_start == 120_000
    assert model.headerData(5, Qt.Orientation.Vertical) == "120005"
    wait_loaded(qtbot, model, 120_000, 120_010)
    assert model.data(model.index(5, 0)) == "120005"
    assert model.ensure_in_window(BIG_ROWS - 1) == 999  # clamped at the end
    assert model.window_start == BIG_ROWS - 1000
    wait_loaded(qtbot, model, BIG_ROWS - 1, BIG_ROWS - 1)
    assert model.data(model.index(999, 0)) == str(BIG_ROWS - 1)


def test_rows_as_tsv_reads_full_precision_and_quotes(qtbot, big_state, open_model):
    model = open_model(big_state, "big/rows:v0")
    table = big_table(BIG_ROWS).slice(150_000, 2).to_pylist()
    text = model.rows_as_tsv([150_000, 150_001], [0, 2, 3, 4, 5], header=True)
    lines = text.split("\n")
    assert lines[0] == "id\tscore\tflag\ttags\tnote"
    assert lines[1] == f'150000\t{table[0]["score"]!r}\ttrue\t["t0", "x"]\trow 150000'
    assert lines[2].endswith('"row 150001\tnote"')


def test_image_cells_carry_their_classes(qtbot, app_state, open_model):
    model = open_model(app_state, "street-scenes/street-scenes-dataset:v0", "samples.table.json")
    wait_loaded(qtbot, model, 0, 3)
    image_col = [c.name for c in model.columns].index("image")
    cell = model.data(model.index(0, image_col), CELL_ROLE)
    assert isinstance(cell, ImageCell)
    assert cell.class_names[0] == "background" and cell.class_names[7] == "sign"
    assert cell.boxes and all(b.layer == "ground_truth" for b in cell.boxes)
    assert model.data(model.index(0, image_col), RENDER_ROLE) == "image"
    assert model.headerData(image_col, Qt.Orientation.Horizontal, TYPE_ROLE) == "media"
