"""The state lock: who holds a stack, for how long, and how a lock left behind is cleared.

Two kinds. `FileLock`: a kernel lock on a file beside the state, with a record of its holder; the
kernel releases it when its holder dies, so it is never stale. `LeaseLock`: an object created only
if absent (Cloud Storage's `ifGenerationMatch=0`) naming its holder and a lease expiry, which the
holder renews while it runs, each renewal conditional on the generation it last wrote. Invariants:

- At most one run holds the lock: creation is conditional, and a holder keeps it only by renewing
  on the generation it wrote itself.
- A lock whose lease has lapsed is stale: reported with its age, never taken over silently;
  `unlock` removes it, conditional on the generation seen, and a live or foreign lock only when
  forced.
- Retried calls are recognised as one's own: a create that meets 412 finds its own holder id in
  the lock; a release that meets 404 finds the lock already gone.
"""

from __future__ import annotations

import contextlib
import getpass
import json
import os
import random
import socket
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, Protocol

import attrs
import filelock

from mldns.errors import LockError, StateError
from mldns.files import atomic_write, state_directory

LEASE_ENV = "MLDNS_LOCK_LEASE"
DEFAULT_LEASE = 60.0  # seconds; renewed every third of it


def _now() -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())


def _user() -> str:
    with contextlib.suppress(Exception):
        return getpass.getuser()
    return "unknown"


def lease_seconds() -> float:
    """The lease a lock is taken for: MLDNS_LOCK_LEASE seconds, or a minute."""
    raw = os.environ.get(LEASE_ENV)
    try:
        value = float(raw) if raw else DEFAULT_LEASE
    except ValueError:
        raise StateError(f"{LEASE_ENV}={raw!r} is not a number of seconds") from None
    return max(value, 0.5)


@attrs.frozen
class LockInfo:
    """A lock's holder: who, where, doing what, since when; a lease's expiry (epoch seconds)."""

    pid: int
    host: str
    since: str
    operation: str
    id: str = ""
    user: str = ""
    expires: float | None = None

    @classmethod
    def mine(cls, operation: str, lease: float | None = None) -> LockInfo:
        return cls(
            pid=os.getpid(),
            host=socket.gethostname(),
            since=_now(),
            operation=operation,
            id=uuid.uuid4().hex,
            user=_user(),
            expires=time.time() + lease if lease else None,
        )

    def describe(self) -> str:
        who = f" ({self.user})" if self.user else ""
        return f"pid {self.pid} on host {self.host}{who} since {self.since} ({self.operation})"

    def holding(self) -> str:
        """Who holds the lock, as a sentence's subject: 'an apply by pid 7 on host h'."""
        article = "an" if self.operation[:1] in "aeiou" else "a"
        who = f" ({self.user})" if self.user else ""
        return f"{article} {self.operation} by pid {self.pid} on host {self.host}{who} (since {self.since})"

    def age(self) -> float:
        """Seconds since the lock was taken, by this machine's clock."""
        started = time.mktime(time.strptime(self.since, "%Y-%m-%dT%H:%M:%SZ")) - time.timezone
        return max(0.0, time.time() - started)

    def lapsed(self) -> float | None:
        """Seconds since the lease ran out; None while it runs (or for a lock without one)."""
        if self.expires is None:
            return None
        over = time.time() - self.expires
        return over if over > 0 else None

    def is_dead_here(self) -> bool:
        if self.host != socket.gethostname():
            return False
        try:
            os.kill(self.pid, 0)
        except ProcessLookupError:
            return True
        except PermissionError:
            return False
        return False

    def encode(self) -> bytes:
        return json.dumps({"mldns_lock": 1, **attrs.asdict(self)}, sort_keys=True).encode()

    @classmethod
    def decode(cls, raw: bytes, where: str) -> LockInfo:
        """A lock's body; StateError naming `where` if it is not an mldns lock."""
        try:
            data = json.loads(raw)
            if not isinstance(data, dict) or data.pop("mldns_lock", None) != 1:
                raise ValueError
            info = cls(**data)
            if not (isinstance(info.pid, int) and isinstance(info.since, str) and info.id):
                raise ValueError
            info.age()
            return info
        except (ValueError, TypeError):
            raise StateError(
                f"{where}: not an mldns lock; it was left alone (remove it with `mldns state unlock --force` if you know whose it is)"
            ) from None


class FileLock:
    """A kernel lock on `path`, its holder recorded in `info_path`."""

    def __init__(self, path: Path, info_path: Path, location: str) -> None:
        self.path, self.info_path, self.location = path, info_path, location

    def holder(self) -> LockInfo | None:
        try:
            data = json.loads(self.info_path.read_text(encoding="utf-8"))
            data.pop("mldns_lock", None)
            return LockInfo(**data)
        except (OSError, ValueError, TypeError, AttributeError):
            return None

    @contextlib.contextmanager
    def held(
        self,
        operation: str,
        timeout: float = 0,
        on_stale: Callable[[LockInfo], Any] | None = None,
        on_wait: Callable[[str], Any] | None = None,
    ) -> Iterator[None]:
        """Hold the lock for a run. A record left by a dead process is reported via `on_stale`;
        waiting for a live holder is told once through `on_wait`."""
        state_directory(self.path.parent)
        lock = filelock.FileLock(str(self.path))
        try:
            lock.acquire(timeout=0)
        except filelock.Timeout:
            holder = self._wait_for_holder()
            try:
                if timeout <= 0:
                    raise
                if on_wait is not None:
                    on_wait(waiting(timeout, holder))
                lock.acquire(timeout=timeout)
            except filelock.Timeout:
                who = holder.holding() if holder else "another process"
                raise LockError(
                    f"{who} holds the state {self.location}; retry later, or wait with --lock-timeout"
                ) from None
        try:
            previous = self.holder()
            if previous is not None and on_stale is not None:
                on_stale(previous)
            atomic_write(self.info_path, LockInfo.mine(operation).encode())
            yield
        finally:
            with contextlib.suppress(OSError):
                self.info_path.unlink()
            lock.release()

    def _wait_for_holder(self, patience: float = 1.0) -> LockInfo | None:
        """The holder's record; a process that has just taken the lock writes it a moment later."""
        deadline = time.monotonic() + patience
        while (holder := self.holder()) is None and time.monotonic() < deadline:
            time.sleep(0.02)
        return holder

    def unlock(self, force: bool = False) -> LockInfo | None:
        """Clear the record a run that died left beside the lock (the kernel released its lock
        with it). A lock a live run holds is refused without `force`: removing its file would
        let a second run lock a new file beside the first and write the state with it."""
        holder = self.holder()
        if not self.path.exists() and not self.info_path.exists():
            return None  # never locked: nothing to clear, and no lock file to make
        if force:
            for path in (self.info_path, self.path):
                with contextlib.suppress(FileNotFoundError):
                    path.unlink()
            return holder
        probe = filelock.FileLock(str(self.path))
        try:
            probe.acquire(timeout=0)
        except filelock.Timeout:
            who = f"held by {holder.describe()}" if holder else "held by a running process"
            raise LockError(
                f"state lock {self.location} is live: {who}; stop that run, or remove the lock "
                "anyway with `mldns state unlock --force`"
            ) from None
        try:  # held: no run can take it while its record goes
            with contextlib.suppress(FileNotFoundError):
                self.info_path.unlink()
        finally:
            probe.release()
        return holder


def waiting(timeout: float, holder: LockInfo | None) -> str:
    """The one line a run prints when it starts waiting for the lock."""
    who = f"pid {holder.pid} on {holder.host} ({holder.operation})" if holder else "another run"
    return f"waiting up to {timeout:g}s for the state lock held by {who}"


class ConditionalObject(Protocol):
    """An object whose writes are conditional on its generation (0: absent), as Cloud Storage's."""

    location: str

    def read(self) -> tuple[bytes, int] | None: ...

    def write(self, data: bytes, if_generation_match: int) -> int:
        """The new generation; raises `Conflict` if the generation did not match."""
        ...

    def delete(self, if_generation_match: int) -> bool:
        """False if the object was already gone; raises `Conflict` if it changed."""
        ...


class Conflict(Exception):
    """A conditional write or delete found another generation (HTTP 412)."""


class LeaseLock:
    """A lock object with a lease, renewed by a thread of its holder while it runs."""

    def __init__(
        self,
        obj: ConditionalObject,
        lease: float | None = None,
        poll: float = 1.0,
    ) -> None:
        self.obj = obj
        self.lease = lease if lease is not None else lease_seconds()
        self.poll = poll
        self.info: LockInfo | None = None
        self.lost_to: str | None = None  # set when a renewal found the lock taken over
        self._generation = 0
        self._stop = threading.Event()
        self._renewer: threading.Thread | None = None

    def holder(self) -> tuple[LockInfo, int] | None:
        """The lock's holder and generation; StateError if the object is not an mldns lock."""
        got = self.obj.read()
        if got is None:
            return None
        raw, generation = got
        return LockInfo.decode(raw, self.obj.location), generation

    @contextlib.contextmanager
    def held(
        self,
        operation: str,
        timeout: float = 0,
        on_stale: Callable[[LockInfo], Any] | None = None,
        on_wait: Callable[[str], Any] | None = None,
        take_lapsed: bool = False,
    ) -> Iterator[None]:
        self.acquire(operation, timeout, on_wait, take_lapsed)
        try:
            yield
        finally:
            self.release()

    def acquire(
        self,
        operation: str,
        timeout: float = 0,
        on_wait: Callable[[str], Any] | None = None,
        take_lapsed: bool = False,
    ) -> None:
        """Create the lock, waiting up to `timeout` seconds while another run holds it (told once
        through `on_wait`).

        With `take_lapsed`, a lock whose lease ran out is taken over, on the generation seen (a
        loop whose every write is fenced may; a one-shot apply reports it instead)."""
        info = LockInfo.mine(operation, self.lease)
        deadline = time.monotonic() + timeout
        told = on_wait is None
        while True:
            try:
                self._generation = self.obj.write(info.encode(), 0)
                break
            except Conflict:
                pass
            found = self.holder()
            if found is not None and found[0].id == info.id:
                self._generation = found[1]  # our own create, retried after it had landed
                break
            if take_lapsed and found is not None and found[0].lapsed() is not None:
                try:
                    self._generation = self.obj.write(info.encode(), found[1])
                    break
                except Conflict:
                    continue  # another took it first, or its holder renewed: look again
            if found is not None and time.monotonic() >= deadline:
                raise LockError(self._taken(found[0]))
            if found is not None and not told and on_wait is not None:
                on_wait(waiting(timeout, found[0]))
                told = True
            time.sleep(
                min(self.poll * (0.5 + random.random()), max(deadline - time.monotonic(), 0.05))
            )
        self.info, self.lost_to = info, None
        self._stop.clear()
        self._renewer = threading.Thread(target=self._renew, name="mldns-lease", daemon=True)
        self._renewer.start()

    def _taken(self, holder: LockInfo) -> str:
        lapsed = holder.lapsed()
        if lapsed is not None:
            return (
                f"state lock {self.obj.location} is stale: held by {holder.describe()}, "
                f"{holder.age():.0f} s old, its lease lapsed {lapsed:.0f} s ago; "
                "if that run is dead, clear it with `mldns state unlock`"
            )
        return (
            f"{holder.holding()} holds the state lock {self.obj.location}, "
            f"{holder.age():.0f} s old; retry later, or wait with --lock-timeout"
        )

    def _renew(self) -> None:
        """Rewrite the lock with a new expiry every third of the lease, on our own generation."""
        while not self._stop.wait(self.lease / 3):
            if self.info is None:
                return
            info = attrs.evolve(self.info, expires=time.time() + self.lease)
            try:
                self._generation = self.obj.write(info.encode(), self._generation)
                self.info = info
            except Conflict:
                self.lost_to = self.describe_holder()
                return
            except Exception:  # a failed renewal is retried at the next tick; the lease runs on
                continue

    def is_mine(self) -> bool:
        """Whether the lock object is still the one this holder wrote (one read)."""
        if self.lost_to is not None or self.info is None:
            return False
        found = self.holder()
        if found is not None and found[0].id == self.info.id:
            return True
        self.lost_to = found[0].holding() if found else self.describe_holder()
        return False

    def describe_holder(self) -> str:
        with contextlib.suppress(Exception):
            found = self.holder()
            if found is not None:
                return found[0].holding()
        return self.taken_by() or "another run"

    def taken_by(self) -> str | None:
        """Who took over a lock since released: the store may know who wrote last."""
        return None

    def release(self) -> None:
        """Delete the lock if it is still ours; a 404 (a retried delete) means it is gone."""
        self._stop.set()
        if self._renewer is not None:
            self._renewer.join()
            self._renewer = None
        if self.lost_to is None:
            with contextlib.suppress(Conflict):
                self.obj.delete(self._generation)
        self.info = None

    def unlock(self, force: bool = False) -> LockInfo | None:
        """Remove a stale lock (or any, with `force`), on the generation seen: a lock retaken
        meanwhile is left alone."""
        try:
            found = self.holder()
        except StateError:
            if not force:
                raise
            got = self.obj.read()
            if got is not None:
                self._delete_seen(got[1])
            return None
        if found is None:
            return None
        holder, generation = found
        if holder.lapsed() is None and not force:
            raise LockError(
                f"state lock {self.obj.location} is live: held by {holder.describe()}, "
                f"its lease runs {(holder.expires or time.time()) - time.time():.0f} s more; "
                "remove it anyway with `mldns state unlock --force`"
            )
        self._delete_seen(generation)
        return holder

    def _delete_seen(self, generation: int) -> None:
        try:
            self.obj.delete(generation)
        except Conflict:
            raise LockError(
                f"state lock {self.obj.location} changed while it was being removed; look again"
            ) from None
