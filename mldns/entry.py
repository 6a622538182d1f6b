"""The `mldns` command: a process that lives seconds, started with the cycle collector off.

Importing the Google client libraries allocates hundreds of thousands of objects, and the collector
rescans them each time they grow by a quarter (15 ms of every run); nothing the command builds
depends on it, and reference counting frees what is dropped. `mldns emulator` turns it back on.
"""

from __future__ import annotations

import gc


def main() -> None:
    gc.disable()
    from mldns.cli import main as run

    run()
