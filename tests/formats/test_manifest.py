"""Manifests, digests and reference URIs as the wandb SDK writes them."""

from __future__ import annotations

import base64
import hashlib

import pytest

from desktopviz.errors import UnsafePathError
from desktopviz.formats.manifest import (
    artifact_digest,
    file_digest,
    manifest_entries,
    parse_reference,
    wandb_artifact_uri,
)


def test_md5_and_xxh128_digests(tmp_path):
    import xxhash

    p = tmp_path / "f.bin"
    p.write_bytes(b"hello artifact")
    assert file_digest(p) == base64.b64encode(hashlib.md5(b"hello artifact").digest()).decode()
    assert (
        file_digest(p, "xxh128")
        == base64.b64encode(xxhash.xxh128(b"hello artifact").digest()).decode()
    )


def test_artifact_digest_formula():
    digests = {"b.txt": "BBB=", "a.txt": "AAA="}
    expected = hashlib.md5(b"wandb-artifact-manifest-v1\na.txt:AAA=\nb.txt:BBB=\n").hexdigest()
    assert artifact_digest(digests) == expected


def test_server_and_client_references():
    ref = parse_reference("wandb-artifact://41727469666163743a31303031/dataset_table.table.json")
    assert ref.artifact_id == "QXJ0aWZhY3Q6MTAwMQ==" and ref.path == "dataset_table.table.json"
    assert (
        wandb_artifact_uri("QXJ0aWZhY3Q6MTAwMQ==", "x/y.png")
        == "wandb-artifact://41727469666163743a31303031/x/y.png"
    )
    client = parse_reference("wandb-client-artifact://abc123:latest/media/classes/c.classes.json")
    assert client.client_id == "abc123" and client.path == "media/classes/c.classes.json"
    assert not parse_reference("s3://bucket/key").is_artifact


def test_entries_in_json_and_record_forms():
    json_form = {
        "contents": {
            "a.png": {"digest": "d1", "size": 3},
            "t.table.json": {"digest": "d2", "ref": "wandb-artifact://00/t.table.json"},
        }
    }
    record_form = {
        "contents": [{"path": "a.png", "digest": "d1", "size": "3", "extra": '{"alg": "XXH128"}'}]
    }
    e = manifest_entries(json_form)
    assert e["a.png"].size == 3 and e["t.table.json"].ref.startswith("wandb-artifact://")
    r = manifest_entries(record_form)
    assert r["a.png"].algorithm == "xxh128" and r["a.png"].size == 3


@pytest.mark.parametrize("bad", ["../evil", "/etc/passwd", "a/../../b", "C:/x", ""])
def test_unsafe_paths_refused(bad):
    with pytest.raises(UnsafePathError):
        manifest_entries({"contents": {bad: {"digest": "x"}}})
