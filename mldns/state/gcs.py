"""State in Cloud Storage: `gs://BUCKET/PREFIX/<stack>.json`, locked by `<stack>.lock` beside it.

Invariants:
- Fencing: every write of the state is conditional on the generation this process read or last
  wrote (`ifGenerationMatch`; 0 when there was none). A 412 means another run wrote since, so this
  one lost the lock: it stops and writes nothing more.
- Retry-safe: the client retries uploads and deletes; a write that meets 412 after a retry checks
  whether the object holds exactly what it sent (its own write, landed before the retry).
- Paced: during an apply the state object is written at most once every `write_interval`
  seconds (Cloud Storage takes about one write a second to one name); finished work in between
  goes to a journal on this machine, replayed by a later read here if the object has not moved on.
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import attrs
from google.api_core import exceptions as gexc

from mldns.deadline import bound, out_of_time, within
from mldns.errors import LockLostError, StateError, UsageError
from mldns.reach import reached, unreachable
from mldns.state.lock import Conflict, LeaseLock, LockInfo
from mldns.state.store import StateStore

JOURNAL_ENV = "MLDNS_JOURNAL_DIR"
_OTEL_ENV = "DISABLE_GCS_PYTHON_CLIENT_OTEL_BUCKET_METADATA"


@attrs.frozen
class GcsUrl:
    bucket: str
    prefix: str  # "" or ending in "/"

    @classmethod
    def parse(cls, url: str) -> GcsUrl:
        rest = url[len("gs://") :]
        bucket, _, prefix = rest.partition("/")
        if not bucket:
            raise UsageError(f"backend {url}: names no bucket (expected gs://BUCKET/PREFIX)")
        prefix = prefix.strip("/")
        return cls(bucket, f"{prefix}/" if prefix else "")

    def object_url(self, name: str) -> str:
        return f"gs://{self.bucket}/{self.prefix}{name}"


def storage_client(emulator: str | None, project: str | None = None, timeout: float = 600.0) -> Any:
    """google-cloud-storage's client: Application Default Credentials against Google; anonymous
    against an emulator at host:port (as STORAGE_EMULATOR_HOST would set it). No read waits
    longer than `timeout`."""
    from google.cloud import storage  # type: ignore[attr-defined]  # ships no types

    os.environ.setdefault(_OTEL_ENV, "true")  # no background bucket read on every call
    if emulator is None:
        with reached(None):
            client = storage.Client(project=project)
    else:
        from google.auth.credentials import AnonymousCredentials

        client = storage.Client(
            project=project or "mldns-local",
            credentials=AnonymousCredentials(),
            client_options={"api_endpoint": f"http://{emulator}"},
        )
    bound(client._http, timeout)
    return client


def storage_retry(timeout: float) -> Any:
    """Cloud Storage's own retry, within `timeout`, but for an endpoint no retry will reach."""
    from google.cloud.storage.retry import (  # type: ignore[import-untyped]
        DEFAULT_RETRY,
        _should_retry,  # the predicate of DEFAULT_RETRY, which it does not expose
    )

    def worth_it(exc: Exception) -> bool:
        return bool(_should_retry(exc)) and unreachable(exc) is None

    return DEFAULT_RETRY.with_predicate(worth_it).with_timeout(timeout)


class GcsObject:
    """One object, read and written on its generation (see `state_lock.ConditionalObject`)."""

    def __init__(
        self,
        client: Any,
        url: GcsUrl,
        name: str,
        timeout: float = 600.0,
        emulator: str | None = None,
    ) -> None:
        self.bucket = client.bucket(url.bucket)
        self.url = url
        self.name = f"{url.prefix}{name}"
        self.location = url.object_url(name)
        self.timeout = timeout
        self.emulator = emulator
        # Every call is conditional on a generation, so retrying it is safe; it stops at --timeout.
        self.retry = storage_retry(timeout)
        self._bucket_seen = False

    def _call(self, what: str, method: Any, *args: Any, **kwargs: Any) -> Any:
        """`method` retried within --timeout; running out of it is a one-line StateError."""
        try:
            with reached(self.emulator), within(self.timeout):
                return method(*args, retry=self.retry, **kwargs)
        except gexc.RetryError as exc:
            raise StateError(
                f"{self.location}: cannot {what} ({out_of_time(exc, self.timeout)})"
            ) from None

    def read(self) -> tuple[bytes, int] | None:
        blob = self.bucket.blob(self.name)
        try:
            data = self._call("read", blob.download_as_bytes)
        except gexc.NotFound:
            self._check_bucket()
            return None
        except gexc.GoogleAPICallError as exc:
            raise StateError(f"{self.location}: cannot read ({_why(exc)})") from None
        return data, int(blob.generation)

    def write(
        self, data: bytes, if_generation_match: int, metadata: dict[str, str] | None = None
    ) -> int:
        blob = self.bucket.blob(self.name)
        if metadata:
            blob.metadata = metadata
        try:
            self._call(
                "write",
                blob.upload_from_string,
                data,
                content_type="application/json",
                if_generation_match=if_generation_match,
            )
        except gexc.PreconditionFailed:
            landed = self._own_write(data, if_generation_match)
            if landed is None:
                raise Conflict(self.location) from None
            return landed
        except gexc.NotFound:
            self._check_bucket()
            raise StateError(f"{self.location}: cannot write (not found)") from None
        except gexc.GoogleAPICallError as exc:
            raise StateError(f"{self.location}: cannot write ({_why(exc)})") from None
        return int(blob.generation)

    def delete(self, if_generation_match: int) -> bool:
        try:
            blob = self.bucket.blob(self.name)
            self._call("delete", blob.delete, if_generation_match=if_generation_match)
        except gexc.NotFound:
            return False  # gone already: a retried delete, or never there
        except gexc.PreconditionFailed:
            raise Conflict(self.location) from None
        except gexc.GoogleAPICallError as exc:
            raise StateError(f"{self.location}: cannot delete ({_why(exc)})") from None
        return True

    def _own_write(self, data: bytes, previous: int) -> int | None:
        """The generation of our own write, if a retry found it had landed; else None."""
        try:
            blob = self._call("read", self.bucket.get_blob, self.name)
        except (gexc.GoogleAPICallError, StateError):
            return None
        digest = base64.b64encode(hashlib.md5(data).digest()).decode()
        if blob is None or blob.md5_hash != digest or int(blob.generation) <= previous:
            return None
        return int(blob.generation)

    def _check_bucket(self) -> None:
        """A missing bucket is named, not mistaken for a missing object."""
        if self._bucket_seen:
            return
        try:
            exists = self._call("read the bucket of", self.bucket.exists)
        except gexc.Forbidden:
            exists = True  # may not read the bucket's metadata; the objects' calls will tell
        if not exists:
            raise StateError(
                f"gs://{self.url.bucket}: bucket does not exist; create it (with object versioning on) or fix the backend URL"
            )
        self._bucket_seen = True


def _why(exc: gexc.GoogleAPICallError) -> str:
    return f"{exc.code} {exc.message}".strip()


def journal_dir() -> Path:
    """Where journals of Cloud Storage states are kept on this machine."""
    explicit = os.environ.get(JOURNAL_ENV)
    if explicit:
        return Path(explicit)
    cache = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(cache) / "mldns" / "journal"


class GcsStateStore(StateStore):
    """The state of one stack as an object in a bucket, fenced by its generation."""

    write_interval: float | None = 1.0

    def __init__(
        self,
        url: GcsUrl,
        stack: str,
        client: Any,
        timeout: float = 600.0,
        emulator: str | None = None,
    ) -> None:
        self.url = url
        self.state_object = GcsObject(client, url, f"{stack}.json", timeout, emulator)
        self.lock_object = GcsObject(client, url, f"{stack}.lock", timeout, emulator)
        journal = journal_dir() / url.bucket / url.prefix / f"{stack}.json.journal"
        super().__init__(stack, self.state_object.location, journal)
        self._lease = LeaseLock(self.lock_object)
        self._lease.taken_by = self._last_writer  # type: ignore[method-assign]
        # The generation this process read or last wrote (0: none), what every write must match.
        self._generation: int | None = None

    def warnings(self) -> list[str]:
        """A bucket without object versioning cannot give back a state overwritten by mistake
        (the README asks for it). One read of the bucket's metadata; none when it may not be read."""
        bucket = self.state_object.bucket
        try:
            self.state_object._call("read the bucket of", bucket.reload)
        except (gexc.GoogleAPICallError, StateError):
            return []  # missing or unreadable: the state's own calls will say so
        if bucket.versioning_enabled:
            return []
        name = f"gs://{self.url.bucket}"
        return [
            f"{name} keeps no object versions, so a state overwritten or deleted by mistake "
            f"cannot be recovered; turn versioning on: gcloud storage buckets update {name} "
            "--versioning"
        ]

    def _load(self) -> bytes | None:
        got = self.state_object.read()
        if got is None:
            self._generation = 0
            return None
        data, self._generation = got
        return data

    def persist(self, chunks: list[bytes]) -> None:
        lost = self._lease.lost_to
        if lost is not None:
            raise self._lost(lost)
        if self._generation is None:
            if self._locked:
                raise StateError(f"{self.location}: not read under the lock; nothing was written")
            got = self.state_object.read()
            self._generation = got[1] if got else 0
        try:
            info = self._lease.info
            writer = {"mldns-writer": info.holding()} if info is not None else None
            self._generation = self.state_object.write(b"".join(chunks), self._generation, writer)
        except Conflict:
            raise self._lost(self._lease.describe_holder()) from None

    def fence(self) -> None:
        if self._lease.lost_to is not None:
            raise self._lost(self._lease.lost_to)

    def confirm_lock(self) -> None:
        """Before the first API write: the lock must still be ours, or another run may be
        applying (this one was paused past its lease)."""
        if not self._lease.is_mine():
            raise self._lost(self._lease.lost_to or self._lease.describe_holder())

    def version(self) -> str | None:
        return str(self._generation) if self._generation else None

    def _last_writer(self) -> str | None:
        with contextlib.suppress(Exception):
            state = self.state_object
            blob = state._call("read", state.bucket.get_blob, state.name)
            if blob is not None and blob.metadata:
                return blob.metadata.get("mldns-writer")
        return None

    def _lost(self, holder: str) -> LockLostError:
        return LockLostError(f"lost the state lock to {holder}; nothing more was written")

    def holder(self) -> LockInfo | None:
        found = self._lease.holder()
        return found[0] if found else None

    @contextlib.contextmanager
    def lock(
        self,
        operation: str,
        timeout: float = 0,
        on_stale: Any = None,
        on_wait: Any = None,
        take_lapsed: bool = False,
    ) -> Iterator[None]:
        """Hold the lease lock for a run; every write in it is fenced on the generation read."""
        with self._lease.held(operation, timeout, on_wait=on_wait, take_lapsed=take_lapsed):
            self._generation = None
            with self._run():
                yield

    def unlock(self, force: bool = False) -> LockInfo | None:
        return self._lease.unlock(force)


def stacks_at(url: GcsUrl, client: Any, emulator: str | None = None) -> list[str]:
    """Names of the stacks with a state object under the URL's prefix."""
    try:
        with reached(emulator):
            blobs = client.list_blobs(url.bucket, prefix=url.prefix, retry=storage_retry(600.0))
            names = [b.name[len(url.prefix) :] for b in blobs]
    except gexc.NotFound:
        raise StateError(f"gs://{url.bucket}: bucket does not exist") from None
    except gexc.GoogleAPICallError as exc:
        raise StateError(f"gs://{url.bucket}/{url.prefix}: cannot list ({_why(exc)})") from None
    return sorted(n[: -len(".json")] for n in names if n.endswith(".json") and "/" not in n)
