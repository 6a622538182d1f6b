"""Data file persistence, start-up errors, quota parsing, `serve`, and concurrent clients."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading

import pytest
import requests
from google.auth.credentials import AnonymousCredentials
from google.cloud import dns

from mldns.emulator import Emulator, EmulatorDataError, parse_quota

from .helpers import a_record


def _client(emu: Emulator) -> dns.Client:
    return dns.Client(
        project="p", credentials=AnonymousCredentials(), client_options={"api_endpoint": emu.url}
    )


def _post(conn, path, data):
    return conn.api_request(method="POST", path=f"/projects/p{path}", data=data)


def test_cloud_survives_restart(tmp_path):
    data = tmp_path / "cloud.json"
    with Emulator(data_file=data) as emu:
        conn = _client(emu)._connection
        _post(conn, "/managedZones", {"name": "z", "dnsName": "z.example."})
        _post(
            conn, "/managedZones/z/changes", {"additions": [a_record("a.z.example.", "10.0.0.1")]}
        )
        requests.post(
            f"{emu.url}/compute/v1/projects/p/global/healthChecks",
            json={"name": "h", "type": "TCP"},
            timeout=5,
        )
        requests.post(
            f"{emu.url}/v3/projects/p:setIamPolicy",
            json={"policy": {"bindings": [{"role": "roles/viewer", "members": ["user:a@b.c"]}]}},
            timeout=5,
        )
        saved = json.loads(data.read_text())
        assert "z" in saved["projects"]["p"]["zones"]
        assert [
            f for f in os.listdir(tmp_path) if f != "cloud.json"
        ] == []  # no temporary file left
    with Emulator(data_file=data) as emu:
        conn = _client(emu)._connection
        got = conn.api_request(
            method="GET", path="/projects/p/managedZones/z/rrsets/a.z.example./A"
        )
        assert got["rrdatas"] == ["10.0.0.1"]
        assert (
            conn.api_request(method="GET", path="/projects/p/managedZones/z/changes/1")["id"] == "1"
        )
        assert (
            requests.get(
                f"{emu.url}/compute/v1/projects/p/global/healthChecks/h", timeout=5
            ).status_code
            == 200
        )
        policy = requests.post(f"{emu.url}/v3/projects/p:getIamPolicy", json={}, timeout=5).json()
        assert policy["bindings"][0]["members"] == ["user:a@b.c"]


def test_reads_do_not_rewrite_the_file(tmp_path):
    data = tmp_path / "cloud.json"
    with Emulator(data_file=data) as emu:
        conn = _client(emu)._connection
        _post(conn, "/managedZones", {"name": "z", "dnsName": "z.example."})
        before = data.stat().st_mtime_ns
        os.utime(data, ns=(before - 10**9, before - 10**9))
        conn.api_request(method="GET", path="/projects/p/managedZones/z")
        assert data.stat().st_mtime_ns == before - 10**9


@pytest.mark.parametrize(
    "content", ["{not json", '{"version": 99, "projects": {}}', "[]", '{"version": 1}']
)
def test_corrupt_data_file_is_one_clear_error(tmp_path, content):
    data = tmp_path / "cloud.json"
    data.write_text(content)
    with pytest.raises(EmulatorDataError) as info:
        Emulator(data_file=data)
    message = str(info.value)
    assert str(data) in message and "\n" not in message


def test_parse_quota():
    assert parse_quota(["rrsetsPerManagedZone=200000", "managedZones = 5"]) == {
        "rrsetsPerManagedZone": 200000,
        "managedZones": 5,
    }
    for bad in (
        ["rrsetsPerManagedZone"],
        ["nope=1"],
        ["managedZones=many"],
        ["managedZones=-1"],
        ["=3"],
    ):
        with pytest.raises(ValueError) as info:
            parse_quota(bad)
        assert "\n" not in str(info.value)


@pytest.mark.parametrize("stop", [signal.SIGINT, signal.SIGTERM])
def test_serve_prints_one_line_and_stops_on_interrupt(tmp_path, stop):
    """One line when ready; on the signal, the last line of the access log, and exit 0 (the
    admin API's requests are not counted)."""
    code = "from mldns.emulator import serve; serve(port=0)"
    proc = subprocess.Popen(
        [sys.executable, "-c", code], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    try:
        line = proc.stdout.readline().strip()
        assert line.startswith("mldns emulator listening on http://127.0.0.1:")
        url = line.rsplit(" ", 1)[1]
        assert requests.get(f"{url}/_emulator/health", timeout=5).json() == {"ok": True}
        proc.send_signal(stop)
        out, err = proc.communicate(timeout=10)
        assert proc.returncode == 0, err
        assert [json.loads(line) for line in out.splitlines()] == [
            {"event": "stopped", "requests": 0, "writes": 0, "log_lines_dropped": 0}
        ]
        assert "Traceback" not in err
    finally:
        if proc.poll() is None:
            proc.kill()


def test_concurrent_changes_all_applied_atomically(emu):
    conn = _client(emu)._connection
    _post(conn, "/managedZones", {"name": "z", "dnsName": "z.example."})
    errors: list[Exception] = []

    def worker(n: int) -> None:
        try:
            for i in range(10):
                additions = [a_record(f"w{n}-{i}-{k}.z.example.", "10.0.0.1") for k in range(5)]
                _post(_client(emu)._connection, "/managedZones/z/changes", {"additions": additions})
        except Exception as exc:  # collected for the assertion below
            errors.append(exc)

    threads = [threading.Thread(target=worker, args=(n,)) for n in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    rrsets = conn.api_request(method="GET", path="/projects/p/managedZones/z/rrsets")["rrsets"]
    assert len(rrsets) == 2 + 8 * 10 * 5
    changes = conn.api_request(method="GET", path="/projects/p/managedZones/z/changes")["changes"]
    assert [c["id"] for c in changes] == [str(i) for i in range(81)]
    assert emu.requests()["writes"] == 81
