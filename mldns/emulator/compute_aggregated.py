"""Compute v1 aggregated lists of health checks and backend services, which gcloud's `list`
commands call (`projects/{p}/aggregated/healthChecks`, `.../aggregated/backendServices`).

Items are keyed by scope. The emulator holds global resources only, so the one scope is
`global`; when it has nothing on the page it carries Compute's `NO_RESULTS_ON_PAGE` warning, as
Google answers for an empty scope.
"""

from __future__ import annotations

from typing import Any

from .call import Call, Reply
from .compute_api import BASE, _page, _project

PREFIX = "/compute/v1/projects/<project>/aggregated"
KINDS = {
    "healthChecks": ("compute#healthChecksAggregatedList", "compute#healthCheckList"),
    "backendServices": ("compute#backendServiceAggregatedList", "compute#backendServiceList"),
}


def _aggregated(call: Call, kind: str) -> Reply:
    project = _project(call)
    items = list(
        getattr(project, "health_checks" if kind == "healthChecks" else "backend_services").values()
    )
    aggregated_kind, list_kind = KINDS[kind]
    page = _page(call, project, kind, list_kind, items)
    scoped: dict[str, Any] = {kind: page["items"]} if page.get("items") else {"warning": _empty()}
    reply: dict[str, Any] = {
        "kind": aggregated_kind,
        "id": f"projects/{project.id}/aggregated/{kind}",
        "selfLink": f"{BASE}/projects/{project.id}/aggregated/{kind}",
        "items": {"global": scoped},
    }
    if "nextPageToken" in page:
        reply["nextPageToken"] = page["nextPageToken"]
    return 200, reply


def _empty() -> dict[str, Any]:
    return {
        "code": "NO_RESULTS_ON_PAGE",
        "message": "There are no results for scope 'global' on this page.",
        "data": [{"key": "scope", "value": "global"}],
    }


def list_health_checks(call: Call) -> Reply:
    return _aggregated(call, "healthChecks")


def list_backend_services(call: Call) -> Reply:
    return _aggregated(call, "backendServices")


RULES = [
    (f"{PREFIX}/healthChecks", ["GET"], list_health_checks),
    (f"{PREFIX}/backendServices", ["GET"], list_backend_services),
]
