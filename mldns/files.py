"""Durable file writes: a file is replaced whole or not at all, and survives a power cut."""

from __future__ import annotations

import contextlib
import os
import tempfile
from pathlib import Path

from mldns.errors import StateError


def state_directory(path: str | os.PathLike[str]) -> Path:
    """Create the state directory if need be; one line when it cannot be (a file in the way, no
    permission, a read-only file system)."""
    directory = Path(path)
    try:
        directory.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryFile(dir=directory):
            pass
    except OSError as exc:
        raise StateError(
            f"state directory {path}: cannot be written ({exc.strerror or exc}); "
            "fix it or choose another with --backend DIR"
        ) from None
    return directory


def fsync_dir(directory: Path) -> None:
    """A file created, renamed or removed survives a crash only once its directory is flushed."""
    with contextlib.suppress(OSError):
        fd = os.open(directory, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


def atomic_write(path: Path, data: str | bytes | list[bytes]) -> None:
    """Write via temp file, fsync and rename: readers see the old or the new file, never a torn one.

    `data` may come in pieces, so that a big state is never copied into one string to be written."""
    chunks = (
        [data.encode() if isinstance(data, str) else data] if not isinstance(data, list) else data
    )
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as handle:
            for chunk in chunks:
                handle.write(chunk)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
    fsync_dir(path.parent)


def keep_copy(source: Path, copy: Path) -> None:
    """Make `copy` hold what `source` holds now, durably, for as long as `source` is only ever
    replaced whole (as `atomic_write` does): a hard link where the file system has them, so
    nothing is copied, else a copy written atomically."""
    link = copy.with_name(f".{copy.name}.link")
    try:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(link)
        os.link(source, link)
        os.replace(link, copy)
    except OSError:
        with contextlib.suppress(OSError):
            os.unlink(link)
        atomic_write(copy, source.read_bytes())
        return
    fsync_dir(copy.parent)
