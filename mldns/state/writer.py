"""The write-behind state writer of an apply: finished work is committed at once, written behind.

Invariants:
- A call never waits for the store: the next call goes out while the state holding the previous
  one is recorded, and commits that arrive meanwhile share one write.
- Nothing committed is lost while the process lives: the writer records the newest state whenever
  it has moved on, in the store's journal between whole writes, and writes the state whole when
  the apply ends (always) and, for a store with a `write_interval`, at most once per interval
  while it runs.
- A failed write stops the apply: the next commit raises it, and so does the end of the run.
"""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Iterator, Mapping
from typing import Any

import attrs

from mldns.errors import MldnsError, StateError
from mldns.state.format import State
from mldns.state.journal import RowChanges, commit_rows, is_empty
from mldns.state.store import StateStore

# Seconds the writer lets pass between a commit and the write that records it.
WRITE_GRACE = 0.005


class StateWriter:
    """Holds the state of a running apply and records it in `store` on a thread of its own."""

    def __init__(self, store: StateStore, state: State) -> None:
        self.store = store
        self.state = state
        # Guards state, the generation counters and the writer's failure.
        self._changed = threading.Condition()
        self._generation = self._written = 0
        self._dirty: set[str] = set()  # addresses committed since the last write began
        self._rows: dict[str, dict[str, Any]] = {}  # and tables' rows, where only rows changed
        self._closing = False
        self._closed = threading.Event()  # set with _closing: cuts the writer's grace short
        self._failure: MldnsError | None = None
        self._whole_at = time.monotonic()  # when the state was last written whole
        self._behind = False  # whether the journal holds work the last whole write lacks
        self._raised = False  # whether this apply has raised the serial yet

    def commit(self, changes: Mapping[str, dict[str, Any] | RowChanges | None]) -> None:
        """Record finished work in state; the writer stores it behind the caller.

        A crash can thus lose at most the work of calls still in flight (and, for a paced store
        on a machine that dies, the last interval's), which the next plan finds live and
        reconciles, as it would after a crash between a call and its write.
        """
        with self._changed:
            if self._failure is not None:
                raise self._failure
            try:
                self.store.fence()  # a run that lost its lock records nothing more
            except MldnsError as exc:
                self._failure = exc
                raise
            if not changes:
                return
            resources = self.state.resources
            for address, entry in changes.items():
                if isinstance(entry, RowChanges):
                    if commit_rows(resources, address, entry):
                        self._dirty.add(address)
                        self._rows.pop(address, None)
                    elif address not in self._dirty:  # else its whole line goes, rows and all
                        self._rows.setdefault(address, {}).update(entry.rows)
                    continue
                if entry is None or is_empty(entry):
                    resources.pop(address, None)
                else:
                    resources[address] = entry
                self._dirty.add(address)
                self._rows.pop(address, None)
            self._bump()

    def set_outputs(self, outputs: dict[str, Any]) -> None:
        """The stack's outputs, once every unit has finished; a change is written like work."""
        with self._changed:
            if outputs != self.state.outputs:
                self.state.outputs = outputs
                self._bump()

    def _bump(self) -> None:
        """Something changed: the serial rises once per apply, whatever the number of writes
        recording it."""
        if not self._raised:
            self.state.serial += 1
            self._raised = True
        self._generation += 1
        self._changed.notify_all()

    def _due(self) -> float | None:
        """Seconds until a paced store's next whole write falls due; None if none is waiting."""
        interval = self.store.write_interval
        if interval is None or not self._behind:
            return None
        return self._whole_at + interval - time.monotonic()

    def _write_behind(self) -> None:
        """The writer thread: records the newest state whenever it has moved on, in the journal
        while the apply runs (whole, at most once an interval, for a paced store); when the apply
        ends, writes the state whole (dropping the journal), then stops."""
        while True:
            with self._changed:
                while self._written >= self._generation and not self._closing:
                    due = self._due()
                    if due is not None and due <= 0:
                        break
                    self._changed.wait(due)
                if (
                    self._written >= self._generation
                    and not self.store.journaling
                    and not self._behind
                ):
                    return  # nothing new, and no journal to fold into the state
                closing = self._closing
            if not closing:
                # A moment's grace: the call that follows a commit goes out before the write
                # competes with its preparation for the interpreter; later commits share it.
                self._closed.wait(WRITE_GRACE)
            with self._changed:
                generation, closing = self._generation, self._closing
                due = self._due()
                interval = self.store.write_interval
                whole = (
                    closing
                    or not self.store.can_append()
                    or (due is not None and due <= 0)
                    or (interval is not None and time.monotonic() - self._whole_at >= interval)
                )
                state = attrs.evolve(
                    self.state, resources=dict(self.state.resources) if whole else {}
                )
                changed = {a: self.state.resources.get(a) for a in self._dirty}
                rows = self._rows
                self._dirty, self._rows = set(), {}
            try:
                if whole:
                    changed.update((a, self.state.resources.get(a)) for a in rows)
                    self.store.write(state, changed)
                else:
                    self.store.append(state, changed, rows)
            except MldnsError as exc:  # a lost lock, a missing bucket: said as it is
                with self._changed:
                    self._failure = exc
                return
            except Exception as exc:  # a dead writer must stop the apply, never go unnoticed
                reason = getattr(exc, "strerror", None) or f"{type(exc).__name__}: {exc}"
                with self._changed:
                    self._failure = StateError(
                        f"{self.store.location}: cannot write state ({reason}); "
                        "the work done is live and the next plan reconciles it"
                    )
                return
            with self._changed:
                self._written = generation
                if whole:
                    self._whole_at, self._behind = time.monotonic(), False
                else:
                    self._behind = True
            if closing:
                return

    @contextlib.contextmanager
    def running(self) -> Iterator[StateWriter]:
        """Run the writer for the block; on the way out it writes what is left, then stops."""
        thread = threading.Thread(target=self._write_behind, name="mldns-state", daemon=True)
        thread.start()
        try:
            yield self
        finally:
            with self._changed:
                self._closing = True
                self._closed.set()
                self._changed.notify_all()
            thread.join()
        if self._failure is not None:
            raise self._failure
