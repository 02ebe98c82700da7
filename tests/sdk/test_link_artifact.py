"""``run.link_artifact(artifact, "registry/<collection>", aliases=[...])``: W&B's name, arguments
and semantics (a draft is logged first, ``latest`` follows the newest link, the linked artifact's
``version`` is its number in the collection), offline, on a real cache."""

from __future__ import annotations

import inspect

import pytest

import desktopviz as dv
from desktopviz import registry
from desktopviz.sdk.run import Run


def model(tmp_path, i: int) -> dv.Artifact:
    weights = tmp_path / f"w{i}.bin"
    weights.write_bytes(bytes([i]) * 500)
    art = dv.Artifact("detector", "model", metadata={"epoch": i})
    art.add_file(weights, "weights.bin")
    return art


def test_link_artifact_logs_links_and_moves_aliases(cache_dir, tmp_path):
    with dv.init(project="detect", job_type="train", dir=cache_dir) as run:
        draft = model(tmp_path, 0)
        linked = run.link_artifact(draft, "registry/detectors", aliases=["staging"])
        assert draft.version == "v0"  # the draft was logged first, by this run
        assert linked.is_link and linked.version == "v0"
        assert linked.name == "detectors" and linked.qualified_name == "registry/detectors:v0"
        assert (linked.source_name, linked.source_version, linked.source_project) == (
            "detector:v0",
            "v0",
            "detect",
        )
        assert linked.source_qualified_name == "detect/detector:v0"
        assert linked.aliases == ["latest", "staging"]
        assert linked.get_path("weights.bin").read_bytes() == bytes([0]) * 500
        assert linked.source_artifact.qualified_name == "detect/detector:v0"

        logged = model(tmp_path, 1)
        run.log_artifact(logged)
        second = run.link_artifact(logged, "wandb-registry-model/detectors", ["staging"])
        assert second.version == "v1" and second.source_version == "v1"
        assert linked.aliases == []  # staging moved, latest follows the newest link
        assert second.aliases == ["latest", "staging"]
        # linking a link links its source (as W&B does)
        again = run.link_artifact(second, "registry/detectors", aliases=["production"])
        assert again.version == "v1" and again.aliases == ["latest", "production", "staging"]

        with pytest.raises(dv.DesktopvizError, match="expected registry/<collection>"):
            run.link_artifact(logged, "detect/detectors")
        with pytest.raises(dv.DesktopvizError, match="expected registry/<collection>"):
            run.link_artifact(logged, "registry/detectors:v0")

    with dv.init(project="serve", job_type="deploy", dir=cache_dir) as deploy:
        used = deploy.use_artifact("registry/detectors:production")
        assert used.qualified_name == "detect/detector:v1"
        assert used.get_path("weights.bin").read_bytes() == bytes([1]) * 500
        out = tmp_path / "download"
        assert (used.download(out) / "weights.bin").read_bytes() == bytes([1]) * 500
    with dv.open_cache(cache_dir) as reader:
        cache = reader.cache
        version = cache.resolve("detect/detector:v1")
        assert deploy.id in cache.consumers(version)
        moves = [m.text for m in registry.alias_history(cache, "detectors")]
        assert moves == ["staging: — → v0", "staging: v0 → v1", "production: — → v1"]
        assert registry.find_link(cache, "detectors", "v0").version.ref == "detect/detector:v0"


def test_unlink_from_the_sdk(cache_dir, tmp_path):
    with dv.init(project="detect", dir=cache_dir) as run:
        linked = run.link_artifact(model(tmp_path, 0), "model-registry/detectors")
        linked.unlink()
        assert registry.links(run.cache, "detectors") == []
        assert run.cache.resolve("detect/detector:v0").index == 0


def test_the_signature_and_target_paths_are_wandbs():
    wandb_run = pytest.importorskip("wandb.sdk.wandb_run")
    from wandb.sdk.artifacts._validators import ArtifactPath

    ours = list(inspect.signature(Run.link_artifact).parameters)
    theirs = list(inspect.signature(wandb_run.Run.link_artifact).parameters)
    assert ours == theirs == ["self", "artifact", "target_path", "aliases"]
    assert inspect.signature(Run.link_artifact).parameters["aliases"].default is None
    for path in ("wandb-registry-model/detectors", "my-org/wandb-registry-model/detectors"):
        assert ArtifactPath.from_str(path).is_registry_path()  # W&B reads them as registry paths
        assert registry.parse_registry_ref(path) == ("detectors", "latest")  # and so do we
