"""Ctrl-C during an apply, as Terraform does it: the first stops new calls and lets those in
flight finish and be recorded; the second stops at once.

The first SIGINT only sets the clients' stop event: `Clients.call` refuses every call after it,
so each unit ends at its next call, the applier starts no unit, and the state is written whole
as at any end. The second ends the process on the spot (`os._exit`), as SIGKILL would: the state
file is then the last whole write and its journal holds every commit made so far (a last line cut
short is ignored when it is replayed), and the next run reconciles what went out unrecorded.
"""

from __future__ import annotations

import contextlib
import os
import signal
import threading
from collections.abc import Callable, Iterator
from typing import Any

EXIT_CODE = 130  # 128 + SIGINT, what shells report for a process Ctrl-C ended


@contextlib.contextmanager
def stop_on_interrupt(clients: Any, log: Callable[[str], None]) -> Iterator[None]:
    """For the block, the first SIGINT stops `clients` gracefully and the second exits at once.

    Signal handlers belong to the main thread: elsewhere (a notebook's worker) it does nothing."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def say(line: str) -> None:
        """`log`, unless the signal landed while the main thread was writing to the same stream
        (Python refuses that reentrant write): then straight to stderr's descriptor."""
        try:
            log(line)
        except RuntimeError:
            os.write(2, f"{line}\n".encode())

    def handler(_signum: int, _frame: Any) -> None:
        if clients.stopping.is_set():
            say(
                "stopping now: the state journal holds what was recorded; the next run reconciles the rest"
            )
            os._exit(EXIT_CODE)
        clients.stopping.set()  # a flag, no lock: see mldns.stopping
        say(
            f"stopping: no new calls; waiting for {clients.in_flight} in flight "
            "(Ctrl-C again to stop at once)"
        )

    previous = signal.signal(signal.SIGINT, handler)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)
