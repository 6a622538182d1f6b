"""Tables of record sets: each declared row against the zone's listing and the table's state rows.

A table's rows become ordinary record set Actions, named as if each row were a RecordSet, so
batching, reconciling and the plan's text treat them alike. Only a row that differs costs an
Action; the rest cost a dictionary lookup and a comparison.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import attrs

from mldns.ops import Op
from mldns.plan import Action
from mldns.providers import dns_format as fmt
from mldns.providers.base import RowChanges, entry_for, state_entry
from mldns.resources.dns import RecordTable

TABLE = "dns.RecordTable"
RECORD = "dns.RecordSet"


@attrs.define
class TableRows:
    """One table of one zone during a refresh: its declared rows, its rows in state, and the
    record sets of its type listed under those names."""

    address: str
    project: str
    zone: str
    zone_address: str
    type: str
    declared: RecordTable | None
    entry: dict[str, Any] | None
    rows: dict[str, list[str]] = attrs.field(init=False)
    prior: dict[str, list[Any]] = attrs.field(init=False)
    ttl: int = attrs.field(init=False)
    live: dict[str, dict[str, Any]] = attrs.field(factory=dict)
    # Rows listed exactly as declared and as recorded: the usual row, which needs nothing.
    same: set[str] = attrs.field(factory=set)
    # Rows this table declares that another table of the zone recorded: moved between tables.
    moved: dict[str, list[Any]] = attrs.field(factory=dict)
    # Rows it recorded that another table now declares, by name -> that table: dropped quietly.
    moved_to: dict[str, str] = attrs.field(factory=dict)
    # Rows it recorded that a RecordSet now declares, by name -> its address: that record set
    # takes the listed one, and the row leaves the table's entry without a write.
    given_away: dict[str, str] = attrs.field(factory=dict)

    def __attrs_post_init__(self) -> None:
        self.rows = self.declared.rows if self.declared is not None else {}
        self.prior = self.entry["attributes"]["rows"] if self.entry is not None else {}
        self.ttl = self.declared.ttl if self.declared is not None else 0

    def take(self, fqdn: str, raw: dict[str, Any]) -> bool:
        """File one listed record set, as it arrives, if it is a row of this table's."""
        want, ttl = self.rows.get(fqdn), self.ttl
        if want is None:
            if fqdn not in self.prior or fqdn in self.given_away:
                return False
        elif raw.get("rrdatas") == want and raw.get("ttl") == ttl and "routingPolicy" not in raw:
            row = self.prior.get(fqdn)
            if row is not None and row[0] == ttl and row[1:] == want:
                self.same.add(fqdn)
                return True
        self.live[fqdn] = raw
        return True

    def diff(self, zone_replaced: bool) -> tuple[list[Action], dict[str, Any] | None]:
        """The Actions that bring the rows to the declaration, and the table's state entry to
        record without a call (None when the stored one is right)."""
        actions: list[Action] = []
        stale: dict[str, list[Any]] = {}
        declared, prior, live, same, ttl = self.declared, self.prior, self.live, self.same, self.ttl
        if zone_replaced:
            same = set()
        elif declared is not None and not live and len(same) == len(self.rows) == len(prior):
            return actions, self._entry(
                declared, stale
            )  # every row listed as declared and recorded
        for fqdn, want in self.rows.items():
            if fqdn in same:
                continue
            raw = None if zone_replaced else live.get(fqdn)
            row = prior.get(fqdn)
            if row is None and self.moved:
                row = self.moved.get(fqdn)
            if raw is not None and self._matches(raw, ttl, want):
                if row is None:
                    reason = "exists and matches; recorded without a write"
                    actions.append(self._action("adopt", fqdn, raw, row, ttl, want, reason))
                elif fqdn not in prior or row[0] != ttl or row[1:] != want:
                    stale[fqdn] = [ttl, *want]
            elif raw is None:
                reason = "its zone is replaced" if zone_replaced else ""
                if row is not None and not zone_replaced:
                    reason = "deleted outside mldns; will be recreated"
                actions.append(self._action("create", fqdn, None, row, ttl, want, reason))
            elif row is None:
                reason = "exists, not yet managed, and differs"
                actions.append(self._action("update", fqdn, raw, row, ttl, want, reason, True))
            else:
                actions.append(self._action("update", fqdn, raw, row, ttl, want))
        for fqdn, row in prior.items():
            if fqdn in self.rows or fqdn in self.given_away:
                continue
            raw = live.get(fqdn)
            if fqdn in self.moved_to:
                reason = f"moved to {self.moved_to[fqdn]}; nothing to write"
                actions.append(self._action("forget", fqdn, None, row, 0, None, reason))
            elif raw is None:
                reason = "already gone from the cloud; dropped from state"
                actions.append(self._action("forget", fqdn, None, row, 0, None, reason))
            else:
                actions.append(
                    self._action("delete", fqdn, raw, row, 0, None, "no longer declared")
                )
        if declared is None:
            moved = len(self.given_away) + len(self.moved_to) == len(prior)
            actions.append(
                Action(
                    address=self.address,
                    kind=TABLE,
                    op="forget",
                    project=self.project,
                    prior_depends_on=tuple((self.entry or {}).get("depends_on", ())),
                    parent=self.zone_address,
                    reason="no longer declared; "
                    + ("its record sets moved" if moved else "its record sets are deleted"),
                    protect=bool((self.entry or {}).get("protect")),
                )
            )
            return actions, None
        return actions, self._entry(declared, stale)

    def managed(self) -> int:
        """How many of the zone's listed record sets this table manages."""
        return len(self.same) + sum(1 for fqdn in self.live if fqdn in self.prior)

    def _entry(self, table: RecordTable, stale: dict[str, list[Any]]) -> dict[str, Any] | None:
        attributes = {"name": table.name, "zone": self.zone, "type": self.type}
        header = entry_for(
            TABLE,
            self.project,
            attributes,
            (self.zone_address,),
            table.protect,
            self.zone_address,
            None,
        )
        entry = self.entry
        if entry is not None and not stale and not self.given_away:
            stored = {**entry, "attributes": {**entry["attributes"]}}
            del stored["attributes"]["rows"]
            if stored == header:
                return None
        rows = {**self.prior, **stale}
        for fqdn in self.given_away:
            del rows[fqdn]
        header["attributes"]["rows"] = rows
        return header

    @staticmethod
    def _matches(raw: dict[str, Any], ttl: int, want: list[str]) -> bool:
        if "routingPolicy" in raw or raw.get("ttl", 300) != ttl:
            return False
        return raw.get("rrdatas") == want or fmt.normalize_record(raw).get("rrdatas") == want

    def _action(
        self,
        op: Op,
        fqdn: str,
        raw: dict[str, Any] | None,
        row: list[Any] | None,
        ttl: int,
        want: list[str] | None,
        reason: str = "",
        needs_adopt: bool = False,
    ) -> Action:
        table = self.declared
        after = None
        if want is not None:
            after = {"name": fqdn, "type": self.type, "ttl": ttl, "rrdatas": list(want)}
        protect = table.protect if table is not None else bool((self.entry or {}).get("protect"))
        return Action(
            address=record_address(self.zone, fqdn, self.type),
            kind=RECORD,
            op=op,
            project=self.project,
            before=fmt.normalize_record(raw) if raw is not None else None,
            after=after,
            depends_on=(self.zone_address,) if after is not None else (),
            prior_depends_on=(self.zone_address,) if row is not None else (),
            raw=raw,
            parent=self.zone_address,
            reason=reason,
            needs_adopt=needs_adopt,
            protect=protect,
            row_of=self.address,
        )


def owner_of(fqdn: str, tables: list[TableRows]) -> TableRows | None:
    """The table a listed record set of theirs belongs to: the one declaring it, else the one
    that recorded it."""
    for table in tables:
        if fqdn in table.rows:
            return table
    for table in tables:
        if fqdn in table.prior:
            return table
    return None


def link_given_rows(
    tables: list[TableRows], desired: Mapping[str, Any], moved: dict[str, str]
) -> None:
    """A row a table recorded that a RecordSet now declares is that record set's, managed all
    along: it is recorded there (noted in `moved`) and leaves the table, without a write. Run
    before the zone is listed, so that the record set takes what is listed under its name."""
    for table in tables:
        for fqdn in table.prior.keys() - table.rows.keys():
            address = record_address(table.zone, fqdn, table.type)
            if address in desired:
                table.given_away[fqdn] = address
                moved[address] = table.address


def link_moved_rows(
    tables: list[TableRows],
    desired: Mapping[str, Any],
    prior: Mapping[str, dict[str, Any]],
    moved: dict[str, str],
) -> None:
    """A row moved from one table to another, or from a RecordSet to a table, is managed all
    along: the table now declaring it takes the other's record of it, and the other drops it
    without a write (a table forgets the row; a record set's entry is noted in `moved`)."""
    for table in tables:
        if table.declared is None or len(table.same) == len(table.rows):
            continue
        new = table.rows.keys() - table.prior.keys()
        if not new:
            continue
        for other in tables:
            if other is table or other.type != table.type:
                continue
            for fqdn in new & other.prior.keys():
                table.moved[fqdn] = other.prior[fqdn]
                other.moved_to[fqdn] = table.address
        for fqdn in new - table.moved.keys():
            address = record_address(table.zone, fqdn, table.type)
            entry = prior.get(address)
            if entry is None or address in desired or entry["kind"] != RECORD:
                continue
            attributes = entry["attributes"]
            if "rrdatas" in attributes:  # a plain record set, not a routed one
                table.moved[fqdn] = [attributes.get("ttl", 300), *attributes["rrdatas"]]
                moved[address] = table.address


def state_changes(actions: list[Action]) -> dict[str, Any]:
    """The state changes of finished record set Actions: an entry (None: removed) per record set,
    and for rows of tables, the rows changed in each table."""
    changes: dict[str, Any] = {}
    tables: dict[str, dict[str, list[Any] | None]] = {}
    for action in actions:
        gone = action.op in ("delete", "forget")
        if action.row_of is None:
            changes[action.address] = None if gone else state_entry(action, action.desired)
            continue
        after = action.after or {}
        row = None if gone else [after["ttl"], *after["rrdatas"]]
        tables.setdefault(action.row_of, {})[row_name(action.address)] = row
    changes.update((table, RowChanges(rows)) for table, rows in tables.items())
    return changes


def record_address(zone: str, name: str, rtype: str) -> str:
    return f"{RECORD}.{zone}/{name}/{rtype}"


def row_name(address: str) -> str:
    """The record set name in `dns.RecordSet.<zone>/<name>/<type>` (the zone holds no '/')."""
    return address[len(RECORD) + 1 :].rsplit("/", 1)[0].split("/", 1)[1]
