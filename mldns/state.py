"""State: what mldns manages, where, and as it was last seen. Stored locally, atomically, locked.

A state file is `{format_version, stack, lineage, serial, resources, outputs}`. `serial` grows by one
with every write that changed something; `lineage` is fixed when the state is first created, so a
plan or state from another history is recognised and refused.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import socket
import time
import uuid
from collections.abc import Iterator
from json.encoder import encode_basestring_ascii as _json_string
from pathlib import Path
from typing import Any

import attrs
import filelock

from mldns import journal
from mldns.errors import LockError, StateError
from mldns.files import atomic_write, keep_copy
from mldns.journal import Journal
from mldns.kinds import lookup

FORMAT_VERSION = 1
# A project id as Google forms them (a legacy one may carry a domain): each entry is read and
# written in its project, so a damaged id must not reach a URL.
PROJECT_ID = re.compile(r"(?:[a-z0-9.-]+:)?[a-z](?:[a-z0-9-]*[a-z0-9])?")
_known_projects: set[str] = set()  # ids already checked: a state holds few, 100,000 times each


def _entry_problem(entry: Any) -> str | None:
    """What is wrong with one resource record of a state file, or None.

    Called for every resource of every state read (100,000 in a big zone): exact type checks,
    JSON holds no subclasses. What each kind must hold is its own (`mldns.kinds`)."""
    if type(entry) is not dict:
        return "is not an object"
    kind, attributes = entry.get("kind"), entry.get("attributes")
    facts = lookup(kind) if type(kind) is str else None
    if facts is None:
        return f"has unknown kind {kind!r}"
    project = entry.get("project")
    if type(project) is not str or type(attributes) is not dict:
        return "lacks project or attributes"
    if project not in _known_projects:
        if not PROJECT_ID.fullmatch(project):
            return f"names a malformed project {project!r}"
        _known_projects.add(project)
    for key in facts.state_keys:
        if type(attributes.get(key)) is not str:
            return f"lacks attribute {key}"
    deps = entry.get("depends_on", [])
    if type(deps) is not list or any(type(d) is not str for d in deps):
        return "has a malformed depends_on"
    parent = entry.get("parent")
    if (parent is not None and type(parent) is not str) or type(
        entry.get("outputs", {})
    ) is not dict:
        return "has a malformed parent or outputs"
    if facts.has_parent and not parent:
        return "names no zone (parent)"
    return facts.entry_problem(attributes)


@attrs.define
class State:
    """The managed resources of one stack, keyed by address."""

    stack: str
    lineage: str = attrs.field(factory=lambda: str(uuid.uuid4()))
    serial: int = 0
    resources: dict[str, dict[str, Any]] = attrs.field(factory=dict)
    outputs: dict[str, Any] = attrs.field(factory=dict)

    def to_json(self, with_resources: bool = True) -> dict[str, Any]:
        """The file's fields in file order; `resources` sorted by address (or left out, as {})."""
        return {
            "format_version": FORMAT_VERSION,
            "stack": self.stack,
            "lineage": self.lineage,
            "serial": self.serial,
            "resources": (
                {k: self.resources[k] for k in sorted(self.resources)} if with_resources else {}
            ),
            "outputs": self.outputs,
        }

    @classmethod
    def from_json(cls, data: Any, source: str) -> State:
        if not isinstance(data, dict):
            raise StateError(f"{source}: not a state file (top level is not an object)")
        version = data.get("format_version")
        if not isinstance(version, int):
            raise StateError(f"{source}: not a state file (no format_version)")
        if version > FORMAT_VERSION:
            raise StateError(
                f"{source}: written by a newer mldns (state format {version}, this one reads {FORMAT_VERSION}); upgrade mldns"
            )
        stack, lineage, serial = data.get("stack"), data.get("lineage"), data.get("serial")
        resources, outputs = data.get("resources", {}), data.get("outputs", {})
        if (
            not isinstance(stack, str)
            or not isinstance(lineage, str)
            or not isinstance(serial, int)
            or isinstance(serial, bool)
        ):
            raise StateError(
                f"{source}: corrupt state (stack, lineage or serial missing or of the wrong type)"
            )
        if not isinstance(resources, dict) or not isinstance(outputs, dict):
            raise StateError(f"{source}: corrupt state (resources or outputs is not an object)")
        for address, entry in resources.items():
            problem = _entry_problem(entry)
            if problem:
                raise StateError(f"{source}: corrupt state (resource {address} {problem})")
        return cls(
            stack=stack,
            lineage=lineage,
            serial=serial,
            resources=dict(resources),
            outputs=dict(outputs),
        )


def _indented(value: Any, depth: int) -> str:
    """`value` as json.dumps(indent=1) prints it `depth` levels deep (no raw newline is in JSON
    strings, so every newline starts a line)."""
    return json.dumps(value, indent=1).replace("\n", "\n" + " " * depth)


def _line(address: str, entry: dict[str, Any]) -> bytes:
    return f"  {_json_string(address)}: {json.dumps(entry)}".encode()


def _removed(address: str) -> bytes:
    return f"  {_json_string(address)}: null".encode()


@attrs.frozen
class LockInfo:
    pid: int
    host: str
    since: str
    operation: str

    def describe(self) -> str:
        return f"pid {self.pid} on host {self.host} since {self.since} ({self.operation})"

    def holding(self) -> str:
        """Who holds the lock, as a sentence's subject: 'an apply by pid 7 on host h'."""
        article = "an" if self.operation[:1] in "aeiou" else "a"
        return (
            f"{article} {self.operation} by pid {self.pid} on host {self.host} (since {self.since})"
        )

    def is_dead_here(self) -> bool:
        if self.host != socket.gethostname():
            return False
        try:
            os.kill(self.pid, 0)
        except ProcessLookupError:
            return True
        except PermissionError:
            return False
        return False


class LocalStateStore:
    """State files in a directory: `<stack>.json`, its `.backup`, and a lock beside them."""

    def __init__(self, directory: str | os.PathLike[str], stack: str) -> None:
        self.directory = Path(directory)
        self.stack = stack
        self.path = self.directory / f"{stack}.json"
        self.backup_path = self.directory / f"{stack}.json.backup"
        self.lock_path = self.directory / f"{stack}.json.lock"
        self.info_path = self.directory / f"{stack}.json.lock.info"
        self.journal_path = self.directory / f"{stack}.json.journal"
        self._backed_up = False
        # The resources as last encoded: addresses in file order, their lines of JSON in the same
        # order, each address's position, and the entry each line encodes.
        self._order: list[str] = []
        self._text: list[bytes] = []
        self._position: dict[str, int] = {}
        self._entries: dict[str, dict[str, Any]] = {}
        self._complete = False  # whether those lines are all of the state's, or only some
        self._stale: set[str] = set()  # tables whose line predates rows appended to the journal
        # The file as read under the lock, and the entries it held: the first encode reuses the
        # lines of those entries still unchanged.
        self._locked = False
        self._read: tuple[bytes, dict[str, dict[str, Any]]] | None = None
        # Under the lock: the state file's lineage and serial when no journal extends it yet (a
        # journal may then be started on it), and the journal this run writes.
        self._base: tuple[str, int] | None = None
        self._journal: Journal | None = None

    def read(self) -> State | None:
        """The stored state, None if there is none yet; a damaged file is an error, never ignored.

        A journal left beside the state file by an apply that did not finish is replayed."""
        try:
            raw = self.path.read_bytes()
        except FileNotFoundError:
            return None
        except OSError as exc:
            raise StateError(f"{self.path}: cannot read state ({exc.strerror})") from None
        try:
            data = json.loads(raw)
        except UnicodeDecodeError:
            raise StateError(
                f"{self.path}: corrupt state (not UTF-8 text){self._backup_hint()}"
            ) from None
        except json.JSONDecodeError as exc:
            raise StateError(
                f"{self.path}: corrupt state (invalid JSON at line {exc.lineno}, column {exc.colno}){self._backup_hint()}"
            ) from None
        try:
            state = State.from_json(data, str(self.path))
        except StateError as exc:
            raise StateError(f"{exc}{self._backup_hint()}") from None
        if state.stack != self.stack:
            raise StateError(
                f"{self.path}: belongs to stack {state.stack!r}, not {self.stack!r}{self._backup_hint()}"
            )
        base = state.lineage, state.serial
        serial = journal.replay(
            self.journal_path, state.resources, state.lineage, state.serial, _entry_problem
        )
        if serial is not None:
            state.serial = serial
        if self._locked:
            # What this run writes builds on this read: lines encoded before are forgotten, and
            # those of the file reused when the file alone is the state (no journal replayed).
            self._forget_lines()
            self._read = (raw, data.get("resources", {})) if serial is None else None
            self._base = base if not self.journal_path.exists() else None
        return state

    def read_or_new(self) -> State:
        return self.read() or State(stack=self.stack)

    def write(self, state: State, changed: dict[str, dict[str, Any] | None] | None = None) -> None:
        """Write the state file whole, atomically, and drop the journal it now holds; the first
        write of a run keeps the previous file as `.backup`.

        `state` holds every resource. `changed`, if given, holds everything changed since this
        store's last write or append: then only those lines are encoded, provided the store holds
        the lines of all the rest."""
        self._take_read_lines()
        self.persist(self.encode(state, changed if self._complete else None))
        if self._journal is not None:
            self._journal.close()
            self._journal = None
        journal.discard(self.journal_path)
        self._base = (state.lineage, state.serial) if self._locked else None

    @property
    def journaling(self) -> bool:
        """Whether this run has started a journal that the state file does not hold yet."""
        return self._journal is not None

    def can_append(self) -> bool:
        """Whether `append` may record the next write: under the lock, with a state file this
        store has read or written and no other journal beside it."""
        return self._journal is not None or self._base is not None

    def append(
        self,
        state: State,
        changed: dict[str, dict[str, Any] | None],
        rows: dict[str, dict[str, list[Any] | None]] | None = None,
    ) -> None:
        """Record the entries `changed` since the last write (None: removed) in the journal, at
        the serial of `state` (whose resources are not read): a write whose cost follows what
        changed, not the size of the state. `rows` holds, by table, the rows changed in tables
        not in `changed`: only they are recorded, and the table's line is encoded afresh at the
        next whole write."""
        if self._journal is None:
            if self._base is None:
                raise StateError(f"{self.path}: no state file to journal on; write it whole first")
            self._journal = Journal(self.journal_path, *self._base)
        self._take_read_lines()
        self._encode_changes(changed)
        members = [
            self._text[self._position[a]] if entry is not None else _removed(a)
            for a, entry in changed.items()
        ]
        for address, patch in (rows or {}).items():
            members.append(_line(address, {journal.ROWS: patch}))
            self._stale.add(address)
        self._journal.append(state.serial, members)

    def persist(self, chunks: list[bytes]) -> None:
        """Write what `encode` made as the state file, keeping the previous one as `.backup` on
        the first write of a run."""
        self.directory.mkdir(parents=True, exist_ok=True)
        if not self._backed_up and self.path.exists():
            keep_copy(self.path, self.backup_path)
        self._backed_up = True
        atomic_write(self.path, chunks)

    def encode(
        self, state: State, changed: dict[str, dict[str, Any] | None] | None = None
    ) -> list[bytes]:
        """The state file's bytes, in pieces: each resource on a line of its own, re-encoded only
        if changed.

        One line per resource keeps the file reviewable and diffable, and lets the C encoder do
        the work (an indented dump runs in pure Python, ten times slower). The lines are kept, so
        that the work of a write need not grow with the state: with `changed`
        (address to entry, None for removed: everything that changed since this store's last
        encode) only those lines are touched and `state.resources` is not read. Without it, every
        entry is compared; entries are replaced on change, never edited in place, so an entry that
        is the same object as at the last encode still has the same line.
        """
        self._take_read_lines()
        if changed is None:
            self._encode_all(state.resources)
        else:
            stale = {a: state.resources.get(a) for a in self._stale if a not in changed}
            self._encode_changes({**changed, **stale} if stale else changed)
        self._stale = set()
        fields = state.to_json(with_resources=False).items()
        text = "{\n" + ",\n".join(f" {json.dumps(k)}: {_indented(v, 1)}" for k, v in fields)
        # The resources go where the empty object stands (the fields before it are plain values).
        before, empty, after = (text + "\n}\n").partition(' "resources": {}')
        if not self._text:
            return [(before + empty + after).encode()]
        return [
            (before + ' "resources": {\n').encode(),
            b",\n".join(self._text),
            f"\n }}{after}".encode(),
        ]

    def _forget_lines(self) -> None:
        self._order, self._text, self._position, self._entries = [], [], {}, {}
        self._complete, self._read, self._stale = False, None, set()

    def _take_read_lines(self) -> None:
        if self._read is not None:
            self._complete = self._reuse_lines(*self._read)
            self._read = None

    def _reuse_lines(self, raw: bytes, resources: dict[str, dict[str, Any]]) -> bool:
        """Take the lines of the file as read, each with the entry read from it, as if this store
        had encoded them: the first write of an apply then re-encodes only what the apply changed.

        Lines are taken only from a file in the layout `encode` writes, sorted, one resource a
        line; anything else (an older layout, a hand edit) is simply encoded afresh.
        """
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
        self._order, self._text, self._entries = order, block, dict(resources)
        self._position = {a: i for i, a in enumerate(order)}
        return True

    def _encode_all(self, resources: dict[str, dict[str, Any]]) -> None:
        known, text = self._entries, dict(zip(self._order, self._text, strict=True))
        order = sorted(resources)
        self._text = [
            text[a] if known.get(a) is resources[a] else _line(a, resources[a]) for a in order
        ]
        self._order, self._entries = order, dict(resources)
        self._position = {a: i for i, a in enumerate(order)}
        self._complete = True

    def _encode_changes(self, changed: dict[str, dict[str, Any] | None]) -> None:
        entries, position, text = self._entries, self._position, self._text
        added: list[str] = []
        removed = False
        for address, entry in changed.items():
            if entry is None:
                removed = entries.pop(address, None) is not None or removed
            elif address in entries:
                entries[address] = entry
                text[position[address]] = _line(address, entry)
            else:
                entries[address] = entry
                added.append(address)
        added.sort()
        if not removed and (not self._order or not added or added[0] > self._order[-1]):
            # Only new addresses past the last one (a fleet created in order): appended in place.
            for address in added:
                position[address] = len(self._order)
                self._order.append(address)
                text.append(_line(address, entries[address]))
            return
        lines = {a: text[position[a]] for a in self._order if a in entries}
        lines.update((a, _line(a, entries[a])) for a in added)
        self._order = sorted(lines)
        self._text = [lines[a] for a in self._order]
        self._position = {a: i for i, a in enumerate(self._order)}

    def _backup_hint(self) -> str:
        if self.backup_path.exists():
            return f"; the last good backup is {self.backup_path}"
        return "; no backup exists"

    def holder(self) -> LockInfo | None:
        try:
            data = json.loads(self.info_path.read_text(encoding="utf-8"))
            return LockInfo(**data)
        except (OSError, ValueError, TypeError):
            return None

    @contextlib.contextmanager
    def lock(self, operation: str, timeout: float = 0, on_stale: Any = None) -> Iterator[None]:
        """Hold the state lock for a run. A lock left by a dead process is reported via `on_stale`."""
        self.directory.mkdir(parents=True, exist_ok=True)
        lock = filelock.FileLock(str(self.lock_path))
        try:
            lock.acquire(timeout=max(timeout, 0))
        except filelock.Timeout:
            holder = self._wait_for_holder()
            who = holder.holding() if holder else "another process"
            raise LockError(
                f"{who} holds the state {self.path}; retry later, or wait with --lock-timeout"
            ) from None
        try:
            previous = self.holder()
            if previous is not None and on_stale is not None:
                on_stale(previous)
            info = LockInfo(
                os.getpid(),
                socket.gethostname(),
                time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
                operation,
            )
            atomic_write(self.info_path, json.dumps(attrs.asdict(info)))
            self._locked, self._backed_up = True, False
            self._forget_lines()  # a run builds on what it reads, never on an earlier run's lines
            yield
        finally:
            if self._journal is not None:
                self._journal.close()
            self._locked, self._read, self._base, self._journal = False, None, None, None
            with contextlib.suppress(OSError):
                self.info_path.unlink()
            lock.release()

    def _wait_for_holder(self, patience: float = 1.0) -> LockInfo | None:
        """The holder's record; a process that has just taken the lock writes it a moment later."""
        deadline = time.monotonic() + patience
        while (holder := self.holder()) is None and time.monotonic() < deadline:
            time.sleep(0.02)
        return holder

    def unlock(self) -> LockInfo | None:
        """Clear a lock left behind (by a crashed run, or on a file system without working locks)."""
        holder = self.holder()
        for path in (self.info_path, self.lock_path):
            with contextlib.suppress(FileNotFoundError):
                path.unlink()
        return holder


def stacks_in(directory: str | os.PathLike[str]) -> list[str]:
    """Names of the stacks that have a state file in `directory`."""
    root = Path(directory)
    if not root.is_dir():
        return []
    return sorted(
        p.name[: -len(".json")] for p in root.glob("*.json") if p.name != "local-cloud.json"
    )
