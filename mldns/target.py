"""Where a plan is made: the cloud it reads and the state it builds on.

A saved plan records its target, so that it is applied only against the cloud and the state it was
made from: a plan made against an emulator must never reach Google, nor one made on one state be
applied on another.
"""

from __future__ import annotations

import os
import shlex
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

import attrs

from mldns.errors import PlanFileError, UsageError
from mldns.projects import project_problem

if TYPE_CHECKING:
    from mldns.stack import Stack

Cloud = Literal["google", "emulator", "local"]
DEFAULT_STATE_DIR = "state"
EMULATOR_ENV = "MLDNS_EMULATOR_HOST"
PROJECT_ENV = ("GOOGLE_CLOUD_PROJECT", "CLOUDSDK_CORE_PROJECT")
LOCAL_PROJECT = "mldns-local"


@attrs.frozen
class Target:
    """The cloud (Google, an emulator at host:port, or the local cloud kept in the state
    directory) and the state directory, as an absolute path."""

    cloud: Cloud
    endpoint: str  # host:port of an emulator; empty for Google and for the local cloud
    state_dir: str

    @classmethod
    def of(cls, *, local: bool, emulator: str | None, state_dir: str | os.PathLike[str]) -> Target:
        where = str(state_dir)
        if not where.startswith("gs://"):
            where = str(Path(state_dir).resolve())
        if local:
            return cls("local", "", where)
        if emulator:
            return cls("emulator", emulator.removeprefix("http://").rstrip("/"), where)
        return cls("google", "", where)

    def describe(self, full: bool = False) -> str:
        """The target in words; the state directory relative to here when under it, unless
        `full`."""
        where = self.state_dir if full else _shown(self.state_dir)
        if self.cloud == "local":
            return f"the local cloud and state in {where}"
        cloud = "Google Cloud" if self.cloud == "google" else f"the emulator at {self.endpoint}"
        return f"{cloud} with state in {where}"

    def flags(self) -> list[str]:
        """The options that point a command at this target, as a user would type them."""
        flags = {"local": ["--local"], "emulator": ["--emulator", self.endpoint], "google": []}
        shown = _shown(self.state_dir)
        if shown.startswith("gs://"):
            return [*flags[self.cloud], "--backend", shown]
        if shown != DEFAULT_STATE_DIR:
            return [*flags[self.cloud], "--state-dir", shown]
        return flags[self.cloud]

    def to_json(self) -> dict[str, str]:
        return attrs.asdict(self)

    @classmethod
    def from_json(cls, data: Any) -> Target:
        try:
            return cls(data["cloud"], data["endpoint"], data["state_dir"])
        except (KeyError, TypeError):
            raise PlanFileError(f"malformed plan target {data!r}") from None


def _shown(path: str) -> str:
    """A state directory as the user would write it here: relative when under the working one."""
    try:
        relative = Path(path).relative_to(Path.cwd().resolve())
    except ValueError:
        return path
    return str(relative) if str(relative) != "." else "."


def apply_command(target: Target | None, plan_file: str, destructive: bool = False) -> str:
    """The command that applies a saved plan against the target it was made for (with
    --allow-destructive when the plan needs it)."""
    flags = target.flags() if target is not None else []
    allow = ["--allow-destructive"] if destructive else []
    return shlex.join(["mldns", "apply", *flags, *allow, plan_file])


def parse_emulator(value: str) -> str:
    """HOST:PORT from `HOST:PORT` or the `http://HOST:PORT` URL `mldns emulator` prints."""
    text = value.strip()
    scheme, sep, rest = text.partition("://")
    if sep:
        if scheme.lower() != "http":
            raise UsageError(f"emulator address {value!r}: the emulator speaks http://")
        text = rest.rstrip("/")
    host, sep, port = text.rpartition(":")
    if not sep or not host or not port.isdigit() or "/" in text:
        raise UsageError(f"emulator address {value!r} must be HOST:PORT or http://HOST:PORT")
    return text


def emulator_from_env(explicit: str | None) -> str | None:
    """The emulator's host:port from the flag, else from MLDNS_EMULATOR_HOST, else None (Google)."""
    value = explicit or os.environ.get(EMULATOR_ENV) or None
    return None if value is None else parse_emulator(value)


def resolve_project(explicit: str | None, stack: Stack | None, local: bool) -> str:
    """The project: the flag, the stack's, the environment's, else the local cloud's."""
    for source, candidate in (
        ("--project", explicit),
        ("the stack's project", stack.project if stack is not None else None),
        *((f"${v}", os.environ.get(v)) for v in PROJECT_ENV),
    ):
        if candidate:
            problem = project_problem(candidate)
            if problem:
                raise UsageError(f"{source}: {problem}")
            return candidate
    if local:
        return LOCAL_PROJECT
    raise UsageError("no project: give Stack(project=...), --project, or set GOOGLE_CLOUD_PROJECT")
