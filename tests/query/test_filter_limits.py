"""Filters nested deeper than :data:`desktopviz.query.expr.MAX_NESTING` levels are refused with
one line naming the limit and the position (exit 2 on the command line), in either form, instead
of a RecursionError; filters at the limit still run."""

from __future__ import annotations

import pytest

import desktopviz as dv
from desktopviz.query.expr import MAX_NESTING, ExprError
from desktopviz.query.spec import parse_filter
from tests.cli_support import dv as run_dv


@pytest.fixture(scope="module")
def cache_dir(tmp_path_factory):
    cache_dir = tmp_path_factory.mktemp("limits") / "cache"
    with dv.init(project="p", dir=cache_dir) as run:
        t = dv.Table(
            columns=["id", "score", "extra"],
            data=[[i, i / 10, {"a": {"b": i}} if i % 2 else {"c": i}] for i in range(20)],
        )
        art = dv.Artifact("preds", "predictions")
        art.add(t, "preds")
        run.log_artifact(art)
    return cache_dir


def mongo_and(n: int) -> str:
    return "{$and: [" * n + "{$gt: ['$score', 1]}" + "]}" * n


def mongo_not(n: int) -> str:
    return "{$not: [" * n + "{$gt: ['$score', 1]}" + "]}" * n


DEEP = {
    "mongo $and x10000": mongo_and(10_000),
    "mongo $not x10000": mongo_not(10_000),
    "mongo list x10000": "{$in: [1, " + "[" * 10_000 + "]" * 10_000 + "]}",
    "simple parentheses x10000": "(" * 10_000 + 'row["score"] > 1' + ")" * 10_000,
    "simple not x10000": "not " * 10_000 + 'row["score"] > 1',
    "simple minus x10000": "-" * 10_000 + 'row["score"] > 1',
    "simple + chain x10000": " + ".join(['row["score"]'] * 10_000) + " > 1",
    "simple ** chain x10000": " ** ".join(["2"] * 10_000) + ' > row["score"]',
    "simple path x10000": "row" + '["a"]' * 10_000 + " > 1",
    "simple list x10000": 'row["score"] in ' + "[" * 10_000 + "]" * 10_000,
    "simple just past the limit": "not " * (MAX_NESTING + 1) + 'row["score"] > 1',
    "mongo just past the limit": mongo_not(MAX_NESTING // 2 + 1),
    "mongo path x10000": "{$gt: ['$" + ".".join(["a"] * 10_000) + "', 1]}",
}


@pytest.mark.parametrize("text", list(DEEP.values()), ids=list(DEEP))
def test_too_deep_is_one_clear_error(text):
    with pytest.raises(ExprError) as e:
        parse_filter(text)
    message = str(e.value)
    assert f"deeper than {MAX_NESTING} levels" in message
    assert message.startswith("position ") and "\n" not in message
    assert 0 <= e.value.pos < len(text)


def test_the_position_is_where_the_limit_is_passed():
    with pytest.raises(ExprError) as e:
        parse_filter("not " * 200 + 'row["score"] > 1')
    assert e.value.pos == 4 * MAX_NESTING  # the first `not` beyond the limit
    with pytest.raises(ExprError) as e:
        parse_filter(mongo_and(1000))
    assert e.value.pos == len("{$and: [") * (MAX_NESTING // 2)  # the first `{` beyond it


@pytest.mark.parametrize("form", ["simple", "mongo"])
def test_too_deep_on_the_command_line(cache_dir, form):
    text = DEEP["simple not x10000"] if form == "simple" else DEEP["mongo $and x10000"]
    r = run_dv("table", "p/preds:v0", "--filter", text, cache=cache_dir)
    assert r.returncode == 2, r.stderr[-500:]
    assert r.stdout == ""
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("desktopviz: error: position ")
    assert f"deeper than {MAX_NESTING} levels" in lines[0]


def test_too_deep_through_the_python_api(cache_dir):
    with dv.open_cache(cache_dir) as c:
        q = c.table("p/preds:v0")
        for text in (DEEP["simple parentheses x10000"], DEEP["mongo $not x10000"]):
            with pytest.raises(ExprError, match=f"deeper than {MAX_NESTING} levels"):
                q.filter(text)


def test_filters_at_the_limit_still_run(cache_dir):
    """The deepest filters allowed parse, compile and run in DuckDB."""
    even_nots = "not " * (MAX_NESTING - 4) + 'row["score"] > 1'  # an even number of nots
    assert (MAX_NESTING - 4) % 2 == 0
    cases = {
        even_nots: 9,
        "(" * (MAX_NESTING - 4) + 'row["score"] > 1' + ")" * (MAX_NESTING - 4): 9,
        mongo_and(MAX_NESTING // 2 - 2): 9,
        mongo_not(MAX_NESTING // 2 - 2): 9,  # an even number of $not
        'row["extra"]["a"]["b"] > 4': 8,
        " + ".join(['row["score"]'] * (MAX_NESTING - 4)) + " > 1": 19,
    }
    with dv.open_cache(cache_dir) as c:
        q = c.table("p/preds:v0")
        for text, rows in cases.items():
            parse_filter(text)
            assert q.filter(text).num_rows == rows, text[:60]
