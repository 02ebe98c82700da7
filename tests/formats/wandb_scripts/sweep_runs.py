"""Runs with the real wandb SDK (offline): a few short training runs of one sweep-like study
(varied ``lr`` and ``batch_size``), each logging ``loss`` and ``acc`` over steps, with system
metrics sampled every 0.2 s. Usage: python sweep_runs.py N. Prints one run folder per line.
"""

from __future__ import annotations

import math
import sys
import time
from pathlib import Path

import wandb


def main() -> None:
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 2
    for i in range(n):
        lr = [0.1, 0.01, 0.001][i % 3]
        run = wandb.init(
            project="study",
            mode="offline",
            job_type="train",
            name=f"trial-{i}",
            config={"lr": lr, "batch_size": 16 * (i + 1), "optimizer": {"name": "adam"}},
            settings=wandb.Settings(x_stats_sampling_interval=0.2),
        )
        for step in range(6):
            run.log({"loss": round(math.exp(-lr * 10 * step) + i * 0.01, 4), "acc": step / 6})
            time.sleep(0.15)
        run.summary["best_acc"] = 5 / 6
        run.finish()
        print(Path(run.dir).parent)


if __name__ == "__main__":
    main()
