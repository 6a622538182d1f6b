"""State in Cloud Storage: fencing, the lease lock, retried calls, pacing, the state verbs and bad
input, through google-cloud-storage against the emulator."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import pytest
from helpers import Run, run_cli

from mldns.emulator import Emulator
from mldns.errors import LockError, LockLostError, StateError, UsageError
from mldns.state.format import State
from mldns.state.gcs import GcsStateStore, GcsUrl, storage_client
from mldns.state.lock import LockInfo
from mldns.state.writer import StateWriter

BUCKET = "team-state"
URL = f"gs://{BUCKET}/teams/ml"


@pytest.fixture
def gcs(emu: Emulator, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Any:
    monkeypatch.setenv("MLDNS_JOURNAL_DIR", str(tmp_path / "journal"))
    client = storage_client(emu.host_port)
    client.create_bucket(BUCKET)
    return client


def store(client: Any, stack: str = "ml") -> GcsStateStore:
    return GcsStateStore(GcsUrl.parse(URL), stack, client)


def blob(client: Any, name: str) -> Any:
    return client.bucket(BUCKET).get_blob(f"teams/ml/{name}")


def zone(i: int) -> dict[str, Any]:
    return {
        "kind": "dns.ManagedZone",
        "project": "p",
        "attributes": {"name": f"z{i}", "dnsName": f"z{i}.example.com."},
    }


def first_state(client: Any) -> State:
    state = State(stack="ml", serial=1, resources={"dns.ManagedZone.z0": zone(0)})
    fresh = store(client)
    fresh.read()
    fresh.write(state)
    return state


def test_a_write_on_a_generation_another_wrote_over_stops_writing(gcs: Any) -> None:
    state = first_state(gcs)
    mine = store(gcs)
    with mine.lock("apply"):
        assert mine.read() == state
        # Another run takes over meanwhile (this one was paused past its lease).
        blob(gcs, "ml.lock").delete()
        theirs = store(gcs)
        with theirs.lock("apply"):
            newer = theirs.read()
            newer.serial += 1
            theirs.write(newer)
            with pytest.raises(LockLostError) as lost:
                mine.write(attrs_evolve(state, serial=5))
            assert str(lost.value) == (
                f"lost the state lock to {theirs.holder().holding()}; nothing more was written"
            )
    assert store(gcs).read().serial == 2  # theirs stands


def attrs_evolve(state: State, **changes: Any) -> State:
    import attrs

    return attrs.evolve(state, **changes)


def test_the_holder_renews_its_lease(gcs: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MLDNS_LOCK_LEASE", "0.6")
    first = store(gcs)
    with first.lock("apply"):
        generation = blob(gcs, "ml.lock").generation
        deadline = time.monotonic() + 10
        while blob(gcs, "ml.lock").generation == generation and time.monotonic() < deadline:
            time.sleep(0.05)
        assert blob(gcs, "ml.lock").generation > generation  # renewed on its own generation
        time.sleep(0.8)  # longer than the lease: still live, for it is renewed
        with pytest.raises(LockError, match="holds the state lock"), store(gcs).lock("apply"):
            pass
    assert blob(gcs, "ml.lock") is None


def stale_lock(client: Any, age: float = 120) -> LockInfo:
    since = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(time.time() - age))
    left = LockInfo(
        4242, "runner-7", since, "apply", id="dead", user="ci", expires=time.time() - 60
    )
    client.bucket(BUCKET).blob("teams/ml/ml.lock").upload_from_string(left.encode())
    return left


def test_a_lapsed_lease_is_reported_stale_with_its_age_then_unlocked(gcs: Any) -> None:
    left = stale_lock(gcs)
    with pytest.raises(LockError) as refused, store(gcs).lock("apply"):
        pass
    message = str(refused.value)
    assert "is stale" in message and left.describe() in message
    assert "lease lapsed 60 s ago" in message and "mldns state unlock" in message
    assert blob(gcs, "ml.lock") is not None  # never taken over silently
    assert store(gcs).unlock() == left
    with store(gcs).lock("apply"):
        pass


def test_a_live_lock_is_removed_only_by_force(gcs: Any) -> None:
    holder = store(gcs)
    with holder.lock("apply"):
        with pytest.raises(LockError, match="is live"):
            store(gcs).unlock()
        assert blob(gcs, "ml.lock") is not None
        mine = holder.holder()
        assert store(gcs).unlock(force=True) == mine
    # The holder's release then finds the lock gone (404): released, no error.


def test_a_foreign_lock_is_refused_and_kept_without_force(gcs: Any) -> None:
    gcs.bucket(BUCKET).blob("teams/ml/ml.lock").upload_from_string(b"held by a script")
    for attempt in (lambda: store(gcs).lock("apply").__enter__(), lambda: store(gcs).unlock()):
        with pytest.raises(StateError) as refused:
            attempt()
        assert str(refused.value).startswith(f"{URL}/ml.lock: not an mldns lock")
    assert blob(gcs, "ml.lock").download_as_bytes() == b"held by a script"
    store(gcs).unlock(force=True)
    assert blob(gcs, "ml.lock") is None


def test_retried_calls_are_recognised_as_ones_own(gcs: Any, emu: Emulator) -> None:
    """A create, a write and a delete that land but whose replies are lost are retried by the
    client: the retries meet 412 and 404, and still count as done."""
    first_state(gcs)
    emu.add_fault(
        method="POST", path="^/upload/storage/v1/b/team-state/o", status=503, after=True, count=2
    )
    emu.add_fault(method="DELETE", path=r"ml\.lock$", status=503, after=True, count=1)
    mine = store(gcs)
    with mine.lock("apply"):  # the create landed, its 503 retried: 412, our own holder id
        state = mine.read()
        state.serial += 1
        mine.write(state)  # landed, 503, retried: 412, the object holds exactly our bytes
    assert [r["status"] for r in emu.requests()["recent"] if "storage" in r["path"]][-1] == 404
    assert blob(gcs, "ml.lock") is None
    assert store(gcs).read().serial == 2


def test_paced_writes_at_most_once_a_second_and_always_at_the_end(gcs: Any) -> None:
    first_state(gcs)
    mine = store(gcs)
    with mine.lock("apply"):
        state = mine.read()
        writer = StateWriter(mine, state)
        started = time.monotonic()
        with writer.running():
            for i in range(1, 121):  # a commit every 20 ms for 2.4 s
                writer.commit({f"dns.ManagedZone.z{i}": zone(i)})
                time.sleep(0.02)
        elapsed = time.monotonic() - started
    print(f"{mine.writes} whole writes in {elapsed:.1f} s for 120 commits")
    assert 1 <= mine.writes <= elapsed + 1
    final = store(gcs).read()
    assert final.serial == 2 and len(final.resources) == 121  # one apply: the serial rises once


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("gs://", "backend gs://: names no bucket"),
        ("gs:///prefix", "names no bucket"),
        ("gs://no-such-bucket/p", "gs://no-such-bucket: bucket does not exist"),
    ],
)
def test_bad_backend_urls(gcs: Any, emu: Emulator, url: str, message: str) -> None:
    from mldns.state.backend import open_store

    with pytest.raises((UsageError, StateError)) as refused:
        open_store(url, "ml", emu.host_port).read()
    assert message in str(refused.value)


def test_an_unwritable_bucket_is_named_and_nothing_written(gcs: Any, emu: Emulator) -> None:
    emu.add_fault(method="POST", path="^/upload/", status=403, reason="forbidden")
    with pytest.raises(StateError) as refused, store(gcs).lock("apply"):
        pass
    assert str(refused.value).startswith(f"{URL}/ml.lock: cannot write (403")
    assert list(gcs.list_blobs(BUCKET)) == []


# ------------------------------------------------------------------ the state verbs


@pytest.fixture
def mldns(capsys: pytest.CaptureFixture[str]) -> Any:
    def run(*args: str) -> Run:
        return run_cli(capsys, *args)

    return run


def test_pull_push_and_migrate(gcs: Any, emu: Emulator, mldns: Any, tmp_path: Path) -> None:
    where = ("--emulator", emu.host_port)
    local = str(tmp_path / "state")
    state = State(stack="ml", lineage="one", serial=3, resources={"dns.ManagedZone.z0": zone(0)})
    saved = tmp_path / "ml.json"
    saved.write_text(json.dumps(state.to_json()))
    pushed = mldns("state", "push", str(saved), "--backend", URL, *where)
    assert pushed.code == 0, pushed.err
    pulled = mldns("state", "pull", "--backend", URL, *where)
    assert json.loads(pulled.out) == state.to_json()

    older = tmp_path / "older.json"
    older.write_text(json.dumps({**state.to_json(), "serial": 2}))
    refused = mldns("state", "push", str(older), "--backend", URL, *where)
    assert refused.code == 1 and "is newer (serial 3, not 2)" in refused.err
    other = tmp_path / "other.json"
    other.write_text(json.dumps({**state.to_json(), "lineage": "two", "serial": 9}))
    refused = mldns("state", "push", str(other), "--backend", URL, *where)
    assert refused.code == 1 and "another lineage" in refused.err
    assert json.loads(blob(gcs, "ml.json").download_as_bytes())["serial"] == 3
    assert mldns("state", "push", str(other), "--backend", URL, "--force", *where).code == 0
    assert json.loads(blob(gcs, "ml.json").download_as_bytes())["lineage"] == "two"

    moved = mldns("state", "migrate", "--to", local, "--backend", URL, *where)
    assert moved.code == 0, moved.err
    assert json.loads(Path(local, "ml.json").read_text())["lineage"] == "two"
    assert mldns("state", "push", str(saved), "--state-dir", local, "--force").code == 0
    clash = mldns("state", "migrate", "--to", URL, "--state-dir", local, *where)
    assert clash.code == 1 and "another lineage" in clash.err and "nothing was written" in clash.err
    assert json.loads(blob(gcs, "ml.json").download_as_bytes())["lineage"] == "two"


def test_unlock_verb_on_stale_live_and_foreign_locks(gcs: Any, emu: Emulator, mldns: Any) -> None:
    where = ("--backend", URL, "--emulator", emu.host_port, "--stack", "ml")
    left = stale_lock(gcs)
    done = mldns("state", "unlock", *where)
    assert done.code == 0 and left.describe() in done.out
    gcs.bucket(BUCKET).blob("teams/ml/ml.lock").upload_from_string(b"{}")
    refused = mldns("state", "unlock", *where)
    assert refused.code == 1 and "not an mldns lock" in refused.err
    assert len(refused.err.strip().splitlines()) == 1 and "Traceback" not in refused.err
    assert mldns("state", "unlock", "--force", *where).code == 0
    assert blob(gcs, "ml.lock") is None


def test_a_state_object_that_is_not_mldns_state_is_refused(
    gcs: Any, emu: Emulator, mldns: Any
) -> None:
    gcs.bucket(BUCKET).blob("teams/ml/ml.json").upload_from_string(b'{"version": 4}')
    before = blob(gcs, "ml.json").generation
    result = mldns("state", "list", "--backend", URL, "--emulator", emu.host_port)
    assert result.code == 1
    assert result.err.strip() == f"Error: {URL}/ml.json: not a state file (no format_version)"
    assert blob(gcs, "ml.json").generation == before
