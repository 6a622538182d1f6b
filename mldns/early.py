"""What a plan starts while its stack file is still running: the state, read under the plan's
lock, and a reader listing the zones that state records (`providers.dns_reads`).

A stack file names its stack first and declares for the rest of its run; the state, and so the
zones to list, are known from its name. Nothing here loads Google's libraries: the reader loads
them on another core while the file goes on. A plan the lock refuses, or whose state cannot be
read, takes nothing here and makes no call: it meets that in its own time.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable

import attrs

from mldns.providers.dns_reads import Reader
from mldns.state.format import State
from mldns.state.lock import LockInfo
from mldns.state.store import StateStore


def stale_lock_warning(holder: LockInfo) -> str:
    return (
        f"warning: a previous run ({holder.describe()}) ended without releasing the state "
        "lock; its work is in the state and this plan reconciles the rest"
    )


@attrs.define
class EarlyRead:
    """The state a plan read early, the lock it holds for the plan, and its reader."""

    store: StateStore
    state: State | None
    hold: contextlib.ExitStack | None
    reader: Reader | None

    def take(self) -> tuple[contextlib.ExitStack, State | None] | None:
        """The held lock and the state read under it, once."""
        hold, self.hold = self.hold, None
        return None if hold is None else (hold, self.state)

    def close(self) -> None:
        """Let go of the lock, if the plan did not take it, and of the reader."""
        hold, self.hold = self.hold, None
        if hold is not None:
            hold.close()
        if self.reader is not None:
            self.reader.close()


def read_early(
    store: StateStore,
    project: str,
    emulator: str | None,
    *,
    timeout: float,
    parallelism: int,
    lock: bool,
    log: Callable[[str], None],
) -> EarlyRead | None:
    """Take the plan's lock (without waiting) and read the state, and start a reader of the zones
    it records in `project`; None, having taken nothing, if the lock or the state fails."""
    hold = contextlib.ExitStack()
    try:
        if lock and store.lockable():
            on_stale = lambda holder: log(stale_lock_warning(holder))  # noqa: E731
            hold.enter_context(store.lock("plan", on_stale=on_stale, on_wait=log))
        state = store.read()
    except Exception:
        hold.close()
        return None
    reader = None
    if state is not None:
        reader = Reader.start(state, project, emulator, timeout=timeout, parallelism=parallelism)
    return EarlyRead(store, state, hold, reader)
