"""The emulator in a process of its own, so its CPU never shares a GIL with the code under test.

`EmulatorProcess` runs `mldns emulator --port 0` as a child, reads the URL from the line it prints
when ready, and speaks to its admin API over HTTP.
"""

from __future__ import annotations

import json
import subprocess
import sys
import urllib.request
from typing import Any

HOST = "127.0.0.1"


class EmulatorProcess:
    """A child process running the emulator; a context manager."""

    def __init__(self, quota: dict[str, int] | None = None) -> None:
        self.quota = quota or {}
        self.proc: subprocess.Popen[str] | None = None
        self.host_port = ""

    def start(self) -> EmulatorProcess:
        args = [
            sys.executable,
            "-c",
            "from mldns.cli import main; main()",
            "emulator",
            "--host",
            HOST,
            "--port",
            "0",
            "--no-access-log",  # as before the log: the benches compare runs across releases
        ]
        for key, value in self.quota.items():
            args += ["--quota", f"{key}={value}"]
        self.proc = subprocess.Popen(args, stdout=subprocess.PIPE, text=True)
        line = self.proc.stdout.readline().strip() if self.proc.stdout else ""
        prefix = f"listening on http://{HOST}:"
        if prefix not in line:
            self.stop()
            raise RuntimeError(f"the emulator did not start (said {line!r})")
        self.host_port = line.split("http://", 1)[1]
        return self

    def stop(self) -> None:
        if self.proc is None:
            return
        self.proc.terminate()
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        self.proc = None

    def __enter__(self) -> EmulatorProcess:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def admin(self, method: str, path: str, body: Any = None) -> Any:
        data = json.dumps(body).encode() if body is not None else None
        request = urllib.request.Request(
            f"http://{self.host_port}/_emulator/{path}",
            data=data,
            method=method,
            headers={"Content-Type": "application/json"},
        )
        with urllib.request.urlopen(request, timeout=120) as reply:
            return json.loads(reply.read() or b"null")

    def reset(self) -> None:
        self.admin("POST", "reset")
        if self.quota:
            self.admin("POST", "config", {"quota": self.quota})

    def requests(self) -> dict[str, Any]:
        summary = self.admin("GET", "requests")
        summary.pop("recent", None)
        return summary

    def clear_requests(self) -> None:
        self.admin("DELETE", "requests")

    def add_fault(self, **spec: Any) -> dict[str, Any]:
        return self.admin("POST", "faults", spec)

    def clear_faults(self) -> None:
        self.admin("DELETE", "faults")
