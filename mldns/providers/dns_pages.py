"""Cloud DNS lists, page by page: what every Cloud DNS provider reads a collection with."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from mldns.clients import Clients

PAGE_SIZE = 1000


def rrsets_path(project: str, zone: str) -> str:
    """The path a zone's record sets are listed at."""
    return f"/projects/{project}/managedZones/{zone}/rrsets"


def pages(clients: Clients, path: str, field: str) -> Iterator[list[dict[str, Any]]]:
    """The items of the collection at `path` (under `field` in each reply), a page at a time."""
    params: dict[str, Any] = {"maxResults": PAGE_SIZE}
    while True:
        reply = clients.dns_request("GET", path, query_params=params)
        yield reply.get(field) or []
        token = reply.get("nextPageToken")
        if not token:
            return
        params = {"maxResults": PAGE_SIZE, "pageToken": token}


def list_all(clients: Clients, path: str, field: str) -> list[dict[str, Any]]:
    """Every item of the collection at `path`."""
    items: list[dict[str, Any]] = []
    for page in pages(clients, path, field):
        items.extend(page)
    return items
