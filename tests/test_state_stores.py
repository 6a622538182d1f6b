"""The store contract (state_store.py), checked against every store: a directory, and a bucket
served by the emulator through google-cloud-storage."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from typing import Any

import pytest

from mldns.emulator import Emulator
from mldns.errors import LockError, StateError
from mldns.state.format import FORMAT_VERSION, State
from mldns.state.gcs import GcsStateStore, GcsUrl, storage_client
from mldns.state.local import LocalStateStore
from mldns.state.lock import LockInfo
from mldns.state.store import StateStore

BUCKET = "team-state"


class Place:
    """Opens stores of one backend, and reaches under them to plant bytes as others might."""

    def __init__(self, kind: str, tmp_path: Any, emu: Emulator | None) -> None:
        self.kind, self.tmp_path, self.emu = kind, tmp_path, emu
        if emu is not None:
            self.client = storage_client(emu.host_port)
            self.client.create_bucket(BUCKET)

    def store(self, stack: str = "ml") -> StateStore:
        if self.emu is None:
            return LocalStateStore(self.tmp_path / "state", stack)
        return GcsStateStore(GcsUrl.parse(f"gs://{BUCKET}/teams/ml"), stack, self.client)

    def plant(self, stack: str, suffix: str, data: bytes) -> None:
        """Put `data` where the store keeps `<stack><suffix>` (".json", or the lock)."""
        if self.emu is None:
            name = f"{stack}.json" if suffix == ".json" else f"{stack}.json.lock.info"
            (self.tmp_path / "state").mkdir(exist_ok=True)
            if suffix == ".lock":
                (self.tmp_path / "state" / f"{stack}.json.lock").write_text("")
            (self.tmp_path / "state" / name).write_bytes(data)
            return
        self.client.bucket(BUCKET).blob(f"teams/ml/{stack}{suffix}").upload_from_string(data)


@pytest.fixture(params=["local", "gcs"])
def place(request: Any, tmp_path: Any, monkeypatch: pytest.MonkeyPatch) -> Iterator[Place]:
    monkeypatch.setenv("MLDNS_JOURNAL_DIR", str(tmp_path / "journal"))
    if request.param == "local":
        yield Place("local", tmp_path, None)
        return
    with Emulator() as emu:
        yield Place("gcs", tmp_path, emu)


def entry(i: int) -> dict[str, Any]:
    return {
        "kind": "dns.ManagedZone",
        "project": "p",
        "attributes": {"name": f"z{i:03}", "dnsName": f"z{i}.example.com."},
    }


def state_of(n: int, serial: int = 1) -> State:
    return State(
        stack="ml",
        lineage="lineage-1",
        serial=serial,
        resources={f"dns.ManagedZone.z{i:03}": entry(i) for i in range(n)},
    )


def test_no_state_reads_as_none(place: Place) -> None:
    assert place.store().read() is None
    assert place.store().read_or_new().serial == 0


def test_a_write_reads_back_whole_from_another_store(place: Place) -> None:
    store = place.store()
    store.read()
    store.write(state_of(5))
    assert place.store().read() == state_of(5)
    store.write(state_of(3, serial=2))
    assert place.store().read() == state_of(3, serial=2)


def test_a_run_writes_under_the_lock_on_what_it_read(place: Place) -> None:
    place.store().write(state_of(2))
    store = place.store()
    with store.lock("apply"):
        state = store.read()
        assert state is not None
        state.resources["dns.ManagedZone.z009"] = entry(9)
        state.serial += 1
        store.write(state, {"dns.ManagedZone.z009": entry(9)})
    again = place.store().read()
    assert again is not None and again.serial == 2 and "dns.ManagedZone.z009" in again.resources


def test_a_journal_left_by_a_dead_run_is_replayed(place: Place) -> None:
    place.store().write(state_of(2))
    store = place.store()
    with store.lock("apply"):
        state = store.read()
        assert state is not None and store.can_append()
        state.serial += 1
        store.append(state, {"dns.ManagedZone.z007": entry(7), "dns.ManagedZone.z000": None})
        # The run dies here: the state is as it was, the journal beside it on this machine.
        replayed = place.store().read()
    assert replayed is not None and replayed.serial == 2
    assert sorted(replayed.resources) == ["dns.ManagedZone.z001", "dns.ManagedZone.z007"]


def test_the_lock_is_exclusive_and_names_its_holder(place: Place) -> None:
    first = place.store()
    with first.lock("apply"):
        holder = place.store().holder()
        assert holder is not None and holder.operation == "apply"
        with pytest.raises(LockError) as refused, place.store().lock("apply"):
            pass
        assert f"pid {holder.pid} on host {holder.host}" in str(refused.value)
    assert place.store().holder() is None
    with place.store().lock("apply"):  # released: free for the next run
        pass


def test_a_lock_timeout_waits_for_the_holder(place: Place) -> None:
    first, released = place.store(), threading.Event()

    def hold() -> None:
        with first.lock("apply"):
            released.wait(5)

    holder = threading.Thread(target=hold)
    holder.start()
    while place.store().holder() is None:
        threading.Event().wait(0.01)
    threading.Timer(0.3, released.set).start()
    with place.store().lock("apply", timeout=20):
        assert place.store().holder() is not None
    holder.join()


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b'{"stack": "\xff"}', "not UTF-8"),
        (b'{"format_version": 1, "stack"', "invalid JSON"),
        (b"{}", "not a state file"),
        (
            json.dumps({**state_of(1).to_json(), "format_version": FORMAT_VERSION + 1}).encode(),
            "written by a newer mldns",
        ),
        (json.dumps({**state_of(1).to_json(), "stack": "other"}).encode(), "belongs to stack"),
    ],
)
def test_a_state_that_is_not_this_stacks_is_refused_naming_it(
    place: Place, data: bytes, message: str
) -> None:
    place.plant("ml", ".json", data)
    store = place.store()
    with pytest.raises(StateError) as refused:
        store.read()
    assert str(refused.value).startswith(store.location) and message in str(refused.value)


def test_unlock_clears_a_lock_left_by_a_dead_run(place: Place) -> None:
    left = LockInfo(4242, "elsewhere", "2024-01-01T00:00:00Z", "apply", id="x", expires=1.0)
    place.plant("ml", ".lock", left.encode())
    assert place.store().holder() == left
    assert place.store().unlock() == left
    assert place.store().holder() is None
    with place.store().lock("apply"):
        pass


def test_encode_is_what_read_reads(place: Place) -> None:
    store = place.store()
    text = b"".join(store.encode(state_of(4)))
    place.plant("ml", ".json", text)
    assert place.store().read() == state_of(4)
