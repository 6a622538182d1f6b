"""gcpause: what a command's process leaves to its end, and what any other process frees."""

from __future__ import annotations

import subprocess
import sys
import weakref

from mldns import gcpause


class Big:
    """Stands for a workspace: anything a weak reference can watch."""


def test_outside_a_command_nothing_is_left_behind() -> None:
    obj = Big()
    watch = weakref.ref(obj)
    gcpause.leave_to_exit(obj)
    del obj
    assert watch() is None  # freed by reference counting at once, no collection needed


def test_a_command_process_leaves_it_to_the_end() -> None:
    # A process of its own, as `mldns` runs: the flag is the process's, not this test's.
    code = (
        "import gc, weakref\n"
        "from mldns import gcpause\n"
        "class Big: pass\n"
        "gcpause.off_for_command()\n"
        "obj = Big(); watch = weakref.ref(obj)\n"
        "gcpause.leave_to_exit(obj); del obj\n"
        "gcpause.skip_final_collection(); gc.collect()\n"
        "print(watch() is not None, gc.isenabled())\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["True", "False"]
