"""What an apply says while it runs: each unit of work as it starts and ends, a word every ten
seconds about a unit still running (as Terraform does), and on a terminal a live bar of the
resources done out of the total.

The applier calls an observer (`Progress`, which says nothing) from its worker threads; `Lines`
prints plain lines, `Live` the same lines above a rich progress bar.
"""

from __future__ import annotations

import threading
import time
from collections import Counter
from collections.abc import Callable, Sequence
from typing import Any

from mldns.plan import Action
from mldns.words import count

# Seconds between the "still creating" lines of a unit that runs long.
INTERVAL = 10.0
STOPPED = "stopped by Ctrl-C"  # the `error` of a unit that Ctrl-C stopped
VERBS = {
    "create": "creating",
    "update": "updating",
    "replace": "replacing",
    "delete": "deleting",
    "adopt": "adopting",
    "forget": "forgetting",
}
DONE = {
    "create": "created",
    "update": "updated",
    "replace": "replaced",
    "delete": "deleted",
    "adopt": "adopted",
    "forget": "forgotten",
}


class Progress:
    """The observer an apply reports to; this one keeps quiet (`--quiet`, notebooks)."""

    def start(self, total: int) -> None:
        """The apply begins `total` actions."""

    def unit_started(self, key: str, actions: Sequence[Action]) -> None:
        """A unit of work (a zone and its record sets, a health check...) begins."""

    def advanced(self, key: str, done: int) -> None:
        """A call of the unit finished, recording `done` more resources (or table rows)."""

    def unit_finished(
        self, key: str, actions: Sequence[Action], seconds: float, error: str | None
    ) -> None:
        """A unit ended, after `seconds`; `error` says why it failed, if it did (STOPPED for
        Ctrl-C)."""

    def close(self) -> None:
        """The apply ended (or was stopped)."""


class Lines(Progress):
    """Plain lines, for logs and pipes: `ml-zone: 23 record sets to create ...`, `ml-zone: done
    in 1.2 s`, and every `interval` seconds `still creating ml-zone ... 20 s elapsed`."""

    def __init__(
        self,
        echo: Callable[[str], Any],
        interval: float = INTERVAL,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.echo = echo
        self.interval = interval
        self.clock = clock
        self._lock = threading.Lock()
        self._running: dict[str, tuple[float, int, Sequence[Action]]] = {}
        self._stop = threading.Event()
        self._ticker: threading.Thread | None = None

    def start(self, total: int) -> None:
        self._stop.clear()
        self._ticker = threading.Thread(target=self._tick, name="mldns-progress", daemon=True)
        self._ticker.start()

    def unit_started(self, key: str, actions: Sequence[Action]) -> None:
        with self._lock:
            self._running[key] = (self.clock(), 1, actions)
        self.echo(f"{unit_name(key)}: {describe(actions)} ...")

    def unit_finished(
        self, key: str, actions: Sequence[Action], seconds: float, error: str | None
    ) -> None:
        with self._lock:
            self._running.pop(key, None)
        if error is None:
            outcome = f"done in {seconds:.1f} s"
        elif error == STOPPED:  # what its calls finished is recorded; the rest was not sent
            outcome = f"stopped by Ctrl-C after {seconds:.1f} s"
        else:
            outcome = f"failed after {seconds:.1f} s"
        self.echo(f"{unit_name(key)}: {outcome}")

    def close(self) -> None:
        self._stop.set()
        if self._ticker is not None:
            self._ticker.join()
            self._ticker = None

    def _tick(self) -> None:
        poll = min(1.0, self.interval / 10)
        while not self._stop.wait(poll):
            now = self.clock()
            due = []
            with self._lock:
                for key, (since, reported, actions) in self._running.items():
                    if now - since >= reported * self.interval:
                        self._running[key] = (since, reported + 1, actions)
                        due.append((key, reported * self.interval, actions))
            digits = 0 if self.interval >= 1 else 1
            for key, elapsed, actions in due:
                self.echo(
                    f"still {verb(actions)} {unit_name(key)} ... {elapsed:.{digits}f} s elapsed"
                )


class Live(Lines):
    """On a terminal: the same lines, printed above a live bar of resources done out of total,
    moved as each call's work is committed."""

    def __init__(self, interval: float = INTERVAL, console: Any = None) -> None:
        from rich.progress import (
            BarColumn,
            MofNCompleteColumn,
            TextColumn,
            TimeElapsedColumn,
        )
        from rich.progress import Progress as Bar

        self.bar = Bar(
            TextColumn("Applying"),
            BarColumn(),
            MofNCompleteColumn(),
            TextColumn("resources"),
            TimeElapsedColumn(),
            console=console,
            transient=True,
        )
        console = self.bar.console
        super().__init__(lambda line: console.print(line, markup=False, highlight=False), interval)
        self.task = self.bar.add_task("apply", total=0)
        self._done: dict[str, tuple[int, int]] = {}  # unit -> (shown on the bar, its actions)

    def start(self, total: int) -> None:
        self.bar.update(self.task, total=total)
        self.bar.start()
        super().start(total)

    def unit_started(self, key: str, actions: Sequence[Action]) -> None:
        with self._lock:
            self._done[key] = (0, len(actions))
        super().unit_started(key, actions)

    def advanced(self, key: str, done: int) -> None:
        """Move the bar as each Change lands, never past the unit's own count."""
        with self._lock:
            shown, total = self._done.get(key, (0, 0))
            step = min(done, total - shown)
            self._done[key] = (shown + step, total)
        if step > 0:
            self.bar.advance(self.task, step)

    def unit_finished(
        self, key: str, actions: Sequence[Action], seconds: float, error: str | None
    ) -> None:
        super().unit_finished(key, actions, seconds, error)
        if error is None:  # whatever the calls did not count, the unit has now done
            self.advanced(key, len(actions))

    def close(self) -> None:
        super().close()
        self.bar.stop()


def unit_name(key: str) -> str:
    """`dns:dns.ManagedZone.ml-zone` -> `ml-zone`; `iam:ml-prod` -> `iam ml-prod`."""
    api, _, name = key.partition(":")
    parts = name.split(".", 2)
    if len(parts) == 3 and parts[0] == api and parts[1][:1].isupper():
        return parts[2]
    return f"{api} {name}" if name else key


def describe(actions: Sequence[Action]) -> str:
    """`23 record sets to create, 1 managed zone to update`."""
    counts = Counter((_noun(a.kind), a.op) for a in actions)
    return ", ".join(f"{count(n, noun)} to {op}" for (noun, op), n in counts.items())


def verb(actions: Sequence[Action]) -> str:
    """What a unit mostly does: `creating`."""
    op = Counter(a.op for a in actions).most_common(1)[0][0]
    return VERBS[op]


def _noun(kind: str) -> str:
    name = kind.split(".")[-1]
    return "".join(f" {c.lower()}" if c.isupper() else c for c in name).strip()


def destroyed(applied: Counter[str], calls: int, retries: int) -> str:
    """`Destroy complete: 1,204 resources destroyed; 5 API calls, 0 retried.`"""
    gone = count(applied.get("delete", 0), "resource")
    return f"Destroy complete: {gone} destroyed; {count(calls, 'API call')}, {retries:,} retried."


def complete(applied: Counter[str], calls: int, retries: int) -> str:
    """`Apply complete: 28 created, 2 updated, 1 deleted; 14 API calls, 0 retried.`"""
    parts = [
        f"{applied.get(op, 0):,} {word}"
        for op, word in DONE.items()
        if applied.get(op) or op in ("create", "update", "delete")
    ]
    return f"Apply complete: {', '.join(parts)}; {count(calls, 'API call')}, {retries:,} retried."
