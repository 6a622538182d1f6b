"""Rows of record sets: each declared row against the zone's listing and the state's rows.

Two things hold rows: a table (`dns.RecordTable`, rows of one type by name) and a zone's plain
record sets (`dns.ZoneRecords`, rows by name and type). Rows become ordinary record set Actions,
named as if each row were a RecordSet, so batching, reconciling and the plan's text treat them
alike. Only a row that differs costs an Action; the rest cost a dictionary lookup and a
comparison. A row that moves from one holder to another is managed all along: no write.
"""

from __future__ import annotations

from collections.abc import Callable, Container, Iterable, Iterator, Mapping
from typing import Any

import attrs

from mldns.kinds import at
from mldns.ops import Op
from mldns.plan import Action
from mldns.providers import dns_format as fmt
from mldns.providers.base import RowChanges, entry_for, state_entry
from mldns.resources import rdata
from mldns.resources.dns import RecordSet, RecordTable
from mldns.resources.dns import zone_records as zr

TABLE = "dns.RecordTable"
RECORD = "dns.RecordSet"
ROWS = zr.KIND


@attrs.define
class TableRows:
    """One table of one zone during a refresh: its declared rows, its rows in state, and the
    record sets of its type listed under those names. Rows are keyed by name."""

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
    # Rows it declares that another holder recorded (or a RecordSet's entry): moved here. A row
    # recorded as routed is [] here: managed, and to be updated.
    moved: dict[str, list[Any]] = attrs.field(factory=dict)
    moved_from: dict[str, str] = attrs.field(factory=dict)  # and where from, for the plan
    # Rows it recorded that another holder now declares, by key -> that holder: dropped quietly.
    moved_to: dict[str, str] = attrs.field(factory=dict)
    # Rows it recorded that a RecordSet of its own entry now declares, by key -> its address:
    # that record set takes the listed one, and the row leaves without a write.
    given_away: dict[str, str] = attrs.field(factory=dict)
    # Whether the zone is being replaced: every listed row is kept, to be deleted with it.
    replacing: bool = False

    def __attrs_post_init__(self) -> None:
        self.rows = self.declared.rows if self.declared is not None else {}
        self.prior = self.entry["attributes"]["rows"] if self.entry is not None else {}
        self.ttl = self.declared.ttl if self.declared is not None else 0

    # --- what differs between holders ----------------------------------------------------------

    @property
    def in_stack(self) -> bool:
        """Whether the stack declares the holder (a table; some plain record set of a zone)."""
        return self.declared is not None

    def ident(self, key: str) -> tuple[str, str]:
        """The name and type of the row `key`."""
        return key, self.type

    def key_for(self, fqdn: str, rtype: str) -> str | None:
        """The key a record set of this name and type has here, None if it cannot be a row."""
        return fqdn if rtype == self.type else None

    def ttl_of(self, key: str) -> int:
        return self.ttl

    def canonical(self, key: str, want: list[str]) -> list[str]:
        """The declared data of row `key` in canonical form (a table's is, from the start)."""
        return want

    @property
    def described(self) -> str:
        """What the plan calls the holder when a row moves to or from it."""
        return self.address

    @property
    def protect(self) -> bool:
        if self.declared is not None:
            return self.declared.protect
        return bool((self.entry or {}).get("protect"))

    def header(self) -> dict[str, Any]:
        assert self.declared is not None
        attributes = {"name": self.declared.name, "zone": self.zone, "type": self.type}
        return entry_for(
            TABLE,
            self.project,
            attributes,
            (self.zone_address,),
            self.protect,
            self.zone_address,
            None,
        )

    def gone(self) -> list[Action]:
        """What says the holder is no longer declared."""
        moved = len(self.given_away) + len(self.moved_to) == len(self.prior)
        return [
            Action(
                address=self.address,
                kind=TABLE,
                op="forget",
                project=self.project,
                prior_depends_on=tuple((self.entry or {}).get("depends_on", ())),
                parent=self.zone_address,
                reason="no longer declared; "
                + ("its record sets moved" if moved else "its record sets are deleted"),
                protect=self.protect,
            )
        ]

    # --- the diff --------------------------------------------------------------------------------

    def take(self, key: str, raw: dict[str, Any]) -> bool:
        """File one listed record set, as it arrives, if it is a row of this holder's."""
        want = self.rows.get(key)
        if want is None:
            if key not in self.prior or key in self.given_away:
                return False
        elif not self.replacing:
            ttl = self.ttl_of(key)
            if raw.get("rrdatas") == want and raw.get("ttl") == ttl and "routingPolicy" not in raw:
                row = self.prior.get(key)
                if row is not None and row[0] == ttl and row[1:] == want:
                    self.same.add(key)
                    return True
        self.live[key] = raw
        return True

    def diff(self, zone_replaced: bool) -> tuple[list[Action], dict[str, Any] | None]:
        """The Actions that bring the rows to the declaration, and the holder's state entry to
        record without a call (None when the stored one is right)."""
        actions: list[Action] = []
        stale: dict[str, list[Any]] = {}
        declared, prior, live, same = self.in_stack, self.prior, self.live, self.same
        if zone_replaced:
            same = set()
        elif declared and not live and len(same) == len(self.rows) == len(prior):
            return actions, self._entry(stale)  # every row listed as declared and recorded
        for key, want in self.rows.items():
            if key in same:
                continue
            want = self.canonical(key, want)
            ttl = self.ttl_of(key)
            raw = None if zone_replaced else live.get(key)
            row = prior.get(key)
            if row is None and self.moved:
                row = self.moved.get(key)
            if raw is not None and _matches(raw, ttl, want):
                if row is None:
                    reason = "exists and matches; recorded without a write"
                    actions.append(self._action("adopt", key, raw, row, ttl, want, reason))
                elif key not in prior or row[0] != ttl or row[1:] != want:
                    stale[key] = [ttl, *want]
            elif raw is None:
                reason = "its zone is replaced" if zone_replaced else ""
                if row is not None and not zone_replaced:
                    reason = "deleted outside mldns; will be recreated"
                action = self._action("create", key, None, row, ttl, want, reason)
                listed = live.get(key) if zone_replaced else None
                # In a zone being replaced, what is listed goes with the old zone.
                actions.append(attrs.evolve(action, raw=listed) if listed else action)
            elif row is None:
                reason = "exists, not yet managed, and differs"
                actions.append(self._action("update", key, raw, row, ttl, want, reason, True))
            else:
                moved = self.moved_from.get(key)
                reason = f"moved from {moved}" if moved else _drift(raw, row, ttl, want)
                actions.append(self._action("update", key, raw, row, ttl, want, reason))
        for key, row in prior.items():
            if key in self.rows or key in self.given_away:
                continue
            raw = live.get(key)
            if key in self.moved_to:
                reason = f"moved to {self.moved_to[key]}; nothing to write"
                actions.append(self._action("forget", key, None, row, 0, None, reason))
            elif raw is None:
                reason = "already gone from the cloud; dropped from state"
                actions.append(self._action("forget", key, None, row, 0, None, reason))
            else:
                actions.append(self._action("delete", key, raw, row, 0, None, "no longer declared"))
        if not declared:
            return [*actions, *self.gone()], None
        return actions, self._entry(stale)

    def managed(self) -> int:
        """How many of the zone's listed record sets this holder manages."""
        return len(self.same) + sum(1 for key in self.live if key in self.prior)

    def _entry(self, stale: dict[str, list[Any]]) -> dict[str, Any] | None:
        header = self.header()
        entry = self.entry
        if entry is not None and not stale and not self.given_away:
            stored = {**entry, "attributes": {**entry["attributes"]}}
            del stored["attributes"]["rows"]
            header["attributes"].pop("rows", None)
            if stored == header:
                return None
        rows = {**self.prior, **stale}
        for key in self.given_away:
            del rows[key]
        header["attributes"]["rows"] = rows
        return header

    def _action(
        self,
        op: Op,
        key: str,
        raw: dict[str, Any] | None,
        row: list[Any] | None,
        ttl: int,
        want: list[str] | None,
        reason: str = "",
        needs_adopt: bool = False,
    ) -> Action:
        fqdn, rtype = self.ident(key)
        after = None
        if want is not None:
            after = {"name": fqdn, "type": rtype, "ttl": ttl, "rrdatas": list(want)}
        return Action(
            address=record_address(self.zone, fqdn, rtype),
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
            protect=self.protect,
            row_of=self.address,
        )


@attrs.define
class ZoneRows(TableRows):
    """A zone's plain record sets during a refresh: rows keyed `<name>/<type>`, each with its
    own TTL; never protected; its entry goes with its last row."""

    records: list[RecordSet] = attrs.field(factory=list)

    def __attrs_post_init__(self) -> None:
        self.prior = self.entry["attributes"]["rows"] if self.entry is not None else {}
        # Each row's RecordSet, whose data is canonical more often than not (checked when it was
        # declared): made canonical only for a row that differs from its listing (`diff`).
        self.rows = {f"{r.fqdn}/{r.type}": r for r in self.records}  # type: ignore[misc]
        self.records = []

    def take(self, key: str, raw: dict[str, Any]) -> bool:
        record: Any = self.rows.get(key)
        if record is None:
            if key not in self.prior or key in self.given_away:
                return False
        elif not self.replacing:
            ttl, data = record.ttl, record.rrdatas
            listed = raw.get("rrdatas")
            if raw.get("ttl") == ttl and _same(listed, data) and "routingPolicy" not in raw:
                row = self.prior.get(key)
                if row is not None and row[0] == ttl and _same(row[1:], data):
                    self.same.add(key)
                    return True
        self.live[key] = raw
        return True

    def ttl_of(self, key: str) -> int:
        return self.rows[key].ttl  # type: ignore[attr-defined,no-any-return]

    def canonical(self, key: str, want: Any) -> list[str]:
        return rdata.canonical_set(want.type, want.rrdatas)

    def ident(self, key: str) -> tuple[str, str]:
        fqdn, rtype = key.rsplit("/", 1)
        return fqdn, rtype

    def key_for(self, fqdn: str, rtype: str) -> str | None:
        return f"{fqdn}/{rtype}"

    @property
    def in_stack(self) -> bool:
        return bool(self.rows)

    @property
    def described(self) -> str:
        return "a RecordSet"

    @property
    def protect(self) -> bool:
        return False

    def header(self) -> dict[str, Any]:
        return zr.header(self.project, self.zone)

    def gone(self) -> list[Action]:
        return []  # the entry goes with its last row

    def _entry(self, stale: dict[str, list[Any]]) -> dict[str, Any] | None:
        entry = super()._entry(stale)
        if entry is not None and not entry["attributes"]["rows"] and self.entry is None:
            return None  # nothing to record yet: the first row's commit makes the entry
        return entry

    def diff(self, zone_replaced: bool) -> tuple[list[Action], dict[str, Any] | None]:
        if not self.rows and not self.prior:
            return [], None
        actions, entry = super().diff(zone_replaced)
        if entry is None and not self.rows and self.given_away:
            entry = self._entry({})  # rows that left for entries of their own
        return actions, entry


def unmatched(
    pages: Iterable[list[dict[str, Any]]], holder: ZoneRows | None, apart: Container[str]
) -> Iterator[dict[str, Any]]:
    """The listed record sets that are not a plain record set listed exactly as declared and
    as recorded; those that are go into the holder's `same`, at the cost of two lookups and a
    few comparisons each, without a call. `apart`: keys another holder may claim."""
    if holder is None or holder.replacing or not holder.prior:
        for page in pages:
            yield from page
        return
    declared, recorded, note = holder.rows.get, holder.prior.get, holder.same.add
    for page in pages:
        for raw in page:
            key = raw["name"] + "/" + raw["type"]
            row = recorded(key)
            if (
                row is not None
                and raw.get("ttl") == row[0]
                and raw.get("rrdatas") == row[1:]
                and "routingPolicy" not in raw
            ):
                # Declared as recorded: the test `dns_reads.Listing.unmatched` makes too, written
                # out in both, as a call here costs 30 ms of 100,000 rows.
                record: Any = declared(key)
                if record is not None and record.ttl == row[0] and key not in apart:
                    data = record.rrdatas
                    if len(row) == len(data) + 1 and (
                        row[1] == data[0] if len(data) == 1 else tuple(row[1:]) == data
                    ):
                        note(key)
                        continue
            yield raw


def _same(listed: list[str] | None, data: tuple[str, ...]) -> bool:
    """Whether listed data (a list) holds the declared data (a tuple), in order."""
    if listed is None or len(listed) != len(data):
        return False
    return listed[0] == data[0] if len(data) == 1 else tuple(listed) == data


def _matches(raw: dict[str, Any], ttl: int, want: list[str]) -> bool:
    if "routingPolicy" in raw or raw.get("ttl", 300) != ttl:
        return False
    return raw.get("rrdatas") == want or fmt.normalize_record(raw).get("rrdatas") == want


def _drift(raw: dict[str, Any], row: list[Any], ttl: int, want: list[str]) -> str:
    """Why a recorded row differs, as the planner says it of a resource: changed outside mldns
    (the row recorded is not what is listed), or in the declaration (no reason needed), or
    both. A row recorded as routed ([]) was changed in the stack."""
    if not row or _matches(raw, row[0], row[1:]):
        return ""
    if row[0] == ttl and row[1:] == want:
        return "changed outside mldns since the last apply; will be put back"
    return "changed outside mldns since the last apply, and in the declaration"


def owner_of(fqdn: str, rtype: str, holders: Iterable[TableRows]) -> tuple[TableRows, str] | None:
    """The holder a listed record set belongs to, with its key there: the one declaring it,
    else the one that recorded it."""
    recorded = None
    for holder in holders:
        key = holder.key_for(fqdn, rtype)
        if key is None:
            continue
        if key in holder.rows:
            return holder, key
        if recorded is None and key in holder.prior and key not in holder.given_away:
            recorded = holder, key
    return recorded


def link_given_rows(
    holders: list[TableRows], expected: Mapping[str, Any], moved: dict[str, str]
) -> None:
    """A row that a RecordSet with an entry of its own (routed, protected) now declares is that
    record set's, managed all along: it is recorded there (noted in `moved`) and leaves the
    holder, without a write. Run before the zone is listed, so that the record set takes what
    is listed under its name."""
    if not expected:
        return
    for holder in holders:
        for key in holder.prior.keys() - holder.rows.keys():
            address = record_address(holder.zone, *holder.ident(key))
            if address in expected:
                holder.given_away[key] = address
                moved[address] = holder.address


def link_moved_rows(
    holders: list[TableRows],
    entries: Mapping[str, dict[str, Any]],
    moved: dict[str, str],
) -> None:
    """A row moved between holders (table to table, RecordSet to table and back), or from a
    record set's own entry (`entries`: those of the zone no declaration diffs), is managed all
    along: the holder now declaring it takes the other's record of it, and the other drops it
    without a write (a holder forgets the row; an entry is noted in `moved`)."""
    for holder in holders:
        if not holder.in_stack or len(holder.same) == len(holder.rows):
            continue
        new = holder.rows.keys() - holder.prior.keys()
        if not new:
            continue
        for other in holders:
            if other is holder:
                continue
            for key in new:
                other_key = other.key_for(*holder.ident(key))
                if other_key in other.prior and other_key not in other.rows:
                    holder.moved[key] = other.prior[other_key]
                    holder.moved_from[key] = other.described
                    other.moved_to[other_key] = holder.described
        for address, entry in entries.items():
            attributes = entry["attributes"]
            found = holder.key_for(attributes["name"], attributes["type"])
            if found is None or found not in new or found in holder.moved:
                continue
            # A plain record set's data moves as it is; a routed one is managed, and differs.
            holder.moved[found] = (
                [attributes.get("ttl", 300), *attributes["rrdatas"]]
                if "rrdatas" in attributes
                else []
            )
            holder.moved_from[found] = "an entry of its own"
            moved[address] = holder.address


def state_changes(actions: list[Action]) -> dict[str, Any]:
    """The state changes of finished record set Actions: an entry (None: removed) per record set,
    and for rows, the rows changed in each holder."""
    changes: dict[str, Any] = {}
    holders: dict[str, dict[str, list[Any] | None]] = {}
    projects: dict[str, str] = {}
    row_names: dict[str, Callable[[str], str]] = {}  # each holder's kind is looked up once
    for action in actions:
        gone = action.op in ("delete", "forget")
        holder = action.row_of
        if holder is None:
            changes[action.address] = None if gone else state_entry(action, action.desired)
            continue
        after = action.after or {}
        row = None if gone else [after["ttl"], *after["rrdatas"]]
        rows = holders.get(holder)
        if rows is None:
            rows = holders[holder] = {}
            projects[holder] = action.project
            row_names[holder] = at(holder).row_name  # type: ignore[union-attr]
        rows[row_names[holder](action.address)] = row
    for holder, rows in holders.items():
        header = None
        if holder.startswith(ROWS + "."):  # made with its first row
            header = zr.header(projects[holder], holder[len(ROWS) + 1 :])
        changes[holder] = RowChanges(rows, header)
    return changes


def record_address(zone: str, name: str, rtype: str) -> str:
    return f"{RECORD}.{zone}/{name}/{rtype}"
