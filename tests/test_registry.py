"""The model registry's core (desktopviz.registry) on a real cache: links copy no bytes, number
in link order, aliases move with a recorded history, ``latest`` follows the newest link, and
registry references resolve wherever a version reference is taken."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

import desktopviz as dv
from desktopviz import registry
from desktopviz.errors import DesktopvizError, NotFoundError
from desktopviz.store.cache import Cache


def log_models(cache: Cache, tmp_path: Path, n: int = 3, project: str = "detect") -> list:
    """``n`` versions of model artifact ``detector`` in ``project``, logged by a real run."""
    versions = []
    with dv.init(project=project, job_type="train", dir=cache) as run:
        for i in range(n):
            weights = tmp_path / f"weights-{project}-{i}.bin"
            weights.write_bytes(bytes([i]) * 1000)
            art = dv.Artifact("detector", "model", metadata={"i": i})
            art.add_file(weights, "weights.bin")
            run.log_artifact(art)
            versions.append(cache.resolve(f"{project}/detector:v{i}"))
    return versions


def stored(cache: Cache) -> tuple[int, int, int]:
    """Blob files, file rows and version rows: what a link must not add to."""
    blobs = sum(1 for p in (cache.root / "blobs").rglob("*") if p.is_file())
    files = cache.conn.execute("SELECT COUNT(*) FROM files").fetchone()[0]
    versions = cache.conn.execute("SELECT COUNT(*) FROM versions").fetchone()[0]
    return blobs, files, versions


def test_linking_copies_nothing_and_numbers_in_link_order(cache, tmp_path):
    v0, v1, v2 = log_models(cache, tmp_path)
    before = stored(cache)
    first = registry.link_version(cache, v2, "detectors", ["staging"], by="ana")
    second = registry.link_version(cache, v0, "detectors", by="ana")
    assert stored(cache) == before
    assert (first.tag, first.version.id, first.ref) == ("v0", v2.id, "registry/detectors:v0")
    assert (second.tag, second.version.id) == ("v1", v0.id)
    assert [k.tag for k in registry.links(cache, "detectors")] == ["v0", "v1"]
    assert registry.find_link(cache, "detectors", "latest").version.id == v0.id
    assert registry.find_link(cache, "detectors", "v0").aliases == ("staging",)
    assert registry.find_link(cache, "detectors", "v1").aliases == ("latest",)
    # the linked version reads its files from the source's blobs
    assert cache.file_path(second.version, "weights.bin").read_bytes() == bytes([0]) * 1000
    # linking a version again keeps its link (and adds the aliases)
    again = registry.link_version(cache, v2, "detectors", ["production"], by="ana")
    assert again.id == first.id and again.aliases == ("production", "staging")
    assert registry.collection(cache, "detectors").link_count == 2
    assert [c.name for c in registry.collections(cache)] == ["detectors"]
    assert registry.links_of(cache, v1) == []
    assert [k.ref for k in registry.links_of(cache, v2)] == ["registry/detectors:v0"]


def test_aliases_move_within_a_collection_with_a_recorded_history(cache, tmp_path):
    v0, v1, _ = log_models(cache, tmp_path)
    a = registry.link_version(cache, v0, "detectors", ["staging"], by="ana")
    b = registry.link_version(cache, v1, "detectors", by="ana")
    registry.set_alias(cache, a, "production", by="bo")
    moved = registry.set_alias(cache, b, "staging", by="bo")
    assert moved.aliases == ("latest", "staging")
    assert registry.find_link(cache, "detectors", "staging").id == b.id
    assert registry.find_link(cache, "detectors", "production").id == a.id
    registry.set_alias(cache, b, "staging", by="cy")  # already there: no move recorded
    history = registry.alias_history(cache, "detectors")
    assert [(m.alias, m.from_number, m.to_number, m.moved_by) for m in history] == [
        ("staging", None, 0, "ana"),
        ("production", None, 0, "bo"),
        ("staging", 0, 1, "bo"),
    ]
    assert history[-1].text == "staging: v0 → v1"
    assert all(m.moved_at.startswith("20") for m in history)
    registry.remove_alias(cache, "detectors", "production", by="cy")
    assert registry.alias_history(cache, "detectors")[-1].text == "production: v0 → —"
    with pytest.raises(NotFoundError, match="no alias 'production'"):
        registry.remove_alias(cache, "detectors", "production")
    with pytest.raises(DesktopvizError, match="managed by desktopviz"):
        registry.set_alias(cache, a, "latest")
    with pytest.raises(DesktopvizError, match="bad alias"):
        registry.set_alias(cache, a, "v3")
    # the same alias in another collection is another alias
    other = registry.link_version(cache, v0, "edge-models", ["staging"], by="ana")
    assert registry.find_link(cache, "edge-models", "staging").id == other.id
    assert registry.find_link(cache, "detectors", "staging").id == b.id


def test_unlink_keeps_the_version_and_never_reuses_a_number(cache, tmp_path):
    v0, v1, v2 = log_models(cache, tmp_path)
    registry.link_version(cache, v0, "detectors", by="ana")
    last = registry.link_version(cache, v1, "detectors", ["production"], by="ana")
    registry.unlink(cache, last, by="bo")
    assert cache.version_by_id(v1.id).ref == "detect/detector:v1"  # the source stays
    assert registry.find_link(cache, "detectors", "latest").tag == "v0"
    assert registry.alias_history(cache, "detectors")[-1].text == "production: v1 → —"
    assert registry.alias_history(cache, "detectors")[-1].moved_by == "bo"
    assert registry.link_version(cache, v2, "detectors").tag == "v2"
    with pytest.raises(NotFoundError, match="no version or alias 'v1'"):
        registry.find_link(cache, "detectors", "v1")
    # deleting a source version takes its links (and their aliases) away
    registry.set_alias(cache, registry.find_link(cache, "detectors", "v2"), "staging", by="ana")
    cache.delete_version(v2)
    assert [k.tag for k in registry.links(cache, "detectors")] == ["v0"]
    with pytest.raises(NotFoundError):
        registry.find_link(cache, "detectors", "staging")
    registry.delete_collection(cache, "detectors")
    assert registry.collections(cache) == []


def test_registry_references_resolve_like_version_references(cache, tmp_path):
    v0, v1, _ = log_models(cache, tmp_path)
    registry.link_version(cache, v0, "detectors", ["production"], by="ana")
    registry.link_version(cache, v1, "detectors", ["staging"], by="ana")
    for ref, want in (
        ("registry/detectors:production", v0),
        ("registry/detectors:v1", v1),
        ("registry/detectors", v1),
        ("registry/detectors:latest", v1),
        ("wandb-registry-model/detectors:staging", v1),
        ("my-org/wandb-registry-model/detectors:v0", v0),
        ("model-registry/detectors:production", v0),
    ):
        assert cache.resolve(ref).id == want.id, ref
    assert registry.collection_part("detectors:v1") == ("detectors", "v1")
    assert registry.collection_part("registry/detectors:staging") == ("detectors", "staging")
    assert registry.parse_registry_ref("detect/detector:v0") is None
    assert registry.parse_registry_ref("wandb-registry-/x") is None
    with pytest.raises(NotFoundError, match="no registry collection 'nope'.*detectors"):
        cache.resolve("registry/nope:v0")
    with pytest.raises(NotFoundError, match="no version or alias 'archived'"):
        cache.resolve("registry/detectors:archived")
    # a project called "registry" still resolves as a project
    (theirs,) = log_models(cache, tmp_path, n=1, project="registry")
    assert cache.resolve("registry/detector:v0").id == theirs.id


def test_bad_collection_names_are_refused(cache, tmp_path):
    (v0,) = log_models(cache, tmp_path, n=1)
    for bad in ("", "a/b", "a:b", ".hidden"):
        with pytest.raises(DesktopvizError, match="bad registry collection name"):
            registry.link_version(cache, v0, bad)
    with pytest.raises(NotFoundError, match=r"collections: none yet"):
        registry.links(cache, "detectors")


def test_the_history_outlives_a_reopened_cache_and_the_schema_holds_it(cache_dir, tmp_path):
    with Cache(cache_dir) as cache:
        (v0,) = log_models(cache, tmp_path, n=1)
        registry.link_version(cache, v0, "detectors", ["production"], by="ana")
    with Cache(cache_dir) as cache:
        assert registry.alias_history(cache, "detectors")[0].text == "production: — → v0"
    conn = sqlite3.connect(cache_dir / "index.sqlite")
    names = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    conn.close()
    assert {"registry_collections", "registry_links", "registry_aliases"} <= names
    assert "registry_alias_history" in names


def test_demo_registry_is_added_once(cache):
    from desktopviz.demo import build_demo

    build_demo(cache, n_images=12)
    first = registry.add_demo_registry(cache)
    again = registry.add_demo_registry(cache)
    assert first == again
    assert dict(first.aliases) == {"latest": "v1", "production": "v0", "staging": "v1"}
    links = registry.links(cache, "scene-detector")
    assert [k.version.ref for k in links] == [
        "street-scenes/scene-detector:v0",
        "street-scenes/scene-detector:v1",
    ]
    moves = [m.text for m in registry.alias_history(cache, "scene-detector")]
    assert moves == ["staging: — → v0", "production: — → v0", "staging: v0 → v1"]
    assert cache.resolve("registry/scene-detector:production").ref == links[0].version.ref
