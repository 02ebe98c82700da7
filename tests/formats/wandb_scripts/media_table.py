"""Run with the real wandb SDK (offline): log a table of every non-image media type (MP4 and GIF
video, WAV audio, point clouds with colours, categories and 3D boxes, PDB molecules) in a dataset
artifact, then lay it out as ``artifact.download()`` would. Usage: python media_table.py OUT_DIR

Writes ``OUT_DIR/artifacts/media-dataset:v0`` and ``OUT_DIR/built.json``.
"""

from __future__ import annotations

import json
import math
import shutil
import struct
import sys
import wave
from pathlib import Path

import av
import numpy as np
import wandb
from PIL import Image

OUT = Path(sys.argv[1])
rng = np.random.default_rng(7)

ETHANOL = """\
COMPND    ETHANOL
HETATM    1  C1  EOH A   1      -0.748  -0.015   0.024  1.00  0.00           C
HETATM    2  C2  EOH A   1       0.558   0.420  -0.620  1.00  0.00           C
HETATM    3  O   EOH A   1       0.716   1.825  -0.433  1.00  0.00           O
HETATM    4  H1  EOH A   1      -1.293   0.850   0.399  1.00  0.00           H
HETATM    5  H2  EOH A   1      -1.386  -0.544  -0.688  1.00  0.00           H
HETATM    6  H3  EOH A   1      -0.560  -0.667   0.879  1.00  0.00           H
HETATM    7  H4  EOH A   1       1.375  -0.095  -0.099  1.00  0.00           H
HETATM    8  H5  EOH A   1       0.587   0.193  -1.690  1.00  0.00           H
HETATM    9  H6  EOH A   1       1.552   2.091  -0.818  1.00  0.00           H
END
"""


def moving_bar(i: int, width: int = 64, height: int = 48) -> np.ndarray:
    """A frame: a yellow bar on dark blue, further right in each frame."""
    frame = np.zeros((height, width, 3), np.uint8)
    frame[:] = (20, 30, 70)
    x = (i * 4) % (width - 8)
    frame[8:40, x : x + 8] = (250, 200, 20)
    return frame


def write_mp4(path: Path, frames: int = 24) -> None:
    with av.open(str(path), "w") as container:
        stream = container.add_stream("libx264", rate=12)
        stream.width, stream.height, stream.pix_fmt = 64, 48, "yuv420p"
        for i in range(frames):
            for packet in stream.encode(av.VideoFrame.from_ndarray(moving_bar(i), format="rgb24")):
                container.mux(packet)
        for packet in stream.encode():
            container.mux(packet)


def write_gif(path: Path, frames: int = 7) -> None:
    images = [Image.fromarray(moving_bar(i * 2)) for i in range(frames)]
    images[0].save(path, save_all=True, append_images=images[1:], duration=80, loop=0)


def write_wav(path: Path, freq: float, seconds: float = 1.5, rate: int = 16000) -> None:
    n = int(seconds * rate)
    with wave.open(str(path), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(rate)
        fade = [min(1.0, 4 * i / n, 4 * (n - i) / n) for i in range(n)]
        w.writeframes(
            b"".join(
                struct.pack(
                    "<h", int(0.6 * 32767 * fade[i] * math.sin(2 * math.pi * freq * i / rate))
                )
                for i in range(n)
            )
        )


def scene_with_boxes() -> wandb.Object3D:
    """Two coloured clusters of points, a labelled box around each, a vector between them."""
    red = rng.normal((-2, 0, 0), 0.4, (400, 3))
    green = rng.normal((2, 0, 1), 0.4, (400, 3))
    points = np.vstack(
        [
            np.c_[red, np.tile((230, 40, 40), (400, 1))],
            np.c_[green, np.tile((40, 200, 60), (400, 1))],
        ]
    )
    boxes = [
        wandb.box3d(
            center=(-2, 0, 0),
            size=(2, 2, 2),
            orientation=(1, 0, 0, 0),
            color=(1, 0.3, 0.3),
            label="car",
            score=0.9,
        ),
        wandb.box3d(
            center=(2, 0, 1),
            size=(2, 2, 2),
            orientation=(0.92, 0, 0, 0.38),
            color=(0.3, 1, 0.3),
            label="tree",
        ),
    ]
    vectors = np.array([{"start": [-2, 0, 0], "end": [2, 0, 1]}])
    return wandb.Object3D.from_point_cloud(points=points, boxes=boxes, vectors=vectors)


def main() -> None:
    inputs = OUT / "inputs"
    inputs.mkdir(parents=True, exist_ok=True)
    write_mp4(inputs / "bar.mp4")
    write_gif(inputs / "bar.gif")
    write_wav(inputs / "low.wav", 220)
    write_wav(inputs / "high.wav", 880)
    (inputs / "ethanol.pdb").write_text(ETHANOL)
    (inputs / "water.pdb").write_text(
        "ATOM      1  O   HOH A   1       0.000   0.000   0.000  1.00  0.00           O\n"
        "ATOM      2  H1  HOH A   1       0.957   0.000   0.000  1.00  0.00           H\n"
        "ATOM      3  H2  HOH A   1      -0.240   0.927   0.000  1.00  0.00           H\nEND\n"
    )
    categories = np.c_[rng.normal(0, 1, (300, 3)), rng.integers(1, 5, 300)]
    run = wandb.init(project="media", mode="offline", job_type="build")
    table = wandb.Table(columns=["id", "video", "audio", "cloud", "molecule"])
    table.add_data(
        0,
        wandb.Video(str(inputs / "bar.mp4"), caption="bar mp4"),
        wandb.Audio(str(inputs / "low.wav"), caption="low tone"),
        scene_with_boxes(),
        wandb.Molecule(str(inputs / "ethanol.pdb"), caption="ethanol"),
    )
    table.add_data(
        1,
        wandb.Video(str(inputs / "bar.gif"), caption="bar gif"),
        wandb.Audio(str(inputs / "high.wav"), caption="high tone"),
        wandb.Object3D(categories),
        wandb.Molecule(str(inputs / "water.pdb"), caption="water"),
    )
    art = wandb.Artifact("media-dataset", type="dataset", description="every media type")
    art.add(table, "media_table")
    run.log_artifact(art)
    root = OUT / "artifacts" / "media-dataset-v0"
    for path, entry in art.manifest.entries.items():
        dest = root / path
        dest.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(entry.local_path, dest)
    (root / "wandb_manifest.json").write_text(json.dumps(art.manifest.to_manifest_json(), indent=2))
    run.finish()
    (OUT / "built.json").write_text(json.dumps({"root": str(root)}))


if __name__ == "__main__":
    main()
