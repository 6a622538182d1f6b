"""Cloud Storage JSON API v1: the subset google-cloud-storage uses to keep a small object safe.

Buckets (create, list by project, get, patch/update, delete), objects (multipart, media and
resumable upload; `alt=media` download; metadata get; delete; list by prefix, with `delimiter`
rolling names up into `prefixes`) and the preconditions `ifGenerationMatch`,
`ifGenerationNotMatch`, `ifMetagenerationMatch` and `ifMetagenerationNotMatch`, failed as Google
fails them: 412 `conditionNotMet` (304 on a read whose `ifGenerationNotMatch` holds back nothing).

Object names are percent-encoded in the path, `/` included, so requests are routed on the raw path.
Generations come from one counter for the whole store, taken from the clock in microseconds as
Google's are and bumped past the last one: strictly increasing, never reused, even across a
delete and a re-create.
"""

from __future__ import annotations

import base64
import hashlib
import json
import re
import time
import uuid
from collections.abc import Mapping
from typing import Any
from urllib.parse import quote, unquote

import google_crc32c

from .errors import ApiError, condition_not_met, invalid, not_found
from .ids import project_number, rfc3339_now
from .schema import validate

# (status, body, headers): body is JSON-able data, raw bytes, or None.
Reply = tuple[int, Any, dict[str, str]]

PREFIXES = ("/storage/v1/", "/upload/storage/v1/", "/download/storage/v1/")
_BUCKET_NAME = re.compile(r"^[a-z0-9][a-z0-9._-]{1,61}[a-z0-9]$")
_PRECONDITIONS = (
    "ifGenerationMatch",
    "ifGenerationNotMatch",
    "ifMetagenerationMatch",
    "ifMetagenerationNotMatch",
)


def handles(path: str) -> bool:
    return path.startswith(PREFIXES)


class Storage:
    """Buckets and their objects; the caller holds the store's lock around every call."""

    def __init__(self) -> None:
        self.buckets: dict[str, dict[str, Any]] = {}
        self.objects: dict[str, dict[str, dict[str, Any]]] = {}
        self.uploads: dict[str, dict[str, Any]] = {}  # resumable sessions by upload id
        self.last_generation = 0
        self.base_url = ""  # where the request being served came to: objects' mediaLink

    def clear(self) -> None:
        self.buckets.clear()
        self.objects.clear()
        self.uploads.clear()

    def next_generation(self) -> int:
        self.last_generation = max(time.time_ns() // 1000, self.last_generation + 1)
        return self.last_generation

    def to_dict(self) -> dict[str, Any]:
        return {
            "last_generation": self.last_generation,
            "buckets": {
                name: {
                    "resource": bucket,
                    "objects": {
                        key: {**obj, "data": base64.b64encode(obj["data"]).decode()}
                        for key, obj in sorted(self.objects[name].items())
                    },
                }
                for name, bucket in sorted(self.buckets.items())
            },
        }

    def load(self, data: dict[str, Any]) -> None:
        self.clear()
        self.last_generation = int(data.get("last_generation", 0))
        for name, bucket in data.get("buckets", {}).items():
            self.buckets[name] = bucket["resource"]
            self.objects[name] = {
                key: {**obj, "data": base64.b64decode(obj["data"])}
                for key, obj in bucket["objects"].items()
            }


def dispatch(
    storage: Storage,
    method: str,
    raw_path: str,
    query: Mapping[str, str],
    headers: Any,
    body: bytes,
) -> Reply:
    """Route one request by its raw (still percent-encoded) path."""
    path = raw_path.split("?", 1)[0]
    storage.base_url = f"http://{headers.get('Host', '')}"
    if path.startswith("/upload/storage/v1/b/"):
        bucket, rest = _split(path[len("/upload/storage/v1/b/") :])
        if rest != "o":
            raise not_found(f"The requested URL {path} was not found")
        return _upload(storage, method, bucket, query, headers, body)
    if path.startswith("/download/storage/v1/b/"):
        bucket, rest = _split(path[len("/download/storage/v1/b/") :])
        if not rest.startswith("o/") or method != "GET":
            raise not_found(f"The requested URL {path} was not found")
        return _read(storage, bucket, unquote(rest[2:]), query, media=True)
    if path.rstrip("/") == "/storage/v1/b":
        if method == "POST":
            return _create_bucket(storage, query, body)
        if method == "GET":
            return _list_buckets(storage, query)
        raise ApiError(405, "httpMethodNotAllowed", f"Method {method} not allowed")
    if path.startswith("/storage/v1/b/"):
        bucket, rest = _split(path[len("/storage/v1/b/") :])
        if rest == "":
            return _bucket(storage, method, bucket, query, body)
        if rest.rstrip("/") == "o" and method == "GET":
            return _list(storage, bucket, query)
        if rest.startswith("o/"):
            name = unquote(rest[2:])
            if method == "GET":
                return _read(storage, bucket, name, query, media=query.get("alt") == "media")
            if method == "DELETE":
                return _delete(storage, bucket, name, query)
    raise not_found(f"The requested URL {path} was not found")


def _split(tail: str) -> tuple[str, str]:
    bucket, _, rest = tail.partition("/")
    return unquote(bucket), rest


def _bucket_objects(storage: Storage, bucket: str) -> dict[str, dict[str, Any]]:
    if bucket not in storage.buckets:
        raise not_found("The specified bucket does not exist.")
    return storage.objects[bucket]


def _create_bucket(storage: Storage, query: Mapping[str, str], body: bytes) -> Reply:
    try:
        spec = json.loads(body or b"{}")
    except ValueError:
        raise ApiError(400, "parseError", "Parse Error") from None
    validate("storage", "Bucket", spec, "resource")
    name = spec.get("name")
    if not isinstance(name, str) or not _BUCKET_NAME.match(name):
        raise invalid(f"Invalid bucket name: '{name}'")
    if name in storage.buckets:
        raise ApiError(
            409,
            "conflict",
            "Your previous request to create the named bucket succeeded and you already own it.",
        )
    now = rfc3339_now()
    resource = {
        "kind": "storage#bucket",
        "id": name,
        "name": name,
        "projectNumber": project_number(query.get("project", "")),
        "project": query.get("project", ""),
        "metageneration": "1",
        "location": spec.get("location", "US"),
        "storageClass": spec.get("storageClass", "STANDARD"),
        "versioning": spec.get("versioning", {"enabled": False}),
        "timeCreated": now,
        "updated": now,
        "etag": "CAE=",
    }
    storage.buckets[name] = resource
    storage.objects[name] = {}
    return 200, resource, {}


def _list_buckets(storage: Storage, query: Mapping[str, str]) -> Reply:
    """The project's buckets by name (`project` is required, as Google requires it)."""
    project = query.get("project")
    if not project:
        raise ApiError(400, "required", "Required parameter: project")
    prefix = query.get("prefix", "")
    names = sorted(
        n
        for n, b in storage.buckets.items()
        if b.get("project") == project and n.startswith(prefix)
    )
    start = query.get("pageToken") or ""
    names = [n for n in names if n > start] if start else names
    limit = int(query.get("maxResults") or 1000)
    reply: dict[str, Any] = {
        "kind": "storage#buckets",
        "items": [storage.buckets[n] for n in names[:limit]],
    }
    if len(names) > limit:
        reply["nextPageToken"] = names[limit - 1]
    return 200, reply, {}


def _bucket(
    storage: Storage, method: str, bucket: str, query: Mapping[str, str], body: bytes
) -> Reply:
    objects = _bucket_objects(storage, bucket)
    resource = storage.buckets[bucket]
    if method == "GET":
        _check_bucket(query, resource)
        return 200, resource, {}
    if method == "DELETE":
        _check_bucket(query, resource)
        if objects:
            raise ApiError(409, "conflict", "The bucket you tried to delete is not empty.")
        del storage.buckets[bucket], storage.objects[bucket]
        return 204, None, {}
    if method in ("PATCH", "PUT"):
        return _patch_bucket(resource, query, body, replace=method == "PUT")
    raise ApiError(405, "httpMethodNotAllowed", f"Method {method} not allowed")


_BUCKET_FIXED = ("kind", "id", "name", "projectNumber", "project", "timeCreated", "location")


def _patch_bucket(
    resource: dict[str, Any], query: Mapping[str, str], body: bytes, replace: bool
) -> Reply:
    """Set the fields the body holds (a PUT resets the others); metageneration goes up."""
    try:
        spec = json.loads(body or b"{}")
    except ValueError:
        raise ApiError(400, "parseError", "Parse Error") from None
    validate("storage", "Bucket", spec, "resource")
    _check_bucket(query, resource)
    if replace:
        for key in [k for k in resource if k not in _BUCKET_FIXED]:
            resource.pop(key)
    for key, value in spec.items():
        if key in _BUCKET_FIXED:
            continue
        if value is None:
            resource.pop(key, None)
        elif isinstance(value, dict) and isinstance(resource.get(key), dict):
            resource[key] = {**resource[key], **value}
        else:
            resource[key] = value
    resource.setdefault("versioning", {"enabled": False})
    resource.setdefault("storageClass", "STANDARD")
    metageneration = int(resource.get("metageneration", "1")) + 1
    resource["metageneration"] = str(metageneration)
    resource["etag"] = base64.b64encode(f"bucket-{metageneration}".encode()).decode()
    resource["updated"] = rfc3339_now()
    return 200, resource, {}


def _check_bucket(query: Mapping[str, str], resource: dict[str, Any]) -> None:
    for key in ("ifMetagenerationMatch", "ifMetagenerationNotMatch"):
        raw = query.get(key)
        if raw in (None, ""):
            continue
        equal = str(raw) == str(resource["metageneration"])
        if equal != (key == "ifMetagenerationMatch"):
            raise condition_not_met(
                "At least one of the pre-conditions you specified did not hold."
            )


def _list(storage: Storage, bucket: str, query: Mapping[str, str]) -> Reply:
    """Objects by name from `prefix`; with a `delimiter`, names that hold it past the prefix
    roll up into `prefixes` (one entry per common prefix, counted against the page)."""
    objects = _bucket_objects(storage, bucket)
    prefix = query.get("prefix", "")
    delimiter = query.get("delimiter", "")
    entries: list[tuple[str, bool]] = []  # (name or common prefix, is a prefix)
    for name in sorted(n for n in objects if n.startswith(prefix)):
        cut = name.find(delimiter, len(prefix)) if delimiter else -1
        if cut >= 0:
            common = name[: cut + len(delimiter)]
            if not entries or entries[-1] != (common, True):
                entries.append((common, True))
        else:
            entries.append((name, False))
    start = query.get("pageToken") or ""
    if start:
        entries = [e for e in entries if e[0] > start]
    limit = int(query.get("maxResults") or 1000)
    page = entries[:limit]
    reply: dict[str, Any] = {
        "kind": "storage#objects",
        "items": [_resource(storage, bucket, objects[n]) for n, is_prefix in page if not is_prefix],
    }
    prefixes = [n for n, is_prefix in page if is_prefix]
    if prefixes:
        reply["prefixes"] = prefixes
    if len(entries) > limit:
        reply["nextPageToken"] = page[-1][0]
    return 200, reply, {}


def _read(
    storage: Storage, bucket: str, name: str, query: Mapping[str, str], *, media: bool
) -> Reply:
    obj = _bucket_objects(storage, bucket).get(name)
    if obj is None or (query.get("generation") and int(query["generation"]) != obj["generation"]):
        raise not_found(f"No such object: {bucket}/{name}")
    _check(query, obj, read=True)
    if not media:
        return 200, _resource(storage, bucket, obj), {}
    headers = {
        "Content-Type": obj["contentType"],
        "X-Goog-Generation": str(obj["generation"]),
        "X-Goog-Metageneration": str(obj["metageneration"]),
        "X-Goog-Hash": f"crc32c={obj['crc32c']},md5={obj['md5Hash']}",
        "X-Goog-Stored-Content-Length": str(len(obj["data"])),
    }
    return 200, bytes(obj["data"]), headers


def _delete(storage: Storage, bucket: str, name: str, query: Mapping[str, str]) -> Reply:
    objects = _bucket_objects(storage, bucket)
    obj = objects.get(name)
    if obj is None:
        raise not_found(f"No such object: {bucket}/{name}")
    _check(query, obj)
    del objects[name]
    return 204, None, {}


def _check(query: Mapping[str, str], obj: dict[str, Any] | None, read: bool = False) -> None:
    """Google's preconditions; an absent object has generation 0 and fails the metageneration
    ones."""
    values = {}
    for key in _PRECONDITIONS:
        raw = query.get(key)
        if raw is None or raw == "":
            continue
        try:
            values[key] = int(raw)
        except ValueError:
            raise ApiError(
                400, "invalid", f"Invalid argument for parameter '{key}': '{raw}'"
            ) from None
    generation = obj["generation"] if obj else 0
    metageneration = obj["metageneration"] if obj else None
    failed = (
        ("ifGenerationMatch" in values and values["ifGenerationMatch"] != generation)
        or ("ifMetagenerationMatch" in values and values["ifMetagenerationMatch"] != metageneration)
        or (
            "ifMetagenerationNotMatch" in values
            and values["ifMetagenerationNotMatch"] == metageneration
        )
    )
    if failed:
        raise condition_not_met("At least one of the pre-conditions you specified did not hold.")
    if "ifGenerationNotMatch" in values and values["ifGenerationNotMatch"] == generation:
        if read:
            raise ApiError(304, "notModified", "Not Modified")
        raise condition_not_met("At least one of the pre-conditions you specified did not hold.")


def _upload(
    storage: Storage,
    method: str,
    bucket: str,
    query: Mapping[str, str],
    headers: Any,
    body: bytes,
) -> Reply:
    _bucket_objects(storage, bucket)
    kind = query.get("uploadType", "media")
    if method == "PUT" and kind == "resumable":
        return _resume(storage, query.get("upload_id", ""), headers, body)
    if method != "POST":
        raise ApiError(405, "httpMethodNotAllowed", f"Method {method} not allowed")
    if kind == "media":
        spec, data, content_type = {"name": query.get("name")}, body, headers.get("Content-Type")
    elif kind == "multipart":
        spec, data, content_type = _multipart(headers.get("Content-Type", ""), body)
    elif kind == "resumable":
        spec = json.loads(body) if body.strip() else {"name": query.get("name")}
        upload_id = uuid.uuid4().hex
        storage.uploads[upload_id] = {
            "bucket": bucket,
            "spec": {**spec, "name": spec.get("name") or query.get("name")},
            "query": dict(query),
            "content_type": headers.get("X-Upload-Content-Type") or spec.get("contentType"),
            "data": bytearray(),
        }
        location = f"{headers.get('Host', '')}"
        url = f"http://{location}/upload/storage/v1/b/{bucket}/o?uploadType=resumable&upload_id={upload_id}"
        return 200, None, {"Location": url}
    else:
        raise invalid(f"Invalid upload type: '{kind}'")
    return _put(storage, bucket, spec, data, content_type, query)


def _resume(storage: Storage, upload_id: str, headers: Any, body: bytes) -> Reply:
    session = storage.uploads.get(upload_id)
    if session is None:
        raise not_found("No such upload session.")
    data: bytearray = session["data"]
    match = re.match(r"bytes (\d+)-(\d+)/(\d+|\*)", headers.get("Content-Range", ""))
    total_only = re.match(r"bytes \*/(\d+|\*)", headers.get("Content-Range", ""))
    if match:
        start = int(match.group(1))
        if start != len(data):
            raise invalid("Invalid request: the chunk does not start where the last one ended.")
        data.extend(body)
        total = match.group(3)
    elif total_only:
        total = total_only.group(1)
    else:
        data.extend(body)
        total = str(len(data))
    if total == "*" or int(total) > len(data):
        reply_headers = {"Range": f"bytes=0-{len(data) - 1}"} if data else {}
        return 308, None, reply_headers
    del storage.uploads[upload_id]
    return _put(
        storage,
        session["bucket"],
        session["spec"],
        bytes(data),
        session["content_type"],
        session["query"],
    )


def _multipart(content_type: str, body: bytes) -> tuple[dict[str, Any], bytes, str | None]:
    """The metadata part and the media part of a multipart/related body.

    The boundary may be quoted either way and lines may end in CRLF or LF: gcloud sends
    `boundary='===...=='` and bare LFs."""
    found = re.search(r"""boundary=(?:"([^"]+)"|'([^']+)'|([^;\s]+))""", content_type)
    if not found:
        raise invalid("Missing multipart boundary.")
    boundary = next(g for g in found.groups() if g)
    delimiter = re.compile(rb"\r?\n?--" + re.escape(boundary.encode()))
    parts = [p for p in delimiter.split(body)[1:] if not p.startswith(b"--")]
    if len(parts) != 2:
        raise invalid("A multipart upload needs a metadata part and a media part.")
    sections = []
    for part in parts:
        pieces = re.split(rb"\r?\n\r?\n", part.lstrip(b"\r\n"), maxsplit=1)
        head, content = pieces[0], pieces[1] if len(pieces) > 1 else b""
        kinds = re.findall(rb"(?im)^content-type:\s*([^\r\n]+)", head)
        sections.append((content, kinds[0].decode().strip() if kinds else None))
    try:
        spec = json.loads(sections[0][0])
    except ValueError:
        raise ApiError(400, "parseError", "Parse Error") from None
    return spec, sections[1][0], sections[1][1] or spec.get("contentType")


def _put(
    storage: Storage,
    bucket: str,
    spec: dict[str, Any],
    data: bytes,
    content_type: str | None,
    query: Mapping[str, str],
) -> Reply:
    validate("storage", "Object", spec, "resource")
    name = spec.get("name")
    if not isinstance(name, str) or not name:
        raise ApiError(400, "required", "Required")
    objects = storage.objects[bucket]
    current = objects.get(name)
    _check(query, current)
    now = rfc3339_now()
    obj = {
        "name": name,
        "generation": storage.next_generation(),
        "metageneration": 1,
        "contentType": content_type or "application/octet-stream",
        "metadata": spec.get("metadata") or {},
        "md5Hash": base64.b64encode(hashlib.md5(data).digest()).decode(),
        "crc32c": base64.b64encode(google_crc32c.Checksum(data).digest()).decode(),
        "timeCreated": now,
        "updated": now,
        "data": bytes(data),
    }
    objects[name] = obj
    return 200, _resource(storage, bucket, obj), {}


def _resource(storage: Storage, bucket: str, obj: dict[str, Any]) -> dict[str, Any]:
    """An object's metadata; its links point where the request came, as Google's point to
    Google (gcloud downloads through `mediaLink`)."""
    generation = obj["generation"]
    path = f"b/{quote(bucket, safe='')}/o/{quote(obj['name'], safe='')}"
    resource = {
        "kind": "storage#object",
        "id": f"{bucket}/{obj['name']}/{generation}",
        "name": obj["name"],
        "bucket": bucket,
        "generation": str(generation),
        "metageneration": str(obj["metageneration"]),
        "contentType": obj["contentType"],
        "size": str(len(obj["data"])),
        "md5Hash": obj["md5Hash"],
        "crc32c": obj["crc32c"],
        "storageClass": "STANDARD",
        "timeCreated": obj["timeCreated"],
        "updated": obj["updated"],
        "etag": base64.b64encode(f"{generation}".encode()).decode(),
        "selfLink": f"{storage.base_url}/storage/v1/{path}",
        "mediaLink": f"{storage.base_url}/download/storage/v1/{path}?generation={generation}&alt=media",
    }
    if obj["metadata"]:
        resource["metadata"] = obj["metadata"]
    return resource
