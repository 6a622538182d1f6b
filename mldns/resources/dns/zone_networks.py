"""`dns.ZoneNetwork`: one VPC network bound to a private zone that another stack or project owns.

Cloud DNS has no precondition on zone patches (no etag, no fingerprint): the binding is a
read-modify-write of the zone's networks, re-read after the patch and retried when a concurrent
writer's patch undid it.
"""

from __future__ import annotations

import re
from typing import Any, ClassVar

import attrs

from mldns.errors import UsageError
from mldns.kinds import register
from mldns.resources.base import GCE_NAME, Resource, check, is_bool
from mldns.resources.dns.fields import NETWORK, NETWORK_SHAPE, network_path

ZONE_PATH = re.compile(r"^projects/([a-z0-9.:-]+)/managedZones/([a-z]([-a-z0-9]{0,61}[a-z0-9])?)$")
ZONE_SHAPE = (
    "a zone's name, or projects/PROJECT/managedZones/NAME (a zone in this stack lists its "
    "networks itself)"
)


def _zone_ok(value: Any) -> bool:
    return isinstance(value, str) and bool(GCE_NAME.match(value) or ZONE_PATH.match(value))


@attrs.frozen(eq=False)
class ZoneNetwork(Resource):
    """Makes a private zone that another stack (or project) owns visible to one more network.

    The zone's owner should not declare its networks as well: its next apply would take this one
    away again. Cloud DNS has no precondition on zone patches, so the network is added by reading
    the zone, patching its networks and reading it again, retrying if another writer's patch
    undid the change.

    Args:
        zone: The zone's name in the stack's project, or projects/PROJECT/managedZones/NAME.
        network: The VPC network (URL or projects/P/global/networks/N).
        protect: Refuse to remove the binding.

    Example:
        stack.add(
            dns.ZoneNetwork(
                "projects/shared-dns/managedZones/corp", "projects/my-project/global/networks/train"
            )
        )
    """

    kind: ClassVar[str] = "dns.ZoneNetwork"
    state_keys: ClassVar[tuple[str, ...]] = ("zone", "network")
    id_form: ClassVar[str] = "'ZONE NETWORK', e.g. 'corp projects/p/global/networks/train'"

    zone: str = attrs.field(validator=check(_zone_ok, f"must be {ZONE_SHAPE}, got {{value!r}}"))
    network: str = attrs.field(
        validator=check(
            lambda v: isinstance(v, str) and NETWORK.match(v),
            f"must be {NETWORK_SHAPE}, got {{value!r}}",
        )
    )
    protect: bool = attrs.field(default=False, validator=check(is_bool, "must be True or False"))

    @property
    def key(self) -> str:
        return f"{self.zone}/{network_path(self.network)}"

    def zone_in(self, project: str) -> tuple[str, str]:
        """(project, zone name) of the zone, the stack's project unless the zone names one."""
        match = ZONE_PATH.match(self.zone)
        return (match.group(1), match.group(2)) if match else (project, self.zone)

    def references(self) -> tuple[Resource, ...]:
        return ()

    @classmethod
    def import_key(cls, ident: str, project: str) -> str:
        zone, _, network = ident.strip().partition(" ")
        if "projects/" not in network:
            raise UsageError(f"ID {ident!r} is not {cls.id_form}")
        zone = zone.removeprefix(f"projects/{project}/managedZones/")  # as the key writes it
        return f"{zone}/{network_path(network.strip())}"


register(ZoneNetwork)
