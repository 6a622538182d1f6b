"""The reconcile loop: keep a stack's fleet-driven names right, one plan and apply per interval.

Invariants:
- One active loop per stack: the state lock is held for the whole run (renewed as its lease
  requires); a standby waits and takes over a lock whose lease lapsed, as every write is fenced
  by generation. A holder that lost the lock writes nothing and goes back to waiting.
- A loop applies only what is safe to do unattended: a source the guard refuses (shrunk past
  --max-shrink, or empty after it was not) keeps its records; deletions and replacements beyond
  the sources' own records (a zone, IAM) are held and reported, never applied.
- An idle loop makes no write: its calls are the sources' lists and each zone's list.
- A stop request (SIGTERM, SIGINT) lets an apply in flight finish and record its work; a loop
  still reading is cut short. The run then releases the lock and ends.
"""

from __future__ import annotations

import contextlib
import json
import sys
import time
from collections import Counter
from collections.abc import Callable
from typing import Any

import attrs
from google.api_core import exceptions as gexc

from mldns.errors import (
    ApiError,
    ApplyError,
    Interrupted,
    LockError,
    LockLostError,
    MldnsError,
    one_line,
)
from mldns.fleetplan import Guard, fleet_uses
from mldns.kinds import lookup
from mldns.metrics import Metrics
from mldns.plan import Action, Plan
from mldns.providers.registry import fleet_reader
from mldns.state.format import State
from mldns.stopping import Stop
from mldns.words import count
from mldns.workspace import Workspace

MIN_INTERVAL = 1.0
STANDBY_POLL = 1.0  # seconds between a standby's looks at the lock


@attrs.frozen
class Options:
    """How the loop runs: see `mldns reconcile --help`."""

    interval: float = 30.0
    max_shrink: float = 0.5
    max_failures: int = 5
    strict: bool = False
    once: bool = False


@attrs.define
class LoopReport:
    """What one loop did: the JSON line it prints."""

    loop: int
    changes: Counter[str] = attrs.field(factory=Counter)
    calls: int = 0
    seconds: float = 0.0
    conflicts: int = 0
    refused: dict[str, str] = attrs.field(factory=dict)
    held: list[str] = attrs.field(factory=list)
    members: dict[str, int] = attrs.field(factory=dict)
    drift: int = 0
    error: str | None = None
    cause: str | None = None

    def to_json(self) -> dict[str, Any]:
        body: dict[str, Any] = {
            "loop": self.loop,
            "changes": dict(self.changes),
            "calls": self.calls,
            "seconds": round(self.seconds, 3),
            "conflicts": self.conflicts,
            "refused": self.refused,
            "members": self.members,
        }
        if self.held:
            body["held"] = self.held
        if self.error:
            body["error"] = self.error
            body["cause"] = self.cause
        return body


def split_actions(plan: Plan) -> tuple[list[Action], list[Action]]:
    """The actions a loop may apply, and those it holds: a deletion or replacement of what no
    source declares, or a change its kind calls destructive (IAM)."""
    declared = {address for read in plan.sources.values() for address in read["declares"]}
    apply, held = [], []
    for action in plan.actions:
        if action.address in declared or (action.row_of is not None and action.row_of in declared):
            apply.append(action)
            continue
        facts = lookup(action.kind)
        destroys = facts and facts.destroys(action.op, action.address, action.before, action.after)
        if action.op in ("delete", "replace") or destroys:
            held.append(action)
        else:
            apply.append(action)
    return apply, held


class Reconciler:
    """Runs the loop for one workspace; `stop()` may be called from a signal handler."""

    def __init__(
        self,
        ws: Workspace,
        options: Options,
        emit: Callable[[dict[str, Any]], None] | None = None,
        metrics: Metrics | None = None,
    ) -> None:
        self.ws = ws
        self.options = options
        self.emit = emit or _print_json
        self.metrics = metrics
        self.stopping = Stop()  # set by SIGTERM and Ctrl-C
        self.applying = False
        self.failures = 0
        self.loops = 0
        self.ended = ""  # why a run ended with a non-zero code
        ws.fleet_guard = Guard(options.max_shrink)
        # A loop's calls retry transient errors for a few intervals at most, not ten minutes.
        ws.timeout = min(ws.timeout, max(30.0, 5 * options.interval))

    def stop(self) -> None:
        """End after the loop in flight; reads stop at once, an apply finishes its Changes."""
        self.stopping.set()
        if not self.applying:
            self.ws.clients.stopping.set()

    def prepare(self) -> None:
        """Build the clients the loop needs before waiting for the lock (their libraries take
        seconds to import): a standby then takes over without that delay."""
        stack = self.ws.stack
        if stack is not None:
            sources = list(dict.fromkeys(u.value.source for u in fleet_uses(stack.resources)))
            fleet_reader(self.ws.clients).prepare(sources)
        _ = self.ws.clients.dns

    def run(self) -> int:
        """Loop until stopped (exit 0), or until too many loops failed in a row (exit 1); a stop
        by signal ends with a last line, so a log says the loop ended rather than died."""
        self.prepare()
        code = self._run()
        if self.stopping.is_set():
            self.emit({"event": "stopped", "loops": self.loops})
        return code

    def _run(self) -> int:
        while not self.stopping.is_set():
            try:
                code = self._hold_and_loop()
            except LockLostError as exc:  # paused past the lease: wait as a standby again
                self.emit({"event": "lock-lost", "detail": str(exc)})
                if self.metrics:
                    self.metrics.leader(False)
                if self.options.once:
                    self.ended = str(exc)
                    return 1
                continue
            if code is not None:
                return code
        return 0

    def _hold_and_loop(self) -> int | None:
        """Take the lock (as a standby, waiting for it), then loop while holding it."""
        store = self.ws.store
        with contextlib.ExitStack() as held:
            waited = False
            while True:
                try:
                    held.enter_context(
                        store.lock(
                            "reconcile",
                            timeout=0 if self.options.once else STANDBY_POLL,
                            take_lapsed=True,
                        )
                    )
                    break
                except LockLostError:
                    raise
                except LockError as exc:
                    if self.options.once:
                        raise
                    if not waited:
                        self.emit({"event": "standby", "detail": str(exc)})
                        if self.metrics:
                            self.metrics.leader(False)
                        waited = True
                    if self.stopping.is_set():
                        return 0
            if self.metrics:
                self.metrics.leader(True)
            self.emit({"event": "leader", "stack": self.ws.stack_name})
            return self._loop(store.read())

    def _loop(self, state: State | None) -> int | None:
        options = self.options
        while not self.stopping.is_set():
            started = time.monotonic()
            report, state = self.once(state)
            self.emit(report.to_json())
            if self.metrics:
                self.metrics.observe(report)
            if report.error is None:
                self.failures = 0
            else:
                self.failures += 1
                if self.failures >= options.max_failures or options.once:
                    self.ended = (
                        f"the loop failed: {report.error}"
                        if options.once
                        else f"{count(self.failures, 'loop')} in a row failed; "
                        f"the last: {report.error}"
                    )
                    return 1
            if options.strict and report.held:
                self.ended = f"--strict: held destructive changes: {', '.join(report.held)}"
                return 1
            if options.once:
                return 0
            remaining = options.interval - (time.monotonic() - started)
            if self.stopping.wait(max(remaining, 0)):
                break
        return 0

    def once(self, state: State | None) -> tuple[LoopReport, State | None]:
        """One loop: plan against `state`, apply what is safe; the state to build on next."""
        self.loops += 1
        report = LoopReport(self.loops)
        stats = self.ws.clients.stats
        calls = stats.calls
        started = time.monotonic()
        try:
            state = self._plan_and_apply(state, report)
        except LockLostError:
            raise
        except Interrupted:
            report.error, report.cause = "stopped while reading", "stopped"
        except MldnsError as exc:
            report.error, report.cause = one_line(str(exc)), _cause(exc)
            state = self._reread(state)
        except Exception as exc:  # a reply no rule foresaw: reported, and the loop goes on
            cause = "api" if isinstance(exc, gexc.GoogleAPICallError) else "internal"
            report.error, report.cause = one_line(f"{type(exc).__name__}: {exc}")[:500], cause
            state = self._reread(state)
        report.calls = stats.calls - calls
        report.seconds = time.monotonic() - started
        return report, state

    def _reread(self, state: State | None) -> State | None:
        """The state as recorded, after a loop that failed part way (what it did is there)."""
        try:
            return self.ws.store.read()
        except LockLostError:
            raise
        except MldnsError:
            return state  # unreadable now: the next failed loop tries again

    def _plan_and_apply(self, state: State | None, report: LoopReport) -> State | None:
        plan = self.ws.plan_locked(state)
        report.members = {name: read["members"] for name, read in plan.sources.items()}
        report.refused = {n: r["refused"] for n, r in plan.sources.items() if r["refused"]}
        report.conflicts = sum(len(r["conflicts"]) for r in plan.sources.values())
        report.drift = len(plan.actions)
        apply, held = split_actions(plan)
        report.held = [f"{a.address} ({a.op})" for a in held]
        if not apply and not plan.refreshed:
            return state  # idle: no write at all
        current = state or State(stack=self.ws.stack_name)
        self.applying = True
        try:
            result = self.ws.apply_locked(
                attrs.evolve(plan, actions=apply, destructive_reasons=()),
                current,
                allow_destructive=True,
            )
        finally:
            self.applying = False
        report.changes = Counter(result.applied)
        return current


def _cause(exc: MldnsError) -> str:
    """A short cause for metrics: what kind of failure ended the loop."""
    text = str(exc)
    if isinstance(exc, ApplyError):
        if "changed outside mldns" in text or "kept changing" in text:
            return "conflict"
        return "apply"
    if isinstance(exc, ApiError):
        return "api"
    if isinstance(exc, LockError):
        return "lock"
    return type(exc).__name__.removesuffix("Error").lower() or "error"


def _print_json(body: dict[str, Any]) -> None:
    sys.stdout.write(json.dumps(body, sort_keys=True) + "\n")
    sys.stdout.flush()
