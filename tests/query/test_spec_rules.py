"""The rules for editing a query (no Qt): filters combine in the form the box holds, header
clicks cycle the sort, grouping and comparing combine."""

from __future__ import annotations

import json

import pytest

from desktopviz.query.expr import ExprError
from desktopviz.query.mongo import parse_mongo
from desktopviz.query.simple import parse_simple
from desktopviz.query.spec import CompareSpec, GroupSpec, QuerySpec, SortKey
from desktopviz.query.spec_rules import (
    add_filter,
    combine_filters,
    compare_key,
    compare_only,
    compare_with,
    cycle_sort,
    drill_down,
    filter_text,
    flip_sort_key,
    group_by,
    move_sort_key,
    remove_sort_key,
    stop_compare,
    to_mongo,
    toggle_group_column,
    value_filter,
    with_filter,
)


def _strip_pos(node):  # noqa: ANN001, ANN202 - compares trees without their positions
    from dataclasses import fields, is_dataclass, replace

    if isinstance(node, tuple):
        return tuple(_strip_pos(n) for n in node)
    if not is_dataclass(node):
        return node
    changes = {f.name: _strip_pos(getattr(node, f.name)) for f in fields(node) if f.name != "pos"}
    return replace(node, **changes, **({"pos": 0} if hasattr(node, "pos") else {}))


def test_adding_a_value_filter_to_a_mongo_filter_keeps_both():
    mongo = "{$gt: ['$0.confidence', 0.5]}"
    spec = with_filter(QuerySpec(), mongo)
    out = add_filter(spec, value_filter("label", "car"))
    text = filter_text(out)
    assert text.startswith("{$and: [") and mongo in text
    tree = parse_mongo(text)
    assert tree.op == "and" and len(tree.args) == 2
    assert _strip_pos(tree.args[1]) == _strip_pos(parse_simple("row[\"label\"] == 'car'"))


def test_adding_to_a_simple_filter_and_to_nothing():
    assert combine_filters("", 'row["a"] == 1') == 'row["a"] == 1'
    assert combine_filters('row["a"] > 1 or row["b"]', 'row["c"] == 2') == (
        '(row["a"] > 1 or row["b"]) and row["c"] == 2'
    )
    simple_then_mongo = combine_filters('row["a"] == 1', "{$eq: ['$0.b', 2]}")
    assert simple_then_mongo.startswith("{$and:")
    assert parse_mongo(simple_then_mongo).op == "and"


@pytest.mark.parametrize(
    "simple",
    [
        'row["a"] >= 1.5 and row["a"] < 2',
        "str(row1[\"b\"][0]) == 'x'",
        'row["a"] != None',
        'not row["flag"]',
        "row[\"s\"] == '$dollar'",
    ],
)
def test_to_mongo_writes_the_same_tree(simple):
    tree = parse_simple(simple)
    assert _strip_pos(parse_mongo(json.dumps(to_mongo(tree)))) == _strip_pos(tree)


def test_a_dotted_column_cannot_join_a_mongo_filter():
    with pytest.raises(ExprError, match="a.b"):
        add_filter(with_filter(QuerySpec(), "{$gt: ['$0.x', 1]}"), 'row["a.b"] == 1')


def test_filter_text_joins_several_filters():
    spec = QuerySpec(filters=('row["a"] == 1', 'row["b"] == 2'))
    assert filter_text(spec) == '(row["a"] == 1) and row["b"] == 2'
    assert with_filter(spec, "  ").filters == ()


def test_header_clicks_cycle_and_shift_adds():
    spec = QuerySpec()
    spec = cycle_sort(spec, "score")
    assert spec.sort == (SortKey("score"),)
    spec = cycle_sort(spec, "score")
    assert spec.sort == (SortKey("score", True),)
    assert cycle_sort(spec, "score").sort == ()
    spec = cycle_sort(cycle_sort(QuerySpec(), "a"), "b", add=True)
    assert spec.sort == (SortKey("a"), SortKey("b"))
    assert cycle_sort(spec, "b", add=True).sort == (SortKey("a"), SortKey("b", True))
    assert cycle_sort(spec, "c").sort == (SortKey("c"),)


def test_sort_key_edits():
    spec = QuerySpec(sort=(SortKey("a"), SortKey("b"), SortKey("c")))
    assert flip_sort_key(spec, 1).sort[1] == SortKey("b", True)
    assert [k.column for k in move_sort_key(spec, 2, -1).sort] == ["a", "c", "b"]
    assert [k.column for k in move_sort_key(spec, 0, -1).sort] == ["a", "b", "c"]
    assert [k.column for k in remove_sort_key(spec, 0).sort] == ["b", "c"]


def test_grouping_drops_the_sort_and_keeps_the_comparison():
    spec = QuerySpec(sort=(SortKey("a"),), compare=CompareSpec("p/x:v0"), filters=("f",))
    grouped = group_by(spec, ("label",))
    assert grouped.group == GroupSpec(("label",)) and grouped.sort == ()
    assert grouped.compare == spec.compare and grouped.filters == ("f",)
    assert toggle_group_column(grouped, "kind", True).group.by == ("label", "kind")
    assert toggle_group_column(grouped, "label", False).group is None


def test_comparing_keeps_grouping_and_filters_and_drops_the_sort():
    spec = QuerySpec(filters=("f",), sort=(SortKey("a"),), group=GroupSpec(("label",)))
    compared = compare_with(spec, "p/x:v0")
    assert compared.group == spec.group and compared.filters == ("f",)
    assert compared.sort == () and compared.compare == CompareSpec("p/x:v0")
    assert compare_only(compared, "changed").compare.only == "changed"
    assert compare_key(compared, ("#", "#")).compare.key == ("#", "#")
    back = stop_compare(compared)
    assert back.compare is None and back.group == spec.group
    assert compare_only(QuerySpec(), "changed") == QuerySpec()


def test_drill_down_filters_to_the_group_and_stops_grouping():
    spec = QuerySpec(filters=("{$gt: ['$0.x', 1]}",), group=GroupSpec(("label", "n")))
    out = drill_down(spec, [("label", "car"), ("n", 3)])
    assert out.group is None
    tree = parse_mongo(filter_text(out))
    assert tree.op == "and"  # the Mongo filter shown is kept
    with pytest.raises(ExprError):
        drill_down(spec, [("label", [1, 2])])
