"""Compute v1 public images, as far as gcloud reads them before making an instance template.

`gcloud compute instance-templates create` resolves its boot image first (by default
`projects/debian-cloud/global/images/family/debian-12`), so without an answer no template, and so
no managed instance group, can be made with gcloud. Every image project and family answers with
one READY image; nothing is stored, and instances never boot anything.
"""

from __future__ import annotations

import hashlib

from .call import Call, Reply
from .compute_api import BASE

# The image a family points at: a fixed build, so that two reads name the same image.
BUILD = "v20261201"
CREATED = "2026-12-01T00:00:00.000-08:00"


def _image(project: str, name: str, family: str | None) -> dict[str, object]:
    digest = hashlib.sha256(f"{project}/{name}".encode()).digest()
    image: dict[str, object] = {
        "kind": "compute#image",
        "id": str(int.from_bytes(digest[:8], "big") >> 1),
        "creationTimestamp": CREATED,
        "name": name,
        "selfLink": f"{BASE}/projects/{project}/global/images/{name}",
        "sourceType": "RAW",
        "status": "READY",
        "diskSizeGb": "10",
        "architecture": "X86_64",
    }
    if family:
        image["family"] = family
    return image


def get_from_family(call: Call) -> Reply:
    family = call.params["family"]
    return 200, _image(call.params["project"], f"{family}-{BUILD}", family)


def get_image(call: Call) -> Reply:
    name = call.params["image"]
    family, _, build = name.rpartition("-")
    return 200, _image(call.params["project"], name, family if build == BUILD else None)


_P = "/compute/v1/projects/<project>/global/images"
RULES = [
    (f"{_P}/family/<family>", ["GET"], get_from_family),
    (f"{_P}/<image>", ["GET"], get_image),
]
