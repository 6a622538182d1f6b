"""A stop that a signal handler asks for and the main thread waits on, with no lock between.

A Python signal handler runs in the main thread, between two of its bytecodes. If it calls
`threading.Event.set()` while the main thread is inside `wait()` (or `set()`) of the same Event,
it blocks on the Event's lock, which the thread it interrupted holds: the process hangs (it did,
about once in a hundred SIGTERMs sent to `mldns emulator` just as it started waiting). Here the
handler only assigns a flag, and `wait` sleeps in short slices, each resumed after a handler
(PEP 475), so it returns within one slice of the request. It imports nothing of mldns: the
emulator, the reconcile loop and an apply's Ctrl-C all use it.
"""

from __future__ import annotations

import time

SLICE = 0.1  # seconds: how late a waiter may notice the request


class Stop:
    """Asked once (by a signal handler, or by any thread), read by any thread."""

    def __init__(self) -> None:
        self._asked = False

    def set(self) -> None:
        """Ask for the stop: one assignment, safe in a signal handler."""
        self._asked = True

    def is_set(self) -> bool:
        return self._asked

    def wait(self, timeout: float) -> bool:
        """Whether the stop was asked for within `timeout` seconds."""
        deadline = time.monotonic() + timeout
        while not self._asked:
            left = deadline - time.monotonic()
            if left <= 0:
                return False
            time.sleep(min(left, SLICE))
        return True
