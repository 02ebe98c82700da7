"""The comparison schema: what each column of a comparison is (side, base column, role), built by
the engine where it names the columns, and carried by relations, results and grouped results.
Real tables (hand-built versions imported into a cache), no Qt."""

from __future__ import annotations

import pytest

from desktopviz.query.charts import bin_filter, distribution
from desktopviz.query.comparison import ComparedColumn, ComparisonSchema, Role
from desktopviz.query.simple import column_path
from tests.query.test_group_and_compare import versions  # noqa: F401 - fixture


def test_a_join_describes_every_column(versions):  # noqa: F811 - the imported fixture
    c, _ = versions
    result = c.table("preds:v0").compare("preds:v1").result
    schema = result.comparison
    assert schema is result.relation.comparison or schema == result.relation.comparison
    assert schema.names == result.columns  # the same names, in the same order
    assert schema.comparing
    assert schema.column("__status").role is Role.STATUS
    assert schema.column("__changed") == ComparedColumn("__changed", Role.ANY_CHANGED, "__changed")
    assert schema.column("id") == ComparedColumn("id", Role.KEY, "id")
    assert schema.column("0.score") == ComparedColumn("0.score", Role.VALUE, "score", 0)
    assert schema.column("1.score") == ComparedColumn("1.score", Role.VALUE, "score", 1)
    assert schema.column("delta.score") == ComparedColumn("delta.score", Role.DELTA, "score")
    assert schema.column("changed.label").role is Role.CHANGED
    # what the view hides: the marks (they colour the cells), not the values or the deltas
    assert {c.name for c in schema.columns if c.hidden} == {
        "changed.label",
        "changed.score",
        "changed.tags",
        "__changed",
    }
    assert schema.value("score", 1) == "1.score" and schema.value("nope", 0) is None
    assert schema.twin("0.label") == "1.label" and schema.twin("1.label") == "0.label"
    assert schema.twin("delta.score") is None and schema.twin("id") is None
    assert schema.changed_mark("1.score") == "changed.score"
    assert schema.changed_mark("delta.score") == "changed.score"
    assert schema.changed_mark("id") is None and schema.changed_mark("__status") is None
    assert schema.delta("score") == "delta.score" and schema.delta("label") is None
    assert schema.common() == ["label", "score", "tags"]
    assert schema.sides("1.score") == ("0.score", "1.score") and schema.sides("id") == ("id",)
    # the names read back give the same schema (the protocol is one place)
    assert ComparisonSchema.from_names(schema.names) == schema


def test_a_key_of_two_names_is_a_value_on_each_side(versions):  # noqa: F811
    c, _ = versions
    schema = c.table("preds:v0").compare("preds:v1", key="#").result.comparison
    assert schema.column("0.id") == ComparedColumn("0.id", Role.VALUE, "id", 0)
    assert schema.delta("id") == "delta.id" and "id" not in schema
    assert schema.common()[0] == "id"


def test_a_concatenation_tags_rows_with_their_side(versions):  # noqa: F811
    c, _ = versions
    result = c.table("preds:v0").compare("preds:v1", mode="concat").result
    schema = result.comparison
    assert schema.names == result.columns
    assert schema.column("__side").role is Role.SIDE
    assert schema.column("score") == ComparedColumn.plain("score")
    assert schema.common() == [] and schema.twin("score") is None


def test_a_plain_table_has_a_plain_schema(versions):  # noqa: F811
    c, _ = versions
    result = c.table("preds:v0").result
    assert result.comparison == ComparisonSchema.plain(result.columns)
    assert not result.comparison.comparing
    # a plain column whose name looks like a comparison's is not read as one
    odd = ComparisonSchema.plain(["0.5", "delta.x"])
    assert odd.column("0.5").side is None and odd.column("delta.x").role is Role.VALUE


def test_a_group_over_a_comparison_keeps_each_columns_side(versions):  # noqa: F811
    c, _ = versions
    grouped = c.table("preds:v0").compare("preds:v1").group_by("0.label", bins=4).result
    schema = grouped.comparison
    assert schema.names == grouped.columns
    assert schema.column("0.score") == ComparedColumn("0.score", Role.VALUE, "score", 0)
    assert schema.twin("1.score") == "0.score"
    assert schema.column("count").role is Role.VALUE and schema.column("count").side is None
    # marks and status are not summarised; both sides of a column share their bins
    assert not any(c.hidden or c.role is Role.STATUS for c in schema.columns)
    assert grouped.bins["0.score"] == grouped.bins["1.score"]
    assert grouped.bins["delta.score"] != grouped.bins["0.score"]


def test_selections_and_charts_read_the_schema(versions):  # noqa: F811
    c, _ = versions
    cmp = c.table("preds:v0").compare("preds:v1")
    picked = cmp.select(["id", "1.score"]).result.comparison
    assert picked.names == ["id", "1.score"] and picked.column("1.score").side == 1
    dist = distribution(cmp.result, "1.score", bins=3)
    assert dist.columns == ("0.score", "1.score")
    assert [c.side for c in dist.compared] == [0, 1]
    assert bin_filter(dist, 0).startswith('row0["score"] >= ')
    schema = cmp.result.comparison
    assert column_path(schema.column("1.label")) == 'row1["label"]'
    assert column_path(schema.column("id")) == 'row["id"]'
    assert column_path(schema.column("delta.score")) is None
    assert column_path(schema.column("__status")) is None
    # a plain column named like a side's value is a plain column
    assert column_path(ComparedColumn.plain("0.x")) == 'row["0"]["x"]'


def test_value_ranges_of_numeric_pairs_come_from_both_tables(versions):  # noqa: F811
    c, _ = versions
    relation = c.table("preds:v0").compare("preds:v1").result.relation
    assert relation.pairs is not None
    ranges = relation.pairs.value_ranges(c._engine())
    assert ranges["score"] == pytest.approx((0.0, 0.95))  # v0's min, v1's max
    assert "label" not in ranges and "id" not in ranges  # a string; the key, named once


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("0.a.b", ComparedColumn("0.a.b", Role.VALUE, "a.b", 0)),
        ("changed.x", ComparedColumn("changed.x", Role.CHANGED, "x")),
        ("__status", ComparedColumn("__status", Role.STATUS, "__status")),
        ("score", ComparedColumn("score", Role.VALUE, "score")),
        ("2.x", ComparedColumn("2.x", Role.VALUE, "2.x")),
        ("0.", ComparedColumn("0.", Role.VALUE, "0.")),
    ],
)
def test_names_read_back(name, expected):
    assert ComparedColumn.parse(name) == expected


def test_the_schema_is_built_where_the_names_are_made():
    schema = ComparisonSchema(
        (
            ComparedColumn.helper_column(Role.STATUS),
            ComparedColumn.value("x", 0),
            ComparedColumn.value("x", 1),
            ComparedColumn.derived(Role.DELTA, "x"),
            ComparedColumn.derived(Role.CHANGED, "x"),
        )
    )
    assert schema.names == ["__status", "0.x", "1.x", "delta.x", "changed.x"]
    assert schema.over(["1.x", "n"]).columns == (
        ComparedColumn.value("x", 1),
        ComparedColumn.plain("n"),
    )
    assert schema.side_columns(1) == {
        "x": "1.x",
        "__status": "__status",
        "delta.x": "delta.x",
        "changed.x": "changed.x",
    }
