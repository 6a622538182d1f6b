"""Benchmark (run by hand): fill one zone with 100,000 record sets, then list it page by page.

    .venv/bin/python tests/benchmarks/bench_emulator.py [--records 100000] [--page 1000]

Everything goes through the google-cloud-dns client connection, as mldns's DNS provider does.
"""

from __future__ import annotations

import argparse
import json
import statistics
import time

from google.auth.credentials import AnonymousCredentials
from google.cloud import dns

from mldns.emulator import Emulator

PROJECT = "bench"
ZONE = "big"
DNS_NAME = "big.example."


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", type=int, default=100_000)
    parser.add_argument("--page", type=int, default=1000)
    parser.add_argument("--change-size", type=int, default=1000)
    args = parser.parse_args()

    quota = {"rrsetsPerManagedZone": args.records + 10, "rrsetAdditionsPerChange": args.change_size}
    with Emulator(quota=quota) as emu:
        client = dns.Client(
            project=PROJECT,
            credentials=AnonymousCredentials(),
            client_options={"api_endpoint": emu.url},
        )
        conn = client._connection
        base = f"/projects/{PROJECT}/managedZones"
        conn.api_request(method="POST", path=base, data={"name": ZONE, "dnsName": DNS_NAME})

        start = time.perf_counter()
        for first in range(0, args.records, args.change_size):
            additions = [
                {
                    "name": f"w{i:06d}.{DNS_NAME}",
                    "type": "A",
                    "ttl": 300,
                    "rrdatas": [f"10.{i >> 16 & 255}.{i >> 8 & 255}.{i & 255}"],
                }
                for i in range(first, min(first + args.change_size, args.records))
            ]
            conn.api_request(
                method="POST", path=f"{base}/{ZONE}/changes", data={"additions": additions}
            )
        fill = time.perf_counter() - start

        page_ms: list[float] = []
        page_bytes: list[int] = []
        total = 0
        token = None
        start = time.perf_counter()
        while True:
            query = {"maxResults": args.page}
            if token:
                query["pageToken"] = token
            t0 = time.perf_counter()
            page = conn.api_request(method="GET", path=f"{base}/{ZONE}/rrsets", query_params=query)
            page_ms.append((time.perf_counter() - t0) * 1000)
            page_bytes.append(len(json.dumps(page, separators=(",", ":"))))
            total += len(page["rrsets"])
            token = page.get("nextPageToken")
            if not token:
                break
        listing = time.perf_counter() - start

    page_ms.sort()
    p95 = page_ms[min(len(page_ms) - 1, int(len(page_ms) * 0.95))]
    print(
        f"fill:    {args.records} record sets in {fill:.1f} s = {args.records / fill:,.0f} record sets/s"
    )
    print(
        f"list:    {total} record sets in {len(page_ms)} pages, {listing:.2f} s = {total / listing:,.0f} record sets/s"
    )
    print(f"page:    {statistics.median(page_bytes):,.0f} bytes (median)")
    print(
        f"latency: median {statistics.median(page_ms):.1f} ms, p95 {p95:.1f} ms per page of {args.page}"
    )


if __name__ == "__main__":
    main()
