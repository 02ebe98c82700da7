"""``artifact.download()`` checks every file it copies out of the cache against its digest
(issue 10, item 3): a damaged blob stops it with the version, path and blob named."""

from __future__ import annotations

import pytest

import desktopviz as dv
from desktopviz.errors import DesktopvizError
from desktopviz.formats.manifest import file_digest, read_manifest
from tests.blob_support import damage_blob
from tests.support import sample_image


def test_download_copies_intact_files_and_refuses_a_damaged_one(cache_dir, tmp_path):
    table = dv.Table(columns=["id", "image"])
    for i in range(3):
        table.add_data(i, sample_image(i))
    with dv.init(project="p", job_type="build", dir=cache_dir) as run:
        art = dv.Artifact("ds", "dataset")
        art.add(table, "samples")
        run.log_artifact(art)
    with dv.open_cache(cache_dir) as c:
        folder = c.artifact("ds:v0").download(tmp_path / "ok")
        manifest = read_manifest(folder / "wandb_manifest.json")
        assert manifest and all(file_digest(folder / p) == e.digest for p, e in manifest.items())

        store = c.cache
        image = next(f for f in store.files(c.version("ds:v0")) if f.path.endswith(".png"))
        damage_blob(store, image.sha256, lambda d: d[:-5] + bytes([d[-5] ^ 0x10]) + d[-4:])
        with pytest.raises(DesktopvizError) as err:
            c.artifact("ds:v0").download(tmp_path / "bad")
        text = str(err.value)
        assert "damaged file in the cache" in text and "p/ds:v0" in text
        assert image.path in text and image.sha256 in text
        assert not (tmp_path / "bad" / image.path).exists()
