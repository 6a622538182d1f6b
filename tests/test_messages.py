"""What the real `mldns` command says at the edges: one line, no traceback, and the words a
user can act on."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import threading
from pathlib import Path
from typing import Any

import pytest

from mldns.state.local import LocalStateStore

MLDNS = str(Path(sys.executable).with_name("mldns"))
EXAMPLE = Path(__file__).resolve().parent.parent / "examples" / "training_dns" / "stack.py"


@pytest.fixture
def work(tmp_path: Path) -> Path:
    shutil.copy(EXAMPLE, tmp_path / "stack.py")
    return tmp_path


def mldns(work: Path, *args: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k != "MLDNS_EMULATOR_HOST"}
    return subprocess.run(
        [MLDNS, *args], cwd=work, env=env, capture_output=True, text=True, timeout=timeout
    )


def one_line(done: subprocess.CompletedProcess[str]) -> str:
    assert done.returncode != 0, done.stdout
    assert "Traceback" not in done.stderr, done.stderr
    assert done.stderr.count("\n") == 1, done.stderr
    return done.stderr.strip()


def test_plan_out_into_a_missing_directory(work: Path) -> None:
    done = mldns(work, "plan", "--local", "--out", "nope/plan.json")
    assert one_line(done) == (
        "Error: nope/plan.json: cannot save the plan: directory nope does not exist"
    )
    assert not (work / "state").exists()  # refused before the plan was made


@pytest.mark.parametrize("verb", [("plan",), ("apply", "--auto-approve")])
def test_a_state_dir_that_cannot_be_written(work: Path, verb: tuple[str, ...]) -> None:
    (work / "afile").write_text("not a directory\n")
    done = mldns(work, *verb, "--local", "--state-dir", "afile/state")
    assert one_line(done) == (
        "Error: state directory afile/state: cannot be written (Not a directory); "
        "fix it or choose another with --backend DIR"
    )


def test_a_run_waiting_for_the_lock_says_so_once(work: Path) -> None:
    store = LocalStateStore(str(work / "state"), "training-dns")
    with store.lock("apply"):
        done = mldns(work, "plan", "--local", "--lock-timeout", "2s")
    lines = done.stderr.splitlines()
    waiting = [line for line in lines if line.startswith("waiting")]
    assert waiting == [
        f"waiting up to 2s for the state lock held by pid {os.getpid()} on "
        f"{socket.gethostname()} (apply)"
    ]
    assert done.returncode == 1
    assert "holds the state" in lines[-1] and "Traceback" not in done.stderr


EMPTY = """
import mldns

stack = mldns.Stack("training-dns", project="my-project")
"""


def test_a_saved_destructive_plan_says_to_allow_it_and_the_hint_works(work: Path) -> None:
    assert mldns(work, "apply", "--local", "--auto-approve").returncode == 0
    (work / "stack.py").write_text(EMPTY)
    saved = mldns(work, "plan", "--local", "--out", "plan.json")
    assert saved.returncode == 0, saved.stderr
    hint = saved.stderr.strip().splitlines()[-1]
    assert hint == (
        "Saved the plan to plan.json; apply it with: "
        "mldns apply --local --allow-destructive plan.json"
    )
    applied = mldns(work, *hint.split(": ", 1)[1].split()[1:])
    assert applied.returncode == 0, applied.stderr
    assert "Apply complete: 0 created, 0 updated, 5 deleted" in applied.stdout


def test_plan_destroy_says_destroyed(work: Path) -> None:
    assert mldns(work, "apply", "--local", "--auto-approve").returncode == 0
    done = mldns(work, "plan", "--local", "--destroy")
    assert done.returncode == 0, done.stderr
    assert "no longer declared" not in done.stdout
    assert done.stdout.count("# destroyed") == 5, done.stdout


MIXED = """
import mldns
from mldns import dns, iam

stack = mldns.Stack("shown", project="my-project")
bare = stack.add(dns.ManagedZone(name="bare", dns_name="bare.example.com."))
stack.add(dns.ManagedZone(name="told", dns_name="told.example.com.", description="hello"))
stack.add(iam.ProjectIamMember(role="roles/dns.reader", member="user:ann@example.com"))
stack.add(
    dns.RecordTable(
        zone=bare, name="workers", type="A", records={f"w{i}": "10.0.0.1" for i in range(3500)}
    )
)
"""


def test_creates_show_what_was_declared_and_numbers_print_one_way(work: Path) -> None:
    (work / "stack.py").write_text(MIXED)
    done = mldns(work, "plan", "--local")
    assert done.returncode == 0, done.stderr
    out = done.stdout
    assert 'description: ""' not in out and "labels: {}" not in out
    assert 'description: "hello"' in out
    member = out.split("+ iam.ProjectIamMember.", 1)[1].split("\n+", 1)[0]
    assert 'member: "user:ann@example.com"' in member and 'role: "roles/dns.reader"' in member
    assert "Plan: 3,503 to create, 0 to update, 0 to delete." in out


def test_validate_counts_record_sets_as_the_plan_does(work: Path) -> None:
    (work / "stack.py").write_text(MIXED)
    done = mldns(work, "validate")
    assert done.returncode == 0, done.stderr
    assert done.stdout == (
        "Stack shown: 3,503 resources (3,500 of them rows of 1 record table), all valid.\n"
    )


def test_validate_names_the_tables_a_fleet_fills(work: Path) -> None:
    """A fleet-fed table has no rows until a plan reads the fleet: it is one resource, said so."""
    stack = (EXAMPLE.parent.parent / "fleet_names" / "stack.py").read_text()
    (work / "stack.py").write_text(stack)
    done = mldns(work, "validate")
    assert done.returncode == 0, done.stderr
    assert done.stdout == (
        "Stack fleet-names: 5 resources (2 record tables the fleet fills when planned), "
        "all valid.\n"
    )


def test_times_and_counts() -> None:
    from mldns.words import count, times

    assert [times(1), times(2), count(3501, "record set")] == [
        "1 time",
        "2 times",
        "3,501 record sets",
    ]


@pytest.fixture
def taken() -> Any:
    """A TCP and a UDP socket holding one port each."""
    tcp = socket.create_server(("127.0.0.1", 0))
    udp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    udp.bind(("127.0.0.1", 0))
    yield tcp.getsockname()[1], udp.getsockname()[1]
    tcp.close()
    udp.close()


def test_emulator_on_a_taken_port_is_one_line(work: Path, taken: tuple[int, int]) -> None:
    http, dns = taken
    done = mldns(work, "emulator", "--port", str(http), timeout=30)
    assert one_line(done) == (
        f"Error: --port {http}: cannot listen on 127.0.0.1:{http}: Address already in use; "
        "choose another port"
    )
    done = mldns(work, "emulator", "--port", "0", "--dns-port", str(dns), timeout=30)
    assert one_line(done) == (
        f"Error: --dns-port {dns}: cannot listen on 127.0.0.1:{dns} (UDP and TCP): "
        "Address already in use; choose another port"
    )


def test_emulator_on_an_address_not_of_this_machine_says_so(work: Path) -> None:
    done = mldns(work, "emulator", "--host", "192.0.2.1", "--port", "8475", timeout=30)
    assert one_line(done) == (
        "Error: --port 8475: cannot listen on 192.0.2.1:8475: Cannot assign requested address; "
        "is --host an address of this machine?"
    )


def test_emulator_data_that_is_not_an_emulator_file_is_one_line(work: Path) -> None:
    done = mldns(work, "emulator", "--port", "0", "--data", "stack.py", timeout=30)
    assert one_line(done).startswith("Error: cannot load emulator data file stack.py: ")


def test_the_emulator_dns_server_says_which_region_a_client_gets(work: Path) -> None:
    server = subprocess.Popen(
        [MLDNS, "emulator", "--port", "0", "--dns-port", "0"],
        cwd=work,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    lines: list[str] = []
    reader = threading.Thread(
        target=lambda: (
            lines.extend(server.stdout.readline() for _ in range(3)) if server.stdout else None
        ),
        daemon=True,
    )
    reader.start()
    reader.join(timeout=60)  # the lines come at start, or never
    server.terminate()
    server.wait(timeout=30)
    assert len(lines) == 3, lines
    assert lines[1].startswith("mldns emulator DNS on 127.0.0.1:")
    assert lines[2].startswith("mldns emulator DNS: no client-regions table, so a client has no")
    assert "PUT /_emulator/dns/client-regions" in lines[2]


RESOLVED = """
import mldns
from mldns import dns

stack = mldns.Stack("rs", project="p1")
zone = stack.add(dns.ManagedZone(name="z", dns_name="z.example.com."))
stack.add(dns.RecordSet(zone=zone, name="a", type="A", rrdatas=["10.0.0.1", "10.0.0.2"]))
"""


def test_resolve_names_what_the_stack_does_not_declare(work: Path) -> None:
    (work / "rs.py").write_text(RESOLVED)
    done = mldns(work, "resolve", "-f", "rs.py", "gcloud-made.z.example.com.", "--from", "us-east1")
    assert one_line(done) == (
        "Error: gcloud-made.z.example.com. is not declared in the stack (zone z); try --live"
    )
    both = mldns(work, "resolve", "-f", "rs.py", "a.z.example.com.", "--from", "us-east1")
    assert both.returncode == 0, both.stderr
    assert both.stdout.splitlines()[1:] == ["  10.0.0.1", "  10.0.0.2"]


def test_graph_takes_the_stack_file_as_resolve_does(work: Path) -> None:
    (work / "rs.py").write_text(RESOLVED)
    done = mldns(work, "graph", "-f", "rs.py")
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith('digraph "rs" {')
