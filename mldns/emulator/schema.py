"""Request-body checks against the discovery documents shipped in google-api-python-client.

Google rejects a body with an unknown field or a value of the wrong JSON type with a 400 before
looking at its meaning; checking against the same documents keeps the emulator from accepting
bodies that Google would refuse.
"""

from __future__ import annotations

import functools
import json
from importlib import resources
from typing import Any

from .errors import ApiError

_DOCUMENTS = {
    "dns": "dns.v1.json",
    "compute": "compute.v1.json",
    "resourcemanager": "cloudresourcemanager.v3.json",
    "resourcemanager.v1": "cloudresourcemanager.v1.json",
    "storage": "storage.v1.json",
    "tpu": "tpu.v2.json",
}


@functools.cache
def schemas(api: str) -> dict[str, Any]:
    """The `schemas` section of one API's discovery document (loaded once)."""
    path = resources.files("googleapiclient") / "discovery_cache" / "documents" / _DOCUMENTS[api]
    return json.loads(path.read_text(encoding="utf-8"))["schemas"]


def _bad(where: str, message: str) -> ApiError:
    return ApiError(400, "invalid", f"Invalid JSON payload received. {message} at '{where}'.")


def validate(api: str, schema_name: str, body: Any, where: str = "resource") -> None:
    """Raise a 400 ApiError if `body` does not fit schema `schema_name` of `api`."""
    _check_object(schemas(api), schemas(api)[schema_name], body, where)


def _check_object(all_schemas: dict[str, Any], schema: dict[str, Any], value: Any, where: str):
    if not isinstance(value, dict):
        raise _bad(where, "Expected a JSON object")
    props = schema.get("properties", {})
    extra = schema.get("additionalProperties")
    for key, item in value.items():
        spec = props.get(key)
        if spec is None:
            if extra is None:
                raise _bad(where, f'Unknown name "{key}": Cannot find field')
            spec = extra
        _check_value(all_schemas, spec, item, f"{where}.{key}")


def _check_value(all_schemas: dict[str, Any], spec: dict[str, Any], value: Any, where: str):
    if value is None:
        return
    ref = spec.get("$ref")
    if ref:
        _check_object(all_schemas, all_schemas[ref], value, where)
        return
    kind = spec.get("type")
    fmt = spec.get("format", "")
    if kind == "string":
        if fmt in ("int64", "uint64") and isinstance(value, int) and not isinstance(value, bool):
            return
        if fmt == "byte" or isinstance(value, str):
            if not isinstance(value, str):
                raise _bad(where, "Expected a string")
            _check_enum(spec, value, where)
            return
        if "enum" in spec and isinstance(value, int) and not isinstance(value, bool):
            return  # enum-encoding=int clients send enum numbers
        raise _bad(where, f"Invalid value {json.dumps(value)}: expected a string")
    if kind == "integer":
        if isinstance(value, bool) or not _is_integral(value):
            raise _bad(where, f"Invalid value {json.dumps(value)}: expected an integer")
        return
    if kind == "number":
        if isinstance(value, bool) or not isinstance(value, (int, float, str)):
            raise _bad(where, f"Invalid value {json.dumps(value)}: expected a number")
        if isinstance(value, str):
            try:
                float(value)
            except ValueError:
                raise _bad(where, f"Invalid value {json.dumps(value)}: expected a number") from None
        return
    if kind == "boolean":
        if not isinstance(value, bool):
            raise _bad(where, f"Invalid value {json.dumps(value)}: expected a boolean")
        return
    if kind == "array":
        if not isinstance(value, list):
            raise _bad(where, "Expected a JSON array")
        for i, item in enumerate(value):
            _check_value(all_schemas, spec.get("items", {}), item, f"{where}[{i}]")
        return
    if kind == "object":
        if not isinstance(value, dict):
            raise _bad(where, "Expected a JSON object")
        if "properties" in spec:
            _check_object(all_schemas, spec, value, where)
        elif "additionalProperties" in spec:
            for key, item in value.items():
                _check_value(all_schemas, spec["additionalProperties"], item, f"{where}.{key}")
        return
    if kind == "any" or kind is None:
        return


def _is_integral(value: Any) -> bool:
    """Proto JSON accepts integers as numbers or as decimal strings."""
    if isinstance(value, int):
        return True
    if isinstance(value, float):
        return value.is_integer()
    if isinstance(value, str):
        try:
            int(value)
        except ValueError:
            return False
        return True
    return False


def _check_enum(spec: dict[str, Any], value: str, where: str) -> None:
    allowed = spec.get("enum")
    if allowed and value not in allowed and value.lower() not in {a.lower() for a in allowed}:
        raise _bad(where, f'Invalid value "{value}": not one of {", ".join(allowed)}')
