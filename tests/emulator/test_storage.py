"""Cloud Storage on the wire: google-cloud-storage, pointed at the emulator by STORAGE_EMULATOR_HOST."""

from __future__ import annotations

import pytest
from google.api_core import exceptions as gexc
from google.cloud import storage

from mldns.emulator import Emulator

NAME = "stacks/team a/fleet.json"  # a slash and a space: percent-encoded on the wire


@pytest.fixture
def gcs(emu: Emulator, monkeypatch: pytest.MonkeyPatch) -> storage.Client:
    monkeypatch.setenv("STORAGE_EMULATOR_HOST", emu.url)
    monkeypatch.setenv("DISABLE_GCS_PYTHON_CLIENT_OTEL_BUCKET_METADATA", "true")
    return storage.Client()


@pytest.fixture
def bucket(gcs: storage.Client) -> storage.Bucket:
    return gcs.create_bucket("team-state")


def test_bucket_create_get_and_missing(gcs):
    gcs.create_bucket("team-state")
    assert gcs.get_bucket("team-state").name == "team-state"
    with pytest.raises(gexc.Conflict):
        gcs.create_bucket("team-state")
    with pytest.raises(gexc.NotFound):
        gcs.get_bucket("no-such-bucket")
    with pytest.raises(gexc.NotFound):
        gcs.bucket("no-such-bucket").blob("x").upload_from_string(b"x")


def test_multipart_upload_download_and_metadata(bucket):
    blob = bucket.blob(NAME)
    blob.upload_from_string(b'{"serial": 1}', content_type="application/json")
    again = bucket.blob(NAME)
    assert again.download_as_bytes() == b'{"serial": 1}'
    assert again.generation == blob.generation  # read from the download's headers
    meta = bucket.get_blob(NAME)
    assert (meta.generation, meta.metageneration, meta.size) == (blob.generation, 1, 13)
    assert meta.content_type == "application/json"


def test_resumable_upload_of_a_large_object(bucket):
    data = bytes(range(256)) * (9 * 4096)  # 9 MiB: above the client's multipart limit
    blob = bucket.blob(NAME)
    blob.upload_from_string(data, if_generation_match=0)
    assert bucket.blob(NAME).download_as_bytes() == data
    assert bucket.get_blob(NAME).size == len(data)


def test_if_generation_match_zero_creates_only_once(bucket):
    bucket.blob(NAME).upload_from_string(b"first", if_generation_match=0)
    with pytest.raises(gexc.PreconditionFailed) as caught:
        bucket.blob(NAME).upload_from_string(b"second", if_generation_match=0)
    assert caught.value.code == 412
    assert bucket.blob(NAME).download_as_bytes() == b"first"


def test_generation_fences_writes_and_deletes(bucket):
    blob = bucket.blob(NAME)
    blob.upload_from_string(b"v1", if_generation_match=0)
    first = blob.generation
    blob.upload_from_string(b"v2", if_generation_match=first)
    second = blob.generation
    assert second > first
    with pytest.raises(gexc.PreconditionFailed):
        bucket.blob(NAME).upload_from_string(b"stale", if_generation_match=first)
    with pytest.raises(gexc.PreconditionFailed):
        bucket.blob(NAME).upload_from_string(b"x", if_generation_not_match=second)
    with pytest.raises(gexc.PreconditionFailed):
        bucket.blob(NAME).delete(if_generation_match=first)
    with pytest.raises(gexc.PreconditionFailed):
        bucket.blob(NAME).upload_from_string(b"x", if_metageneration_match=7)
    bucket.blob(NAME).upload_from_string(b"v3", if_metageneration_match=1)
    current = bucket.get_blob(NAME).generation
    bucket.blob(NAME).delete(if_generation_match=current)
    with pytest.raises(gexc.NotFound):
        bucket.blob(NAME).delete()


def test_generations_rise_and_are_never_reused(bucket, emu):
    seen = []
    for round_ in range(3):
        blob = bucket.blob(NAME)
        blob.upload_from_string(b"%d" % round_, if_generation_match=0)
        seen.append(blob.generation)
        blob.delete()
    emu.reset()  # even a reset of the cloud keeps the counter running
    bucket.client.create_bucket("team-state")
    blob = bucket.blob(NAME)
    blob.upload_from_string(b"after reset")
    seen.append(blob.generation)
    assert seen == sorted(seen) and len(set(seen)) == len(seen)


def test_list_with_prefix(gcs, bucket):
    for name in ("a/one.json", "a/two.lock", "b/three.json", "a-not/four"):
        bucket.blob(name).upload_from_string(b"x")
    assert [b.name for b in gcs.list_blobs("team-state", prefix="a/")] == [
        "a/one.json",
        "a/two.lock",
    ]
    assert len(list(gcs.list_blobs("team-state", max_results=2, page_size=1))) == 2


def test_faults_and_counts_through_the_admin_api(bucket, emu):
    emu.clear_requests()
    emu.add_fault(path="^/upload/storage/", status=503, count=1)
    bucket.blob(NAME).upload_from_string(b"retried", if_generation_match=0)
    assert bucket.blob(NAME).download_as_bytes() == b"retried"
    counts = emu.requests()
    assert counts["by_api"]["storage"] == 3  # the 503, its retry, the download
    assert counts["writes_by_api"]["storage"] == 2
    assert [r["status"] for r in counts["recent"]] == [503, 200, 200]


def test_objects_survive_a_restart_with_a_data_file(tmp_path, monkeypatch):
    data = tmp_path / "cloud.json"
    monkeypatch.setenv("DISABLE_GCS_PYTHON_CLIENT_OTEL_BUCKET_METADATA", "true")
    with Emulator(data_file=data) as emu:
        monkeypatch.setenv("STORAGE_EMULATOR_HOST", emu.url)
        blob = storage.Client().create_bucket("team-state").blob(NAME)
        blob.upload_from_string(b"kept")
        generation = blob.generation
    with Emulator(data_file=data) as emu:
        monkeypatch.setenv("STORAGE_EMULATOR_HOST", emu.url)
        bucket = storage.Client().bucket("team-state")
        assert bucket.blob(NAME).download_as_bytes() == b"kept"
        blob = bucket.blob(NAME)
        blob.upload_from_string(b"next", if_generation_match=generation)
        assert blob.generation > generation
