"""An image cell's overlays in a plain form (boxes with class, caption and scores; mask layers;
class names), built from the media struct of a table cell (see ``formats/media.py``) in worker
threads, for the painters of thumbnails, the Inspector and the image view (no Qt).

Public API: :class:`Box`, :class:`MaskRef`, :class:`ImageCell`, :func:`image_cell`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class Box:
    """One box of an image cell: raw corners (pixels when ``pixel``, else 0..1), class, caption,
    scores."""

    layer: str
    class_id: int | None
    label: str
    caption: str | None
    x0: float
    y0: float
    x1: float
    y1: float
    pixel: bool
    scores: tuple[tuple[str, float], ...] = ()

    def score(self, key: str | None) -> float | None:
        """The score under ``key`` (None when the box has no such score)."""
        for name, value in self.scores:
            if name == key:
                return value
        return None

    def normalised(self, width: float, height: float) -> tuple[float, float, float, float]:
        """Corners as fractions of an image ``width`` x ``height`` (pixels)."""
        if not self.pixel:
            return self.x0, self.y0, self.x1, self.y1
        w, h = max(width, 1.0), max(height, 1.0)
        return self.x0 / w, self.y0 / h, self.x1 / w, self.y1 / h

    def text(self, score_key: str | None) -> str:
        """The caption drawn on the box: its caption (or class), with the score if not in it."""
        text = self.caption or self.label
        score = self.score(score_key) if score_key else None
        if score is not None and f"{score:.2f}" not in text:
            text = f"{text} {score:.2f}"
        return text


@dataclass(frozen=True)
class MaskRef:
    """A mask layer of an image cell: the class-id PNG's digest and artifact path."""

    layer: str
    sha256: str | None
    path: str | None


@dataclass(frozen=True, eq=False)
class ImageCell:
    """An image cell as the painters need it (plain Python: built in worker threads)."""

    media_type: str
    path: str | None
    sha256: str | None
    width: int | None
    height: int | None
    caption: str | None
    boxes: tuple[Box, ...] = ()
    masks: tuple[MaskRef, ...] = ()
    classes_path: str | None = None
    class_names: Mapping[int, str] = field(default_factory=dict)

    @property
    def box_layers(self) -> list[str]:
        """Box layer names, in order of appearance."""
        return list(dict.fromkeys(b.layer for b in self.boxes))

    @property
    def score_keys(self) -> list[str]:
        """Score names any box carries."""
        return list(dict.fromkeys(k for b in self.boxes for k, _ in b.scores))

    def class_name(self, class_id: int) -> str:
        """A class id's name (the id itself when the cell names no class for it)."""
        return self.class_names.get(class_id, str(class_id))


def image_cell(
    record: Mapping[str, Any], class_names: Mapping[int, str] | None = None
) -> ImageCell:
    """The :class:`ImageCell` of a media struct value (see ``formats/media.py``)."""
    names = dict(class_names or {})
    boxes: list[Box] = []
    for layer, items in record.get("boxes") or ():
        for b in items or ():
            class_id = b.get("class_id")
            label = b.get("label") or (names.get(class_id) if class_id is not None else None)
            if class_id is not None and label and class_id not in names:
                names[class_id] = label
            boxes.append(
                Box(
                    layer=layer,
                    class_id=class_id,
                    label=label or (str(class_id) if class_id is not None else "?"),
                    caption=b.get("caption"),
                    x0=float(b.get("min_x") or 0.0),
                    y0=float(b.get("min_y") or 0.0),
                    x1=float(b.get("max_x") or 0.0),
                    y1=float(b.get("max_y") or 0.0),
                    pixel=b.get("domain") == "pixel",
                    scores=tuple(
                        (k, float(v)) for k, v in (b.get("scores") or ()) if v is not None
                    ),
                )
            )
    masks = tuple(
        MaskRef(layer, (m or {}).get("sha256"), (m or {}).get("path"))
        for layer, m in record.get("masks") or ()
    )
    return ImageCell(
        media_type=record.get("_type") or "image-file",
        path=record.get("path"),
        sha256=record.get("sha256"),
        width=record.get("width"),
        height=record.get("height"),
        caption=record.get("caption"),
        boxes=tuple(boxes),
        masks=masks,
        classes_path=record.get("classes"),
        class_names=names,
    )
