"""What the SDK accepts: DataFrames and Arrow tables, images from arrays, files, PIL and Images."""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pytest
from PIL import Image as PILImage

import desktopviz as dv


def test_table_from_pandas_and_arrow():
    import pandas as pd

    df = pd.DataFrame({"id": [1, 2], "score": [0.5, np.nan], "label": ["a", None]})
    t = dv.Table(dataframe=df)
    assert (
        t.columns == ["id", "score", "label"]
        and t.data[0] == [1, 0.5, "a"]
        and t.data[1][2] is None
    )
    arrow = pa.table({"id": [1, 2], "tags": [["x"], []]})
    assert dv.Table(dataframe=arrow).data == [[1, ["x"]], [2, []]]


def test_add_column_and_get_column():
    t = dv.Table(columns=["a"], data=[[1], [2]])
    t.add_column("b", ["x", "y"])
    assert t.get_column("b") == ["x", "y"] and t.get_column("a", convert_to="numpy").tolist() == [
        1,
        2,
    ]
    with pytest.raises(dv.DesktopvizError, match="3 values"):
        t.add_column("c", [1, 2, 3])
    with pytest.raises(dv.DesktopvizError, match="no column"):
        t.get_column("zzz")


def test_image_inputs_are_equal_when_pixels_are(tmp_path):
    pixels = np.random.default_rng(1).integers(0, 255, (10, 12, 3), dtype=np.uint8)
    path = tmp_path / "x.png"
    PILImage.fromarray(pixels).save(path)
    from_array, from_pil, from_path = (
        dv.Image(pixels),
        dv.Image(PILImage.fromarray(pixels)),
        dv.Image(path),
    )
    assert (from_array.width, from_array.height) == (12, 10)
    assert from_array == from_pil
    assert np.array_equal(from_path.to_numpy(), pixels)
    boxed = dv.Image(
        from_array,
        boxes={
            "p": {
                "box_data": [
                    {"position": {"minX": 0, "maxX": 1, "minY": 0, "maxY": 1}, "class_id": 0}
                ]
            }
        },
    )
    assert boxed.sha256 == from_array.sha256 and boxed != from_array
    floats = dv.Image(np.zeros((4, 4), dtype=np.float32) + 0.5)
    assert floats.to_numpy().max() == 127


def test_bad_boxes_and_masks_are_refused():
    with pytest.raises(dv.DesktopvizError, match="position"):
        dv.Image(np.zeros((4, 4, 3), np.uint8), boxes={"p": {"box_data": [{"class_id": 1}]}})
    with pytest.raises(dv.DesktopvizError, match="2-D"):
        dv.Image(np.zeros((4, 4, 3), np.uint8), masks={"m": {"mask_data": np.zeros((4, 4, 3))}})


def test_add_file_dir_and_reference(tmp_path):
    (tmp_path / "d" / "sub").mkdir(parents=True)
    (tmp_path / "d" / "sub" / "a.txt").write_text("a")
    (tmp_path / "model.bin").write_bytes(b"\x00\x01")
    art = dv.Artifact("things", "model")
    art.add_file(tmp_path / "model.bin")
    art.add_dir(tmp_path / "d", name="data")
    art.add_reference("s3://bucket/weights.pt")
    with dv.init(project="p", dir=tmp_path / "cache") as run:
        run.log_artifact(art, aliases=["best"])
    assert art.version == "v0" and "best" in art.aliases
    assert art.files() == ["data/sub/a.txt", "model.bin", "weights.pt"]
    assert art.get_path("model.bin").read_bytes() == b"\x00\x01"
    with dv.open_cache(tmp_path / "cache") as c:
        ref = {f.path: f for f in c.files("things:best")}["weights.pt"]
        assert ref.ref == "s3://bucket/weights.pt" and ref.sha256 is None
