"""`dns.Dnssec` and `dns.KeySpec`: how a public zone is signed.

Cloud DNS makes a zone's keys from its key specs when signing is turned on, and will not change
the specs (nor the proof of non-existence) while the zone is signed: the plan refuses such a
change with the reason, rather than Google halfway through an apply.
"""

from __future__ import annotations

from typing import Any

import attrs

from mldns.resources.base import check, fail, is_int
from mldns.resources.dns.fields import tuple_or_empty

ALGORITHMS = ("rsasha1", "rsasha256", "rsasha512", "ecdsap256sha256", "ecdsap384sha384")
ECDSA_BITS = {"ecdsap256sha256": 256, "ecdsap384sha384": 384}
KEY_TYPES = ("keySigning", "zoneSigning")
STATES = ("on", "off", "transfer")


def _lower(value: Any) -> Any:
    return value.lower() if isinstance(value, str) else value


@attrs.frozen
class KeySpec:
    """The kind of key Cloud DNS makes for signing a zone.

    Args:
        key_type: "keySigning" (the key the parent's DS record names) or "zoneSigning".
        algorithm: "rsasha256", "rsasha512", "ecdsap256sha256", "ecdsap384sha384" ("rsasha1"
            is allowed but weak).
        key_length: Bits: 1024-4096 for RSA; 256 or 384 for ECDSA (implied by the algorithm).

    Example:
        dns.KeySpec("keySigning", "ecdsap256sha256")
    """

    key_type: str = attrs.field(
        validator=check(
            lambda v: v in KEY_TYPES, "must be 'keySigning' or 'zoneSigning', got {value!r}"
        )
    )
    algorithm: str = attrs.field(
        converter=_lower,
        validator=check(lambda v: v in ALGORITHMS, f"must be one of {', '.join(ALGORITHMS)}"),
    )
    key_length: int | None = attrs.field(default=None)

    def __attrs_post_init__(self) -> None:
        bits = ECDSA_BITS.get(self.algorithm)
        length = self.key_length
        if bits is not None:
            if length not in (None, bits):
                fail(self, "key_length", f"{self.algorithm} keys are {bits} bits, not {length}")
            object.__setattr__(self, "key_length", bits)
        elif length is None:
            object.__setattr__(self, "key_length", 2048 if self.key_type == "keySigning" else 1024)
        elif not (is_int(length) and 1024 <= length <= 4096):
            fail(self, "key_length", f"RSA keys are 1024 to 4096 bits, got {length!r}")


# Google's defaults ("DNSSEC advanced options"): RSASHA256, a 2048-bit KSK and a 1024-bit ZSK.
DEFAULT_KEY_SPECS = (
    KeySpec("keySigning", "rsasha256", 2048),
    KeySpec("zoneSigning", "rsasha256", 1024),
)


@attrs.frozen
class Dnssec:
    """DNSSEC settings of a public zone (`dnssec=True` means `dns.Dnssec()`).

    Args:
        state: "on" (signed), "off", or "transfer" (signed, while moving from another provider).
        key_specs: One keySigning and one zoneSigning dns.KeySpec; by default Google's.
        non_existence: "nsec3" (hashed proof that a name does not exist) or "nsec".

    Example:
        dns.Dnssec(
            key_specs=[
                dns.KeySpec("keySigning", "ecdsap256sha256"),
                dns.KeySpec("zoneSigning", "ecdsap256sha256"),
            ]
        )
    """

    state: str = attrs.field(
        default="on",
        converter=_lower,
        validator=check(lambda v: v in STATES, "must be 'on', 'off' or 'transfer', got {value!r}"),
    )
    key_specs: tuple[KeySpec, ...] = attrs.field(default=None, converter=tuple_or_empty)
    non_existence: str = attrs.field(
        default="nsec3",
        converter=_lower,
        validator=check(lambda v: v in ("nsec", "nsec3"), "must be 'nsec' or 'nsec3'"),
    )

    def __attrs_post_init__(self) -> None:
        specs = self.key_specs or DEFAULT_KEY_SPECS
        if not all(isinstance(s, KeySpec) for s in specs):
            fail(self, "key_specs", "must be a list of dns.KeySpec")
        if sorted(s.key_type for s in specs) != ["keySigning", "zoneSigning"]:
            fail(self, "key_specs", "give one keySigning and one zoneSigning dns.KeySpec")
        object.__setattr__(self, "key_specs", tuple(sorted(specs, key=lambda s: s.key_type)))

    @property
    def signed(self) -> bool:
        return self.state != "off"


def dnssec_of(value: Any) -> Any:
    """True as `Dnssec()`, False and None as None; anything else for the validator."""
    if value is True:
        return Dnssec()
    if value is False or value is None:
        return None
    return value
