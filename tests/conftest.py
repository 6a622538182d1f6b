"""Shared fixtures: a real emulator over HTTP. Helpers live in tests/helpers.py."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from mldns.emulator import Emulator


@pytest.fixture
def emu() -> Iterator[Emulator]:
    with Emulator() as emulator:
        yield emulator
