"""Import benchmark: a 200,000-row W&B table.json into a fresh cache with the desktopviz CLI, against
the wandb SDK's own ``Table.from_json`` on the same file, each in its own process.

    python bench/import_bench.py                 # plain table: numbers, strings, nested dicts and lists
    python bench/import_bench.py --images        # the same plus an image column (boxes, masks, classes)
    python bench/import_bench.py --size-gb 2 --skip-wandb   # a 2 GB table.json: memory stays bounded
    python bench/import_bench.py --images --manifest --repeat 5 --skip-wandb   # as a W&B download
                                                 # folder; also times the unchanged re-import

With ``--repeat N`` each desktopviz figure is the median of N runs (a fresh cache each). The
"re-import" line imports the same input again into that cache: unchanged content, which is
checked against its manifest's digests (or hashed) before it is called unchanged.

Prints seconds, rows/s and peak RSS per contender, and the ratios (speedup, memory ratio) against
the targets (>= 10x faster, <= 60% of wandb's peak memory).
"""

from __future__ import annotations

import argparse
import json
import os
import random
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image

TARGET_SPEEDUP = 10.0
TARGET_MEMORY_RATIO = 0.60
COLUMNS = ["id", "score", "loss", "label", "text", "meta", "tags", "embedding", "flag", "maybe"]
LABELS = ["car", "bus", "person", "tree", "building"]
N_IMAGES = 200


@dataclass
class Measure:
    name: str
    seconds: float
    peak_mb: float
    ok: bool
    note: str = ""


def row(i: int, rnd: random.Random) -> list:
    return [
        i,
        round(rnd.random(), 6),
        round(rnd.random() * 3, 6),
        rnd.choice(LABELS),
        f"naïve café №{i} 日本",
        {
            "geo": {"lat": round(rnd.uniform(-90, 90), 5), "lon": round(rnd.uniform(-180, 180), 5)},
            "n": i,
            "source": "synthetic",
        },
        [f"t{i % 7}", "common"],
        [round(rnd.random(), 4) for _ in range(4)],
        i % 2 == 0,
        None if i % 10 == 0 else round(rnd.random(), 6),
    ]


def image_cell(i: int) -> dict:
    k = i % N_IMAGES
    return {
        "_type": "image-file",
        "format": "png",
        "width": 32,
        "height": 32,
        "caption": f"sample {i}",
        "path": f"media/images/img{k:04d}.png",
        "boxes": {
            "ground_truth": [
                {
                    "box_caption": "car",
                    "class_id": 1,
                    "domain": "pixel",
                    "position": {"minX": 4, "maxX": 20, "minY": 6, "maxY": 18},
                    "scores": {"iou": 0.8},
                }
            ]
        },
        "masks": {
            "ground_truth": {"_type": "mask", "path": f"media/images/mask/m{k:04d}.mask.png"}
        },
        "classes": {"type": "classes-file", "path": "media/classes/c_cls.classes.json"},
    }


def write_media(root: Path) -> None:
    rng = np.random.default_rng(0)
    (root / "media/images/mask").mkdir(parents=True, exist_ok=True)
    (root / "media/classes").mkdir(parents=True, exist_ok=True)
    for k in range(N_IMAGES):
        Image.fromarray(rng.integers(0, 255, (32, 32, 3), dtype=np.uint8)).save(
            root / f"media/images/img{k:04d}.png"
        )
        Image.fromarray(rng.integers(0, 3, (32, 32), dtype=np.uint8), mode="L").save(
            root / f"media/images/mask/m{k:04d}.mask.png"
        )
    classes = {
        "_type": "classes",
        "class_set": [
            {"id": 0, "name": "background"},
            {"id": 1, "name": "car"},
            {"id": 2, "name": "road"},
        ],
    }
    (root / "media/classes/c_cls.classes.json").write_text(json.dumps(classes))


def generate(path: Path, rows: int, images: bool, size_bytes: int | None = None) -> int:
    """Write a table.json as the wandb SDK does (sorted keys, ASCII escapes), streaming; return rows."""
    rnd = random.Random(0)
    columns = COLUMNS + (["image"] if images else [])
    n = 0
    with open(path, "w", encoding="ascii") as f:
        f.write('{"_type": "table", "columns": ' + json.dumps(columns) + ', "data": [')
        while (size_bytes is None and n < rows) or (
            size_bytes is not None and f.tell() < size_bytes
        ):
            r = row(n, rnd) + ([image_cell(n)] if images else [])
            f.write((", " if n else "") + json.dumps(r, sort_keys=True))
            n += 1
        f.write(f'], "log_mode": "IMMUTABLE", "ncols": {len(columns)}, "nrows": {n}}}')
    if images:
        write_media(path.parent)
    return n


WANDB_LOADER = r"""
import json, sys
import wandb

class LocalArtifactStandIn:
    '''Stands in for a downloaded wandb.Artifact: entries are the files beside the table.'''
    def __init__(self, root): self.root = root
    def get_entry(self, path):
        root = self.root
        class Entry:
            def download(self, *a, **k): return f"{root}/{path}"
        return Entry()
    def get(self, path):
        return wandb.Classes.from_json(json.load(open(f"{self.root}/{path}")), self)

path, root = sys.argv[1], sys.argv[2]
with open(path) as f:
    obj = json.load(f)
table = wandb.Table.from_json(obj, LocalArtifactStandIn(root))
print(len(table.data))
"""


def median(runs: list[Measure]) -> Measure:
    """The run of median time (its own peak memory); a failed run wins, to be seen."""
    failed = [m for m in runs if not m.ok]
    return failed[0] if failed else sorted(runs, key=lambda m: m.seconds)[len(runs) // 2]


def write_download_folder(table: Path, folder: Path) -> Path:
    """The table and its media as a W&B download folder with ``wandb_manifest.json``."""
    import base64
    import hashlib
    import shutil

    if folder.exists():
        shutil.rmtree(folder)
    folder.mkdir(parents=True)
    shutil.copyfile(table, folder / table.name)
    if (table.parent / "media").is_dir():
        shutil.copytree(table.parent / "media", folder / "media")
    contents = {}
    for p in sorted(x for x in folder.rglob("*") if x.is_file()):
        digest = base64.b64encode(hashlib.md5(p.read_bytes()).digest()).decode()
        contents[p.relative_to(folder).as_posix()] = {"digest": digest, "size": p.stat().st_size}
    manifest = {
        "version": 1,
        "storagePolicy": "wandb-storage-policy-v1",
        "storagePolicyConfig": {"storageLayout": "V2"},
        "contents": contents,
    }
    (folder / "wandb_manifest.json").write_text(json.dumps(manifest))
    return folder


def measure(name: str, cmd: list[str], env: dict[str, str]) -> Measure:
    """Run ``cmd`` as a child; wall time and the child's own peak RSS (wait4 rusage)."""
    start = time.perf_counter()
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    _, status, usage = os.wait4(proc.pid, 0)
    seconds = time.perf_counter() - start
    proc.returncode = os.waitstatus_to_exitcode(status)
    stderr = proc.stderr.read().decode(errors="replace") if proc.stderr else ""
    note = (
        ""
        if proc.returncode == 0
        else f"exit {proc.returncode}: {stderr.strip().splitlines()[-1:]}"
    )
    return Measure(name, seconds, usage.ru_maxrss / 1024, proc.returncode == 0, note)


def main() -> int:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("--rows", type=int, default=200_000)
    ap.add_argument(
        "--images", action="store_true", help="add an image column (boxes, masks, classes)"
    )
    ap.add_argument(
        "--size-gb", type=float, help="generate a table.json of this size instead of --rows"
    )
    ap.add_argument("--skip-wandb", action="store_true")
    ap.add_argument(
        "--manifest",
        action="store_true",
        help="write the input as a W&B download folder with wandb_manifest.json",
    )
    ap.add_argument("--repeat", type=int, default=1, help="median of N desktopviz runs")
    ap.add_argument("--keep", metavar="DIR", help="write the files here and keep them")
    ap.add_argument("--check", action="store_true", help="exit 1 when a target is missed")
    args = ap.parse_args()

    work = Path(args.keep) if args.keep else Path(tempfile.mkdtemp(prefix="dv-bench-"))
    src = work / "bench" / "table.table.json"
    src.parent.mkdir(parents=True, exist_ok=True)
    size = int(args.size_gb * 1024**3) if args.size_gb else None
    t0 = time.perf_counter()
    rows = generate(src, args.rows, args.images, size)
    print(
        f"generated {rows:,} rows, {src.stat().st_size / 1e6:,.1f} MB in {time.perf_counter() - t0:.1f} s: {src}"
    )

    target = (
        write_download_folder(src, work / "bench" / "artifacts" / "table:v0")
        if args.manifest
        else src
    )
    env = dict(os.environ, PYTHONWARNINGS="ignore")
    firsts, agains = [], []
    for _ in range(max(1, args.repeat)):
        cache = str(work / f"cache-{time.time_ns()}")
        cmd = [
            sys.executable,
            "-m",
            "desktopviz",
            "--cache",
            cache,
            "import",
            str(target),
            "--quiet",
        ]
        firsts.append(measure("desktopviz import", cmd, env))
        agains.append(measure("desktopviz re-import", cmd, env))
    ours, again = median(firsts), median(agains)
    results = [ours, again]
    theirs = None
    if not args.skip_wandb:
        wenv = dict(
            env,
            WANDB_MODE="offline",
            WANDB_SILENT="true",
            WANDB_DIR=str(work / "w"),
            WANDB_CACHE_DIR=str(work / "wc"),
            WANDB_DATA_DIR=str(work / "wd"),
            WANDB_CONFIG_DIR=str(work / "wcfg"),
        )
        theirs = measure(
            "wandb Table.from_json",
            [sys.executable, "-c", WANDB_LOADER, str(src), str(src.parent)],
            wenv,
        )
        results.append(theirs)

    print(f"\n{'contender':<24}{'seconds':>9}{'rows/s':>12}{'peak RSS MB':>13}  note")
    for m in results:
        print(
            f"{m.name:<24}{m.seconds:>9.2f}{rows / m.seconds:>12,.0f}{m.peak_mb:>13.0f}  {m.note}"
        )
    failed = not ours.ok
    if theirs and theirs.ok and ours.ok:
        speedup = theirs.seconds / ours.seconds
        memory = ours.peak_mb / theirs.peak_mb
        s_ok, m_ok = speedup >= TARGET_SPEEDUP, memory <= TARGET_MEMORY_RATIO
        print(
            f"\nspeedup      {speedup:6.1f}x   (target >= {TARGET_SPEEDUP:.0f}x)   {'PASS' if s_ok else 'FAIL'}"
        )
        print(
            f"memory ratio {memory:6.2f}    (target <= {TARGET_MEMORY_RATIO:.2f})   {'PASS' if m_ok else 'FAIL'}"
        )
        failed |= not (s_ok and m_ok)
    return 1 if (args.check and failed) else 0


if __name__ == "__main__":
    raise SystemExit(main())
