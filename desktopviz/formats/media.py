"""Media cells (``image-file`` with boxes, masks and classes; audio, video, html, 3D...) as Arrow structs.

A media cell becomes one struct: fields a query can reach (path, size, boxes per layer with
normalised corners and class labels, masks per layer) plus ``json``, the cell exactly as written,
so that writing it back gives the same cell.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import orjson as _orjson
import pyarrow as pa

IMAGE_TYPE = "image-file"
MEDIA_TYPES = frozenset(
    {
        "image-file",
        "audio-file",
        "video-file",
        "html-file",
        "object3D-file",
        "molecule-file",
        "bokeh-file",
        "plotly-file",
        "graph-file",
        "pytorch-model-file",
        "sklearn-model-file",
        "tfkeras-model-file",
        "file",
        "table-file",
        "wb_trace_tree",
    }
)

BOX_TYPE = pa.struct(
    [
        ("class_id", pa.int64()),
        ("label", pa.string()),
        ("caption", pa.string()),
        ("domain", pa.string()),
        ("min_x", pa.float64()),
        ("min_y", pa.float64()),
        ("max_x", pa.float64()),
        ("max_y", pa.float64()),
        ("scores", pa.map_(pa.string(), pa.float64())),
    ]
)
MASK_TYPE = pa.struct([("path", pa.string()), ("sha256", pa.string())])
MEDIA_TYPE = pa.struct(
    [
        ("_type", pa.string()),
        ("path", pa.string()),
        ("sha256", pa.string()),
        ("size", pa.int64()),
        ("format", pa.string()),
        ("width", pa.int64()),
        ("height", pa.int64()),
        ("caption", pa.string()),
        ("boxes", pa.map_(pa.string(), pa.list_(BOX_TYPE))),
        ("masks", pa.map_(pa.string(), MASK_TYPE)),
        ("classes", pa.string()),
        ("json", pa.string()),
    ]
)

ClassLookup = Callable[[str], dict[int, str]]


def is_media_cell(value: Any) -> bool:
    """True for a dict that is a W&B media cell (``{"_type": "image-file", ...}``)."""
    return isinstance(value, dict) and value.get("_type") in MEDIA_TYPES


def media_paths(cell: dict[str, Any]) -> list[str]:
    """Every artifact-relative file a media cell points at (image, masks, classes)."""
    out = []
    if isinstance(cell.get("path"), str):
        out.append(cell["path"])
    for mask in (cell.get("masks") or {}).values():
        if isinstance(mask, dict) and isinstance(mask.get("path"), str):
            out.append(mask["path"])
    classes = cell.get("classes")
    if isinstance(classes, dict) and isinstance(classes.get("path"), str):
        out.append(classes["path"])
    return out


def box_corners(box: dict[str, Any]) -> tuple[float, float, float, float]:
    """``(min_x, min_y, max_x, max_y)`` of a W&B box in either position form."""
    pos = box.get("position") or {}
    if "middle" in pos:
        (mx, my), w, h = pos["middle"], float(pos["width"]), float(pos["height"])
        return mx - w / 2, my - h / 2, mx + w / 2, my + h / 2
    return float(pos["minX"]), float(pos["minY"]), float(pos["maxX"]), float(pos["maxY"])


def media_record(cell: dict[str, Any], classes: ClassLookup | None = None) -> dict[str, Any]:
    """The Arrow struct value (a dict matching :data:`MEDIA_TYPE`) for a media cell."""
    class_path = None
    if isinstance(cell.get("classes"), dict):
        class_path = cell["classes"].get("path")
    names: dict[int, str] = classes(class_path) if (classes and class_path) else {}
    boxes = None
    if isinstance(cell.get("boxes"), dict):
        boxes = []
        for layer, items in cell["boxes"].items():
            if isinstance(
                items, dict
            ):  # run-logged form: {"box_data": [...], "class_labels": {...}}
                extra = items.get("class_labels") or {}
                names = {**names, **{int(k): v for k, v in extra.items()}}
                items = items.get("box_data") or []
            boxes.append((layer, [_box_record(b, names) for b in items]))
    masks = None
    if isinstance(cell.get("masks"), dict):
        masks = [
            (layer, {"path": m.get("path"), "sha256": m.get("sha256")})
            for layer, m in cell["masks"].items()
            if isinstance(m, dict)
        ]
    return {
        "_type": cell.get("_type"),
        "path": cell.get("path"),
        "sha256": cell.get("sha256"),
        "size": cell.get("size"),
        "format": cell.get("format"),
        "width": cell.get("width"),
        "height": cell.get("height"),
        "caption": cell.get("caption") if isinstance(cell.get("caption"), str) else None,
        "boxes": boxes,
        "masks": masks,
        "classes": class_path,
        "json": cell_json(cell),
    }


def cell_json(cell: dict[str, Any]) -> str:
    """The cell as JSON text with sorted keys (orjson; the stdlib where orjson cannot say it).

    A NaN inside a media cell (a box score, say) becomes null, as the wandb SDK writes it.
    """
    try:
        return _orjson.dumps(cell, option=_orjson.OPT_SORT_KEYS).decode()
    except (TypeError, _orjson.JSONEncodeError):
        return json.dumps(cell, sort_keys=True, allow_nan=True)


def _box_record(box: dict[str, Any], names: dict[int, str]) -> dict[str, Any]:
    min_x, min_y, max_x, max_y = box_corners(box)
    class_id = box.get("class_id")
    scores = box.get("scores")
    return {
        "class_id": class_id,
        "label": names.get(class_id) if class_id is not None else None,
        "caption": box.get("box_caption"),
        "domain": box.get("domain"),
        "min_x": min_x,
        "min_y": min_y,
        "max_x": max_x,
        "max_y": max_y,
        "scores": list(scores.items()) if isinstance(scores, dict) else None,
    }


def media_cell(record: dict[str, Any] | None) -> dict[str, Any] | None:
    """The W&B JSON cell a media struct value came from."""
    if record is None:
        return None
    return json.loads(record["json"])


def class_set(obj: Any) -> dict[int, str]:
    """``{id: name}`` from a W&B ``classes`` object (``class_set`` order is not significant)."""
    if not isinstance(obj, dict):
        return {}
    out = {}
    for item in obj.get("class_set") or []:
        if isinstance(item, dict) and "id" in item:
            out[int(item["id"])] = str(item.get("name", item["id"]))
    return out
