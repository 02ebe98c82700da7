"""Every operator, both front ends: the engine selects exactly the rows the reference evaluator
selects, on a table with nulls, NaN, empty lists, nested structs and images with boxes."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import desktopviz as dv
from desktopviz.query.expr import ExprError
from desktopviz.query.spec import parse_filter
from tests.query.reference import evaluate, truth

LABELS = ["car", "bus", "person", None]


@pytest.fixture(scope="module")
def table(tmp_path_factory):
    """A real cache holding a 60-row table built with the SDK; yields (query, rows as dicts)."""
    cache_dir = tmp_path_factory.mktemp("q") / "cache"
    rng = np.random.default_rng(7)
    t = dv.Table(columns=["id", "score", "label", "tags", "xs", "meta", "image", "n"])
    for i in range(60):
        score = [None, float("nan")][i % 2] if i % 11 == 0 else round(float(rng.random()), 3)
        boxes = [
            {
                "position": {"minX": 1, "maxX": 4, "minY": 1, "maxY": 4},
                "domain": "pixel",
                "class_id": int(rng.integers(0, 15)),
                "scores": {"score": round(float(rng.random()), 2)},
            }
            for _ in range(i % 4)
        ]
        image = (
            dv.Image(
                rng.integers(0, 255, (8, 8, 3), dtype=np.uint8),
                boxes={"ground_truth": {"box_data": boxes}},
            )
            if i % 7
            else None
        )
        t.add_data(
            i,
            score,
            LABELS[i % 4],
            [["a"], [], ["a", "b"], None][i % 4],
            [float(x) for x in rng.random(i % 3)],
            {"a": i % 5, "geo": {"lat": float(i) / 2}} if i % 6 else None,
            image,
            int(rng.integers(-5, 5)),
        )
    with dv.init(project="p", dir=cache_dir) as run:
        art = dv.Artifact("preds", "predictions")
        art.add(t, "predictions")
        run.log_artifact(art)
    cache = dv.open_cache(cache_dir)
    q = cache.table("preds:latest", "predictions")
    rows = q.to_arrow().to_pylist()
    yield q, rows
    cache.close()


def check(table, expr: str) -> set:
    q, rows = table
    node = parse_filter(expr)
    expected = {r["id"] for r in rows if truth(evaluate(node, r))}
    got = set(q.filter(expr).to_arrow().column("id").to_pylist())
    assert got == expected, (expr, sorted(got ^ expected))
    return got


MONGO = [
    "{$gt: ['$0.score', 0.5]}",
    "{$gte: ['$score', 0.5]}",
    "{$lt: ['$0.score', 0.25]}",
    "{$lte: ['$0.n', 0]}",
    "{$eq: ['$0.label', 'car']}",
    "{$ne: ['$0.label', 'car']}",
    "{$eq: ['$0.label', null]}",
    "{$eq: ['$0.score', 'text']}",
    "{$in: ['$0.label', ['car', 'bus']]}",
    "{$nin: ['$0.label', ['car', 'bus']]}",
    "{$in: ['b', '$0.tags']}",
    "{$and: [{$gt: ['$0.score', 0.2]}, {$lt: ['$0.score', 0.8]}]}",
    "{$or: [{$eq: ['$0.label', 'bus']}, {$gt: ['$0.n', 3]}]}",
    "{$not: [{$eq: ['$0.label', 'bus']}]}",
    "{$gt: [{$add: ['$0.n', 10, 1]}, 12]}",
    "{$lt: [{$subtract: ['$0.n', 2]}, 0]}",
    "{$gt: [{$multiply: ['$0.score', 10]}, 5]}",
    "{$gt: [{$divide: ['$0.n', 2]}, 1]}",
    "{$gt: [{$abs: '$0.n'}, 3]}",
    "{$eq: [{$size: '$0.tags'}, 0]}",
    "{$eq: [{$toUpper: '$0.label'}, 'CAR']}",
    "{$eq: [{$toLower: {$concat: ['$0.label', 'X']}}, 'busx']}",
    "{$gt: [{$strLenCP: '$0.label'}, 3]}",
    "{$regexMatch: {input: '$0.label', regex: '^b'}}",
    "{$eq: [{$first: '$0.tags'}, 'a']}",
    "{$eq: [{$last: '$0.tags'}, 'b']}",
    "{$eq: [{$arrayElemAt: ['$0.tags', 1]}, 'b']}",
    "{$gt: [{$sum: '$0.xs'}, 0.5]}",
    "{$gt: [{$max: '$0.xs'}, 0.5]}",
    "{$eq: ['$0.meta.a', 3]}",
    "{$gt: ['$0.meta.geo.lat', 10]}",
    "{$eq: [{$ifNull: ['$0.label', 'none']}, 'none']}",
    "{$eq: [{$cond: [{$gt: ['$0.n', 0]}, 'pos', 'neg']}, 'pos']}",
    "{$gt: ['$0.score', 0.05]}",
    "{$gte: [{$size: {$filter: {input: '$0.image.boxes.ground_truth', as: 'box', cond: {$eq: ['$$box.class_id', 13]}}}}, 1]}",
    "{$gt: [{$size: {$filter: {input: '$0.image.boxes.ground_truth', as: 'b', cond: {$gt: ['$$b.scores.score', 0.5]}}}}, 0]}",
    "{$gt: [{$max: {$map: {input: '$0.xs', as: 'x', in: {$multiply: ['$$x', 2]}}}}, 1.5]}",
    "{$gt: [{$reduce: {input: '$0.xs', initialValue: 0, in: {$add: ['$$value', '$$this']}}}, 0.7]}",
    "{$let: {vars: {s: '$0.score'}, in: {$gt: ['$$s', 0.6]}}}",
    "{$eq: [{$switch: {branches: [{case: {$gt: ['$0.n', 2]}, then: 'hi'}], default: 'lo'}}, 'hi']}",
    '{"$gt": ["$0.score", 0.5]}',
    "{$eq: [{$mod: ['$0.n', 3]}, 1]}",
    "{$gt: [{$round: [{$multiply: ['$0.score', 10]}, 0]}, 5]}",
    "{$eq: [{$floor: {$multiply: ['$0.score', 10]}}, 3]}",
    "{$eq: [{$ceil: {$multiply: ['$0.score', 10]}}, 3]}",
    "{$gt: [{$sqrt: '$0.score'}, 0.8]}",
    "{$gt: [{$pow: ['$0.score', 2]}, 0.5]}",
    "{$gt: [{$exp: '$0.score'}, 2]}",
    "{$lt: [{$ln: '$0.score'}, -1]}",
    "{$lt: [{$log10: '$0.score'}, -0.5]}",
    "{$eq: [{$substrCP: ['$0.label', 0, 2]}, 'ca']}",
    "{$eq: [{$size: {$split: ['$0.label', 'u']}}, 2]}",
    "{$eq: [{$trim: {input: '$0.label'}}, 'bus']}",
    "{$eq: [{$size: {$slice: ['$0.tags', 1]}}, 1]}",
    "{$eq: [{$arrayElemAt: [{$slice: ['$0.tags', -1]}, 0]}, 'b']}",
    "{$gt: [{$avg: '$0.xs'}, 0.5]}",
    "{$lt: [{$min: '$0.xs'}, 0.2]}",
    "{$anyElementTrue: [{$map: {input: '$0.xs', as: 'x', in: {$gt: ['$$x', 0.9]}}}]}",
    "{$allElementsTrue: [{$map: {input: '$0.xs', as: 'x', in: {$gt: ['$$x', 0.3]}}}]}",
    "{$isArray: '$0.tags'}",
    "{$isNumber: '$0.label'}",
    "{$isNumber: '$0.score'}",
    "{$eq: [{$type: '$0.label'}, 'string']}",
    "{$gt: [{$toDouble: '$0.n'}, 1.5]}",
    "{$eq: [{$toString: '$0.n'}, '3']}",
    "{$eq: [{$cmp: ['$0.n', 0]}, -1]}",
]

SIMPLE = [
    'row["score"] > 0.5',
    'row["score"] > 0.05 and row["label"] in ["car", "bus"]',
    'row["label"] not in ["car"]',
    'row["label"] == None',
    'not row["label"] == "car"',
    'row["n"] * 2 + 1 > 3',
    '0.2 < row["score"] < 0.8',
    'len(row["tags"]) == 2',
    'contains(row["tags"], "b")',
    'contains(row["label"], "us")',
    'row["meta"]["geo"]["lat"] >= 5',
    'len(row["image"]["boxes"]["ground_truth"]) >= 2',
    'row["tags"][0] == "a"',
    'abs(row["n"]) > 3 or row["label"] == "person"',
    'upper(row["label"]) == "BUS"',
]


@pytest.mark.parametrize("expr", MONGO)
def test_mongo_operators_match_the_reference(table, expr):
    check(table, expr)


@pytest.mark.parametrize("expr", SIMPLE)
def test_simple_form_matches_the_reference(table, expr):
    check(table, expr)


def test_the_two_forms_agree(table):
    assert check(table, "{$gt: ['$0.score', 0.5]}") == check(table, 'row["score"] > 0.5')
    assert check(table, "{$in: ['$0.label', ['car', 'bus']]}") == check(
        table, 'row["label"] in ["car", "bus"]'
    )


def test_nan_and_null_pass_no_threshold(table):
    q, rows = table
    for expr in ('row["score"] > 0.5', 'row["score"] <= 0.5'):
        got = q.filter(expr).to_arrow().column("score").to_pylist()
        assert got and None not in got and not any(math.isnan(s) for s in got)
    assert q.filter("{$eq: ['$0.score', NaN]}").num_rows == sum(
        1 for r in rows if isinstance(r["score"], float) and math.isnan(r["score"])
    )


@pytest.mark.parametrize(
    "expr,message",
    [
        ("{$gtt: ['$0.score', 1]}", "position 1: unknown operator $gtt; did you mean $gt?"),
        ("{$gt: ['$0.scroe', 1]}", "unknown column 'scroe'; did you mean 'score'?"),
        ('row["score"] >', "syntax error"),
        ('foo(row["score"])', "unknown function foo()"),
        ("{$gt: ['$$nope', 1]}", "unknown variable $$nope"),
        ("{$gt: ['$1.score', 1]}", "only there when comparing"),
        ("{$eq: ['$0.meta.zz', 1]}", "no field 'zz'"),
    ],
)
def test_errors_say_what_and_where(table, expr, message):
    q, _ = table
    with pytest.raises(ExprError) as e:
        _ = q.filter(expr).num_rows
    assert message in str(e.value)


def test_values_are_parameters_not_sql(table):
    q, _ = table
    nasty = "x'); DROP TABLE t; --"
    assert q.filter(f"{{$eq: ['$0.label', {nasty!r}]}}").num_rows == 0
    assert nasty not in q.filter(f'row["label"] == {nasty!r}').explain().split("-- parameters")[0]


_columns = st.sampled_from(['row["score"]', 'row["n"]', 'row["meta"]["a"]', 'len(row["tags"])'])
_numbers = st.one_of(
    st.integers(-6, 6), st.floats(-1, 2, allow_nan=False).map(lambda x: round(x, 2))
)
_atoms = st.builds(
    lambda c, op, v: f"{c} {op} {v}",
    _columns,
    st.sampled_from([">", ">=", "<", "<=", "==", "!="]),
    _numbers,
)
_exprs = st.recursive(
    _atoms,
    lambda inner: st.one_of(
        st.builds(lambda a, b: f"({a}) and ({b})", inner, inner),
        st.builds(lambda a, b: f"({a}) or ({b})", inner, inner),
        st.builds(lambda a: f"not ({a})", inner),
    ),
    max_leaves=5,
)


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(_exprs)
def test_property_random_expressions_match_the_reference(table, expr):
    check(table, expr)
