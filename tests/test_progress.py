"""Progress during apply, against the emulator with latency injected: each unit's start and end,
"still creating" every interval while a unit runs, a live bar on a terminal, plain lines or only
the summary line otherwise."""

from __future__ import annotations

import io
import itertools
import os
import time
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
from helpers import make_workspace
from rich.console import Console

from mldns import dns
from mldns.emulator import Emulator
from mldns.progress import Lines, Live, complete, destroyed
from mldns.stack import Stack


def fleet(records: int = 3) -> Stack:
    stack = Stack("progress", project="ml-progress")
    zone = stack.add(dns.ManagedZone(name="ml-zone", dns_name="ml.example.com."))
    for i in range(records):
        stack.add(dns.RecordSet(zone=zone, name=f"w{i}", type="A", rrdatas=[f"10.0.0.{i + 1}"]))
    return stack


class Recorder:
    """Lines as they are printed, with the time each was."""

    def __init__(self) -> None:
        self.lines: list[tuple[float, str]] = []

    def __call__(self, line: str) -> None:
        self.lines.append((time.monotonic(), line))

    def texts(self) -> list[str]:
        return [text for _, text in self.lines]


def slow_apply(emu: Emulator, tmp_path: Path, seconds: float, interval: float) -> Recorder:
    """Apply a zone of three record sets whose Change takes `seconds` to answer."""
    emu.add_fault(method="POST", path="/changes$", delay_ms=int(seconds * 1000), count=1)
    seen = Recorder()
    ws = make_workspace(fleet(), emu, tmp_path, progress=Lines(seen, interval=interval))
    result = ws.apply()
    assert result.ok
    assert complete(result.applied, result.calls, result.retries).startswith(
        "Apply complete: 4 created, 0 updated, 0 deleted; "
    )
    return seen


def still_lines(seen: Recorder) -> list[tuple[float, str]]:
    return [(t, text) for t, text in seen.lines if text.startswith("still creating ml-zone")]


def test_a_long_unit_says_so_every_interval(emu: Emulator, tmp_path: Path) -> None:
    seen = slow_apply(emu, tmp_path, seconds=1.3, interval=0.25)
    texts = seen.texts()
    assert texts[0] == "ml-zone: 1 managed zone to create, 3 record sets to create ..."
    assert texts[-1].startswith("ml-zone: done in ")
    still = [text for _, text in still_lines(seen)]
    assert len(still) >= 4  # at 0.25, 0.5, 0.75 and 1.0 s at least
    assert still[:4] == [
        f"still creating ml-zone ... {s} s elapsed" for s in ("0.2", "0.5", "0.8", "1.0")
    ]


@pytest.mark.slow
def test_a_twenty_second_apply_prints_progress_at_least_every_ten_seconds(
    emu: Emulator, tmp_path: Path
) -> None:
    seconds = float(os.environ.get("MLDNS_PROGRESS_SECONDS", "21"))
    start = time.monotonic()
    seen = slow_apply(emu, tmp_path, seconds=seconds, interval=10.0)
    stamps = [start] + [t for t, _ in seen.lines]
    gaps = [b - a for a, b in itertools.pairwise(stamps)]
    print(f"progress gaps over a {seconds:.0f} s apply: {[round(g, 1) for g in gaps]}")
    expected = [
        f"still creating ml-zone ... {10 * k} s elapsed" for k in range(1, int(seconds // 10) + 1)
    ]
    assert [text for _, text in still_lines(seen)][: len(expected)] == expected
    assert max(gaps) < 10 + 2  # never silent for longer than the interval (and a poll)


def test_a_live_bar_on_a_terminal(emu: Emulator, tmp_path: Path) -> None:
    out = io.StringIO()
    console = Console(file=out, force_terminal=True, width=100)
    ws = make_workspace(fleet(), emu, tmp_path, progress=Live(interval=10, console=console))
    assert ws.apply().ok
    screen = out.getvalue()
    assert "ml-zone: 1 managed zone to create, 3 record sets to create ..." in screen
    assert "ml-zone: done in" in screen
    assert "Applying" in screen and "4/4" in screen


def test_the_cli_prints_lines_without_a_terminal_and_only_the_summary_when_quiet(
    emu: Emulator, tmp_path: Path, capsys: Any
) -> None:
    from mldns.cli import main

    stack = tmp_path / "stack.py"
    stack.write_text(
        "import mldns\nfrom mldns import dns\n"
        "stack = mldns.Stack('p', project='ml-progress')\n"
        "zone = stack.add(dns.ManagedZone(name='ml-zone', dns_name='ml.example.com.'))\n"
        "stack.add(dns.RecordSet(zone=zone, name='a', type='A', rrdatas=['10.0.0.1']))\n"
    )
    opts = ["--emulator", emu.host_port, "--state-dir", str(tmp_path / "state")]
    main(["apply", "--auto-approve", str(stack), *opts])
    out = capsys.readouterr().out
    assert "ml-zone: 1 managed zone to create, 1 record set to create ...\n" in out
    assert "ml-zone: done in " in out
    assert (
        out.rstrip()
        .splitlines()[-1]
        .startswith("Apply complete: 2 created, 0 updated, 0 deleted; ")
    )
    main(["destroy", "--auto-approve", "--quiet", str(stack), *opts])
    quiet = capsys.readouterr().out.strip().splitlines()
    assert len(quiet) == 1 and quiet[0].startswith("Destroy complete: 2 resources destroyed; ")


def test_the_bar_moves_with_each_change(tmp_path: Path) -> None:
    """20 record sets that fit 7 to a Change: the unit reports each Change as it lands."""
    from mldns.progress import Progress

    class Counting(Progress):
        def __init__(self) -> None:
            self.steps: list[int] = []

        def advanced(self, key: str, done: int) -> None:
            self.steps.append(done)

    counting = Counting()
    with Emulator(quota={"totalRrdataSizePerChange": 100}) as emu:
        stack = Stack("progress", project="ml-progress")
        zone = stack.add(dns.ManagedZone(name="ml-zone", dns_name="ml.example.com."))
        for i in range(20):
            stack.add(
                dns.RecordSet(zone=zone, name=f"w{i}", type="A", rrdatas=[f"10.0.0.{i + 10}"])
            )
        assert make_workspace(stack, emu, tmp_path, progress=counting).apply().ok
    assert counting.steps == [1, 7, 7, 6]  # the zone, then each Change's record sets


def test_the_destroy_summary_counts_as_the_apply_summary_does() -> None:
    assert destroyed(Counter(delete=9001), 12, 0) == (
        "Destroy complete: 9,001 resources destroyed; 12 API calls, 0 retried."
    )
    assert destroyed(Counter(delete=1), 1, 2) == (
        "Destroy complete: 1 resource destroyed; 1 API call, 2 retried."
    )
