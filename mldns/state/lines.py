"""The state file's resources as lines of JSON, kept as last encoded, so that a write costs what
changed rather than the size of the state (100,000 record sets in a big zone).

One line per resource keeps the file reviewable and diffable, and lets the C encoder do the work
(an indented dump runs in pure Python, ten times slower).
"""

from __future__ import annotations

import json
from json.encoder import encode_basestring_ascii as _json_string
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from mldns.state.format import State


def _indented(value: Any, depth: int) -> str:
    """`value` as json.dumps(indent=1) prints it `depth` levels deep (no raw newline is in JSON
    strings, so every newline starts a line)."""
    return json.dumps(value, indent=1).replace("\n", "\n" + " " * depth)


def line(address: str, entry: dict[str, Any]) -> bytes:
    """A resource's line in the state file (and in its journal)."""
    return f"  {_json_string(address)}: {json.dumps(entry)}".encode()


def removed_line(address: str) -> bytes:
    """A journal's line for a resource removed."""
    return f"  {_json_string(address)}: null".encode()


class EncodedLines:
    """The resources as last encoded: addresses in file order, their lines in the same order,
    each address's position, and the entry each line encodes."""

    def __init__(self) -> None:
        self.order: list[str] = []
        self.text: list[bytes] = []
        self.position: dict[str, int] = {}
        self.entries: dict[str, dict[str, Any]] = {}
        self.complete = False  # whether these lines are all of the state's, or only some
        self.stale: set[str] = set()  # resources whose line predates rows sent to the journal

    def line(self, address: str) -> bytes:
        return self.text[self.position[address]]

    def file(
        self, state: State, changed: dict[str, dict[str, Any] | None] | None = None
    ) -> list[bytes]:
        """The state file's bytes, in pieces: each resource on a line of its own, re-encoded only
        if changed.

        With `changed` (address to entry, None for removed: everything that changed since the
        last encode) only those lines are touched and `state.resources` is not read. Without it,
        every entry is compared; entries are replaced on change, never edited in place, so an
        entry that is the same object as at the last encode still has the same line.
        """
        if changed is None:
            self.encode_all(state.resources)
        else:
            stale = {a: state.resources.get(a) for a in self.stale if a not in changed}
            self.encode_changes({**changed, **stale} if stale else changed)
        self.stale = set()
        fields = state.to_json(with_resources=False).items()
        text = "{\n" + ",\n".join(f" {json.dumps(k)}: {_indented(v, 1)}" for k, v in fields)
        # The resources go where the empty object stands (the fields before it are plain values).
        before, empty, after = (text + "\n}\n").partition(' "resources": {}')
        if not self.text:
            return [(before + empty + after).encode()]
        return [
            (before + ' "resources": {\n').encode(),
            b",\n".join(self.text),
            f"\n }}{after}".encode(),
        ]

    def reuse(self, raw: bytes, resources: dict[str, dict[str, Any]]) -> None:
        """Take the lines of the file as read, each with the entry read from it, as if they had
        been encoded here: the first write of an apply then re-encodes only what it changed.

        Lines are taken only from a file in the layout `file` writes, sorted, one resource a
        line; anything else (an older layout, a hand edit) is simply encoded afresh.
        """
        self.complete = self._reuse(raw, resources)

    def _reuse(self, raw: bytes, resources: dict[str, dict[str, Any]]) -> bool:
        if not resources:
            return True
        lines = raw.split(b"\n")
        try:
            first = lines.index(b' "resources": {') + 1
        except ValueError:
            return False
        order = list(resources)  # in file order, as JSON objects keep it
        block = lines[first : first + len(order)]
        prefixes = [f'  "{address}": '.encode() for address in order]
        if (
            len(block) != len(order)
            or not lines[first + len(order)].startswith(b" }")
            or not all(map(bytes.startswith, block, prefixes))
            or not all(line[-1:] == b"," for line in block[:-1])
            or order != sorted(order)
        ):
            return False  # another layout, a hand-edited order, or an address JSON escapes
        block[:-1] = [line[:-1] for line in block[:-1]]  # the commas between lines
        self.order, self.text, self.entries = order, block, dict(resources)
        self.position = {a: i for i, a in enumerate(order)}
        return True

    def encode_all(self, resources: dict[str, dict[str, Any]]) -> None:
        known, text = self.entries, dict(zip(self.order, self.text, strict=True))
        order = sorted(resources)
        self.text = [
            text[a] if known.get(a) is resources[a] else line(a, resources[a]) for a in order
        ]
        self.order, self.entries = order, dict(resources)
        self.position = {a: i for i, a in enumerate(order)}
        self.complete = True

    def encode_changes(self, changed: dict[str, dict[str, Any] | None]) -> None:
        entries, position, text = self.entries, self.position, self.text
        added: list[str] = []
        removed = False
        for address, entry in changed.items():
            if entry is None:
                removed = entries.pop(address, None) is not None or removed
            elif address in entries:
                entries[address] = entry
                text[position[address]] = line(address, entry)
            else:
                entries[address] = entry
                added.append(address)
        added.sort()
        if not removed and (not self.order or not added or added[0] > self.order[-1]):
            # Only new addresses past the last one (a fleet created in order): appended in place.
            for address in added:
                position[address] = len(self.order)
                self.order.append(address)
                text.append(line(address, entries[address]))
            return
        lines = {a: text[position[a]] for a in self.order if a in entries}
        lines.update((a, line(a, entries[a])) for a in added)
        self.order = sorted(lines)
        self.text = [lines[a] for a in self.order]
        self.position = {a: i for i, a in enumerate(self.order)}
