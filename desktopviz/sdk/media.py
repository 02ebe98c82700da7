"""``dv.Image`` and ``dv.Classes``: images with boxes, masks and class labels, as W&B writes them."""

from __future__ import annotations

import hashlib
import io
import json
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
from PIL import Image as PILImage

from desktopviz.errors import DesktopvizError
from desktopviz.formats.images import check_image

if TYPE_CHECKING:
    from desktopviz.sdk.artifact import ArtifactWriter


class Classes:
    """A class set: ``dv.Classes([{"id": 0, "name": "background"}, ...])`` (keyed by id)."""

    def __init__(self, class_set: list[dict[str, Any]] | dict[int, str]) -> None:
        if isinstance(class_set, dict):
            class_set = [{"id": int(k), "name": str(v)} for k, v in class_set.items()]
        self._class_set = sorted(
            ({"id": int(c["id"]), "name": str(c["name"])} for c in class_set), key=lambda c: c["id"]
        )

    @property
    def class_set(self) -> list[dict[str, Any]]:
        """The classes as ``[{"id", "name"}]`` sorted by id."""
        return [dict(c) for c in self._class_set]

    def names(self) -> dict[int, str]:
        """``{id: name}``."""
        return {c["id"]: c["name"] for c in self._class_set}

    def to_json(self) -> dict[str, Any]:
        """The W&B ``classes`` object."""
        return {"_type": "classes", "class_set": self.class_set}

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Classes) and self.names() == other.names()

    def __hash__(self) -> int:
        return hash(tuple(sorted(self.names().items())))

    def __repr__(self) -> str:
        return f"Classes({self.class_set!r})"


@dataclass(frozen=True)
class StoredFile:
    """Bytes already in a cache version, which a new artifact can refer to instead of copying."""

    local: Path
    sha256: str
    size: int
    wandb_digest: str | None
    version_digest: str
    path: str


class Image:
    """An image with optional boxes, masks, classes and caption (``wandb.Image`` compatible).

    ``data_or_path`` is a numpy array (H×W, H×W×3/4; floats in 0..1 or uint8), a file path, a PIL
    image, or another :class:`Image` (its pixels, with the new overlays).
    """

    def __init__(
        self,
        data_or_path: Any,
        mode: str | None = None,
        caption: str | None = None,
        boxes: dict[str, Any] | None = None,
        masks: dict[str, Any] | None = None,
        classes: Classes | list[dict[str, Any]] | None = None,
    ) -> None:
        self.caption = caption
        self._boxes = _normalise_boxes(boxes or {})
        self._masks: dict[str, dict[str, Any]] = {}
        self._stored: StoredFile | None = None
        self._bytes: bytes | None = None
        self._format = "png"
        self._pil: PILImage.Image | None = None
        if isinstance(data_or_path, Image):
            other = data_or_path
            self._stored, self._bytes, self._format = other._stored, other._bytes, other._format
            self._size = other._size
            if caption is None:
                self.caption = other.caption
        elif isinstance(data_or_path, str | Path):
            path = Path(data_or_path)
            try:
                self._bytes = path.read_bytes()
            except OSError as e:
                raise DesktopvizError(f"cannot read image: {e.strerror or e}", file=path) from e
            self._format = (path.suffix[1:] or "png").lower()
            self._size = _image_size(self._bytes, path)
        elif isinstance(data_or_path, PILImage.Image):
            self._bytes = _png_bytes(data_or_path if mode is None else data_or_path.convert(mode))
            self._size = data_or_path.size
        elif isinstance(data_or_path, np.ndarray) or hasattr(data_or_path, "__array__"):
            pil = _array_to_pil(np.asarray(data_or_path), mode)
            self._bytes = _png_bytes(pil)
            self._size = pil.size
        else:
            raise DesktopvizError(f"cannot make an Image from a {type(data_or_path).__name__}")
        for layer, mask in (masks or {}).items():
            self._masks[layer] = _normalise_mask(layer, mask)
        if classes is None:
            labels: dict[int, str] = {}
            for b in self._boxes.values():
                labels.update(b.get("class_labels") or {})
            for m in self._masks.values():
                labels.update(m.get("class_labels") or {})
            self.classes = Classes(labels) if labels else None
        else:
            self.classes = classes if isinstance(classes, Classes) else Classes(classes)

    # -- reading ---------------------------------------------------------------------------
    @property
    def width(self) -> int:
        """Width in pixels."""
        return self._size[0]

    @property
    def height(self) -> int:
        """Height in pixels."""
        return self._size[1]

    @property
    def boxes(self) -> dict[str, dict[str, Any]]:
        """``{layer: {"box_data": [...], "class_labels": {...}}}``."""
        return json.loads(json.dumps(self._boxes))

    @property
    def masks(self) -> dict[str, dict[str, Any]]:
        """``{layer: {"mask_data": array, "class_labels": {...}}}``."""
        return {
            k: {"mask_data": v["mask_data"], "class_labels": dict(v.get("class_labels") or {})}
            for k, v in self._masks.items()
        }

    def image_bytes(self) -> bytes:
        """The encoded image file."""
        if self._bytes is None and self._stored is not None:
            self._bytes = self._stored.local.read_bytes()
        assert self._bytes is not None
        return self._bytes

    @property
    def sha256(self) -> str:
        """sha256 (hex) of the image file."""
        if self._stored is not None and self._bytes is None:
            return self._stored.sha256
        return hashlib.sha256(self.image_bytes()).hexdigest()

    def to_pil(self) -> PILImage.Image:
        """The pixels as a PIL image."""
        if self._pil is None:
            self._pil = PILImage.open(io.BytesIO(self.image_bytes()))
            self._pil.load()
        return self._pil

    def to_numpy(self) -> np.ndarray:
        """The pixels as a numpy array."""
        return np.asarray(self.to_pil())

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Image):
            return NotImplemented
        return (
            self.sha256 == other.sha256
            and self.caption == other.caption
            and _comparable_boxes(self._boxes) == _comparable_boxes(other._boxes)
            and {k: _mask_digest(v["mask_data"]) for k, v in self._masks.items()}
            == {k: _mask_digest(v["mask_data"]) for k, v in other._masks.items()}
            and (self.classes.names() if self.classes else {})
            == (other.classes.names() if other.classes else {})
        )

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        layers = f", boxes={list(self._boxes)}" if self._boxes else ""
        masks = f", masks={list(self._masks)}" if self._masks else ""
        return f"Image({self.width}x{self.height}{layers}{masks})"

    # -- writing into an artifact ----------------------------------------------------------
    def to_cell(self, writer: ArtifactWriter) -> dict[str, Any]:
        """Write the image's files into an artifact and return its W&B ``image-file`` cell."""
        if self._stored is not None and self._bytes is None:
            path = writer.add_stored(self._stored)
            sha = self._stored.sha256
        else:
            data = self.image_bytes()
            sha = hashlib.sha256(data).hexdigest()
            path = writer.add_bytes(f"media/images/{sha[:20]}.{self._format}", data)
        cell: dict[str, Any] = {
            "_type": "image-file",
            "format": self._format,
            "height": self.height,
            "path": path,
            "sha256": sha,
            "width": self.width,
        }
        if self.caption is not None:
            cell["caption"] = self.caption
        if self._boxes:
            cell["boxes"] = {layer: b["box_data"] for layer, b in self._boxes.items()}
        if self._masks:
            cell["masks"] = {}
            for layer, m in self._masks.items():
                stored: StoredFile | None = m.get("stored")
                if stored is not None:
                    mpath, msha = writer.add_stored(stored), stored.sha256
                else:
                    png = _png_bytes(
                        PILImage.fromarray(np.asarray(m["mask_data"]).astype(np.uint8), mode="L")
                    )
                    msha = hashlib.sha256(png).hexdigest()
                    mpath = writer.add_bytes(f"media/images/mask/{msha[:20]}.mask.png", png)
                cell["masks"][layer] = {"_type": "mask", "path": mpath, "sha256": msha}
        if self.classes is not None:
            cell["classes"] = writer.add_classes(self.classes)
        return cell

    @classmethod
    def from_cell(cls, cell: dict[str, Any], resolve: Any) -> Image:
        """An image read back from an artifact; ``resolve(path)`` gives a :class:`StoredFile`."""
        self = cls.__new__(cls)
        self.caption = cell.get("caption")
        self._stored = resolve(cell["path"])
        self._bytes = None
        self._pil = None
        self._format = cell.get("format") or "png"
        w, h = cell.get("width"), cell.get("height")
        if w is None or h is None:
            w, h = _image_size(self._stored.local.read_bytes(), self._stored.local)
        self._size = (int(w), int(h))
        names: dict[int, str] = {}
        self.classes = None
        if isinstance(cell.get("classes"), dict) and cell["classes"].get("path"):
            obj = json.loads(resolve(cell["classes"]["path"]).local.read_text())
            self.classes = Classes(obj.get("class_set") or [])
            names = self.classes.names()
        self._boxes = {}
        for layer, items in (cell.get("boxes") or {}).items():
            if isinstance(items, dict):
                items = items.get("box_data") or []
            used = {b.get("class_id") for b in items}
            self._boxes[layer] = {
                "box_data": items,
                "class_labels": {k: v for k, v in names.items() if k in used},
            }
        self._masks = {}
        for layer, m in (cell.get("masks") or {}).items():
            stored = resolve(m["path"])
            with PILImage.open(stored.local) as im:
                data = np.asarray(im)
            self._masks[layer] = {"mask_data": data, "class_labels": dict(names), "stored": stored}
        return self


def _normalise_boxes(boxes: dict[str, Any]) -> dict[str, dict[str, Any]]:
    out = {}
    for layer, b in boxes.items():
        if isinstance(b, list):
            b = {"box_data": b}
        if not isinstance(b, dict) or "box_data" not in b:
            raise DesktopvizError(f"boxes layer {layer!r} needs 'box_data' (a list of boxes)")
        for i, box in enumerate(b["box_data"]):
            pos = box.get("position") if isinstance(box, dict) else None
            if not isinstance(pos, dict) or not (
                {"minX", "maxX", "minY", "maxY"} <= set(pos)
                or {"middle", "width", "height"} <= set(pos)
            ):
                raise DesktopvizError(
                    f"box {i} of layer {layer!r} needs a position {{minX,maxX,minY,maxY}} or {{middle,width,height}}"
                )
        labels = {int(k): str(v) for k, v in (b.get("class_labels") or {}).items()}
        out[layer] = {"box_data": json.loads(json.dumps(b["box_data"])), "class_labels": labels}
    return out


def _comparable_boxes(boxes: dict[str, dict[str, Any]]) -> dict[str, Any]:
    return {k: json.dumps(v["box_data"], sort_keys=True) for k, v in boxes.items()}


def _normalise_mask(layer: str, mask: Any) -> dict[str, Any]:
    if not isinstance(mask, dict):
        raise DesktopvizError(f"mask layer {layer!r} must be a dict with 'mask_data' or 'path'")
    labels = {int(k): str(v) for k, v in (mask.get("class_labels") or {}).items()}
    if "mask_data" in mask:
        data = np.asarray(mask["mask_data"])
    elif "path" in mask:
        with PILImage.open(mask["path"]) as im:
            data = np.asarray(im.convert("L"))
    else:
        raise DesktopvizError(f"mask layer {layer!r} needs 'mask_data' or 'path'")
    if data.ndim != 2:
        raise DesktopvizError(f"mask layer {layer!r} must be 2-D (H×W class ids), not {data.shape}")
    if data.size and (data.min() < 0 or data.max() > 255):
        raise DesktopvizError(f"mask layer {layer!r} has class ids outside 0..255")
    return {"mask_data": data.astype(np.uint8), "class_labels": labels}


def _mask_digest(a: np.ndarray) -> str:
    a = np.ascontiguousarray(np.asarray(a).astype(np.uint8))
    return hashlib.sha256(a.tobytes() + str(a.shape).encode()).hexdigest()


def _array_to_pil(a: np.ndarray, mode: str | None) -> PILImage.Image:
    if a.dtype.kind == "f":
        a = np.clip(a * 255 if a.size and a.max() <= 1.0 else a, 0, 255)
    a = a.astype(np.uint8)
    if a.ndim == 3 and a.shape[2] == 1:
        a = a[:, :, 0]
    if a.ndim not in (2, 3) or (a.ndim == 3 and a.shape[2] not in (3, 4)):
        raise DesktopvizError(f"image array must be H×W, H×W×3 or H×W×4, not {a.shape}")
    return PILImage.fromarray(a, mode=mode) if mode else PILImage.fromarray(a)


def _png_bytes(pil: PILImage.Image) -> bytes:
    buf = io.BytesIO()
    pil.save(buf, format="PNG")
    return buf.getvalue()


def _image_size(data: bytes, path: Path) -> tuple[int, int]:
    w, h, _ = check_image(data, name=str(path))
    return w, h


class MediaFile:
    """Another W&B media cell read back from an artifact (audio, video, html, 3D, molecule...).

    Adding it to a new artifact refers to the same bytes (no copy) and keeps the cell as it was.
    """

    def __init__(self, cell: dict[str, Any], stored: StoredFile | None) -> None:
        self.cell = dict(cell)
        self._stored = stored

    @property
    def type(self) -> str:
        """The W&B ``_type`` (``audio-file``, ``video-file``...)."""
        return str(self.cell.get("_type"))

    @property
    def path(self) -> Path | None:
        """The local file holding the media's bytes."""
        return self._stored.local if self._stored else None

    def to_cell(self, writer: ArtifactWriter) -> dict[str, Any]:
        """The cell, with its file referred to from the new artifact."""
        if self._stored is not None:
            writer.add_stored(self._stored)
        return dict(self.cell)

    @classmethod
    def from_cell(cls, cell: dict[str, Any], resolve: Any) -> MediaFile:
        """A media cell whose ``path`` ``resolve`` finds in the artifact."""
        path = cell.get("path")
        return cls(cell, resolve(path) if isinstance(path, str) else None)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, MediaFile) and self.cell == other.cell

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return f"MediaFile({self.type}, {self.cell.get('path')!r})"
