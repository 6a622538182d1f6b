"""State in a local directory: `<stack>.json`, its `.backup`, its journal and its lock beside it.

Invariants: the state file is replaced whole (temp file, fsync, rename), never edited in place;
the first write of a run keeps the file it replaces as `.backup`; the lock is the kernel's, so it
dies with its holder.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from mldns.errors import StateError
from mldns.files import atomic_write, keep_copy, state_directory
from mldns.state.lock import FileLock, LockInfo
from mldns.state.store import StateStore


class LocalStateStore(StateStore):
    """State files in a directory: `<stack>.json`, its `.backup`, and a lock beside them."""

    def __init__(self, directory: str | os.PathLike[str], stack: str) -> None:
        self.directory = Path(directory)
        self.path = self.directory / f"{stack}.json"
        self.backup_path = self.directory / f"{stack}.json.backup"
        self.lock_path = self.directory / f"{stack}.json.lock"
        self.info_path = self.directory / f"{stack}.json.lock.info"
        super().__init__(stack, str(self.path), self.directory / f"{stack}.json.journal")
        self._backed_up = False
        self._version: str | None = None
        self._lock = FileLock(self.lock_path, self.info_path, str(self.path))

    def _load(self) -> bytes | None:
        try:
            with open(self.path, "rb") as handle:
                self._version = _version_of(os.fstat(handle.fileno()))
                return handle.read()
        except FileNotFoundError:
            self._version = None
            return None
        except OSError as exc:
            raise StateError(f"{self.path}: cannot read state ({exc.strerror})") from None

    def version(self) -> str | None:
        """The file as last read or written: a write replaces it by another inode."""
        return self._version

    def persist(self, chunks: list[bytes]) -> None:
        """Write what `encode` made as the state file, keeping the previous one as `.backup` on
        the first write of a run."""
        state_directory(self.directory)
        if not self._backed_up and self.path.exists():
            keep_copy(self.path, self.backup_path)
        self._backed_up = True
        atomic_write(self.path, chunks)
        self._version = _version_of(os.stat(self.path))

    def lockable(self) -> bool:
        return self.directory.is_dir()

    def _backup_hint(self) -> str:
        if self.backup_path.exists():
            return f"; the last good backup is {self.backup_path}"
        return "; no backup exists"

    def holder(self) -> LockInfo | None:
        return self._lock.holder()

    @contextlib.contextmanager
    def lock(
        self,
        operation: str,
        timeout: float = 0,
        on_stale: Any = None,
        on_wait: Any = None,
        take_lapsed: bool = False,
    ) -> Iterator[None]:
        """Hold the state lock for a run. A lock left by a dead process is reported via `on_stale`
        (a kernel lock never lapses: `take_lapsed` changes nothing)."""
        with self._lock.held(operation, timeout, on_stale, on_wait):
            self._backed_up = False
            with self._run():
                yield

    def unlock(self, force: bool = False) -> LockInfo | None:
        """Clear a lock left behind (by a crashed run, or on a file system without working locks)."""
        return self._lock.unlock(force)


def _version_of(stat: os.stat_result) -> str:
    return f"{stat.st_ino}-{stat.st_mtime_ns}-{stat.st_size}"


def stacks_in(directory: str | os.PathLike[str]) -> list[str]:
    """Names of the stacks that have a state file in `directory`."""
    root = Path(directory)
    if not root.is_dir():
        return []
    return sorted(
        p.name[: -len(".json")] for p in root.glob("*.json") if p.name != "local-cloud.json"
    )
