"""The least a no-op plan could cost if record sets were declared as tables, not one object each.

mldns does not declare tables. This measures, as a process of its own like `mldns plan`, the
work such a plan could not avoid, each step done the cheapest way mldns's own parts allow:

  1. start, and import what `mldns plan` imports (the CLI, the DNS provider, google-cloud-dns);
  2. declare the same record sets as one dict of name -> data per zone, and check them in bulk
     (one match over all names, one over all data: what mldns checks of a RecordSet's plain
     name and dotted-quad data, not row by row);
  3. read a compact state: one JSON object per zone of name -> [ttl, data...];
  4. read the zones and list every one through mldns's DNS provider, 10 zones at a time;
  5. compare every listed record set with its row and its state row.

Nothing is planned, rendered or locked, and the steps run one after another, as a plan runs them.
A table design built from these parts could not be faster than this, unless it overlapped them.
Prints one JSON line (the time of each step, inside the process); exits 1 if a record set differs.

  lower_bound.py state --zones 1 --records 100000 --out rows.json
  lower_bound.py plan --emulator HOST:PORT --zones 1 --records 100000 --state rows.json
"""

from __future__ import annotations

import gc

gc.disable()  # as `mldns` starts (mldns/entry.py)

import argparse  # noqa: E402
import json  # noqa: E402
import re  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
from concurrent.futures import ThreadPoolExecutor  # noqa: E402
from pathlib import Path  # noqa: E402

STARTED = time.perf_counter()
sys.path.insert(0, str(Path(__file__).resolve().parent))

from stacks import PROJECT, dns_name, record_body, zone_name  # noqa: E402


def write_state(zones: int, records: int, ttl: int, out: Path) -> None:
    state = {
        zone_name(z): {
            body["name"]: [body["ttl"], *body["rrdatas"]]
            for body in (record_body(z, i, ttl) for i in range(records))
        }
        for z in range(zones)
    }
    out.write_text(json.dumps(state), encoding="utf-8")


def plan(emulator: str, zones: int, records: int, ttl: int, state_path: Path) -> int:
    import mldns.cli  # noqa: F401  what every `mldns` command imports
    from mldns.clients import Clients
    from mldns.providers.dns import DnsProvider
    from mldns.resources import rdata
    from mldns.resources.dns import MAX_PLAIN_NAME, PLAIN_NAME

    marks = {"imports": time.perf_counter()}
    # 2. The declaration, as a stack file would write it, then checked.
    declared = {
        zone_name(z): {
            f"w{i:06d}": f"10.{i >> 16 & 255}.{i >> 8 & 255}.{i & 255}" for i in range(records)
        }
        for z in range(zones)
    }
    marks["declare"] = time.perf_counter()
    # In bulk: one match over all of a table's names, one over all its data (canonical dotted
    # quads, the data of every row here). A table failing either would need the checks row by
    # row, which the bound leaves out: every table here passes.
    names_ok = re.compile(rf"(?:{PLAIN_NAME.pattern}\n)*").fullmatch
    quads_ok = re.compile(rf"(?:{rdata.CANONICAL_IPV4.pattern}\n)*").fullmatch
    rows: dict[str, dict[str, list[str]]] = {}
    for zone, table in declared.items():
        suffix = dns_name(int(zone[1:]))
        fqdns = [f"{name.lower()}.{suffix}" for name in table]
        values = list(table.values())
        if (
            max(map(len, fqdns)) > MAX_PLAIN_NAME
            or not names_ok("\n".join(fqdns) + "\n")
            or not all(type(v) is str for v in values)
            or not quads_ok("\n".join(values) + "\n")
        ):
            raise SystemExit(f"zone {zone}: a row needs the checks one by one")
        checked = rows[zone] = dict(zip(fqdns, ([v] for v in values), strict=True))
        if len(checked) != len(fqdns):
            raise SystemExit(f"zone {zone}: a name is declared twice")
    marks["check"] = time.perf_counter()
    # 3. The state.
    state = json.loads(state_path.read_bytes())
    for zone_rows in state.values():
        for row in zone_rows.values():
            if type(row) is not list or type(row[0]) is not int:
                raise SystemExit(f"{state_path}: corrupt row {row!r}")
    marks["state"] = time.perf_counter()
    # 4 and 5. The reads, and the comparison of each zone as its list arrives.
    provider = DnsProvider(Clients(PROJECT, emulator))
    names = sorted(rows)
    if len(names) > 1:
        provider.list_zones(PROJECT)
    else:
        provider.get_zone(PROJECT, names[0])
    same = differ = 0
    with ThreadPoolExecutor(max_workers=min(10, len(names))) as pool:
        listings = pool.map(lambda zone: provider.list_records(PROJECT, zone), names)
        for zone, listed in zip(names, listings, strict=True):
            wanted, prior = rows[zone], state[zone]
            for raw in listed:
                if raw["type"] != "A":
                    continue  # the zone's own SOA and NS
                fqdn = raw["name"].lower()
                want = wanted.get(fqdn)
                if want is None:
                    continue  # not declared: unmanaged
                row = prior.get(fqdn)
                if (
                    raw.get("ttl") == ttl
                    and raw["rrdatas"] == want
                    and "routingPolicy" not in raw
                    and row is not None
                    and row[0] == ttl
                    and row[1:] == want
                ):
                    same += 1
                else:
                    differ += 1
    marks["list and compare"] = time.perf_counter()
    steps, last = {}, STARTED
    for step, at in marks.items():
        steps[step], last = round(at - last, 4), at
    expected = zones * records
    print(json.dumps({"steps": steps, "same": same, "differ": differ, "declared": expected}))
    return 0 if same == expected and not differ else 1


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("mode", choices=["state", "plan"])
    parser.add_argument("--emulator", metavar="HOST:PORT")
    parser.add_argument("--zones", type=int, default=1)
    parser.add_argument("--records", type=int, default=0)
    parser.add_argument("--ttl", type=int, default=300)
    parser.add_argument("--state", type=Path, help="plan: the compact state to read")
    parser.add_argument("--out", type=Path, help="state: where to write it")
    args = parser.parse_args(argv)
    if args.mode == "state":
        write_state(args.zones, args.records, args.ttl, args.out)
        return 0
    return plan(args.emulator, args.zones, args.records, args.ttl, args.state)


if __name__ == "__main__":
    sys.exit(main())
