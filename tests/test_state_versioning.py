"""A state bucket without object versioning is named in one warning a run; turned on through
google-cloud-storage (as Cloud Storage lets it be), the warning goes. The real `mldns` command in
a subprocess, against the emulator."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

from mldns.emulator import Emulator
from mldns.state.gcs import storage_client

MLDNS = str(Path(sys.executable).with_name("mldns"))
EXAMPLE = Path(__file__).resolve().parent.parent / "examples" / "training_dns" / "stack.py"


def test_a_bucket_without_versioning_is_named_once(tmp_path: Path, emu: Emulator) -> None:
    shutil.copy(EXAMPLE, tmp_path / "stack.py")
    bucket = storage_client(emu.host_port).create_bucket("team-state")
    env = {k: v for k, v in os.environ.items() if k != "MLDNS_EMULATOR_HOST"}
    env["MLDNS_JOURNAL_DIR"] = str(tmp_path / "journal")

    def apply() -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [MLDNS, "apply", "--auto-approve", "--emulator", emu.host_port],
            cwd=tmp_path,
            env={**env, "MLDNS_BACKEND": "gs://team-state/prod"},
            capture_output=True,
            text=True,
            timeout=120,
        )

    first = apply()
    assert first.returncode == 0, first.stderr
    warned = [line for line in first.stderr.splitlines() if line.startswith("warning:")]
    assert warned == [
        "warning: gs://team-state keeps no object versions, so a state overwritten or deleted by "
        "mistake cannot be recovered; turn versioning on: gcloud storage buckets update "
        "gs://team-state --versioning"
    ]

    bucket.versioning_enabled = True
    bucket.patch()
    assert storage_client(emu.host_port).get_bucket("team-state").versioning_enabled
    second = apply()
    assert second.returncode == 0, second.stderr
    assert "warning:" not in second.stderr
