"""Run with the real wandb SDK (offline), as a training job writing to a shared folder: a run that
logs a small predictions table as an artifact, some metrics, and finishes. Usage:
python folder_run.py NAME [PAUSE_MARKER GO_FILE]

With PAUSE_MARKER and GO_FILE, the run writes PAUSE_MARKER after logging the artifact and waits
(still running) until GO_FILE exists before it logs more and finishes. Prints the run folder.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

import wandb


def main() -> None:
    name = sys.argv[1]
    run = wandb.init(project="share", mode="offline", job_type="train", config={"name": name})
    table = wandb.Table(columns=["id", "score"], data=[[i, i / 10] for i in range(5)])
    art = wandb.Artifact(f"{name}-preds", type="predictions")
    art.add(table, "preds")
    run.log_artifact(art)
    run.log({"loss": 0.5})
    if len(sys.argv) > 3:
        Path(sys.argv[2]).write_text("paused")
        deadline = time.monotonic() + 120
        while not Path(sys.argv[3]).exists() and time.monotonic() < deadline:
            time.sleep(0.1)
    run.log({"loss": 0.25})
    run.finish()
    print(Path(run.dir).parent)


if __name__ == "__main__":
    main()
