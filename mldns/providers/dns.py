"""Cloud DNS through google-cloud-dns: one paginated list per zone, atomic batched Changes."""

from __future__ import annotations

import queue
from collections.abc import Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import attrs
from google.api_core import exceptions as gexc

from mldns import words
from mldns.errors import Interrupted, UnsafePlanError, ValidationError
from mldns.plan import Action
from mldns.providers import dns_format as fmt
from mldns.providers import dns_pages, dnssec
from mldns.providers.base import (
    UNMANAGED_NAMES,
    ActionFailed,
    ApplyContext,
    Provider,
    Refresh,
    RowChanges,
    state_entry,
)
from mldns.providers.delegation import Delegations, is_delegation, settle
from mldns.providers.dns_pages import list_all
from mldns.providers.dns_tables import (
    RECORD,
    ROWS,
    TABLE,
    TableRows,
    ZoneRows,
    link_given_rows,
    link_moved_rows,
    owner_of,
    record_address,
    state_changes,
    unmatched,
)
from mldns.resources.base import Resource
from mldns.resources.dns import ManagedZone, RecordSet, RecordTable
from mldns.resources.dns import zone_records as zr

ZONE = "dns.ManagedZone"
DEFAULT_QUOTA = {
    "rrsetAdditionsPerChange": 1000,
    "rrsetDeletionsPerChange": 1000,
    "totalRrdataSizePerChange": 100000,
}
MAX_RECONCILE_ROUNDS = 5
# A Change's reply echoes every record set it adds and deletes; only its id and status are read,
# so only they are asked for (a partial response, Google's standard `fields` parameter).
CHANGE_FIELDS = {"fields": "id,status"}


def zone_address(name: str) -> str:
    return f"{ZONE}.{name}"


def _zone_name(address: str) -> str:
    return address[len(ZONE) + 1 :]


def _wire(body: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in body.items() if k != "kind"}


@attrs.define
class _Pair:
    """One record set action as the deletions and additions it puts into a Change, and the bytes
    of record data they count against the Change's quota."""

    action: Action
    deletions: list[dict[str, Any]]
    additions: list[dict[str, Any]]
    size: int = attrs.field(init=False)

    def __attrs_post_init__(self) -> None:
        self.size = sum(map(fmt.rrdata_size, self.deletions)) + sum(
            map(fmt.rrdata_size, self.additions)
        )


class DnsProvider(Provider):
    """Zones, their record sets and tables of record sets: a zone and what it holds is one unit."""

    kinds = frozenset({ZONE, RECORD, TABLE, ROWS})
    bulk_kinds = frozenset({TABLE, ROWS})  # diffed here, row by row, not by the planner

    def row_home(self, resource: Resource) -> str | None:
        """A plain record set is a row of its zone's entry; a routed or protected one, one left
        partly to another system, or an apex NS or SOA (made with the zone) has its own."""
        if (
            resource.__class__ is RecordSet
            and resource.routing is None
            and resource.protect is False
            and not resource.ignore_changes
            and zr.is_row(resource.fqdn, resource.type, resource.zone.dns_name)
        ):
            return f"{ROWS}.{resource.zone.name}"
        return None

    # --- reading ---------------------------------------------------------------------------------

    def desired_body(self, resource: Resource, project: str) -> dict[str, Any]:
        if isinstance(resource, ManagedZone):
            return fmt.zone_body(resource, project)
        assert isinstance(resource, RecordSet)
        return fmt.record_body(resource, project)

    def get_zone(self, project: str, name: str) -> dict[str, Any] | None:
        try:
            return self.clients.dns_request("GET", f"/projects/{project}/managedZones/{name}")
        except gexc.NotFound:
            return None

    def list_records(self, project: str, zone: str) -> list[dict[str, Any]]:
        """Every record set of a zone, page by page: the one read a refresh makes per zone."""
        return list_all(self.clients, dns_pages.rrsets_path(project, zone), "rrsets")

    def list_zones(self, project: str) -> dict[str, dict[str, Any]]:
        """Every zone of the project by name, page by page."""
        return {
            z["name"]: z
            for z in list_all(self.clients, f"/projects/{project}/managedZones", "managedZones")
        }

    def _stream_records(self, project: str, zone: str, pages: queue.SimpleQueue[Any]) -> None:
        """List a zone into `pages`, a page at a time, then None (or the error that stopped it):
        the refresh works through each page while the next is on its way."""
        try:
            for page in dns_pages.pages(
                self.clients, dns_pages.rrsets_path(project, zone), "rrsets"
            ):
                pages.put(page)
        except BaseException as exc:
            pages.put(exc)
            return
        pages.put(None)

    def refresh(
        self,
        project: str,
        desired: dict[str, Resource],
        prior: dict[str, dict[str, Any]],
        expected: dict[str, dict[str, Any]],
    ) -> Refresh:
        """One read of the zones (a GET for one, the project's list for more), then one paginated
        list per zone, several zones at once; each zone's records are processed as they arrive."""
        result = Refresh()
        zones: dict[str, ManagedZone | None] = {}
        tables: dict[str, list[TableRows]] = {}
        named = _DeclaredNames(desired)
        # Plain record sets by zone, diffed here as rows (the planner made no body for them).
        plain: dict[str, list[RecordSet]] = {}
        # Record sets with entries of their own that no declaration diffs, by zone: one may
        # have become a row.
        loose: dict[str, dict[str, dict[str, Any]]] = {}
        for address, resource in desired.items():
            if isinstance(resource, ManagedZone):
                zones[resource.name] = resource
            elif isinstance(resource, RecordSet):
                zone = resource.zone.name
                if zone not in zones:
                    zones[zone] = resource.zone
                if address not in expected:
                    rows = plain.get(zone)
                    if rows is None:
                        rows = plain[zone] = []
                    rows.append(resource)
            elif isinstance(resource, RecordTable):
                zone = resource.zone.name
                zones.setdefault(zone, resource.zone)
                tables.setdefault(zone, []).append(
                    TableRows(
                        address,
                        project,
                        zone,
                        zone_address(zone),
                        resource.type,
                        resource,
                        prior.get(address),
                    )
                )
        for address, entry in prior.items():
            kind = entry["kind"]
            if kind == ZONE:
                zones.setdefault(entry["attributes"]["name"], None)
            elif kind == RECORD and entry.get("parent"):
                zone = _zone_name(entry["parent"])
                zones.setdefault(zone, None)
                if address not in expected:
                    loose.setdefault(zone, {})[address] = entry
            elif kind == ROWS:
                zones.setdefault(_zone_name(entry["parent"]), None)
            elif kind == TABLE and address not in desired:
                zone = _zone_name(entry["parent"])
                zones.setdefault(zone, None)
                tables.setdefault(zone, []).append(
                    TableRows(
                        address,
                        project,
                        zone,
                        entry["parent"],
                        entry["attributes"]["type"],
                        None,
                        entry,
                    )
                )
        for zone in zones:
            home = zr.rows_address(zone)
            rows_entry = prior.get(home)
            if zone in plain or rows_entry is not None:
                tables.setdefault(zone, []).append(
                    ZoneRows(
                        home,
                        project,
                        zone,
                        zone_address(zone),
                        "",
                        None,
                        rows_entry,
                        records=plain.get(zone, []),
                    )
                )
        delegations = Delegations(zones)
        names = sorted(zones)
        if len(names) > 1:
            listed = self.list_zones(project)
            raw_zones = {name: listed.get(name) for name in names}
        else:
            raw_zones = {name: self.get_zone(project, name) for name in names}
        present = [name for name in names if raw_zones[name] is not None]
        for name in names:
            if raw_zones[name] is None:
                result.live[zone_address(name)] = None
                _made_with_zone(zones[name], named.of(name), result)
                for table in tables.get(name, ()):  # nothing listed: every row is to create
                    self._diff_table(table, False, result)
        # Zones a reader listed while the stack file ran (`dns_reads`) are not listed again.
        reads = self.clients.early_reads
        ahead = reads.zones if reads is not None and reads.project == project else frozenset()
        streamed = [name for name in present if name not in ahead]
        workers = max(1, min(len(streamed), self.clients.parallelism))
        streams = {name: queue.SimpleQueue[Any]() for name in streamed}
        with ThreadPoolExecutor(max_workers=workers) as pool:
            for name in streamed:
                pool.submit(self._stream_records, project, name, streams[name])
            for name in present:
                self._refresh_zone(
                    project,
                    name,
                    raw_zones[name] or {},
                    _pages_of(streams[name]) if name in streams else None,
                    zones[name],
                    desired,
                    prior,
                    expected,
                    tables.get(name, []),
                    result,
                    named,
                    delegations,
                    loose.get(name, {}),
                )
        result.extra.extend(delegations.actions(project, result, expected))
        return result

    def _diff_table(self, table: TableRows, zone_replaced: bool, result: Refresh) -> None:
        actions, entry = table.diff(zone_replaced)
        result.extra.extend(actions)
        if entry is not None:
            result.refreshed[table.address] = entry

    def _refresh_zone(
        self,
        project: str,
        name: str,
        raw_zone: dict[str, Any],
        pages: Iterable[list[dict[str, Any]]] | None,  # None: read ahead
        declared: ManagedZone | None,
        desired: dict[str, Resource],
        prior: dict[str, dict[str, Any]],
        expected: dict[str, dict[str, Any]],
        tables: list[TableRows],
        result: Refresh,
        named: _DeclaredNames | None = None,
        delegations: Delegations | None = None,
        loose: dict[str, dict[str, Any]] | None = None,
    ) -> None:
        address = zone_address(name)
        live_zone = result.live[address] = fmt.normalize_zone(raw_zone)
        want = expected.get(address)
        problem = dnssec.change_problem(live_zone, want) if want else None
        if problem:
            raise ValidationError(address, "dnssec", problem)
        result.outputs[address] = self.zone_outputs(project, raw_zone)
        dns_name = raw_zone["dnsName"].lower()
        replaced = want is not None and self.replaces(ZONE, live_zone, want)
        entry = prior.get(address)
        # A zone about to be deleted or replaced: what mldns does not manage in it would block
        # the deletion, so it is listed, to be deleted with the zone or to refuse the plan.
        going = replaced or (declared is None and entry is not None)
        strays: list[dict[str, Any]] = []
        unmanaged = 0
        names: list[str] = []
        count = 0
        # The holders of rows: the zone's plain record sets (one for every type), and tables
        # (each of one type).
        owners: dict[str, list[TableRows]] = {}
        rows = next((t for t in tables if isinstance(t, ZoneRows)), None)
        for table in tables:
            if table is not rows:
                owners.setdefault(table.type, []).append(table)
        if rows is not None:
            for of_type in owners.values():
                of_type.append(rows)
        for table in tables:
            table.replacing = replaced
        link_given_rows(tables, expected, result.moved)
        apart = _kept_apart(name, tables, rows, delegations) if rows is not None else set()
        listing = None
        if pages is None:
            listing = self.clients.early_reads.listing(name, self.clients.stats)
            if listing is None:  # the reader did not list it: list it here
                pages = dns_pages.pages(
                    self.clients, dns_pages.rrsets_path(project, name), "rrsets"
                )
        if listing is not None and rows is not None:
            records = listing.unmatched(rows, apart)
        else:
            records = unmatched(pages or (), rows, apart)
        for raw in records:
            raw.pop("kind", None)  # the wire form, without copying every record set
            if delegations is not None and delegations.capture(name, raw):
                continue
            rtype = raw["type"]
            candidates = owners.get(rtype) if owners else None
            if candidates is not None:  # a row of a table (or a plain record set), if one names it
                fqdn = raw["name"].lower()
                first = candidates[0]  # a table (the zone's plain record sets come last)
                if len(candidates) == 1 or fqdn in first.rows:  # declaring it, it owns it
                    taken = first.take(fqdn, raw)
                else:
                    owner = owner_of(fqdn, rtype, candidates)
                    taken = owner is not None and owner[0].take(owner[1], raw)
                if taken:
                    continue
            elif rows is not None:  # a plain record set's row, if one names it
                key = f"{raw['name'].lower()}/{rtype}"
                if (key in rows.rows or key in rows.prior) and rows.take(key, raw):
                    continue
            rec_address = record_address(name, raw["name"].lower(), raw["type"])
            if rec_address in desired or rec_address in prior:  # managed
                want = expected.get(rec_address)
                # Google's form of a plain record set equals ours more often than not: then it
                # need not be normalised, and the diff finds the very same object.
                if want is None or not fmt.is_exactly(raw, want):
                    want = fmt.normalize_record(raw)
                result.live[rec_address] = want
                result.raw[rec_address] = raw
                count += 1
            elif fmt.is_apex_default(raw, dns_name):
                continue
            elif declared is not None and declared.authoritative:
                result.extra.append(
                    Action(
                        address=rec_address,
                        kind=RECORD,
                        op="delete",
                        project=project,
                        before=fmt.normalize_record(raw),
                        raw=raw,
                        parent=address,
                        reason="not declared in an authoritative zone",
                    )
                )
            elif going:
                strays.append(raw)
            else:
                if named is not None:
                    _refuse_shared_cname(raw, named.of(name), tables)
                unmanaged += 1
                if len(names) < UNMANAGED_NAMES:
                    names.append(f"{raw['name'].lower()} {raw['type']}")
        if strays:
            force = (
                declared.deletes_contents
                if declared
                else bool(entry and entry.get("force_destroy"))
            )
            result.extra.extend(_stray_deletions(project, address, strays, replaced, force))
        link_moved_rows(tables, loose or {}, result.moved)
        for table in tables:
            self._diff_table(table, replaced, result)
            count += table.managed()
        result.unmanaged[address] = unmanaged
        if names:
            result.unmanaged_names[address] = names
        result.managed[address] = count

    def zone_outputs(self, project: str, raw: dict[str, Any]) -> dict[str, Any]:
        """Its id and name servers; a signed zone's DS records too (one `dnsKeys.list`)."""
        outputs = fmt.zone_outputs(raw)
        if dnssec.signed(fmt.normalize_zone(raw)):
            path = f"/projects/{project}/managedZones/{raw['name']}/dnsKeys"
            keys = list_all(self.clients, path, "dnsKeys")
            outputs["ds_records"] = dnssec.ds_records(keys)
        return outputs

    def _outputs_of(self, project: str, zone: str) -> dict[str, Any]:
        raw = self.get_zone(project, zone)
        if raw is None:
            raise ActionFailed(f"{zone_address(zone)}: gone before its delegation was written")
        return self.zone_outputs(project, raw)

    def replaces(self, kind: str, before: dict[str, Any], after: dict[str, Any]) -> bool:
        if kind == ZONE:
            return any(before.get(f) != after.get(f) for f in fmt.ZONE_IMMUTABLE)
        return False

    def unit_key(self, action: Action) -> str:
        """A zone and all its record sets form one unit: their order inside it is fixed."""
        return action.parent or action.address

    # --- writing ---------------------------------------------------------------------------------

    def recorded_now(self, action: Action) -> bool:
        """A table no longer declared is dropped from state once its rows are gone, after the
        unit's Changes."""
        return action.kind != TABLE and super().recorded_now(action)

    def recorded(self, actions: list[Action]) -> dict[str, dict[str, Any] | RowChanges | None]:
        """Record sets adopted or forgotten; rows of tables as the rows they change."""
        changes = super().recorded([a for a in actions if a.kind == ZONE])
        changes.update(state_changes([a for a in actions if a.kind == RECORD]))
        return changes

    def write(self, actions: list[Action], ctx: ApplyContext) -> None:
        zone = next((a for a in actions if a.kind == ZONE), None)
        records = [a for a in actions if a.kind == RECORD]
        tables = [a for a in actions if a.kind == TABLE]
        project = actions[0].project
        name = _zone_name(zone.address if zone else actions[0].parent or "")
        if records:  # read while the zone is created, or the record sets are batched
            ctx.prefetch(self._quota_key(project), lambda: self.quota(project))
        # A zone turning into a forwarding or peering zone is patched once its record sets are
        # gone (Google refuses it before); any other patch goes first, as record sets may need it.
        patch_last = zone is not None and zone.op == "update" and not fmt.holds_records(zone.after)
        if zone and zone.op == "create":
            self._create_zone(zone, ctx)
        elif zone and zone.op == "update" and not patch_last:
            self._patch_zone(zone, ctx)
        elif zone and zone.op == "replace":
            self._delete_zone(project, name, zone, records, ctx, recreate=True)
            self._create_zone(attrs.evolve(zone, op="create"), ctx)
            records = [attrs.evolve(r, raw=None, before=None) for r in records if r.op != "delete"]
        if records:
            self._change_records(project, name, records, ctx)
        if tables:  # tables no longer declared, whose rows are all gone now
            ctx.commit({table.address: None for table in tables})
        if zone and patch_last:
            self._patch_zone(zone, ctx)
        if zone and zone.op == "delete":
            self._delete_zone(project, name, zone, [], ctx)

    def _create_zone(self, action: Action, ctx: ApplyContext) -> None:
        body = dict(action.desired)
        try:
            raw = self.clients.dns_request(
                "POST", f"/projects/{action.project}/managedZones", data=body
            )
        except gexc.Conflict:
            raw = self.get_zone(action.project, body["name"])
            if raw is None or fmt.normalize_zone(raw) != action.desired:
                raise ActionFailed(
                    f"{action.address}: a zone named {body['name']} already exists with other settings"
                ) from None
        except gexc.GoogleAPICallError as exc:
            raise ActionFailed(f"{action.address}: {exc.message}") from None
        outputs = self.zone_outputs(action.project, raw)
        ctx.commit({action.address: state_entry(action, fmt.normalize_zone(raw), outputs)})

    def _patch_zone(self, action: Action, ctx: ApplyContext) -> None:
        patch = fmt.patch_body(action.before, action.desired)
        path = f"/projects/{action.project}/managedZones/{action.desired['name']}"
        try:
            operation = self.clients.dns_request("PATCH", path, data=patch)
            self._wait_operation(action, path, operation)
            raw = self.clients.dns_request("GET", path)
        except gexc.GoogleAPICallError as exc:
            raise ActionFailed(f"{action.address}: {exc.message}") from None
        outputs = self.zone_outputs(action.project, raw)
        ctx.commit({action.address: state_entry(action, fmt.normalize_zone(raw), outputs)})

    def _wait_operation(self, action: Action, zone_path: str, operation: dict[str, Any]) -> None:
        self.poll(
            operation,
            lambda op: op.get("status", "done") == "done",
            lambda op: self.clients.dns_request("GET", f"{zone_path}/operations/{op['id']}"),
            f"{action.address}: zone operation {operation.get('id')} did not finish in time",
        )

    def _delete_zone(
        self,
        project: str,
        name: str,
        action: Action,
        records: list[Action],
        ctx: ApplyContext,
        recreate: bool = False,
    ) -> None:
        """Remove the zone's managed record sets, then the zone itself."""
        if recreate:
            doomed = [
                attrs.evolve(r, op="delete", after=None) for r in records if r.raw is not None
            ]
            if doomed:
                self._change_records(project, name, doomed, ctx)
        path = f"/projects/{project}/managedZones/{name}"
        try:
            self.clients.dns_request("DELETE", path)
        except gexc.NotFound:
            pass  # already gone: deleted by an earlier attempt whose reply was lost
        except gexc.GoogleAPICallError as exc:
            raise ActionFailed(f"{action.address}: {exc.message}") from None
        ctx.commit({action.address: None})

    def _read_record(self, project: str, zone: str, body: dict[str, Any]) -> list[dict[str, Any]]:
        """The live record set `body` names, as a Change's deletion (none if there is none)."""
        path = f"{dns_pages.rrsets_path(project, zone)}/{body['name']}/{body['type']}"
        try:
            return [_wire(self.clients.dns_request("GET", path))]
        except gexc.NotFound:
            return []

    @staticmethod
    def _quota_key(project: str) -> str:
        return f"dns-quota:{project}"

    def quota(self, project: str) -> dict[str, int]:
        """Per-Change limits of the project, read from Google (not hard-coded)."""
        reply = self.clients.dns_request("GET", f"/projects/{project}")
        quota = reply.get("quota", {})
        return {k: int(quota.get(k, v)) for k, v in DEFAULT_QUOTA.items()}

    def _change_records(
        self, project: str, zone: str, actions: list[Action], ctx: ApplyContext
    ) -> None:
        pairs: list[_Pair] = []
        actions = [settle(a, lambda child: self._outputs_of(project, child)) for a in actions]
        for action in actions:
            deletions = (
                [action.raw] if action.op in ("update", "delete", "replace") and action.raw else []
            )
            if action.op == "update" and action.raw is None:  # made by Cloud DNS with the zone
                deletions = self._read_record(project, zone, action.after or {})
            additions = [action.after] if action.after is not None and action.op != "delete" else []
            pairs.append(_Pair(action, deletions, additions))
        if not pairs:
            return
        quota = ctx.cached(self._quota_key(project), lambda: self.quota(project))
        for batch in _batches(pairs, quota):
            self._submit(project, zone, batch, ctx)

    def _submit(self, project: str, zone: str, batch: list[_Pair], ctx: ApplyContext) -> None:
        """Send one Change; on a conflict, re-read the zone and resend only what is still to do."""
        path = f"/projects/{project}/managedZones/{zone}/changes"
        failures: list[str] = []
        for _ in range(MAX_RECONCILE_ROUNDS):
            body = {
                "additions": [a for p in batch for a in p.additions],
                "deletions": [d for p in batch for d in p.deletions],
            }
            try:
                change = self.clients.dns_request(
                    "POST", path, data=body, query_params=CHANGE_FIELDS
                )
                try:
                    self._wait_change(path, change)
                except Interrupted:
                    # Stopped while the Change was pending: Cloud DNS carries out every Change
                    # it accepted, so it is recorded as done rather than left to the next plan.
                    ctx.commit(state_changes(_recorded(p.action for p in batch)))
                    raise
            except (gexc.Conflict, gexc.PreconditionFailed, gexc.NotFound) as exc:
                batch, done, drift = self._reconcile(project, zone, batch, exc)
                ctx.commit(state_changes(_recorded(p.action for p in done)))
                failures.extend(drift)
                if not batch:
                    break
                continue
            except gexc.GoogleAPICallError as exc:
                raise ActionFailed(
                    f"Change of {len(batch):,} record sets in zone {zone} failed: {exc.message}",
                    cause=exc.message,
                ) from None
            ctx.commit(state_changes(_recorded(p.action for p in batch)))
            break
        else:
            failures.append(f"zone {zone}: record sets kept changing while being written")
        if failures:
            raise ActionFailed("; ".join(failures))

    def _wait_change(self, path: str, change: dict[str, Any]) -> None:
        """A Change is usually done by the time it is read again: read at once, then back off."""
        self.poll(
            change,
            lambda c: c.get("status") == "done",
            lambda c: self.clients.dns_request(
                "GET", f"{path}/{c['id']}", query_params=CHANGE_FIELDS
            ),
            f"Change {change.get('id')} still pending after {self.clients.timeout:.0f}s",
            first=0.0,
        )

    def _reconcile(
        self, project: str, zone: str, batch: list[_Pair], exc: Exception
    ) -> tuple[list[_Pair], list[_Pair], list[str]]:
        """Split a rejected batch: already done, still to do (resend), or drifted (fail)."""
        live = {(r["name"].lower(), r["type"]): r for r in self.list_records(project, zone)}
        remaining, done, drift = [], [], []
        for pair in batch:
            action = pair.action
            body = action.after or action.before or {}
            key = body["name"], body["type"]
            raw = live.get(key)
            now = fmt.normalize_record(raw) if raw else None
            wanted = None if action.op == "delete" else action.after
            if now == wanted:
                done.append(pair)
            elif now == action.before:
                pair.deletions = [_wire(raw)] if raw and pair.deletions else []
                remaining.append(pair)
            elif action.op == "create" and raw is not None:
                drift.append(
                    f"{action.address}: already exists with other data ({_summary(now)}); import it with --adopt or remove it"
                )
            else:
                drift.append(
                    f"{action.address}: changed outside mldns since the plan (now {_summary(now)}); plan again"
                )
        return remaining, done, drift


class _DeclaredNames:
    """The declared record sets of each zone by name (a CNAME shares its name with nothing),
    gathered on first need: most plans never need them."""

    def __init__(self, desired: dict[str, Resource]) -> None:
        self._desired = desired
        self._by_zone: dict[str, dict[str, list[RecordSet]]] | None = None

    def of(self, zone: str) -> dict[str, list[RecordSet]]:
        if self._by_zone is None:
            self._by_zone = {}
            for resource in self._desired.values():
                if isinstance(resource, RecordSet):
                    names = self._by_zone.setdefault(resource.zone.name, {})
                    names.setdefault(resource.fqdn, []).append(resource)
        return self._by_zone.get(zone, {})


APEX_MADE = "made by Cloud DNS with the zone; set to what is declared once the zone exists"
# What a plan shows as the current data of a record set Cloud DNS will make with a new zone.
_ASSIGNED = {"ttl": 21600, "rrdatas": ["(assigned by Cloud DNS with the zone)"]}


def _made_with_zone(
    zone: ManagedZone | None, named: dict[str, list[RecordSet]], result: Refresh
) -> None:
    """A zone to create comes with an apex NS and SOA: declared, they are updates of those."""
    if zone is None:
        return
    for record in named.get(zone.dns_name, ()):
        if record.type in ("NS", "SOA"):
            before = {"name": record.fqdn, "type": record.type, **_ASSIGNED}
            result.live[record.address] = before
            result.made_with_parent[record.address] = APEX_MADE


def _refuse_shared_cname(
    raw: dict[str, Any], named: dict[str, list[RecordSet]], tables: list[TableRows]
) -> None:
    """Refuse a declared CNAME where record sets mldns does not manage hold the name, or a
    declared record where an unmanaged CNAME holds it: Cloud DNS would refuse the Change."""
    fqdn, rtype = raw["name"].lower(), raw["type"]
    declared = [(r.address, r.type) for r in named.get(fqdn, ())]
    declared += [(f"{t.address}[{fqdn}]", t.type) for t in tables if fqdn in t.rows]
    for address, dtype in declared:
        if rtype == "CNAME":
            target = ", ".join(raw.get("rrdatas") or ())
            problem = f"{fqdn} holds a CNAME mldns does not manage (-> {target})"
        elif dtype == "CNAME":
            problem = f"{fqdn} holds a {rtype} record set mldns does not manage"
        else:
            continue
        raise ValidationError(
            address,
            None,
            f"{problem}, and a CNAME shares its name with nothing; delete it, or declare it "
            "instead",
        )


def _stray_deletions(
    project: str, zone: str, strays: list[dict[str, Any]], replaced: bool, force: bool
) -> list[Action]:
    """Record sets mldns does not manage in a zone being deleted or replaced: deleted with it
    under force_destroy; else the plan is refused, as Google would refuse to delete the zone
    once every managed record set was gone."""
    doing = "replaced" if replaced else "deleted"
    if not force:
        named = words.some([f"{r['name']} {r['type']}" for r in strays])
        them = "it" if len(strays) == 1 else "them"
        raise UnsafePlanError(
            f"{zone} cannot be {doing}: it holds {words.count(len(strays), 'record set')} mldns does "
            f"not manage ({named}); delete {them}, or declare the zone with force_destroy=True "
            f"to delete {them} with the zone"
        )
    return [
        Action(
            address=record_address(_zone_name(zone), raw["name"].lower(), raw["type"]),
            kind=RECORD,
            op="delete",
            project=project,
            before=fmt.normalize_record(raw),
            raw=raw,
            parent=zone,
            reason=f"not managed by mldns; force_destroy deletes it as its zone is {doing}",
        )
        for raw in strays
    ]


def _recorded(actions: Iterable[Action]) -> list[Action]:
    """The actions whose outcome the state keeps: not a delegation, which each plan derives."""
    return [a for a in actions if not is_delegation(a)]


def _pages_of(pages: queue.SimpleQueue[Any]) -> Iterator[list[dict[str, Any]]]:
    """The pages of a zone being listed, as they arrive."""
    while True:
        page = pages.get()
        if page is None:
            return
        if isinstance(page, BaseException):
            raise page
        yield page


def _records_of(pages: queue.SimpleQueue[Any]) -> Iterator[dict[str, Any]]:
    """The record sets of a zone being listed, as they arrive."""
    for page in _pages_of(pages):
        yield from page


def _kept_apart(
    zone: str, tables: list[TableRows], rows: ZoneRows, delegations: Delegations | None
) -> set[str]:
    """The plain record set rows a listed record set may not be matched to at once: one a
    table also names (a table takes what it declares), or a delegation the refresh watches."""
    apart: set[str] = set()
    for table in tables:
        if table is not rows:
            apart.update(f"{fqdn}/{table.type}" for fqdn in table.rows.keys() | table.prior.keys())
    if delegations is not None:
        for parent, fqdn in delegations.watched:
            if parent == zone:
                apart.update((f"{fqdn}/NS", f"{fqdn}/DS"))
    return apart


def _summary(body: dict[str, Any] | None) -> str:
    if body is None:
        return "absent"
    if "rrdatas" in body:
        return f"ttl {body['ttl']}, {', '.join(body['rrdatas'])}"
    return f"ttl {body['ttl']}, routing policy"


def _batches(pairs: list[_Pair], quota: dict[str, int]) -> list[list[_Pair]]:
    """Pack pairs greedily into as few Changes as the quota allows; a pair never splits."""
    max_add, max_del, max_size = (
        quota["rrsetAdditionsPerChange"],
        quota["rrsetDeletionsPerChange"],
        quota["totalRrdataSizePerChange"],
    )
    batches: list[list[_Pair]] = []
    current: list[_Pair] = []
    adds = dels = size = 0
    for pair in pairs:
        a, d, s = len(pair.additions), len(pair.deletions), pair.size
        if current and (adds + a > max_add or dels + d > max_del or size + s > max_size):
            batches.append(current)
            current, adds, dels, size = [], 0, 0, 0
        current.append(pair)
        adds, dels, size = adds + a, dels + d, size + s
    if current:
        batches.append(current)
    return batches
