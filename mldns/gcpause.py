"""The one place mldns switches the cyclic garbage collector (but for `mldns.entry`, which turns
it off before importing anything, this module included).

Pause it while a big, acyclic object graph is built.

A plan of 100,000 record sets allocates millions of dicts, tuples and attrs objects, none of them
in reference cycles. CPython's collector still rescans the whole growing heap each time it grows by a
quarter, which cost more than a second of a 100,000-record plan. Reference counting frees all of it
anyway; collection resumes when the work is done.
"""

from __future__ import annotations

import contextlib
import gc
from collections.abc import Iterator


@contextlib.contextmanager
def paused_gc() -> Iterator[None]:
    """Disable cycle collection for the block (also usable as a decorator); nests safely."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


# Set by `off_for_command`: this process ends when its one command does.
_command_process = False


def off_for_command() -> None:
    """A command's process lives seconds and builds no cycles worth collecting: leave it off."""
    global _command_process
    _command_process = True
    gc.disable()


def on_for_server() -> None:
    """A server runs for hours: its cycles must be collected."""
    gc.enable()


def skip_final_collection() -> None:
    """The process ends next: spare the collector's last pass over the whole heap (50 ms after
    a 10,000-record apply)."""
    gc.freeze()


def leave_to_exit(obj: object) -> None:
    """In a command's process, leave `obj` for the process's end to reclaim with all its memory,
    rather than free it object by object when its last reference goes (20-40 ms for a stack of
    100,000 record sets and the plan made of it). A reference cycle holds it, which
    `skip_final_collection` freezes: then nothing frees it before the process ends. In a process
    that goes on (a test or a notebook calling the CLI), it is freed as usual, sockets and all."""
    if not _command_process:
        return
    holder: list[object] = [obj]
    holder.append(holder)
