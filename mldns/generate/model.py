"""What every source produces: resources to declare, and notes on what could not be declared."""

from __future__ import annotations

import re

import attrs

from mldns.errors import MldnsError
from mldns.resources.base import Resource

# The exit code of `mldns generate` when the source held something the file cannot express.
EXIT_NOT_EXPRESSED = 3
_NOT_STACK_CHARS = re.compile(r"[^A-Za-z0-9_.-]+")


@attrs.define
class Generated:
    """Resources read from one source, in any order (the writer orders them)."""

    source: str  # where they came from, for the file's header: "project my-project"
    stack_name: str
    project: str | None = None
    resources: list[Resource] = attrs.field(factory=list)
    notes: list[str] = attrs.field(factory=list)

    def add(self, resource: Resource | None) -> Resource | None:
        if resource is not None:
            self.resources.append(resource)
        return resource

    def note(self, what: str, why: str) -> None:
        """Something the source holds that the stack file cannot declare."""
        self.notes.append(f"{what}: {why}")


def stack_name_for(text: str) -> str:
    """A valid stack name derived from a project id, a domain or a file name."""
    name = _NOT_STACK_CHARS.sub("-", text).strip(".-_") or "generated"
    return name[:100]


def zone_name_for(dns_name: str) -> str:
    """A managed zone name for a domain: example.com. -> example-com."""
    name = re.sub(r"[^a-z0-9-]+", "-", dns_name.lower().rstrip(".")).strip("-")
    if not name or not name[0].isalpha():
        name = "zone-" + name
    return name[:63].rstrip("-")


class SourceError(MldnsError):
    """A source that cannot be read: a file that does not parse, a project that cannot be listed."""
