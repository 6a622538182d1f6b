"""DNSSEC of a zone as Cloud DNS has it: key-spec changes it refuses, and the DS records a signed
zone's parent needs, from `dnsKeys.list`."""

from __future__ import annotations

from typing import Any

# RFC 8624's numbers for the algorithms and digest types Cloud DNS names in words.
ALGORITHM_NUMBERS = {
    "rsasha1": 5,
    "rsasha256": 8,
    "rsasha512": 10,
    "ecdsap256sha256": 13,
    "ecdsap384sha384": 14,
}
DIGEST_NUMBERS = {"sha1": 1, "sha256": 2, "sha384": 4}


def signed(body: dict[str, Any] | None) -> bool:
    return ((body or {}).get("dnssecConfig") or {}).get("state", "off") != "off"


def change_problem(live: dict[str, Any], want: dict[str, Any]) -> str | None:
    """Why Cloud DNS would refuse to bring a signed zone's DNSSEC from `live` to `want`, or None."""
    if not (signed(live) and signed(want)):
        return None
    old, new = live["dnssecConfig"], want["dnssecConfig"]
    for field, words in (("defaultKeySpecs", "key specs"), ("nonExistence", "non_existence")):
        if old.get(field) != new.get(field):
            return (
                f"Cloud DNS does not change the {words} of a signed zone (now {_describe(old)}); "
                "turn DNSSEC off, apply, then on with the new ones (its DS records change too)"
            )
    return None


def _describe(config: dict[str, Any]) -> str:
    specs = ", ".join(
        f"{s['keyType']} {s['algorithm']} {s['keyLength']}"
        for s in config.get("defaultKeySpecs", [])
    )
    return f"{specs}; {config.get('nonExistence')}"


def ds_records(keys: list[dict[str, Any]]) -> list[str]:
    """The DS records of the active key-signing keys: "KEYTAG ALGORITHM DIGESTTYPE DIGEST"."""
    records = []
    for key in keys:
        if key.get("type") != "keySigning" or key.get("isActive") is False:
            continue
        algorithm = ALGORITHM_NUMBERS.get(str(key.get("algorithm", "")).lower())
        for digest in key.get("digests") or []:
            number = DIGEST_NUMBERS.get(str(digest.get("type", "")).lower())
            if algorithm and number:
                records.append(f"{key['keyTag']} {algorithm} {number} {digest['digest'].lower()}")
    return sorted(records)
