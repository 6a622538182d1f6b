"""DNSSEC of managed zones: `dnssecConfig` rules and the keys a signed zone holds (`dnsKeys`).

Turning DNSSEC on (or to `transfer`) makes one key-signing and one zone-signing key from the
zone's `defaultKeySpecs` (Google's defaults: RSASHA256, 2048-bit KSK and 1024-bit ZSK); turning
it off drops them. The key material is random bytes in the algorithm's DNSKEY layout: the key tag
(RFC 4034 appendix B) and the KSK's DS digests are computed from it, but nothing is signed.
"""

from __future__ import annotations

import base64
import hashlib
import secrets
import struct
from typing import Any

import dns.name

from .call import Call, Reply
from .errors import invalid, not_found
from .ids import rfc3339_now
from .store import Project

KEYS = "dnsKeys"
PREFIX = "/dns/v1/projects/<project>/managedZones/<zone>/dnsKeys"
WHERE = "entity.managedZone.dnssecConfig"
ALGORITHMS = {
    "rsasha1": 5,
    "rsasha256": 8,
    "rsasha512": 10,
    "ecdsap256sha256": 13,
    "ecdsap384sha384": 14,
}
DEFAULT_SPECS = [
    {"keyType": "keySigning", "algorithm": "rsasha256", "keyLength": 2048},
    {"keyType": "zoneSigning", "algorithm": "rsasha256", "keyLength": 1024},
]
SPEC_KIND = "dns#dnsKeySpec"


def _signed(config: dict[str, Any] | None) -> bool:
    return str((config or {}).get("state", "off")).lower() in ("on", "transfer")


def _specs(config: dict[str, Any]) -> list[dict[str, Any]]:
    """The key specs, lower-cased, with Google's defaults; 400 for a spec that cannot be."""
    specs = config.get("defaultKeySpecs") or DEFAULT_SPECS
    clean = []
    for i, spec in enumerate(specs):
        at = f"{WHERE}.defaultKeySpecs[{i}]"
        algorithm = str(spec.get("algorithm") or "").lower()
        key_type = str(spec.get("keyType") or "").lower().replace("keysigning", "keySigning")
        key_type = key_type.replace("zonesigning", "zoneSigning")
        if algorithm not in ALGORITHMS:
            raise invalid(f"Required field '{at}.algorithm' not specified")
        if key_type not in ("keySigning", "zoneSigning"):
            raise invalid(f"Required field '{at}.keyType' not specified")
        length = int(spec.get("keyLength") or 0)
        if algorithm.startswith("ecdsa"):
            wanted = 256 if algorithm == "ecdsap256sha256" else 384
            if length not in (0, wanted):
                raise invalid(
                    f"Invalid value for '{at}.keyLength': {algorithm} keys are {wanted} bits"
                )
            length = wanted
        elif not 1024 <= length <= 4096:
            raise invalid(
                f"Invalid value for '{at}.keyLength': {length} (RSA keys are 1024-4096 bits)"
            )
        clean.append(
            {"keyType": key_type, "algorithm": algorithm, "keyLength": length, "kind": SPEC_KIND}
        )
    types = sorted(str(s["keyType"]) for s in clean)
    if types != ["keySigning", "zoneSigning"]:
        raise invalid(
            f"Invalid value for '{WHERE}.defaultKeySpecs': give one keySigning and one zoneSigning spec"
        )
    return clean


def settle(project: Project, old: dict[str, Any] | None, new: dict[str, Any]) -> None:
    """Check `new`'s dnssecConfig against the zone it replaces (`old`, None on create), fill
    Google's defaults into it, and make or drop the zone's keys. Raises before changing anything."""
    config = new.get("dnssecConfig")
    old_config = (old or {}).get("dnssecConfig")
    if config and not config.get("state"):  # gcloud patches key specs without the state
        config = {**config, "state": (old_config or {}).get("state") or "off"}
    if not config:
        if _signed(old_config):
            new["dnssecConfig"] = old_config  # a patch that leaves the field out keeps it
        return
    if not _signed(config):
        new["dnssecConfig"] = {**config, "state": str(config.get("state") or "off").lower()}
        project.collection(KEYS).pop(new["id"], None)
        return
    if new.get("visibility") == "private":
        raise invalid(
            f"Invalid value for '{WHERE}.state': DNSSEC is not supported on private zones"
        )
    specs = _specs(config)
    changed = _spec_set(specs) != _spec_set((old_config or {}).get("defaultKeySpecs") or [])
    if _signed(old_config) and config.get("defaultKeySpecs") and changed:
        raise invalid(
            f"Invalid value for '{WHERE}.defaultKeySpecs': the key specs of a signed zone "
            "cannot change; turn DNSSEC off first"
        )
    non_existence = str(config.get("nonExistence") or "nsec3").lower()
    if _signed(old_config) and non_existence != str((old_config or {}).get("nonExistence")).lower():
        raise invalid(
            f"Invalid value for '{WHERE}.nonExistence': it cannot change while DNSSEC is on"
        )
    new["dnssecConfig"] = {
        "kind": "dns#managedZoneDnsSecConfig",
        "state": str(config["state"]).lower(),
        "nonExistence": non_existence,
        "defaultKeySpecs": (old_config or {}).get("defaultKeySpecs")
        if _signed(old_config)
        else specs,
    }
    keys = project.collection(KEYS)
    if not _signed(old_config) or new["id"] not in keys:
        keys[new["id"]] = [_make_key(str(i), new["dnsName"], s) for i, s in enumerate(specs)]


def _spec_set(specs: list[dict[str, Any]]) -> set[tuple[str, str, int]]:
    return {
        (
            str(s.get("keyType")).lower(),
            str(s.get("algorithm")).lower(),
            int(s.get("keyLength") or 0),
        )
        for s in specs
    }


def _public_key(algorithm: str, bits: int) -> bytes:
    """Random key bytes in the DNSKEY layout: RFC 3110 for RSA, x||y for ECDSA."""
    if algorithm.startswith("ecdsa"):
        return secrets.token_bytes(bits // 4)
    modulus = bytearray(secrets.token_bytes(bits // 8))
    modulus[0] |= 0x80
    modulus[-1] |= 1
    return b"\x03\x01\x00\x01" + bytes(modulus)


def key_tag(rdata: bytes) -> int:
    """RFC 4034 appendix B."""
    total = sum(b << 8 if i % 2 == 0 else b for i, b in enumerate(rdata))
    return (total + (total >> 16)) & 0xFFFF


def _make_key(key_id: str, zone_name: str, spec: dict[str, Any]) -> dict[str, Any]:
    flags = 257 if spec["keyType"] == "keySigning" else 256
    algorithm = ALGORITHMS[spec["algorithm"]]
    public = _public_key(spec["algorithm"], spec["keyLength"])
    rdata = struct.pack("!HBB", flags, 3, algorithm) + public
    key: dict[str, Any] = {
        "kind": "dns#dnsKey",
        "id": key_id,
        "algorithm": spec["algorithm"],
        "keyLength": spec["keyLength"],
        "publicKey": base64.b64encode(public).decode(),
        "creationTime": rfc3339_now(),
        "isActive": True,
        "type": spec["keyType"],
        "keyTag": key_tag(rdata),
        "description": "",
    }
    if flags == 257:
        owner = dns.name.from_text(zone_name).canonicalize().to_wire() or b""
        key["digests"] = [
            {"type": name, "digest": hashlib.new(name, owner + rdata).hexdigest().upper()}
            for name in ("sha1", "sha256")
        ]
    return key


def _keys(call: Call) -> list[dict[str, Any]]:
    project_id = call.params["project"]
    project = call.store.project(project_id)
    if project is None:
        raise not_found(f"The 'parameters.project' resource named '{project_id}' does not exist.")
    zone = project.zones.get(call.params["zone"])
    if zone is None:
        raise not_found(
            f"The 'parameters.managedZone' resource named '{call.params['zone']}' does not exist."
        )
    return project.collection(KEYS).get(zone.resource["id"], [])


def list_keys(call: Call) -> Reply:
    digest = call.query.get("digestType")
    keys = _keys(call)
    if digest:
        wanted = {d.strip().lower() for d in digest.split(",")}
        keys = [
            {**k, "digests": [d for d in k["digests"] if d["type"] in wanted]}
            if "digests" in k
            else k
            for k in keys
        ]
    return 200, {"kind": "dns#dnsKeysListResponse", "dnsKeys": keys}


def get_key(call: Call) -> Reply:
    for key in _keys(call):
        if key["id"] == call.params["key"]:
            return 200, key
    raise not_found(
        f"The 'parameters.dnsKeyId' resource named '{call.params['key']}' does not exist."
    )


RULES = [
    (PREFIX, ["GET"], list_keys),
    (f"{PREFIX}/<key>", ["GET"], get_key),
]
