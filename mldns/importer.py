"""`mldns import ADDRESS ID`: record an existing resource in the state, without changing it.

The stack must declare ADDRESS, ID must name the object the declaration names (in mldns an
address is made of the resource's name), the object must exist, and the state must not hold the
address yet. The live object is read the way a plan reads it and recorded as it is, so the next
plan shows any difference from the declaration as an ordinary update.
"""

from __future__ import annotations

from mldns.errors import UsageError
from mldns.planner import make_plan
from mldns.providers.base import state_entry
from mldns.providers.dns_format import COMPUTE_URL
from mldns.providers.registry import build_providers
from mldns.resources.base import Resource
from mldns.resources.compute import BackendService, HealthCheck
from mldns.resources.dns import ManagedZone, RecordSet, RecordTable
from mldns.resources.iam import ProjectIamBinding, ProjectIamMember
from mldns.state.format import State
from mldns.workspace import Workspace

DNS_URL = "https://dns.googleapis.com/dns/v1/"
COLLECTIONS = {
    ManagedZone: "managedZones/",
    HealthCheck: "global/healthChecks/",
    BackendService: "global/backendServices/",
}
ID_FORMS = {
    ManagedZone: "the zone's name",
    RecordSet: "ZONE/NAME/TYPE, e.g. prod/www.example.com./A",
    HealthCheck: "the health check's name",
    BackendService: "the backend service's name",
    ProjectIamBinding: "the role, e.g. roles/dns.admin",
    ProjectIamMember: "'ROLE MEMBER', e.g. 'roles/dns.reader user:a@example.com'",
}


def import_resource(ws: Workspace, address: str, ident: str) -> str:
    """Record the live object `ident` under `address`; returns a line saying what was done."""
    stack = ws.stack
    assert stack is not None
    resource = stack.resources.get(address)
    if resource is None:
        raise UsageError(f"{address} is not declared in stack {stack.name}; declare it first")
    if isinstance(resource, RecordTable):
        raise UsageError(
            f"{address} is a table: its rows are recorded by the next apply, without a write, when they exist as declared"
        )
    key = _key(resource, ident, ws.project)
    if key != resource.key:
        raise UsageError(
            f"ID {ident!r} names {key!r}, but {address} declares {resource.key!r}: addresses follow names, so declare the name of the object to import"
        )
    with ws.store.lock("import", timeout=ws.lock_timeout):
        stored = ws.store.read()
        if stored is not None and address in stored.resources:
            raise UsageError(f"{address} is already in the state; nothing to import")
        prior = State(stack=ws.stack_name)
        plan = make_plan(
            ws.stack_name, ws.project, {address: resource}, {}, prior, build_providers(ws.clients)
        )
        action = next((a for a in plan.actions if a.address == address), None)
        if action is None or action.op == "create" or action.before is None:
            raise UsageError(f"{ident} does not exist in project {ws.project}; nothing to import")
        state = stored or State(stack=ws.stack_name)
        state.resources[address] = state_entry(action, action.before)
        state.serial += 1
        ws.store.write(state)
    if action.op == "adopt":
        return f"Imported {address}: it matches the declaration."
    return f"Imported {address} as it is; the next plan shows how it differs from the declaration."


def _key(resource: Resource, ident: str, project: str) -> str:
    """The address key an ID names, after checking its project."""
    text = ident.strip()
    for prefix in (COMPUTE_URL, DNS_URL):
        if text.startswith(prefix):
            text = text[len(prefix) :]
    if isinstance(resource, ProjectIamMember):
        role, _, member = text.partition(" ")
        return f"{role}/{member.strip()}" if member else text
    if text.startswith("projects/") and not isinstance(resource, ProjectIamBinding):
        _, named, rest = text.split("/", 2) if text.count("/") >= 2 else ("", "", text)
        if named != project:
            raise UsageError(f"ID {ident!r} is in project {named!r}, the stack in {project!r}")
        text = rest
        if isinstance(resource, RecordSet) and text.startswith("managedZones/"):
            zone, _, rest = text[len("managedZones/") :].partition("/rrsets/")
            return f"{zone}/{rest}"
        collection = COLLECTIONS.get(type(resource), "")
        if not text.startswith(collection):
            raise UsageError(f"ID {ident!r} is not {ID_FORMS[type(resource)]}")
        return text[len(collection) :]
    if isinstance(resource, RecordSet):
        zone, _, rest = text.partition("/")
        name, _, rtype = rest.rpartition("/")
        if not name or not rtype:
            raise UsageError(f"ID {ident!r} is not {ID_FORMS[RecordSet]}")
        return (
            f"{zone}/{name.lower() if name.endswith('.') else name.lower() + '.'}/{rtype.upper()}"
        )
    return text
