"""Where a stack's state lives: a backend URL, a local directory or `gs://BUCKET/PREFIX`."""

from __future__ import annotations

import os

from mldns.state.local import LocalStateStore, stacks_in
from mldns.state.store import StateStore

BACKEND_ENV = "MLDNS_BACKEND"
DEFAULT_BACKEND = "state"


def resolve(backend: str | None, state_dir: str | None = None) -> str:
    """The backend URL: --backend, else --state-dir (its older name), else MLDNS_BACKEND, else
    the directory `state`."""
    from mldns.errors import UsageError

    if backend and state_dir and backend != state_dir:
        raise UsageError(f"--backend {backend} and --state-dir {state_dir} contradict each other")
    url = backend or state_dir or os.environ.get(BACKEND_ENV) or DEFAULT_BACKEND
    scheme = url.split("://", 1)[0] if "://" in url else None
    if scheme is not None and scheme != "gs":
        # A directory named "s3:" would take the state where nobody looks for it.
        raise UsageError(
            f"backend {url}: {scheme}:// is not a state backend; give a directory or "
            "gs://BUCKET/PREFIX"
        )
    return url


def is_gcs(url: str) -> bool:
    return url.startswith("gs://")


def open_store(
    url: str, stack: str, emulator: str | None = None, timeout: float = 600.0
) -> StateStore:
    """The store of `stack` at `url`; Cloud Storage through the official client, pointed at the
    emulator when there is one, each call bounded by `timeout` (--timeout)."""
    if is_gcs(url):
        from mldns.state.gcs import GcsStateStore, GcsUrl, storage_client

        client = storage_client(emulator, timeout=timeout)
        return GcsStateStore(GcsUrl.parse(url), stack, client, timeout, emulator)
    return LocalStateStore(url, stack)


def stacks(url: str, emulator: str | None = None) -> list[str]:
    """Names of the stacks that have a state at `url`."""
    if is_gcs(url):
        from mldns.state.gcs import GcsUrl, stacks_at, storage_client

        return stacks_at(GcsUrl.parse(url), storage_client(emulator), emulator)
    return stacks_in(url)
