"""The local state store: atomic writes, a backup, damaged files refused clearly, the lock."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
from pathlib import Path
from typing import Any

import attrs
import pytest

from mldns.errors import LockError, StateError
from mldns.state.format import FORMAT_VERSION, State
from mldns.state.local import LocalStateStore, stacks_in
from mldns.state.lock import LockInfo


def entry(n: int = 1) -> dict[str, Any]:
    return {
        "kind": "dns.ManagedZone",
        "project": "p",
        "attributes": {"name": f"z{n}", "dnsName": f"z{n}.example.com."},
    }


def saved(tmp_path: Path, stack: str = "ml") -> tuple[LocalStateStore, State]:
    store = LocalStateStore(tmp_path, stack)
    state = State(stack=stack, resources={"dns.ManagedZone.z1": entry()})
    store.write(state)
    return store, state


def test_round_trip(tmp_path: Path) -> None:
    store, state = saved(tmp_path)
    again = LocalStateStore(tmp_path, "ml").read()
    assert again == state
    data = json.loads(store.path.read_text())
    assert data["format_version"] == FORMAT_VERSION
    assert data["lineage"] == state.lineage
    assert stacks_in(tmp_path) == ["ml"]


def test_incremental_encoding_matches_a_full_dump(tmp_path: Path) -> None:
    """Writes during an apply encode only what changed; the text must still be the whole state."""
    import random

    rng = random.Random(7)
    store = LocalStateStore(tmp_path, "ml")
    state = State(stack="ml", resources={f"dns.ManagedZone.z{n:03d}": entry(n) for n in range(50)})
    store.encode(state)
    for _ in range(40):
        changed: dict[str, Any] = {}
        for n in rng.sample(range(120), 15):
            address = f"dns.ManagedZone.z{n:03d}"
            if rng.random() < 0.3:
                state.resources.pop(address, None)
                changed[address] = None
            else:
                state.resources[address] = {**entry(n), "protect": rng.random() < 0.5}
                changed[address] = state.resources[address]
        state.serial += 1
        text = b"".join(store.encode(attrs.evolve(state, resources={}), changed)).decode()
        assert json.loads(text) == state.to_json()
        assert text == b"".join(LocalStateStore(tmp_path, "ml").encode(state)).decode()
        lines = text.splitlines()
        assert [line.split('"')[1] for line in lines if line.startswith('  "')] == sorted(
            state.resources
        )


def test_first_write_under_the_lock_reuses_the_lines_read(tmp_path: Path) -> None:
    """The state read under the lock lends its lines to the first write; what changed is new."""
    state = State(stack="ml", resources={f"dns.ManagedZone.z{n:03d}": entry(n) for n in range(20)})
    LocalStateStore(tmp_path, "ml").write(state)
    # A hand-edited but valid line: kept as written while its entry is unchanged.
    path = tmp_path / "ml.json"
    path.write_text(path.read_text().replace('"dnsName": "z5.', '"dnsName":   "z5.'))
    store = LocalStateStore(tmp_path, "ml")
    with store.lock("apply"):
        current = store.read()
        assert current is not None
        current.resources["dns.ManagedZone.z007"] = {**entry(7), "protect": True}
        del current.resources["dns.ManagedZone.z009"]
        current.resources["dns.ManagedZone.z100"] = entry(100)
        store.write(current)
    written = path.read_text()
    assert '"dnsName":   "z5.' in written
    fresh = b"".join(LocalStateStore(tmp_path / "other", "ml").encode(current)).decode()
    assert written.replace('"dnsName":   "z5.', '"dnsName": "z5.') == fresh
    assert json.loads(written) == current.to_json()


@pytest.mark.parametrize(
    "layout",
    [
        "indented",
        "comma then space",
        "comma opening the next line",
        "unsorted",
        "escaped address",
    ],
)
def test_a_state_file_in_another_layout_is_rewritten_whole(tmp_path: Path, layout: str) -> None:
    resources = {f"dns.ManagedZone.z{n:03d}": entry(n) for n in range(5)}
    if layout == "escaped address":
        resources['dns.ManagedZone.z"q'] = entry(9)
    state = State(stack="ml", resources=resources)
    LocalStateStore(tmp_path, "ml").write(state)
    path = tmp_path / "ml.json"
    text = path.read_text()
    if layout == "indented":
        text = json.dumps(state.to_json(), indent=2)
    elif layout == "comma then space":
        text = text.replace("},\n", "}, \n")
    elif layout == "comma opening the next line":
        text = text.replace('},\n  "', '}\n  ,"')
    elif layout == "unsorted":
        text = text.replace("z001", "zzzz").replace("z1.", "zzzz.")
    path.write_text(text)
    store = LocalStateStore(tmp_path, "ml")
    with store.lock("apply"):
        current = store.read()
        assert current is not None
        current.resources["dns.ManagedZone.z002"] = {**entry(2), "protect": True}
        store.write(current)
    fresh = LocalStateStore(tmp_path / "other", "ml")
    assert path.read_bytes() == b"".join(fresh.encode(current))


def journaled(tmp_path: Path) -> tuple[LocalStateStore, State]:
    """A state file of 5 zones, then an apply that journals two writes and dies before the end."""
    state = State(stack="ml", resources={f"dns.ManagedZone.z{n:03d}": entry(n) for n in range(5)})
    LocalStateStore(tmp_path, "ml").write(state)
    store = LocalStateStore(tmp_path, "ml")
    with store.lock("apply"):
        current = store.read()
        assert current is not None and store.can_append()
        current.serial += 1
        store.append(current, {"dns.ManagedZone.z001": {**entry(1), "protect": True}})
        current.serial += 1
        store.append(current, {"dns.ManagedZone.z002": None, "dns.ManagedZone.z009": entry(9)})
    return store, state


def test_a_journal_left_by_a_dead_apply_is_replayed(tmp_path: Path) -> None:
    store, before = journaled(tmp_path)
    assert store.journal_path.stat().st_mode & 0o777 == store.path.stat().st_mode & 0o777 == 0o600
    assert json.loads(store.path.read_text()) == before.to_json()  # the state file is untouched
    state = LocalStateStore(tmp_path, "ml").read()
    assert state is not None and state.serial == before.serial + 2
    assert state.resources["dns.ManagedZone.z001"]["protect"] is True
    assert "dns.ManagedZone.z002" not in state.resources
    assert state.resources["dns.ManagedZone.z009"] == entry(9)


def test_the_next_write_folds_the_journal_into_the_state_file(tmp_path: Path) -> None:
    store, _ = journaled(tmp_path)
    with store.lock("apply"):
        state = store.read()
        assert state is not None and not store.can_append()  # a journal is there: write whole
        store.write(state)
    assert not store.journal_path.exists()
    assert LocalStateStore(tmp_path, "ml").read() == state


def test_a_write_of_what_changed_keeps_what_the_journal_brought(tmp_path: Path) -> None:
    """After a replay the file's lines are not the state's: a write naming only this run's
    changes must still hold the journal's."""
    store, _ = journaled(tmp_path)
    with store.lock("apply"):
        state = store.read()
        assert state is not None
        changed = {"dns.ManagedZone.z003": {**entry(3), "protect": True}}
        state.resources.update(changed)
        store.write(state, changed)
    assert LocalStateStore(tmp_path, "ml").read() == state
    assert state.resources["dns.ManagedZone.z009"] == entry(9)  # from the journal


def test_a_write_of_what_changed_reuses_the_rest(tmp_path: Path) -> None:
    state = State(stack="ml", resources={f"dns.ManagedZone.z{n:03d}": entry(n) for n in range(5)})
    LocalStateStore(tmp_path, "ml").write(state)
    path = tmp_path / "ml.json"  # an unchanged line edited by hand is kept as it is
    path.write_text(path.read_text().replace('"dnsName": "z4.', '"dnsName":   "z4.'))
    store = LocalStateStore(tmp_path, "ml")
    with store.lock("apply"):
        current = store.read()
        assert current is not None
        changed = {"dns.ManagedZone.z001": None, "dns.ManagedZone.z007": entry(7)}
        current.resources.pop("dns.ManagedZone.z001")
        current.resources["dns.ManagedZone.z007"] = entry(7)
        store.write(current, changed)
    assert '"dnsName":   "z4.' in path.read_text()
    assert LocalStateStore(tmp_path, "ml").read() == current


def test_a_run_never_builds_on_the_lines_of_an_earlier_one(tmp_path: Path) -> None:
    """A store used for two runs (a notebook's workspace): the state file removed in between,
    the second run's write of what changed holds only its own state."""
    store = LocalStateStore(tmp_path, "ml")
    with store.lock("apply"):
        first = State(stack="ml", resources={"dns.ManagedZone.z001": entry(1)})
        store.write(first)
    store.path.unlink()
    with store.lock("apply"):
        assert store.read() is None
        second = State(stack="ml", resources={"dns.ManagedZone.z002": entry(2)})
        store.write(second, dict(second.resources))
    assert LocalStateStore(tmp_path, "ml").read() == second


def test_a_write_cut_short_by_a_crash_is_ignored(tmp_path: Path) -> None:
    store, before = journaled(tmp_path)
    lines = store.journal_path.read_bytes().split(b"\n")
    store.journal_path.write_bytes(b"\n".join(lines[:2]) + b"\n" + lines[2][:40])
    state = LocalStateStore(tmp_path, "ml").read()
    assert state is not None and state.serial == before.serial + 1
    assert "dns.ManagedZone.z002" in state.resources  # the second write never finished


def test_a_journal_of_an_older_state_file_is_ignored(tmp_path: Path) -> None:
    store, _ = journaled(tmp_path)
    journal_text = store.journal_path.read_bytes()
    newer = State(stack="ml", lineage="other", resources={"dns.ManagedZone.z007": entry(7)})
    LocalStateStore(tmp_path, "ml").write(newer)
    store.journal_path.write_bytes(journal_text)  # as if a crash struck before its removal
    assert LocalStateStore(tmp_path, "ml").read() == newer


@pytest.mark.parametrize(
    ("line", "message"),
    [
        (b"not json", "line 3 is not a JSON object"),
        (b'{"serial": 0, "resources": {}}', "line 3 goes back in serial"),
        (b'{"serial": 99, "resources": {"dns.RecordSet.x": {"kind": "dns.RecordSet"}}}', "line 3"),
    ],
)
def test_a_damaged_journal_is_refused_naming_it(tmp_path: Path, line: bytes, message: str) -> None:
    store, _ = journaled(tmp_path)
    lines = store.journal_path.read_bytes().split(b"\n")
    store.journal_path.write_bytes(b"\n".join([lines[0], lines[1], line, lines[2]]) + b"\n")
    with pytest.raises(StateError, match="journal") as raised:
        LocalStateStore(tmp_path, "ml").read()
    assert str(store.journal_path) in str(raised.value) and message in str(raised.value)


def test_no_state_yet(tmp_path: Path) -> None:
    store = LocalStateStore(tmp_path / "missing", "ml")
    assert store.read() is None
    fresh = store.read_or_new()
    assert fresh.serial == 0 and fresh.resources == {}


def test_write_is_atomic(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    store, state = saved(tmp_path)
    good = store.path.read_bytes()

    def broken_replace(src: Any, dst: Any) -> None:
        raise OSError("disk full")

    monkeypatch.setattr(os, "replace", broken_replace)
    state.resources["dns.ManagedZone.z2"] = entry(2)
    with pytest.raises(OSError, match="disk full"):
        store.write(state)
    monkeypatch.undo()
    assert store.path.read_bytes() == good  # the old file, whole
    leftovers = [p.name for p in tmp_path.iterdir() if p.name.endswith(".tmp")]
    assert leftovers == []


def test_backup_on_first_write_of_a_run(tmp_path: Path) -> None:
    store, state = saved(tmp_path)
    assert not store.backup_path.exists()  # nothing to back up the first time
    original = store.path.read_text()
    run = LocalStateStore(tmp_path, "ml")
    for n in (2, 3):
        state.resources[f"dns.ManagedZone.z{n}"] = entry(n)
        state.serial += 1
        run.write(state)
    # The backup is the state as the run found it, not an intermediate one.
    assert store.backup_path.read_text() == original
    assert len(run.read().resources) == 3


def test_backup_without_hard_links_is_a_copy(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Where the file system has no hard links, the backup is written out as a copy."""
    store, state = saved(tmp_path)
    original = store.path.read_bytes()

    def no_links(source: Any, target: Any) -> None:
        raise OSError("hard links not supported")

    monkeypatch.setattr(os, "link", no_links)
    run = LocalStateStore(tmp_path, "ml")
    state.resources["dns.ManagedZone.z2"] = entry(2)
    run.write(state)
    assert store.backup_path.read_bytes() == original
    assert os.stat(store.backup_path).st_ino != os.stat(store.path).st_ino
    assert sorted(p.name for p in tmp_path.iterdir()) == ["ml.json", "ml.json.backup"]


def one_line_error(store: LocalStateStore) -> str:
    with pytest.raises(StateError) as info:
        store.read()
    message = str(info.value)
    assert "\n" not in message
    assert str(store.path) in message
    return message


@pytest.mark.parametrize(
    ("damage", "fragment"),
    [
        (lambda text: "{not json", "invalid JSON"),
        (lambda text: text[: len(text) // 2], "invalid JSON"),
        (lambda text: "", "invalid JSON"),
        (lambda text: "[1, 2]", "not a state file"),
        (
            lambda text: text.replace(
                f'"format_version": {FORMAT_VERSION}', '"format_version": 99'
            ),
            "newer mldns",
        ),
        (lambda text: text.replace('"serial": ', '"serial": "x", "_": '), "corrupt state"),
        (lambda text: text.replace('"kind": "dns.ManagedZone",', ""), "unknown kind"),
        (lambda text: text.replace('"dnsName"', '"dns_name"'), "lacks attribute dnsName"),
    ],
)
def test_damaged_state_is_refused_naming_the_backup(
    tmp_path: Path, damage: Any, fragment: str
) -> None:
    store, state = saved(tmp_path)
    LocalStateStore(tmp_path, "ml").write(state)  # a second run: now a backup exists
    assert store.backup_path.exists()
    store.path.write_text(damage(store.path.read_text()))
    message = one_line_error(store)
    assert fragment in message
    assert f"the last good backup is {store.backup_path}" in message


def test_damaged_state_without_backup_says_so(tmp_path: Path) -> None:
    store, _ = saved(tmp_path)
    store.path.write_text('{"format_version": 1, "stack": "ml"')
    assert "no backup exists" in one_line_error(store)


def test_state_of_another_stack_is_refused(tmp_path: Path) -> None:
    _, state = saved(tmp_path, "other")
    LocalStateStore(tmp_path, "other").write(state)
    os.replace(tmp_path / "other.json", tmp_path / "ml.json")
    store = LocalStateStore(tmp_path, "ml")
    message = one_line_error(store)
    assert "belongs to stack 'other', not 'ml'" in message
    assert "no backup exists" in message


# --- the lock ------------------------------------------------------------------------------------

HOLDER = """
import sys
from mldns.state.local import LocalStateStore
store = LocalStateStore(sys.argv[1], "ml")
with store.lock("apply"):
    print("locked", flush=True)
    sys.stdin.readline()
"""


def test_lock_held_by_another_process(tmp_path: Path) -> None:
    holder = subprocess.Popen(
        [sys.executable, "-c", HOLDER, str(tmp_path)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout.readline().strip() == "locked"
        store = LocalStateStore(tmp_path, "ml")
        with pytest.raises(LockError) as info, store.lock("plan"):
            pass
        message = str(info.value)
        assert f"an apply by pid {holder.pid} on host {socket.gethostname()}" in message
        assert "holds the state" in message and "since 20" in message
        assert "\n" not in message
    finally:
        holder.stdin.close()
        holder.wait(timeout=10)
    # Released when the holder finishes: this run gets it.
    with LocalStateStore(tmp_path, "ml").lock("apply"):
        info_file = LocalStateStore(tmp_path, "ml").holder()
        assert info_file is not None and info_file.pid == os.getpid()
    assert LocalStateStore(tmp_path, "ml").holder() is None


def dead_pid() -> int:
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    proc.wait()
    return proc.pid


def test_stale_lock_info_is_reported(tmp_path: Path) -> None:
    store = LocalStateStore(tmp_path, "ml")
    tmp_path.mkdir(exist_ok=True)
    stale = LockInfo(dead_pid(), socket.gethostname(), "2024-01-01T00:00:00Z", "apply")
    store.info_path.write_text(json.dumps(attrs.asdict(stale)))
    assert store.holder() == stale
    assert stale.is_dead_here()
    seen: list[LockInfo] = []
    with store.lock("apply", on_stale=seen.append):
        pass
    assert seen == [stale]
    assert store.holder() is None


def test_unlock_clears_a_lock_left_behind(tmp_path: Path) -> None:
    store = LocalStateStore(tmp_path, "ml")
    left = LockInfo(4242, "elsewhere", "2024-01-01T00:00:00Z", "apply")
    store.lock_path.write_text("")
    store.info_path.write_text(json.dumps(attrs.asdict(left)))
    assert store.unlock() == left
    assert not store.info_path.exists()  # the lock file itself is only the kernel lock's anchor
    assert store.unlock() is None
    never = LocalStateStore(tmp_path, "never-locked")
    assert never.unlock() is None and not never.lock_path.exists()  # nothing made


def test_a_live_local_lock_is_removed_only_by_force(tmp_path: Path) -> None:
    """Removing a live run's lock file would let a second run lock a new file beside it."""
    running = LocalStateStore(tmp_path, "ml")
    with running.lock("apply"):
        mine = running.holder()
        with pytest.raises(LockError, match=r"state lock .* is live: held by pid \d+ on host"):
            LocalStateStore(tmp_path, "ml").unlock()
        assert running.holder() == mine and running.lock_path.exists()
        with pytest.raises(LockError), LocalStateStore(tmp_path, "ml").lock("apply"):
            pass  # still held: a second run is refused
        assert LocalStateStore(tmp_path, "ml").unlock(force=True) == mine


def test_lock_info_from_another_host_is_not_declared_dead() -> None:
    assert not LockInfo(1, "some-other-host", "t", "apply").is_dead_here()
    assert not LockInfo(os.getpid(), socket.gethostname(), "t", "apply").is_dead_here()


def test_apply_reports_a_lock_left_by_a_dead_run(emu: Any, tmp_path: Path) -> None:
    from helpers import make_workspace

    import mldns
    from mldns import dns

    stack = mldns.Stack("ml", project="p")
    stack.add(dns.ManagedZone(name="z", dns_name="z.example.com."))
    store = LocalStateStore(tmp_path, "ml")
    stale = LockInfo(dead_pid(), socket.gethostname(), "2024-01-01T00:00:00Z", "apply")
    store.info_path.write_text(json.dumps(attrs.asdict(stale)))
    lines: list[str] = []
    make_workspace(stack, emu, tmp_path, log=lines.append).apply()
    assert any(
        f"pid {stale.pid}" in line and "without releasing the state lock" in line for line in lines
    )
    assert store.holder() is None
    assert "dns.ManagedZone.z" in store.read().resources


def test_a_new_table_and_its_first_rows_journaled_together_replay_as_one(tmp_path: Path) -> None:
    """A table's entry and rows committed after it, journaled in one write, are one line of the
    table's (a JSON object holds an address once): replayed, the table has its rows."""
    from mldns.providers.base import RowChanges
    from mldns.state.writer import StateWriter

    LocalStateStore(tmp_path, "ml").write(State(stack="ml", resources={}))
    store = LocalStateStore(tmp_path, "ml")
    table = "dns.RecordTable.z/workers"
    with store.lock("apply"):
        current = store.read()
        assert current is not None
        writer = StateWriter(store, current)
        header = {
            "kind": "dns.RecordTable",
            "project": "p",
            "attributes": {"name": "workers", "zone": "z", "type": "A", "rows": {}},
            "depends_on": ["dns.ManagedZone.z"],
            "protect": False,
            "parent": "dns.ManagedZone.z",
        }
        writer.commit({table: header})
        writer.commit({table: RowChanges({"w1.z.example.com.": [60, "10.0.0.1"]})})
        changed = {a: current.resources.get(a) for a in writer._dirty}
        store.append(current, changed, writer._rows)  # what the writer's next write sends
    state = LocalStateStore(tmp_path, "ml").read()  # the run died: the journal is replayed
    assert state is not None
    assert state.resources[table]["attributes"]["rows"] == {"w1.z.example.com.": [60, "10.0.0.1"]}


def test_push_refuses_other_contents_at_the_same_serial(tmp_path: Path) -> None:
    """Terraform's rule: a state pushed at the serial the store holds must be the same state,
    or a plan saved against that serial would pass as current over other contents."""
    from mldns.state.transfer import push

    store = LocalStateStore(tmp_path, "ml")
    recorded = State(stack="ml", lineage="one", serial=3, resources={}, outputs={"a": 1})
    push(store, recorded)
    push(store, State(stack="ml", lineage="one", serial=3, resources={}, outputs={"a": 1}))
    other = State(stack="ml", lineage="one", serial=3, resources={}, outputs={"a": 2})
    with pytest.raises(StateError) as refused:
        push(store, other)
    assert str(refused.value) == (
        f"{store.location} holds other contents at the same serial (3); nothing was written "
        "(push with --force to overwrite)"
    )
    assert store.read().outputs == {"a": 1}
    push(store, other, force=True)
    assert store.read().outputs == {"a": 2}
