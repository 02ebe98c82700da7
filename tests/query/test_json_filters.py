"""Filters on dict columns whose keys vary from row to row (stored as JSON text), made as a W&B
user makes them: a ``wandb.Table`` logged to an artifact offline, imported with the
``desktopviz`` command, queried through the Python API and the command line. Every answer is
checked against the rows computed in Python from the data the table was made of."""

from __future__ import annotations

import json
import random
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

import desktopviz as dv
from tests.cli_support import dv as run_dv
from tests.wandb_support import wandb_env

KEYS = ("car", "road", "person", "sky")

WANDB_SCRIPT = """
import json, shutil, sys
import wandb
rows = json.loads(open(sys.argv[2]).read())
table = wandb.Table(columns=["id", "class_iou"], data=rows, allow_mixed_types=True)
art = wandb.Artifact("segs", "predictions")
art.add(table, "preds")
shutil.copyfile(art.manifest.entries["preds.table.json"].local_path, sys.argv[1])
"""


def make_rows(n: int = 160, seed: int = 7) -> list[list[Any]]:
    """Dicts with a different set of keys per row: scores (floats, some ints, a few strings and
    bools, JSON nulls), a label, a list of hits, and whole cells that are null."""
    rnd = random.Random(seed)
    rows: list[list[Any]] = []
    for i in range(n):
        if i % 17 == 5:
            rows.append([i, None])
            continue
        cell: dict[str, Any] = {}
        for k in rnd.sample(KEYS, rnd.randint(1, len(KEYS))):
            r = rnd.random()
            if r < 0.08:
                cell[k] = str(round(rnd.random(), 2))  # a number written as text
            elif r < 0.12:
                cell[k] = None
            elif r < 0.16:
                cell[k] = rnd.random() < 0.5
            elif r < 0.24:
                cell[k] = rnd.randint(0, 1)  # a whole number
            else:
                cell[k] = round(rnd.random(), 2)
        if rnd.random() < 0.6:
            cell["label"] = rnd.choice(["car", "bus", "tree", "Car"])
        if rnd.random() < 0.5:
            cell["hits"] = [rnd.randint(0, 4) for _ in range(rnd.randint(0, 4))]
        rows.append([i, cell])
    rows[1][1] = {"car": 0.7, "road": 0.2}  # the issue's rows
    rows[2][1] = {"person": 0.9}
    rows[3][1] = {"car": "0.9", "road": 0.2}  # text that reads as a number is not a number
    rows[4][1] = {"car": 1, "road": 1.0}  # 1 and 1.0 are equal numbers
    return rows


@pytest.fixture(scope="module")
def table(tmp_path_factory) -> tuple[Path, list[list[Any]]]:
    """A cache holding the rows as the wandb SDK writes them (``segs:v0``)."""
    base = tmp_path_factory.mktemp("json_filters")
    rows = make_rows()
    (base / "rows.json").write_text(json.dumps(rows))
    (base / "make.py").write_text(WANDB_SCRIPT)
    made = base / "preds.table.json"
    subprocess.run(
        [sys.executable, str(base / "make.py"), str(made), str(base / "rows.json")],
        cwd=base,
        env=wandb_env(base),
        check=True,
        capture_output=True,
        timeout=300,
    )
    cache = base / "cache"
    r = run_dv("import", str(made), "--project", "p", cache=cache)
    assert r.returncode == 0, r.stderr
    with dv.open_cache(cache) as c:
        kinds = {
            d["name"]: d["kind"]
            for d in json.loads(c.cache.table_info(c.version("p/preds:v0")).schema)["columns"]
        }
    assert kinds["class_iou"] == "json"  # the keys vary: stored as JSON text
    return cache, rows


def number(v: Any) -> bool:
    return isinstance(v, int | float) and not isinstance(v, bool)


def get(cell: Any, key: str) -> Any:
    return cell.get(key) if isinstance(cell, dict) else None


def same(a: Any, b: Any) -> bool:
    """Equal under the filters' rules: null equals null, otherwise same kind and value."""
    if a is None or b is None:
        return a is None and b is None
    if number(a) and number(b):
        return a == b
    return type(a) is type(b) and a == b


def gt(a: Any, b: Any) -> bool:
    """``a > b`` under the filters' rules: numbers with numbers, strings with strings."""
    if number(a) and number(b):
        return a > b
    return isinstance(a, str) and isinstance(b, str) and a > b


def hits(cell: Any) -> list[Any] | None:
    h = get(cell, "hits")
    return h if isinstance(h, list) else None


CASES: list[tuple[str, Callable[[Any], bool]]] = [
    ('row["class_iou"]["car"] > 0.5', lambda c: gt(get(c, "car"), 0.5)),
    ("{$gt: ['$0.class_iou.car', 0.5]}", lambda c: gt(get(c, "car"), 0.5)),
    ('row["class_iou"]["car"] >= 0.7', lambda c: number(get(c, "car")) and get(c, "car") >= 0.7),
    ("{$lt: ['$class_iou.road', 0.3]}", lambda c: number(get(c, "road")) and get(c, "road") < 0.3),
    ('row["class_iou"]["car"] <= 1', lambda c: number(get(c, "car")) and get(c, "car") <= 1),
    ('row["class_iou"]["car"] == 0.7', lambda c: same(get(c, "car"), 0.7)),
    ('row["class_iou"]["car"] == 1', lambda c: same(get(c, "car"), 1)),
    ("{$eq: ['$0.class_iou.car', 1.0]}", lambda c: same(get(c, "car"), 1.0)),
    ('row["class_iou"]["car"] != 0.7', lambda c: not same(get(c, "car"), 0.7)),
    ('row["class_iou"]["car"] == "0.9"', lambda c: same(get(c, "car"), "0.9")),
    ('row["class_iou"]["car"] == None', lambda c: get(c, "car") is None),
    ("{$ne: ['$0.class_iou.car', null]}", lambda c: get(c, "car") is not None),
    ('row["class_iou"]["car"] == True', lambda c: get(c, "car") is True),
    ("{$eq: ['$0.class_iou.sky', false]}", lambda c: get(c, "sky") is False),
    ('row["class_iou"]["label"] == "car"', lambda c: get(c, "label") == "car"),
    ('row["class_iou"]["label"] > "bus"', lambda c: gt(get(c, "label"), "bus")),
    ('row["class_iou"]["label"] in ["car", "bus"]', lambda c: get(c, "label") in ("car", "bus")),
    (
        'row["class_iou"]["label"] not in ["car", "bus"]',
        lambda c: get(c, "label") not in ("car", "bus"),
    ),
    (
        'row["class_iou"]["car"] in [0.7, 1, 0.25]',
        lambda c: any(same(get(c, "car"), x) for x in (0.7, 1, 0.25)),
    ),
    (
        "{$in: ['$0.class_iou.road', [0.2, 'x']]}",
        lambda c: any(same(get(c, "road"), x) for x in (0.2, "x")),
    ),
    ('row["class_iou"]["missing"] > 0', lambda c: False),
    (
        'row["class_iou"]["car"] > row["class_iou"]["road"]',
        lambda c: gt(get(c, "car"), get(c, "road")),
    ),
    (
        'row["class_iou"]["car"] * 2 > 1',
        lambda c: number(get(c, "car")) and get(c, "car") * 2 > 1,
    ),
    (
        'row["class_iou"]["car"] > 0.5 and row["class_iou"]["person"] < 0.5',
        lambda c: gt(get(c, "car"), 0.5) and gt(0.5, get(c, "person")),
    ),
    ('len(row["class_iou"]["hits"]) >= 2', lambda c: hits(c) is not None and len(hits(c)) >= 2),
    (
        "{$gte: [{$size: {$filter: {input: '$0.class_iou.hits', as: 'h', cond: {$gt: ['$$h', 2]}}}}, 1]}",
        lambda c: hits(c) is not None and sum(1 for h in hits(c) if h > 2) >= 1,
    ),
    ('3 in row["class_iou"]["hits"]', lambda c: hits(c) is not None and 3 in hits(c)),
    ("{$eq: ['$0.class_iou.hits.0', 4]}", lambda c: bool(hits(c)) and hits(c)[0] == 4),
]


def expected(rows: list[list[Any]], keep: Callable[[Any], bool]) -> list[int]:
    return [i for i, cell in rows if keep(cell)]


@pytest.mark.parametrize(("text", "keep"), CASES, ids=[t for t, _ in CASES])
def test_filter_through_the_python_api(table, text, keep):
    cache, rows = table
    want = expected(rows, keep)
    with dv.open_cache(cache) as c:
        q = c.table("p/preds:v0").filter(text)
        assert q.to_arrow().column("id").to_pylist() == want
        assert q.num_rows == len(want)


def test_every_case_selects_some_rows_and_leaves_some(table):
    """The data exercises each case (no case passes by selecting nothing or everything)."""
    _, rows = table
    for text, keep in CASES:
        if "missing" in text:
            continue
        assert 0 < len(expected(rows, keep)) < len(rows), text


def test_the_issue_rows(table):
    cache, _ = table
    with dv.open_cache(cache) as c:
        q = c.table("p/preds:v0")
        for text in ('row["class_iou"]["car"] > 0.5', "{$gt: ['$0.class_iou.car', 0.5]}"):
            ids = q.filter(text).to_arrow().column("id").to_pylist()
            assert 1 in ids and 4 in ids  # 0.7 and 1
            assert 2 not in ids and 3 not in ids  # no 'car'; 'car' is the text "0.9"


@pytest.mark.parametrize(
    "text",
    [
        'row["class_iou"]["car"] > 0.5',
        "{$gt: ['$0.class_iou.car', 0.5]}",
        'row["class_iou"]["label"] in ["car", "bus"]',
        "{$gte: [{$size: {$filter: {input: '$0.class_iou.hits', as: 'h', cond: {$gt: ['$$h', 2]}}}}, 1]}",
    ],
)
def test_filter_through_the_command_line(table, text):
    cache, rows = table
    keep = dict(CASES)[text] if text in dict(CASES) else None
    r = run_dv("table", "p/preds:v0", "--filter", text, "--format", "jsonl", cache=cache)
    assert r.returncode == 0, r.stderr
    got = [json.loads(line) for line in r.stdout.splitlines() if line.strip()]
    assert [g["id"] for g in got] == expected(rows, keep)
    by_id = dict((i, c) for i, c in rows)
    assert all(g["class_iou"] == by_id[g["id"]] for g in got)  # cells come back as written


def test_sort_by_a_key_of_the_dict(table):
    """Sorting by a key some rows lack orders the numbers by value (rows without it are left
    out by the filter; the sort's parameters bind apart from the filter's)."""
    cache, rows = table
    with dv.open_cache(cache) as c:
        q = c.table("p/preds:v0").filter("{$isNumber: '$class_iou.car'}").sort("class_iou.car")
        got = [
            json.loads(x) if isinstance(x, str) else x
            for x in q.to_arrow().column("class_iou").to_pylist()
        ]
    cars = [g["car"] for g in got]
    assert cars == sorted(get(c, "car") for _, c in rows if number(get(c, "car")))
