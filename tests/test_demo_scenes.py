"""Tests for the procedural demo scene generator."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from desktopviz.demo_scenes import (
    CLASS_NAMES,
    CLASSES,
    WEATHERS,
    Box,
    Prediction,
    Scene,
    make_scene,
    make_scenes,
    predict,
)

N = 100


@pytest.fixture(scope="module")
def scenes() -> list[Scene]:
    return list(make_scenes(N, seed=0))


@pytest.fixture(scope="module")
def predictions(scenes: list[Scene]) -> dict[float, list[Prediction]]:
    # identically seeded generators per scene: only the skill differs between the two models
    return {
        skill: [predict(s, np.random.default_rng((7, i)), skill) for i, s in enumerate(scenes)]
        for skill in (0.6, 0.85)
    }


def _same_scene(a: Scene, b: Scene) -> bool:
    return (
        np.array_equal(a.image, b.image)
        and np.array_equal(a.mask, b.mask)
        and np.array_equal(a.instances, b.instances)
        and a.boxes == b.boxes
        and (a.label, a.weather, a.brightness, a.coverage, a.occlusion, a.object_count)
        == (b.label, b.weather, b.brightness, b.coverage, b.occlusion, b.object_count)
    )


# ----------------------------------------------------------------------------- basics


def test_classes_table() -> None:
    ids = [cid for cid, _, _ in CLASSES]
    assert ids[0] == 0 and CLASSES[0][1] == "background"
    assert ids == list(range(len(ids))) and 7 <= len(ids) <= 9 and max(ids) < 128
    assert len({name for _, name, _ in CLASSES}) == len(CLASSES)
    for _, _, rgb in CLASSES:
        assert len(rgb) == 3 and all(0 <= c <= 255 for c in rgb)


def test_scene_shapes_and_attributes(scenes: list[Scene]) -> None:
    for s in scenes:
        assert s.image.shape == (128, 128, 3) and s.image.dtype == np.uint8
        assert s.mask.shape == (128, 128) and s.mask.dtype == np.uint8
        assert s.instances.shape == (128, 128)
        assert set(np.unique(s.mask)) <= set(CLASS_NAMES)
        assert 1 <= s.object_count == len(s.boxes) <= 6
        assert s.weather in WEATHERS
        assert s.label in CLASS_NAMES.values() and s.label != "background"
        assert 0.0 <= s.brightness <= 1.0
        assert 0.0 < s.coverage <= 1.0
        assert 0.0 <= s.occlusion < 1.0
        assert not s.image.flags.writeable and not s.mask.flags.writeable


@pytest.mark.parametrize("size", [64, 200])
def test_other_sizes(size: int) -> None:
    s = make_scene(np.random.default_rng(3), size)
    assert s.image.shape == (size, size, 3) and s.mask.shape == (size, size)
    for b in s.boxes:
        assert 0 <= b.min_x < b.max_x <= size and 0 <= b.min_y < b.max_y <= size


# ------------------------------------------------------------------------ determinism


def test_same_seed_identical() -> None:
    a = list(make_scenes(6, seed=42))
    b = list(make_scenes(6, seed=42))
    assert all(_same_scene(x, y) for x, y in zip(a, b, strict=True))
    # scene i is reproducible on its own
    assert _same_scene(make_scene(np.random.default_rng((42, 4))), a[4])


def test_different_seed_differs() -> None:
    a = list(make_scenes(4, seed=1))
    b = list(make_scenes(4, seed=2))
    assert not any(np.array_equal(x.image, y.image) for x, y in zip(a, b, strict=True))


def test_predict_deterministic(scenes: list[Scene]) -> None:
    s = scenes[5]
    p1 = predict(s, np.random.default_rng(9), 0.7)
    p2 = predict(s, np.random.default_rng(9), 0.7)
    assert p1.boxes == p2.boxes and np.array_equal(p1.mask, p2.mask)
    assert (p1.label, p1.confidence, p1.label_probs, p1.class_iou) == (
        p2.label,
        p2.confidence,
        p2.label_probs,
        p2.class_iou,
    )


# ---------------------------------------------------------------------------- variety


def test_variety(scenes: list[Scene]) -> None:
    seen = {b.class_id for s in scenes for b in s.boxes}
    assert seen == {cid for cid, _, _ in CLASSES if cid != 0}
    labels = [s.label for s in scenes]
    assert len(set(labels)) >= 6
    assert max(labels.count(x) for x in set(labels)) < 0.4 * N
    assert len({s.weather for s in scenes}) == len(WEATHERS)
    assert len({s.object_count for s in scenes}) >= 4
    assert np.std([s.brightness for s in scenes]) > 0.05


def test_images_not_near_identical(scenes: list[Scene]) -> None:
    small = np.stack([s.image[::2, ::2].astype(np.float32) for s in scenes])
    diffs = [
        float(np.abs(small[i] - small[j]).mean())
        for i, j in itertools.combinations(range(len(small)), 2)
    ]
    assert np.mean(diffs) > 25.0
    assert min(diffs) > 3.0


# ---------------------------------------------------------------- boxes / mask agree


def test_boxes_match_mask(scenes: list[Scene]) -> None:
    for s in scenes:
        for i, b in enumerate(s.boxes):
            crop = s.mask[b.min_y : b.max_y, b.min_x : b.max_x]
            assert (crop == b.class_id).any()
            assert b.caption == CLASS_NAMES[b.class_id]
            # tight: the object's pixels touch all four edges of its box
            inst = s.instances[b.min_y : b.max_y, b.min_x : b.max_x] == i + 1
            assert inst.sum() == (s.instances == i + 1).sum() > 0
            assert inst[0].any() and inst[-1].any() and inst[:, 0].any() and inst[:, -1].any()
        for cid in np.unique(s.mask):
            if cid == 0:
                continue
            covered = np.zeros(s.mask.shape, bool)
            for b in s.boxes:
                if b.class_id == cid:
                    covered[b.min_y : b.max_y, b.min_x : b.max_x] = True
            assert covered[s.mask == cid].all(), f"class {cid} pixels outside its boxes"
        # instance map and class mask agree; label is the class covering most pixels
        assert np.array_equal(s.instances > 0, s.mask > 0)
        area = np.bincount(s.mask.ravel(), minlength=len(CLASSES))
        area[0] = 0
        assert CLASS_NAMES[int(np.argmax(area))] == s.label


# ------------------------------------------------------------------------ predictions


def test_prediction_values(scenes: list[Scene], predictions: dict[float, list[Prediction]]) -> None:
    for preds in predictions.values():
        for s, p in zip(scenes, preds, strict=True):
            assert p.mask.shape == s.mask.shape and p.mask.dtype == np.uint8
            for b in p.boxes:
                assert isinstance(b, Box) and b.score is not None and 0.0 <= b.score <= 1.0
                assert 0 <= b.min_x < b.max_x <= 128 and 0 <= b.min_y < b.max_y <= 128
                assert b.class_id in CLASS_NAMES and b.class_id != 0
            assert abs(sum(p.label_probs.values()) - 1.0) < 1e-3
            assert p.label == max(p.label_probs, key=p.label_probs.__getitem__)
            assert abs(p.confidence - p.label_probs[p.label]) < 1e-3
            assert all(0.0 <= v <= 1.0 for v in p.class_iou.values())
            assert set(p.class_iou) >= {CLASS_NAMES[b.class_id] for b in s.boxes}


def test_skill_orders_quality(
    scenes: list[Scene], predictions: dict[float, list[Prediction]]
) -> None:
    lo, hi = predictions[0.6], predictions[0.85]

    def mean_iou(ps: list[Prediction]) -> float:
        return float(np.mean([p.mean_iou for p in ps]))

    def mean_score(ps: list[Prediction]) -> float:
        return float(np.mean([b.score for p in ps for b in p.boxes]))

    def accuracy(ps: list[Prediction]) -> float:
        return float(np.mean([p.label == s.label for p, s in zip(ps, scenes, strict=True)]))

    assert mean_iou(hi) > mean_iou(lo) + 0.1
    assert mean_score(hi) > mean_score(lo) + 0.05
    assert accuracy(hi) >= accuracy(lo)
    assert np.mean([p.confidence for p in hi]) > np.mean([p.confidence for p in lo])


def test_skills_change_predictions(predictions: dict[float, list[Prediction]]) -> None:
    lo, hi = predictions[0.6], predictions[0.85]
    label_changes = sum(a.label != b.label for a, b in zip(lo, hi, strict=True))
    box_changes = sum(
        [x.class_id for x in a.boxes] != [x.class_id for x in b.boxes]
        for a, b in zip(lo, hi, strict=True)
    )
    assert label_changes >= 3
    assert box_changes >= 20
    mask_changes = sum(not np.array_equal(a.mask, b.mask) for a, b in zip(lo, hi, strict=True))
    assert mask_changes >= 50


def test_perfect_skill_recovers_truth(scenes: list[Scene]) -> None:
    for i, s in enumerate(scenes[:20]):
        p = predict(s, np.random.default_rng(i), 1.0)
        assert np.array_equal(p.mask, s.mask)
        assert sorted(b.class_id for b in p.boxes) == sorted(b.class_id for b in s.boxes)
