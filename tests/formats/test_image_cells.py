"""An image cell's overlays in plain form (no Qt): boxes with classes and scores, masks."""

from __future__ import annotations

from desktopviz.formats.image_cells import image_cell


def test_boxes_masks_and_class_names_of_a_media_struct():
    record = {
        "_type": "image-file",
        "path": "media/images/a.png",
        "width": 64,
        "height": 32,
        "classes": "media/classes/c.classes.json",
        "boxes": [
            (
                "predictions",
                [
                    {
                        "class_id": 3,
                        "min_x": 0.1,
                        "min_y": 0.2,
                        "max_x": 0.5,
                        "max_y": 0.6,
                        "scores": [("conf", 0.91), ("iou", None)],
                    },
                    {
                        "class_id": 4,
                        "label": "car",
                        "domain": "pixel",
                        "min_x": 8,
                        "min_y": 4,
                        "max_x": 40,
                        "max_y": 20,
                    },
                ],
            )
        ],
        "masks": [("seg", {"sha256": "ab" * 32, "path": "media/images/m.png"})],
    }
    cell = image_cell(record, {3: "person"})
    assert cell.box_layers == ["predictions"] and cell.score_keys == ["conf"]
    first, second = cell.boxes
    assert first.label == "person" and first.text("conf") == "person 0.91"
    assert second.normalised(64, 32) == (0.125, 0.125, 0.625, 0.625)
    assert cell.class_name(4) == "car" and cell.class_name(9) == "9"
    assert cell.masks[0].layer == "seg" and cell.classes_path == record["classes"]
