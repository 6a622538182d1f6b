"""Zone listings read ahead by a forked process while the stack file runs.

A no-op plan of a big zone is CPU work in one interpreter: running the stack file, then decoding
and comparing every listed record set. Threads cannot overlap them (they share the interpreter),
so once the state is read under the plan's lock (and not before: a plan the lock refuses makes no
call), a plan whose state holds many plain record sets forks: the child lists the zones the state
records and compares each listed record set with the state's row it inherited, and hands back
only what differs. The stack file goes on in the parent meanwhile.

Invariant: a `Listing` and the state's rows it was compared with say exactly what the list
returned: a row not named in `unlisted` and with no record set in `differing` was listed as
recorded (plain fields only, the same TTL and data in order), and every other listed record set
is in `differing` as it was listed, in the list's order.
"""

from __future__ import annotations

import contextlib
import os
import pickle
import signal
import sys
import threading
from collections.abc import Container, Iterable, Iterator, Mapping
from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING, Any

import attrs

from mldns.errors import UsageError
from mldns.resources.dns.zone_records import KIND as ROWS_KIND

if TYPE_CHECKING:
    from mldns.providers.dns_tables import ZoneRows
    from mldns.state.format import State

KIND = "dns#resourceRecordSet"
PLAIN_KEYS = frozenset({"kind", "name", "type", "ttl", "rrdatas"})
# Below this many recorded rows the list costs less than a process does.
MIN_ROWS = 5000
MIN_ROWS_ENV = "MLDNS_READ_AHEAD_ROWS"
# The errors a reader meets that the plan would meet too: raised as they are, not read again.
RAISED = ("ApiError", "UnreachableError", "CredentialsError")


@attrs.frozen
class Listing:
    """One zone's list, against the state rows it was compared with."""

    differing: list[dict[str, Any]]
    unlisted: frozenset[str]

    def unmatched(self, holder: ZoneRows, apart: Container[str]) -> Iterator[dict[str, Any]]:
        """As `dns_tables.unmatched` does with the pages: what the refresh must look at, with
        the rows listed exactly as declared and recorded noted in the holder's `same`. A row
        listed as recorded but declared otherwise comes back as the record set it was listed."""
        skip = {raw["name"] + "/" + raw["type"] for raw in self.differing} | self.unlisted
        declared, note, replacing = holder.rows.get, holder.same.add, holder.replacing
        for key, row in holder.prior.items():
            if key in skip:
                continue
            record: Any = declared(key)
            # Declared as recorded: `dns_tables.unmatched`'s test, written out as there.
            if record is not None and not replacing and key not in apart and record.ttl == row[0]:
                data = record.rrdatas
                if len(row) == len(data) + 1 and (
                    row[1] == data[0] if len(data) == 1 else tuple(row[1:]) == data
                ):
                    note(key)
                    continue
            name, _, rtype = key.rpartition("/")
            yield {"kind": KIND, "name": name, "type": rtype, "ttl": row[0], "rrdatas": row[1:]}
        yield from self.differing


def compare(pages: Iterable[list[dict[str, Any]]], rows: Mapping[str, list[Any]]) -> Listing:
    """A zone's listed pages against its state rows."""
    differing: list[dict[str, Any]] = []
    listed: set[str] = set()
    note = listed.add
    for page in pages:
        for raw in page:
            key = raw["name"] + "/" + raw["type"]
            note(key)
            row = rows.get(key)
            if (
                row is not None
                and raw.get("ttl") == row[0]
                and raw.get("rrdatas") == row[1:]
                and raw.get("kind") == KIND
                and raw.keys() <= PLAIN_KEYS
            ):
                continue
            differing.append(raw)
    return Listing(differing, frozenset(rows.keys() - listed))


def recorded_rows(state: State, project: str) -> dict[str, dict[str, list[Any]]]:
    """The plain record set rows the state records in `project`, by zone name."""
    return {
        entry["attributes"]["zone"]: entry["attributes"]["rows"]
        for entry in state.resources.values()
        if entry["kind"] == ROWS_KIND and entry.get("project") == project
    }


def min_rows() -> int | None:
    """The rows a state must record for a plan to read ahead; None when MLDNS_READ_AHEAD_ROWS
    is 0 (never). Anything but a whole number there is refused in one line."""
    value = os.environ.get(MIN_ROWS_ENV, "").strip()
    if not value:
        return MIN_ROWS
    if not value.isascii() or not value.isdigit():
        raise UsageError(
            f"{MIN_ROWS_ENV}={value!r} must be a whole number of rows (0 turns reading ahead off)"
        )
    return int(value) or None


class Reader:
    """The forked reader, from the plan's side."""

    def __init__(self, pid: int, fd: int, project: str, zones: frozenset[str]) -> None:
        self.pid, self.fd, self.project, self.zones = pid, fd, project, zones
        self._answer: dict[str, Any] | None = None

    @classmethod
    def start(
        cls,
        state: State,
        project: str,
        emulator: str | None,
        *,
        timeout: float,
        parallelism: int,
    ) -> Reader | None:
        """Fork a reader of the zones whose rows `state` records, if there are enough of them and
        this process can fork safely (Linux, no other thread); None otherwise."""
        zones = recorded_rows(state, project)
        threshold = min_rows()
        if threshold is None or sum(map(len, zones.values())) < threshold:
            return None
        if not sys.platform.startswith("linux") or threading.active_count() != 1:
            return None
        read, write = os.pipe()
        parent = os.getpid()
        pid = os.fork()
        if pid == 0:  # the reader: never returns
            os.close(read)
            _die_with(parent)
            _serve(write, project, emulator, timeout, parallelism, zones)
        os.close(write)
        return cls(pid, read, project, frozenset(zones))

    def listing(self, zone: str, stats: Any) -> Listing | None:
        """The zone's listing; None if the reader did not list it (then the refresh does).
        An error the plan would meet itself (no credentials, no answer in time) is raised."""
        if zone not in self.zones:
            return None
        answer = self._wait(stats)
        error = answer.get("error")
        if error is not None:
            name, message = error
            if name in RAISED:
                from mldns import errors

                raise getattr(errors, name)(message)
            return None
        return answer["zones"].get(zone)

    def _wait(self, stats: Any) -> dict[str, Any]:
        if self._answer is None:
            chunks = []
            fd, self.fd = self.fd, -1  # the file object closes it, however the read ends
            with os.fdopen(fd, "rb") as pipe:
                while chunk := pipe.read(1 << 20):
                    chunks.append(chunk)
            self.close()
            try:
                self._answer = pickle.loads(b"".join(chunks))
            except Exception:
                self._answer = {"error": ("ReaderFailed", "no answer"), "zones": {}}
            stats.count_ahead(self._answer.get("calls", 0), self._answer.get("retries", 0))
        return self._answer

    def close(self) -> None:
        """Stop the reader, whatever it is doing."""
        if self.fd >= 0:
            os.close(self.fd)
            self.fd = -1
        if self.pid:
            pid, self.pid = self.pid, 0
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
            os.waitpid(pid, 0)


def _die_with(parent: int) -> None:
    """Have the kernel end the reader when the plan's process ends, however it ends (a kill -9
    included): an orphan would list on for nobody, holding the state lock's file open."""
    import ctypes

    pr_set_pdeathsig = 1  # <sys/prctl.h>
    ctypes.CDLL(None, use_errno=True).prctl(pr_set_pdeathsig, signal.SIGKILL)
    if os.getppid() != parent:  # the plan ended before the kernel was told
        os._exit(0)


def _serve(
    fd: int,
    project: str,
    emulator: str | None,
    timeout: float,
    parallelism: int,
    zones: dict[str, dict[str, list[Any]]],
) -> None:
    """The reader's whole life: list, compare, answer through `fd`, exit."""
    answer: dict[str, Any] = {"zones": {}, "calls": 0, "retries": 0}
    try:
        signal.signal(signal.SIGINT, signal.SIG_DFL)  # Ctrl-C ends it at once, quietly
        from google.api_core import exceptions as gexc

        from mldns.clients import Clients
        from mldns.providers import dns_pages

        clients = Clients(project, emulator, timeout=timeout, parallelism=parallelism)

        def read(zone: str) -> None:
            try:
                pages = dns_pages.pages(clients, dns_pages.rrsets_path(project, zone), "rrsets")
                answer["zones"][zone] = compare(pages, zones[zone])
            except gexc.NotFound:
                pass  # gone: the refresh, which reads the zone first, will not list it

        workers = max(1, min(len(zones), parallelism))
        with ThreadPoolExecutor(max_workers=workers) as pool:
            list(pool.map(read, zones))
        answer["calls"], answer["retries"] = clients.stats.calls, clients.stats.retries
    except BaseException as exc:  # handed to the plan, which raises it or reads again
        answer = {"error": (type(exc).__name__, str(exc)), "zones": {}}
    try:
        payload = pickle.dumps(answer, protocol=pickle.HIGHEST_PROTOCOL)
        with os.fdopen(fd, "wb") as pipe:
            pipe.write(payload)
    finally:
        os._exit(0)
