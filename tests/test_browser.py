"""The HTML plan in a real browser: headless Chromium loads the file offline, the text is in its
DOM, and its screenshot is not blank. Needs Debian's `chromium` (.ci/run installs it)."""

from __future__ import annotations

import os
import shutil
import struct
import subprocess
import zlib
from pathlib import Path

import pytest
from plan_fixture import every_action_plan

from mldns.render import render_html

pytestmark = pytest.mark.browser

FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--window-size=1000,800",
)


def chromium() -> str:
    found = shutil.which("chromium") or shutil.which("chromium-browser")
    assert found, "headless Chromium is needed: apt-get install -y chromium (.ci/run does it)"
    return found


def browse(tmp_path: Path, url: str, *args: str) -> subprocess.CompletedProcess[bytes]:
    profile = tmp_path / f"profile-{len(list(tmp_path.iterdir()))}"
    env = {**os.environ, "HOME": str(tmp_path)}
    return subprocess.run(
        [chromium(), *FLAGS, f"--user-data-dir={profile}", *args, url],
        capture_output=True,
        timeout=120,
        env=env,
        check=True,
    )


def varied(png: bytes) -> bool:
    """Whether a PNG holds a picture rather than one flat colour: the filtered scanlines of a
    flat image are almost all one byte value; text and colour make them vary."""
    assert png.startswith(b"\x89PNG\r\n\x1a\n")
    pos, data = 8, b""
    while pos < len(png):
        length, kind = struct.unpack(">I4s", png[pos : pos + 8])
        if kind == b"IDAT":
            data += png[pos + 8 : pos + 8 + length]
        pos += 12 + length
    raw = zlib.decompress(data)
    common = max(raw.count(b) for b in (b"\x00", b"\xff"))
    return len(set(raw)) > 32 and common < 0.995 * len(raw)


def test_the_html_plan_renders_in_a_browser(tmp_path: Path) -> None:
    page = tmp_path / "plan.html"
    page.write_text(render_html(every_action_plan(), page=True), encoding="utf-8")
    url = page.as_uri()
    dom = browse(tmp_path, url, "--dump-dom").stdout.decode()
    for text in (
        "Destructive: applying needs --allow-destructive",
        "loses roles/dns.admin: user:alice@example.com",
        'routingPolicy.geo.items["europe-west4"].rrdatas',
        "Entraînement — équipe données",
        "dns.ManagedZone.ml-zone",
    ):
        assert text in dom.replace("&quot;", '"')
    shot = tmp_path / "plan.png"
    browse(tmp_path, url, f"--screenshot={shot}")
    assert varied(shot.read_bytes())
    blank = tmp_path / "blank.html"
    blank.write_text("<!DOCTYPE html><html><body></body></html>")
    empty = tmp_path / "blank.png"
    browse(tmp_path, blank.as_uri(), f"--screenshot={empty}")
    assert not varied(empty.read_bytes())  # the check can tell a blank page
