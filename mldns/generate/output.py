"""Where a generated stack goes: stdout, or a file that appears whole and is never overwritten
unless asked."""

from __future__ import annotations

from pathlib import Path

from mldns.errors import UsageError
from mldns.files import atomic_write


def check_target(path: str, force: bool) -> None:
    """Refuse before reading any source, so a refusal costs nothing."""
    target = Path(path)
    if target.is_dir():
        raise UsageError(f"{path} is a directory; give -o a file name")
    if target.exists() and not force:
        raise UsageError(f"{path} already exists; give --force to overwrite it")
    if not target.parent.is_dir():
        raise UsageError(f"{path}: directory {target.parent} does not exist")


def write_target(path: str, text: str) -> None:
    """Temp file, fsync, rename: the file is whole or absent, never half-written."""
    atomic_write(Path(path), text)
