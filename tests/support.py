"""Test data built by code: images with boxes (both position forms), masks and classes."""

from __future__ import annotations

import numpy as np

import desktopviz as dv


def sample_image(seed: int) -> dv.Image:
    """A 24x20 image with a pixel-domain and a relative box, a mask and three classes."""
    rng = np.random.default_rng(seed)
    labels = {0: "background", 1: "car", 2: "road"}
    return dv.Image(
        rng.integers(0, 255, (20, 24, 3), dtype=np.uint8),
        caption=f"sample {seed}",
        boxes={
            "ground_truth": {
                "box_data": [
                    {
                        "position": {"minX": 2, "maxX": 9, "minY": 3, "maxY": 8},
                        "domain": "pixel",
                        "class_id": 1,
                        "box_caption": "car",
                        "scores": {"iou": 0.75},
                    },
                    {
                        "position": {"middle": [0.5, 0.5], "width": 0.2, "height": 0.3},
                        "class_id": 2,
                    },
                ],
                "class_labels": labels,
            },
        },
        masks={
            "ground_truth": {
                "mask_data": rng.integers(0, 3, (20, 24)).astype(np.uint8),
                "class_labels": labels,
            }
        },
    )
