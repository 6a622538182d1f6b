"""The state store contract, and what every store shares: reading, journaling, encoding.

A store keeps the state of one stack somewhere (a local directory, a Cloud Storage bucket). What a
store must do, every store's conformance test checks (tests/test_state_stores.py):

- `read` returns the state as last written, with any journal left by an unfinished apply
  replayed on it, or None; a damaged state is an error naming where it is, never ignored.
- `write` replaces the state whole or not at all; `append` records what changed since in a local
  journal, so that the state is never older than the work recorded as finished.
- `lock` holds the stack's lock for a run; a second holder is refused naming the first, or waits
  with a timeout. A store only writes under its lock, and only on top of what it read or wrote
  under it: `write` after a lock lost to someone else fails and writes nothing.
- `write_interval`: the fewest seconds between whole writes during an apply (None: only at the
  end; between them finished work goes to the journal).

Subclasses provide the bytes (`_load`, `persist`) and the lock; this class keeps the state's lines
as last encoded, so that a write costs what changed, not the size of the state.
"""

from __future__ import annotations

import abc
import contextlib
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from mldns.errors import StateError, StateMoved
from mldns.kinds import upgrade
from mldns.state import journal
from mldns.state.format import FORMAT_VERSION, State, _entry_problem
from mldns.state.journal import Journal
from mldns.state.lines import EncodedLines, line, removed_line
from mldns.state.lock import LockInfo


class Edit:
    """One edit of the state under its lock (`StateStore.edit`)."""

    def __init__(self, store: StateStore) -> None:
        self.store = store
        self.result: tuple[State, dict[str, dict[str, Any] | None] | None] | None = None

    def read(self) -> State | None:
        """The state as stored, read under the lock."""
        return self.store.read()

    def write(self, state: State, changed: dict[str, dict[str, Any] | None] | None = None) -> None:
        """Write `state` when the edit ends (`changed`: only those entries changed, as for
        `StateStore.write`); the last call counts."""
        self.result = (state, changed)


class StateStore(abc.ABC):
    """One stack's state, somewhere; see the module docstring for the contract.

    A store must provide `_load`, `persist`, `lock`, `holder` and `unlock`; it may provide
    `version`, `fence`, `confirm_lock`, `warnings`, `lockable` and `_backup_hint`."""

    write_interval: float | None = None

    def __init__(self, stack: str, location: str, journal_path: Path) -> None:
        self.stack = stack
        self.location = location  # where the state is, as messages name it
        self.journal_path = journal_path
        self.writes = 0  # whole writes of the state, for the report of an apply
        self._lines = EncodedLines()  # the resources' lines as last encoded
        # The state as read under the lock, and the entries it held: the first encode reuses the
        # lines of those entries still unchanged.
        self._locked = False
        self._read: tuple[bytes, dict[str, dict[str, Any]]] | None = None
        # Under the lock: the state's lineage and serial when no journal extends it yet (a
        # journal may then be started on it), and the journal this run writes.
        self._base: tuple[str, int, str | None] | None = None
        self._journal: Journal | None = None

    # ------------------------------------------------------------ what a store provides

    @abc.abstractmethod
    def _load(self) -> bytes | None:
        """The stored state's bytes, None if there is none; StateError if it cannot be read."""

    @abc.abstractmethod
    def persist(self, chunks: list[bytes]) -> None:
        """Replace the stored state with `chunks`, whole or not at all."""

    def version(self) -> str | None:
        """A token naming the very write of the state last read or written (a journal extends
        one write, and an apply writes several of one serial)."""
        return None

    @abc.abstractmethod
    def lock(
        self,
        operation: str,
        timeout: float = 0,
        on_stale: Any = None,
        on_wait: Any = None,
        take_lapsed: bool = False,
    ) -> Any:
        """A context manager holding the stack's lock for a run; `on_wait` is told once, in a
        line, when it waits for another run's; `take_lapsed` takes over a lock whose lease ran
        out (for a run whose every write is fenced)."""

    @abc.abstractmethod
    def holder(self) -> LockInfo | None:
        """Who holds the lock, if anyone is recorded as holding it."""

    @abc.abstractmethod
    def unlock(self, force: bool = False) -> LockInfo | None:
        """Clear a lock left behind; the holder it named."""

    def fence(self) -> None:
        """Raise LockLostError if this run already knows it lost the lock (no call is made)."""
        return None  # a store whose lock cannot be lost has nothing to check

    def confirm_lock(self) -> None:
        """Raise LockLostError unless the lock is still this run's (a store whose lock cannot be
        lost checks nothing)."""
        return None

    def warnings(self) -> list[str]:
        """What a run should be told once about where the state lives (none by default)."""
        return []

    def lockable(self) -> bool:
        """Whether a lock can be taken without creating the place the state lives in."""
        return True

    def _backup_hint(self) -> str:
        return ""

    # ------------------------------------------------------------ shared behaviour

    @contextlib.contextmanager
    def _run(self) -> Iterator[None]:
        """The span of a run under the lock: it builds on what it reads, never on an earlier
        run's lines."""
        self._locked = True
        self._forget_lines()
        try:
            yield
        finally:
            if self._journal is not None:
                self._journal.close()
            self._locked, self._read, self._base, self._journal = False, None, None, None

    def read(self) -> State | None:
        """The stored state, None if there is none yet; a damaged file is an error, never ignored.

        A journal left beside the state file by an apply that did not finish is replayed."""
        raw = self._load()
        if raw is None:
            return None
        try:
            data = json.loads(raw)
        except UnicodeDecodeError:
            raise StateError(
                f"{self.location}: corrupt state (not UTF-8 text){self._backup_hint()}"
            ) from None
        except json.JSONDecodeError as exc:
            raise StateError(
                f"{self.location}: corrupt state (invalid JSON at line {exc.lineno}, column {exc.colno}){self._backup_hint()}"
            ) from None
        try:
            state = State.from_json(data, str(self.location))
        except StateMoved:
            raise  # a tombstone, not damage: no backup hint
        except StateError as exc:
            raise StateError(f"{exc}{self._backup_hint()}") from None
        if state.stack != self.stack:
            raise StateError(
                f"{self.location}: belongs to stack {state.stack!r}, not {self.stack!r}{self._backup_hint()}"
            )
        base = state.lineage, state.serial, self.version()
        serial = journal.replay(
            self.journal_path,
            state.resources,
            state.lineage,
            state.serial,
            _entry_problem,
            base[2],
        )
        if serial is not None:
            state.serial = serial
        older = data.get("format_version") != FORMAT_VERSION
        if older and serial is not None:
            upgrade(state.resources, data["format_version"])  # what the journal brought back
        if self._locked:
            # What this run writes builds on this read: lines encoded before are forgotten, and
            # those of the file reused when the file alone is the state (no journal replayed).
            self._forget_lines()
            self._read = (raw, data.get("resources", {})) if serial is None and not older else None
            self._base = base if not self.journal_path.exists() else None
        return state

    def read_or_new(self) -> State:
        return self.read() or State(stack=self.stack)

    @contextlib.contextmanager
    def edit(self, operation: str, timeout: float = 0.0) -> Iterator[Edit]:
        """The one way a command edits the state (import, state rm and mv, push, migrate): the
        lock held for `operation`, the state read under it (`Edit.read`), and what the caller
        gives `Edit.write` written once, when the block ends without an error. Apply edits under
        the same lock through its StateWriter, whose writes follow the work as it finishes."""
        with self.lock(operation, timeout=timeout):
            edit = Edit(self)
            yield edit
            if edit.result is not None:
                self.write(*edit.result)

    def write(self, state: State, changed: dict[str, dict[str, Any] | None] | None = None) -> None:
        """Write the state file whole, atomically, and drop the journal it now holds; the first
        write of a run keeps the previous file as `.backup`.

        `state` holds every resource. `changed`, if given, holds everything changed since this
        store's last write or append: then only those lines are encoded, provided the store holds
        the lines of all the rest."""
        self._take_read_lines()
        self.persist(self.encode(state, changed if self._lines.complete else None))
        self.writes += 1
        if self._journal is not None:
            self._journal.close()
            self._journal = None
        journal.discard(self.journal_path)
        self._base = (state.lineage, state.serial, self.version()) if self._locked else None

    def entomb(self, state: State, moved_to: str) -> None:
        """Leave a tombstone in place of the state (under the lock): every later read here is
        refused, naming `moved_to`."""
        self.persist([json.dumps(state.tombstone(moved_to), indent=1).encode() + b"\n"])
        self.writes += 1
        journal.discard(self.journal_path)

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
                raise StateError(
                    f"{self.location}: no state file to journal on; write it whole first"
                )
            self.journal_path.parent.mkdir(parents=True, exist_ok=True)
            self._journal = Journal(self.journal_path, *self._base)
        self._take_read_lines()
        lines = self._lines
        lines.encode_changes(changed)
        members = [
            lines.line(a) if entry is not None else removed_line(a) for a, entry in changed.items()
        ]
        for address, patch in (rows or {}).items():
            members.append(line(address, {journal.ROWS: patch}))
            lines.stale.add(address)
        self._journal.append(state.serial, members)

    def encode(
        self, state: State, changed: dict[str, dict[str, Any] | None] | None = None
    ) -> list[bytes]:
        """The state file's bytes, in pieces, each resource's line re-encoded only if changed
        (see `EncodedLines.file`)."""
        self._take_read_lines()
        return self._lines.file(state, changed)

    def _forget_lines(self) -> None:
        self._lines = EncodedLines()
        self._read = None

    def _take_read_lines(self) -> None:
        if self._read is not None:
            self._lines.reuse(*self._read)
            self._read = None
