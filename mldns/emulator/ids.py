"""Identifiers and timestamps shaped like Google's."""

from __future__ import annotations

import base64
import datetime as _dt
import hashlib
import json
import secrets


def new_id() -> str:
    """A uint64 resource id, as the APIs render it: a decimal string."""
    return str(secrets.randbits(63) | (1 << 62))


def project_number(project_id: str) -> str:
    """A stable 12-digit project number, the same in every API for one project id."""
    digest = hashlib.sha256(project_id.encode()).digest()
    return str(100000000000 + int.from_bytes(digest[:8], "big") % 900000000000)


def rfc3339_now() -> str:
    """UTC with microseconds: google-cloud-dns only parses timestamps with fractional seconds."""
    return _dt.datetime.now(_dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def compute_timestamp() -> str:
    """Compute's style: milliseconds and a numeric UTC offset."""
    now = _dt.datetime.now(_dt.timezone.utc)
    return now.strftime("%Y-%m-%dT%H:%M:%S.") + f"{now.microsecond // 1000:03d}-00:00"


def new_etag() -> str:
    """IAM etags and Compute fingerprints are base64 of 8 opaque bytes, padded: the
    resource-manager client and gcloud decode them (gcloud crashes on unpadded base64)."""
    return base64.b64encode(secrets.token_bytes(8)).decode()


def encode_token(value: object) -> str:
    """An opaque page token that carries the last key served."""
    return base64.urlsafe_b64encode(json.dumps(value).encode()).decode()


def decode_token(token: str) -> object:
    """Inverse of encode_token; raises ValueError on anything it did not make."""
    try:
        return json.loads(base64.urlsafe_b64decode(token.encode()))
    except Exception as exc:  # binascii.Error, UnicodeDecodeError, JSONDecodeError
        raise ValueError(token) from exc
