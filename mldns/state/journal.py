"""The state journal: what an apply changed since the state file was last written whole.

An apply records each call's changes here, so that a write costs what changed rather than the size
of the state; when the apply ends, the state file is written whole and the journal removed. After a
crash the journal stays beside the state file, and reading the state replays it.

JSON lines. The first names the state file the journal extends, by lineage and serial:

    {"journal_of": "<lineage>", "serial": 41, "version": "<the store's token for that write>"}

then one line per write: the serial it brings the state to (an apply raises it once), and the resources it changed (null for
one removed), each as the state file holds it:

    {"serial": 42, "resources": {"dns.RecordSet.z/a.z.example./A": {...}, ...}}

A resource that holds many rows (its kind's `holds_rows`, e.g. a table of record sets) changes a
few rows at a time, so only those rows are recorded, each as its kind encodes it ([ttl, data...]
for a table) or null for one removed:

    {"serial": 43, "resources": {"dns.RecordTable.z/workers": {"$rows": {"w1.z.example.": [300, "10.0.0.1"]}}}}

A write is one line, flushed to disk before the next one is made; a line without its newline was
cut short by a crash and is ignored, like the call whose result it held. The file is readable by
its owner only, as the state file is.
"""

from __future__ import annotations

import contextlib
import json
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import attrs

from mldns.errors import StateError
from mldns.files import fsync_dir
from mldns.kinds import lookup

ROWS = "$rows"


@attrs.frozen
class RowChanges:
    """What one call changed in the state entry of a resource that holds many rows (its kind's
    `holds_rows`): rows by name, or None for a row removed. Committed in place of the whole
    entry, which may hold 100,000 rows."""

    rows: dict[str, list[Any] | None]
    # The entry to start from when the state holds none yet (a zone's first plain record set).
    header: dict[str, Any] | None = None


def commit_rows(resources: dict[str, dict[str, Any]], address: str, change: RowChanges) -> bool:
    """Record `change` in `resources`; whether the entry was made or dropped whole (its kind's
    entry goes with its last row), rather than changed row by row."""
    current = resources.get(address)
    if current is None:
        if change.header is None:
            raise KeyError(address)
        current = change.header
    entry = patch_rows(current, change.rows)
    if is_empty(entry):
        resources.pop(address, None)
        return True
    resources[address] = entry
    return current is change.header


def is_empty(entry: dict[str, Any]) -> bool:
    """Whether `entry` holds no row and its kind's entry goes with its last row."""
    attributes = entry.get("attributes")
    if type(attributes) is not dict or attributes.get("rows") != {}:
        return False
    facts = lookup(entry.get("kind", ""))
    return facts is not None and facts.gone_when_empty


def patch_rows(entry: dict[str, Any], rows: dict[str, list[Any] | None]) -> dict[str, Any]:
    """The state entry of a resource that holds rows with `rows` changed (None: removed), as a
    new entry: entries are replaced, never edited in place."""
    attributes = entry["attributes"]
    merged = dict(attributes["rows"])
    for name, row in rows.items():
        if row is None:
            merged.pop(name, None)
        else:
            merged[name] = row
    return {**entry, "attributes": {**attributes, "rows": merged}}


class Journal:
    """A journal being written: created for one apply, appended to by its state writer."""

    def __init__(self, path: Path, lineage: str, serial: int, version: str | None = None) -> None:
        self.path = path
        self._fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        header: dict[str, Any] = {"journal_of": lineage, "serial": serial}
        if version is not None:
            header["version"] = version
        try:
            self._write(json.dumps(header).encode() + b"\n")
        except BaseException:
            os.close(self._fd)
            raise
        fsync_dir(path.parent)

    def append(self, serial: int, members: list[bytes]) -> None:
        """Record one write; `members` are `"address": entry` pairs, encoded."""
        self._write(b'{"serial": %d, "resources": {' % serial + b", ".join(members) + b"}}\n")

    def close(self) -> None:
        with contextlib.suppress(OSError):
            os.close(self._fd)

    def _write(self, data: bytes) -> None:
        view = memoryview(data)
        while view:
            view = view[os.write(self._fd, view) :]
        os.fsync(self._fd)


def replay(
    path: Path,
    resources: dict[str, dict[str, Any]],
    lineage: str,
    serial: int,
    problem: Callable[[Any], str | None],
    version: str | None = None,
) -> int | None:
    """Apply the journal at `path` to `resources`, those of the state file of `lineage` and
    `serial`; the serial the state comes to. None when no journal extends that file: none exists,
    or it extends an older one (written whole since, so the journal is already in it).

    An apply raises the serial once however often it writes, so a journal also names the very
    version of the state it extends (`version`: the store's token for it), when the store has one.
    `problem` says what is wrong with a resource entry, as for the state file."""
    try:
        text = path.read_bytes()
    except FileNotFoundError:
        return None
    except OSError as exc:
        raise StateError(f"{path}: cannot read the state journal ({exc.strerror})") from None
    lines = text.split(b"\n")[:-1]  # what follows the last newline was cut short
    if not lines:
        return None
    header = _parse(path, lines[0], 1)
    if header.get("journal_of") != lineage or header.get("serial") != serial:
        return None
    if "version" in header and header["version"] != version:
        return None  # it extends another write of the same serial, one the state file holds
    for number, line in enumerate(lines[1:], start=2):
        record = _parse(path, line, number)
        changes, next_serial = record.get("resources"), record.get("serial")
        if type(next_serial) is not int or next_serial < serial or type(changes) is not dict:
            raise StateError(
                f"{path}: corrupt state journal (line {number} goes back in serial, or lacks its serial or resources)"
            )
        for address, entry in changes.items():
            if entry is None:
                resources.pop(address, None)
                continue
            if type(entry) is dict and ROWS in entry:
                resources[address] = _patched(path, number, address, resources.get(address), entry)
                continue
            wrong = problem(entry)
            if wrong:
                raise StateError(
                    f"{path}: corrupt state journal (line {number}: resource {address} {wrong})"
                )
            resources[address] = entry
        serial = next_serial
    return serial


def _patched(
    path: Path, number: int, address: str, current: Any, entry: dict[str, Any]
) -> dict[str, Any]:
    rows = entry[ROWS]
    facts = lookup(current.get("kind", "")) if type(current) is dict else None
    if (
        facts is None
        or not facts.holds_rows
        or type(current.get("attributes")) is not dict
        or type(current["attributes"].get("rows")) is not dict
        or type(rows) is not dict
    ):
        raise StateError(
            f"{path}: corrupt state journal (line {number}: rows for {address}, which holds none)"
        )
    for name, row in rows.items():
        wrong = None if row is None else facts.row_problem(row)
        if wrong:
            raise StateError(
                f"{path}: corrupt state journal (line {number}: row {name} of {address} {wrong})"
            )
    return patch_rows(current, rows)


def discard(path: Path) -> None:
    """Remove a journal the state file now holds."""
    try:
        path.unlink()
    except FileNotFoundError:
        return
    fsync_dir(path.parent)


def _parse(path: Path, line: bytes, number: int) -> dict[str, Any]:
    try:
        value = json.loads(line)
    except ValueError:
        value = None
    if not isinstance(value, dict):
        raise StateError(f"{path}: corrupt state journal (line {number} is not a JSON object)")
    return value
