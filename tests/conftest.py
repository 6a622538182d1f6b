"""Shared fixtures: a real emulator over HTTP, and a workspace bound to it."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from mldns.emulator import Emulator
from mldns.stack import Stack
from mldns.workspace import Workspace

PROJECT = "ml-test"


@pytest.fixture
def emu() -> Iterator[Emulator]:
    with Emulator() as emulator:
        yield emulator


def make_workspace(stack: Stack, emu: Emulator, state_dir, **options) -> Workspace:
    """A workspace that talks to `emu`, keeps state in `state_dir` and logs nowhere."""
    options.setdefault("log", lambda line: None)
    return Workspace(
        stack_name=stack.name,
        project=stack.project or PROJECT,
        stack=stack,
        state_dir=str(state_dir),
        emulator=emu.host_port,
        **options,
    )
