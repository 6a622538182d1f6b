"""The floors: the least work the wire allows, through google-cloud-dns' own connection.

Run as a process of its own (like `mldns`), it prints one JSON line: the time measured inside,
the API calls made. Modes:

  list       a bare paginated list of each zone, JSON parsed and nothing more
  changes    the record sets sent as pre-built Changes of up to 1,000, each polled until done
  terraform  one Change, its polling and one refresh list per record set (Terraform's way)
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from stacks import PROJECT, record_body, zone_name  # noqa: E402

PAGE = 1000


class Wire:
    """google-cloud-dns' connection, as mldns uses it, counting calls."""

    def __init__(self, emulator: str) -> None:
        from google.auth.credentials import AnonymousCredentials
        from google.cloud import dns as gdns

        client = gdns.Client(
            project=PROJECT,
            credentials=AnonymousCredentials(),
            client_options={"api_endpoint": f"http://{emulator}"},
        )
        self.api = client._connection.api_request
        self.calls = 0
        self.base = f"/projects/{PROJECT}/managedZones"

    def request(self, method: str, path: str, **kwargs: Any) -> Any:
        self.calls += 1
        return self.api(method=method, path=self.base + path, **kwargs)

    def list_zone(self, zone: str, **filters: str) -> list[dict[str, Any]]:
        records: list[dict[str, Any]] = []
        params: dict[str, Any] = {"maxResults": PAGE, **filters}
        while True:
            reply = self.request("GET", f"/{zone}/rrsets", query_params=params)
            records.extend(reply.get("rrsets", []))
            token = reply.get("nextPageToken")
            if not token:
                return records
            params = {"maxResults": PAGE, **filters, "pageToken": token}

    def change(self, zone: str, body: dict[str, Any]) -> None:
        change = self.request("POST", f"/{zone}/changes", data=body)
        while change.get("status") != "done":
            change = self.request("GET", f"/{zone}/changes/{change['id']}")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("mode", choices=["list", "changes", "terraform"])
    parser.add_argument("--emulator", required=True, metavar="HOST:PORT")
    parser.add_argument("--zones", type=int, default=1)
    parser.add_argument("--records", type=int, default=0)
    parser.add_argument("--ttl", type=int, default=300)
    parser.add_argument("--old-ttl", type=int, help="changes: replace record sets of this ttl")
    parser.add_argument("--workers", type=int, default=10, help="terraform: its -parallelism")
    args = parser.parse_args(argv)
    wire = Wire(args.emulator)
    seen = 0
    if args.mode == "list":
        start = time.perf_counter()
        for z in range(args.zones):
            seen += len(wire.list_zone(zone_name(z)))
        elapsed = time.perf_counter() - start
    elif args.mode == "changes":
        bodies = []
        for z in range(args.zones):
            for first in range(0, args.records, PAGE):
                numbers = range(first, min(first + PAGE, args.records))
                body: dict[str, Any] = {"additions": [record_body(z, i, args.ttl) for i in numbers]}
                if args.old_ttl is not None:
                    body["deletions"] = [record_body(z, i, args.old_ttl) for i in numbers]
                bodies.append((zone_name(z), body))
        start = time.perf_counter()
        for zone, body in bodies:
            wire.change(zone, body)
        elapsed = time.perf_counter() - start
    else:
        zone = zone_name(0)

        def one(i: int) -> int:
            body = record_body(0, i, args.ttl)
            wire.change(zone, {"additions": [body]})
            return len(wire.list_zone(zone, name=body["name"], type="A"))

        start = time.perf_counter()
        with ThreadPoolExecutor(max_workers=args.workers) as pool:
            seen = sum(pool.map(one, range(args.records)))
        elapsed = time.perf_counter() - start
    print(json.dumps({"elapsed": elapsed, "calls": wire.calls, "records": seen}))


if __name__ == "__main__":
    main()
