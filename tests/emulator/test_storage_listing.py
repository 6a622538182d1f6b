"""Cloud Storage as gcloud storage uses it, through google-cloud-storage: bucket listing by
project, delimiter listing, bucket patch (versioning), mediaLink downloads, and a multipart body
shaped like gcloud's (single-quoted boundary, bare LFs)."""

from __future__ import annotations

import pytest
import requests
from google.api_core import exceptions as gexc
from google.cloud import storage

from mldns.emulator import Emulator


@pytest.fixture
def gcs(emu: Emulator, monkeypatch: pytest.MonkeyPatch) -> storage.Client:
    monkeypatch.setenv("STORAGE_EMULATOR_HOST", emu.url)
    monkeypatch.setenv("DISABLE_GCS_PYTHON_CLIENT_OTEL_BUCKET_METADATA", "true")
    return storage.Client(project="team")


def test_buckets_are_listed_by_project(gcs, emu):
    gcs.create_bucket("b-one")
    gcs.create_bucket("b-two")
    storage.Client(project="other").create_bucket("b-other")
    assert [b.name for b in gcs.list_buckets()] == ["b-one", "b-two"]
    assert requests.get(f"{emu.url}/storage/v1/b", timeout=5).status_code == 400


def test_delimiter_rolls_names_up_into_prefixes(gcs):
    bucket = gcs.create_bucket("runs")
    for name in ("top.txt", "ckpt/a", "ckpt/sub/b", "ckpt/sub/c", "logs/x"):
        bucket.blob(name).upload_from_string(name.encode())
    top = gcs.list_blobs("runs", delimiter="/")
    assert [b.name for b in top] == ["top.txt"]
    assert sorted(top.prefixes) == ["ckpt/", "logs/"]
    inner = gcs.list_blobs("runs", prefix="ckpt/", delimiter="/")
    assert [b.name for b in inner] == ["ckpt/a"]
    assert inner.prefixes == {"ckpt/sub/"}
    paged = gcs.list_blobs("runs", delimiter="/", page_size=1)  # a prefix takes a page's slot
    pages = list(paged.pages)
    assert len(pages) == 3
    assert [b.name for p in pages for b in p] == ["top.txt"]
    assert paged.prefixes == {"ckpt/", "logs/"}


def test_bucket_patch_turns_versioning_on(gcs):
    bucket = gcs.create_bucket("runs")
    assert bucket.versioning_enabled is False
    bucket.versioning_enabled = True
    bucket.patch()
    again = gcs.get_bucket("runs")
    assert again.versioning_enabled is True
    assert again.metageneration == 2
    stale = gcs.bucket("runs")
    stale.versioning_enabled = False
    with pytest.raises(gexc.PreconditionFailed):
        stale.patch(if_metageneration_match=1)
    assert gcs.get_bucket("runs").versioning_enabled is True


def test_objects_carry_links_to_where_they_were_asked(gcs, emu):
    bucket = gcs.create_bucket("runs")
    bucket.blob("a b/c").upload_from_string(b"weights")
    blob = bucket.get_blob("a b/c")
    assert blob.media_link.startswith(f"{emu.url}/download/storage/v1/b/runs/o/a%20b%2Fc?")
    assert requests.get(blob.media_link, timeout=5).content == b"weights"


def test_multipart_with_single_quoted_boundary_and_bare_newlines(gcs, emu):
    gcs.create_bucket("runs")
    body = (
        b"--==b==\nContent-Type: application/json\nMIME-Version: 1.0\n\n"
        b'{"name": "pre/a.txt", "contentType": "text/plain"}\n'
        b"--==b==\nContent-Type: text/plain\n\nhello\n\n--==b==--"
    )
    reply = requests.post(
        f"{emu.url}/upload/storage/v1/b/runs/o?uploadType=multipart",
        data=body,
        headers={"Content-Type": "multipart/related; boundary='==b=='"},
        timeout=5,
    )
    assert reply.status_code == 200, reply.text
    assert gcs.bucket("runs").blob("pre/a.txt").download_as_bytes() == b"hello\n"
    assert reply.json()["contentType"] == "text/plain"


def test_object_metadata_is_checked_against_the_discovery_document(gcs, emu):
    gcs.create_bucket("runs")
    body = (
        b"--b\r\nContent-Type: application/json\r\n\r\n"
        b'{"name": "x", "colour": "red"}\r\n--b\r\nContent-Type: text/plain\r\n\r\nx\r\n--b--'
    )
    reply = requests.post(
        f"{emu.url}/upload/storage/v1/b/runs/o?uploadType=multipart",
        data=body,
        headers={"Content-Type": "multipart/related; boundary=b"},
        timeout=5,
    )
    assert reply.status_code == 400 and "colour" in reply.json()["error"]["message"]
    assert list(gcs.list_blobs("runs")) == []
