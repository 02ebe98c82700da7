"""Run with the real wandb SDK (offline): log a dataset artifact holding every cell type and a
predictions artifact that references the dataset's files, then lay both out as
``artifact.download()`` would. Usage: python build_artifacts.py OUT_DIR

The only thing that cannot run here is the W&B server; ``ServerStandIn`` answers the one lookup
the SDK makes of it (an artifact by id, to resolve ``wandb-artifact://`` references).
"""

from __future__ import annotations

import base64
import json
import os
import random
import shutil
import struct
import sys
import wave
from pathlib import Path

import numpy as np
import wandb
from PIL import Image as PILImage
from wandb.sdk.artifacts.artifact_state import ArtifactState
from wandb.sdk.artifacts.storage_handlers import wb_artifact_handler

OUT = Path(sys.argv[1])
random.seed(0)
rng = np.random.default_rng(0)
LABELS = {0: "background", 1: "car", 2: "road", 3: "building"}
REGISTRY: dict[str, wandb.Artifact] = {}


class ServerStandIn:
    """Stand-in for the W&B server's artifact-by-id lookup (no server runs here)."""

    def _artifact_from_id(self, artifact_id: str) -> wandb.Artifact:
        return REGISTRY[artifact_id]


wb_artifact_handler.WBArtifactHandler.client = property(lambda self: ServerStandIn())  # type: ignore[assignment]


def _folder(name: str) -> str:
    """The download folder of ``name:v0``: Windows allows no ``:`` in names (wandb writes
    ``name-v0`` there)."""
    return name.replace(":", "-") if os.name == "nt" else name


def commit(art: wandb.Artifact, n: int) -> Path:
    """Give a logged artifact what the server would (id, version, committed state), lay it out."""
    art._id = base64.b64encode(f"Artifact:{n}".encode()).decode()
    art._version = "v0"
    art._source_name = art._name = f"{art.name.split(':')[0]}:v0"
    art._state = ArtifactState.COMMITTED
    REGISTRY[art._id] = art
    root = OUT / "artifacts" / _folder(art._source_name)
    for path, entry in art.manifest.entries.items():
        dest = root / path
        dest.parent.mkdir(parents=True, exist_ok=True)
        if entry.local_path:
            shutil.copyfile(entry.local_path, dest)
        else:  # a reference: download() materialises it from the source artifact
            ref = entry.ref.split("/", 3)[3]
            source = REGISTRY[base64.b64encode(bytes.fromhex(entry.ref.split("/")[2])).decode()]
            shutil.copyfile(OUT / "artifacts" / _folder(source._source_name) / ref, dest)
    (root / "wandb_manifest.json").write_text(json.dumps(art.manifest.to_manifest_json(), indent=2))
    return root


def image(i: int) -> wandb.Image:
    pixels = rng.integers(0, 255, (24, 32, 3), dtype=np.uint8)
    mask = np.zeros((24, 32), dtype=np.uint8)
    mask[12:, :] = 2
    mask[4:10, 5:15] = 1
    return wandb.Image(
        pixels,
        caption=f"sample {i}",
        classes=wandb.Classes([{"id": k, "name": v} for k, v in LABELS.items()]),
        boxes={
            "ground_truth": {
                "box_data": [
                    {
                        "position": {"minX": 5, "maxX": 15, "minY": 4, "maxY": 10},
                        "domain": "pixel",
                        "class_id": 1,
                        "box_caption": "car",
                        "scores": {"iou": 1.0},
                    },
                    {
                        "position": {"middle": [0.5, 0.25], "width": 0.4, "height": 0.3},
                        "class_id": 3,
                        "box_caption": "building",
                        "scores": {"acc": 0.9},
                    },
                ],
                "class_labels": LABELS,
            },
        },
        masks={"ground_truth": {"mask_data": mask, "class_labels": LABELS}},
    )


def media_cells(tmp: Path) -> dict[str, object]:
    """One cell of each other media type that works without optional packages."""
    cells: dict[str, object] = {}
    wav = tmp / "tone.wav"
    with wave.open(str(wav), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(8000)
        w.writeframes(b"".join(struct.pack("<h", int(8000 * np.sin(i / 5))) for i in range(800)))
    gif = tmp / "clip.gif"
    frames = [PILImage.fromarray(rng.integers(0, 255, (8, 8, 3), dtype=np.uint8)) for _ in range(3)]
    frames[0].save(gif, save_all=True, append_images=frames[1:])
    pdb = tmp / "water.pdb"
    pdb.write_text(
        "ATOM      1  O   HOH A   1       0.000   0.000   0.000  1.00  0.00           O\nEND\n"
    )
    makers = {
        "audio": lambda: wandb.Audio(str(wav), caption="tone"),
        "video": lambda: wandb.Video(str(gif), format="gif"),
        "html": lambda: wandb.Html("<h1>héllo</h1>"),
        "object3d": lambda: wandb.Object3D(rng.random((20, 3))),
        "molecule": lambda: wandb.Molecule(str(pdb)),
    }
    for name, make in makers.items():
        try:
            cells[name] = make()
        except Exception as e:  # an optional package missing here: recorded, not hidden
            cells[name] = None
            print(f"skipped {name}: {type(e).__name__}: {e}", file=sys.stderr)
    return cells


def main() -> None:
    tmp = OUT / "inputs"
    tmp.mkdir(parents=True, exist_ok=True)
    run = wandb.init(
        project="compat", mode="offline", config={"lr": 0.01, "layers": [64, 32]}, job_type="build"
    )
    media = media_cells(tmp)
    media_names = [k for k, v in media.items() if v is not None]
    columns = [
        "id",
        "image",
        "label",
        "score",
        "flag",
        "text",
        "none",
        "nan",
        "meta",
        "tags",
        "embedding",
        "matrix",
        *media_names,
    ]
    table = wandb.Table(columns=columns)
    for i in range(12):
        table.add_data(
            i,
            image(i),
            random.choice(["car", "road"]),
            round(random.random(), 6),
            i % 2 == 0,
            ["naïve café", "日本語テキスト", "emoji 🎉", 'quote " and \\ backslash'][i % 4],
            None,
            float("nan"),
            {"geo": {"lat": 48.1 + i, "lon": 11.5}, "n": i, "source": "synthetic"},
            [f"t{i}", "common"],
            np.round(rng.random(8), 4),
            rng.random((2, 3)).round(4),
            *[media[k] for k in media_names],
        )
    dataset = wandb.Artifact(
        "demo-dataset", type="dataset", description="every cell type", metadata={"rows": 12}
    )
    dataset.add(table, "dataset_table")
    dataset.add(wandb.Classes([{"id": k, "name": v} for k, v in LABELS.items()]), "classes")
    parts = []
    for p in range(3):
        part = wandb.Table(
            columns=["id", "value"], data=[[p * 10 + j, float(j) / 3] for j in range(4)]
        )
        dataset.add(part, f"parts/part_{p}")
        parts.append(part)
    dataset.add(wandb.data_types.PartitionedTable(parts_path="parts"), "partitioned")
    other = wandb.Table(columns=["id", "weight"], data=[[i, i * 1.5] for i in range(12)])
    dataset.add(other, "weights_table")
    dataset.add(wandb.JoinedTable(table, other, "id"), "joined")
    run.log_artifact(dataset)
    dataset_root = commit(dataset, 1001)

    source = json.loads((dataset_root / "dataset_table.table.json").read_text())
    loaded = wandb.Table.from_json(source, dataset)
    loaded._set_artifact_source(dataset, "dataset_table")
    preds = wandb.Table(columns=["id", "image", "prediction", "score"])
    for row in loaded.data:
        preds.add_data(row[0], row[1], random.choice(["car", "road"]), round(random.random(), 4))
    predictions = wandb.Artifact("demo-predictions", type="predictions", metadata={"model": "toy"})
    predictions.add(preds, "predictions_table")
    predictions.add(wandb.JoinedTable(preds, loaded, ["id", "id"]), "joined")
    run.log_artifact(predictions)
    commit(predictions, 1002)
    run.log({"loss": 0.5, "acc": 0.75})
    run.log({"loss": 0.25, "acc": 0.875})
    run.summary["best_acc"] = 0.875
    run.finish()
    (OUT / "built.json").write_text(
        json.dumps({"media": media_names, "run_dir": str(Path(run.dir).parent)})
    )


if __name__ == "__main__":
    main()
