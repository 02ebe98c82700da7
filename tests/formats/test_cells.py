"""Cells to Arrow and back: nesting kept, media as structs, odd values as JSON."""

from __future__ import annotations

import math

import pyarrow as pa

from desktopviz.formats.cells import BatchConverter, table_rows
from desktopviz.formats.media import MEDIA_TYPE, box_corners, media_record


def roundtrip(columns, rows):
    conv = BatchConverter(columns)
    batch = conv.convert(rows, 0)
    descs = [s.describe(batch.schema.field(i).type) for i, s in enumerate(conv.state)]
    return batch, descs, table_rows(pa.Table.from_batches([batch]), descs)


def test_nested_values_stay_nested():
    rows = [
        [1, {"geo": {"lat": 1.5, "lon": 2.0}, "tags": ["a", "b"]}, [[1, 2], [3]]],
        [2, {"geo": {"lat": 3.0, "lon": 4.0}, "tags": []}, []],
    ]
    batch, descs, back = roundtrip(["id", "meta", "nested"], rows)
    assert pa.types.is_struct(batch.schema.field("meta").type)
    assert pa.types.is_list(batch.schema.field("nested").type)
    assert back == rows


def test_mixed_types_fall_back_to_json_losslessly():
    rows = [[1, {}], ["two", {"a": 1}], [None, {"a": "x"}]]
    _, descs, back = roundtrip(["mixed", "dicts"], rows)
    assert descs[0]["kind"] == "json"
    assert back == rows


def test_nan_and_null_and_unicode():
    rows = [[float("nan"), None, "日本語"], [1.5, True, "naïve"]]
    _, _, back = roundtrip(["f", "b", "s"], rows)
    assert (
        math.isnan(back[0][0])
        and back[0][1:] == [None, "日本語"]
        and back[1] == [1.5, True, "naïve"]
    )


def test_dicts_with_differing_keys_keep_absent_and_null_apart():
    rows = [[{"a": 1}, {"a": None, "b": 1}], [{"b": "x"}, {"a": 2, "b": None}]]
    batch, descs, back = roundtrip(["varying", "uniform"], rows)
    assert descs[0]["kind"] == "json" and descs[1]["kind"] == "plain"
    assert pa.types.is_struct(batch.schema.field("uniform").type)
    assert back == rows


def test_media_cells_become_structs_and_come_back_unchanged():
    cell = {
        "_type": "image-file",
        "path": "media/images/a.png",
        "width": 32,
        "height": 32,
        "format": "png",
        "sha256": "ab",
        "boxes": {
            "gt": [
                {
                    "position": {"minX": 8, "maxX": 18, "minY": 10, "maxY": 22},
                    "domain": "pixel",
                    "class_id": 1,
                    "box_caption": "car",
                    "scores": {"iou": 1.0},
                },
                {"position": {"middle": [0.5, 0.25], "width": 0.4, "height": 0.3}, "class_id": 3},
            ]
        },
        "masks": {"gt": {"_type": "mask", "path": "media/images/mask/m.mask.png", "sha256": "cd"}},
    }
    batch, descs, back = roundtrip(["image"], [[cell], [None]])
    assert batch.schema.field("image").type == MEDIA_TYPE and descs[0]["kind"] == "media"
    assert back == [[cell], [None]]


def test_box_position_forms_and_labels():
    assert box_corners({"position": {"middle": [0.5, 0.25], "width": 0.4, "height": 0.3}}) == (
        0.3,
        0.1,
        0.7,
        0.4,
    )
    rec = media_record(
        {
            "_type": "image-file",
            "path": "p.png",
            "boxes": {
                "gt": [{"position": {"minX": 1, "maxX": 2, "minY": 3, "maxY": 4}, "class_id": 2}]
            },
            "classes": {"type": "classes-file", "path": "c.classes.json"},
        },
        classes=lambda path: {2: "road"},
    )
    ((layer, boxes),) = rec["boxes"]
    assert layer == "gt" and boxes[0]["label"] == "road" and boxes[0]["min_x"] == 1.0


def test_dict_keys_changing_between_batches_keep_absent_and_null_apart(tmp_path):
    import pyarrow.parquet as pq

    from desktopviz.formats.materialize import RowBatch, materialize_rows

    batches = [
        RowBatch([[{"a": None}], [{"a": 1}]]),
        RowBatch([[{"aa": None}]]),
        RowBatch([[{"a": 2.5}]]),
    ]
    m = materialize_rows(["d"], batches, tmp_path / "t.parquet", tmp_path, file="t")
    table = pq.read_table(tmp_path / "t.parquet")
    assert m.columns[0]["kind"] == "json"
    assert table_rows(table, m.columns) == [[{"a": None}], [{"a": 1}], [{"aa": None}], [{"a": 2.5}]]


def test_numbers_widen_across_batches(tmp_path):
    import pyarrow.parquet as pq

    from desktopviz.formats.materialize import RowBatch, materialize_rows

    batches = [RowBatch([[1, None]]), RowBatch([[2.5, "x"]])]
    m = materialize_rows(["n", "s"], batches, tmp_path / "t.parquet", tmp_path, file="t")
    table = pq.read_table(tmp_path / "t.parquet")
    assert table.schema.field("n").type == pa.float64() and [c["kind"] for c in m.columns] == [
        "plain",
        "plain",
    ]
    assert table_rows(table, m.columns) == [[1.0, None], [2.5, "x"]]
