"""The image samples of ``import_bench.py --samples N`` and the scripts its contenders run.

Each sample: a real 32x32 PNG of seeded noise, a label (cat/dog/bird), a score and 0-5 detection
boxes. They are written once as a W&B artifact folder: ``media/images/{i:06d}.png`` and
``samples.table.json``, whose ``image-file`` cells carry the boxes under ``boxes.ground_truth``
(``class_id``, ``position`` minX/maxX/minY/maxY, ``domain: pixel``) besides width, height, format
and path, as the wandb SDK writes them (sorted keys, ASCII escapes).
"""

from __future__ import annotations

import json
import random
from pathlib import Path

import numpy as np
from PIL import Image

CLASSES = ["cat", "dog", "bird"]
SIDE = 32
TABLE = "samples"
DONE = ".bench-samples-done"  # beside the folder: it is complete, with this many samples


def box(rnd: random.Random) -> dict:
    x0, y0 = rnd.randint(0, SIDE - 8), rnd.randint(0, SIDE - 8)
    return {
        "class_id": rnd.randrange(len(CLASSES)),
        "domain": "pixel",
        "position": {
            "maxX": rnd.randint(x0 + 4, SIDE),
            "maxY": rnd.randint(y0 + 4, SIDE),
            "minX": x0,
            "minY": y0,
        },
    }


def write_samples(folder: Path, n: int) -> None:
    """Write ``n`` samples as a W&B artifact folder (reused when it is already complete)."""
    marker = folder.parent / DONE
    if marker.exists() and marker.read_text().strip() == str(n):
        return
    marker.unlink(missing_ok=True)
    images = folder / "media" / "images"
    images.mkdir(parents=True, exist_ok=True)
    rng, rnd = np.random.default_rng(0), random.Random(0)
    with open(folder / f"{TABLE}.table.json", "w", encoding="ascii") as f:
        f.write('{"_type": "table", "columns": ["id", "image", "label", "score"], "data": [')
        for i in range(n):
            path = f"media/images/{i:06d}.png"
            noise = rng.integers(0, 255, (SIDE, SIDE, 3), dtype=np.uint8)
            Image.fromarray(noise).save(folder / path)
            cell = {
                "_type": "image-file",
                "boxes": {"ground_truth": [box(rnd) for _ in range(rnd.randint(0, 5))]},
                "format": "png",
                "height": SIDE,
                "path": path,
                "width": SIDE,
            }
            row = [i, cell, rnd.choice(CLASSES), round(rnd.random(), 6)]
            f.write((", " if i else "") + json.dumps(row, sort_keys=True))
        f.write(f'], "log_mode": "IMMUTABLE", "ncols": 4, "nrows": {n}}}')
    marker.write_text(f"{n}\n")  # outside the folder: not a file of the artifact


FILTER_SIMPLE = 'row["score"] > 0.5 and row["label"] == "cat"'
FILTER_REPEAT = 5

DESKTOPVIZ_FILTER = r"""
import json, sys, time
import desktopviz as dv

cache, ref, table, expr, repeat = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4], int(sys.argv[5])
q = dv.open_cache(cache).table(ref, table)
q.filter('row["score"] > 2').num_rows  # warm-up: open the table, start DuckDB
times = []
for _ in range(repeat + 1):
    q._engine.clear()  # no kept result: every run executes the filter
    start = time.perf_counter()
    n = q.filter(expr).num_rows
    times.append(time.perf_counter() - start)
times = sorted(times[1:])  # the first also parses and plans cold
print(json.dumps({"count": n, "ms": times[len(times) // 2] * 1000}))
"""

FIFTYONE_INGEST = r"""
import json, sys, time
start = time.perf_counter()
import fiftyone as fo
imported = time.perf_counter()
root, name, classes = sys.argv[1], sys.argv[2], sys.argv[3].split(",")
with open(f"{root}/samples.table.json") as f:
    table = json.load(f)
columns = table["columns"]
samples = []
for values in table["data"]:
    r = dict(zip(columns, values))
    image = r["image"]
    w, h = image["width"], image["height"]
    detections = []
    for b in image["boxes"]["ground_truth"]:
        p = b["position"]
        detections.append(fo.Detection(
            label=classes[b["class_id"]],
            bounding_box=[p["minX"] / w, p["minY"] / h, (p["maxX"] - p["minX"]) / w,
                          (p["maxY"] - p["minY"]) / h],
        ))
    samples.append(fo.Sample(
        filepath=f"{root}/{image['path']}",
        label=fo.Classification(label=r["label"]),
        score=r["score"],
        ground_truth=fo.Detections(detections=detections),
    ))
built = time.perf_counter()
dataset = fo.Dataset(name, persistent=True)
opened = time.perf_counter()
dataset.add_samples(samples)
added = time.perf_counter()
print(json.dumps({"count": len(dataset), "import": imported - start, "build": built - imported,
                  "dataset": opened - built, "add_samples": added - opened}))
"""

FIFTYONE_FILTER = r"""
import json, sys, time
import fiftyone as fo
from fiftyone import ViewField as F

dataset, repeat = fo.load_dataset(sys.argv[1]), int(sys.argv[2])
view = dataset.match((F("score") > 0.5) & (F("label.label") == "cat"))
dataset.match(F("score") > 2).count()  # warm-up: connect, first query
times = []
for _ in range(repeat + 1):
    start = time.perf_counter()
    n = view.count()
    times.append(time.perf_counter() - start)
times = sorted(times[1:])
print(json.dumps({"count": n, "ms": times[len(times) // 2] * 1000}))
"""


def fiftyone_env(base: dict[str, str], folder: Path) -> dict[str, str]:
    """FiftyOne confined to ``folder`` (database, config, datasets), no tracking, no progress."""
    folder.mkdir(parents=True, exist_ok=True)
    return dict(
        base,
        FIFTYONE_DATABASE_DIR=str(folder / "db"),
        FIFTYONE_CONFIG_PATH=str(folder / "config.json"),
        FIFTYONE_APP_CONFIG_PATH=str(folder / "app_config.json"),
        FIFTYONE_ANNOTATION_CONFIG_PATH=str(folder / "annotation_config.json"),
        FIFTYONE_EVALUATION_CONFIG_PATH=str(folder / "evaluation_config.json"),
        FIFTYONE_DEFAULT_DATASET_DIR=str(folder / "datasets"),
        FIFTYONE_DO_NOT_TRACK="true",
        FIFTYONE_SHOW_PROGRESS_BARS="false",
    )
