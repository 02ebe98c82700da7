"""Run with the real wandb SDK (offline): a training run that logs a predictions artifact and then
a table referencing it (a second artifact and a ``run.log`` table), and an evaluation run that
logs a table referencing the same predictions. Usage: python lineage_runs.py OUT_DIR

Prints JSON: the two run folders.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np
import wandb

OUT = Path(sys.argv[1])
rng = np.random.default_rng(0)


def image(i: int) -> wandb.Image:
    return wandb.Image(rng.integers(0, 255, (8, 10, 3), dtype=np.uint8), caption=f"img {i}")


def main() -> None:
    train = wandb.init(project="lin", mode="offline", job_type="train")
    preds_table = wandb.Table(columns=["id", "image", "score"])
    for i in range(3):
        preds_table.add_data(i, image(i), i / 4)
    preds = wandb.Artifact("preds", type="predictions")
    preds.add(preds_table, "preds")
    train.log_artifact(preds)
    # the same run refers to what it just produced: a review artifact and a logged table
    review = wandb.Table(columns=["id", "image", "ok"])
    for row in preds_table.data:
        review.add_data(row[0], row[1], row[2] > 0.3)
    summary = wandb.Artifact("review", type="review")
    summary.add(review, "review")
    summary.add(wandb.JoinedTable(preds_table, review, "id"), "joined")
    train.log_artifact(summary)
    train.log({"t": review})
    train.finish()

    evaluate = wandb.init(project="lin", mode="offline", job_type="eval")
    scored = wandb.Table(columns=["id", "image", "good"])
    for row in preds_table.data:
        scored.add_data(row[0], row[1], row[2] > 0.5)
    ev = wandb.Artifact("eval", type="evaluation")
    ev.add(scored, "eval")
    ev.add(wandb.JoinedTable(preds_table, scored, "id"), "joined")
    evaluate.log_artifact(ev)
    evaluate.finish()
    print(
        json.dumps({"train": str(Path(train.dir).parent), "eval": str(Path(evaluate.dir).parent)})
    )


if __name__ == "__main__":
    main()
