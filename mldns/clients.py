"""Builds Google's official clients: ADC and HTTPS by default, anonymous HTTP for the emulator.

Every call made through `Clients.call` retries transient failures with exponential backoff and jitter
(google.api_core.retry) within one deadline, and is counted, so plans and applies can report them.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any, TypeVar

import attrs
import requests
from google.api_core import exceptions as gexc
from google.api_core import retry as gretry
from google.auth.credentials import AnonymousCredentials

from mldns.deadline import bound, out_of_time, within
from mldns.errors import ApiError, Interrupted
from mldns.reach import reached, unreachable
from mldns.stopping import Stop

T = TypeVar("T")
RATE_LIMIT_REASONS = frozenset({"rateLimitExceeded", "userRateLimitExceeded"})
TRANSIENT = (
    gexc.TooManyRequests,
    gexc.InternalServerError,
    gexc.BadGateway,
    gexc.ServiceUnavailable,
    gexc.GatewayTimeout,
    requests.exceptions.ConnectionError,
    requests.exceptions.ChunkedEncodingError,
    requests.exceptions.Timeout,
)


def reason(exc: BaseException) -> str | None:
    """Google's reason string (`errors[0].reason`), when the error carries one."""
    errors = getattr(exc, "errors", None) or []
    first = errors[0] if errors else None
    if isinstance(first, dict):
        return first.get("reason")
    return getattr(first, "reason", None)


def session_of(client: Any) -> requests.Session:
    """The requests session a Google client sends through: a REST transport's (compute_v1,
    resourcemanager_v3) or a google.cloud.client.Client's (Cloud DNS, Cloud Storage)."""
    transport = getattr(client, "_transport", None)
    session = getattr(transport, "_session", None)
    return session if session is not None else client._http


def is_transient(exc: BaseException) -> bool:
    """Worth retrying: rate limits, server errors, dropped connections. Never 400/404/409/412,
    nor an endpoint that cannot be reached at all."""
    if isinstance(exc, TRANSIENT):
        return unreachable(exc) is None
    return isinstance(exc, gexc.Forbidden) and reason(exc) in RATE_LIMIT_REASONS


@attrs.define
class CallStats:
    """How many API calls were made and how many attempts were retried (thread-safe)."""

    calls: int = 0
    retries: int = 0
    ahead: int = 0  # of the calls, those a reader made while the stack file ran
    _lock: threading.Lock = attrs.field(factory=threading.Lock, repr=False)

    def count_call(self) -> None:
        with self._lock:
            self.calls += 1

    def count_retry(self, _exc: BaseException) -> None:
        with self._lock:
            self.retries += 1

    def count_ahead(self, calls: int, retries: int) -> None:
        """The calls and retries a reader made for this run (`providers.dns_reads`)."""
        with self._lock:
            self.calls += calls
            self.ahead += calls
            self.retries += retries


class Clients:
    """The APIs' clients for one project, built lazily and shared between threads."""

    def __init__(
        self,
        project: str,
        emulator: str | None = None,
        timeout: float = 600.0,
        parallelism: int = 10,
    ) -> None:
        self.project = project
        self.emulator = emulator
        self.timeout = timeout
        self.parallelism = parallelism
        self.stats = CallStats()
        # The zones a reader listed while the stack file ran (`providers.dns_reads.Reader`).
        self.early_reads: Any = None
        self.stopping = Stop()  # set by Ctrl-C: no call starts after it
        self.in_flight = 0
        self._lock = threading.Lock()
        self._flight = threading.Lock()
        self._built: dict[str, Any] = {}
        self.retry = gretry.Retry(
            predicate=is_transient,
            initial=0.1,
            maximum=8.0,
            multiplier=2.0,
            timeout=timeout,
            on_error=self.stats.count_retry,
        )

    def _options(self) -> dict[str, Any]:
        if self.emulator is None:
            return {}
        return {
            "credentials": AnonymousCredentials(),
            "client_options": {"api_endpoint": f"http://{self.emulator}"},
        }

    def _get(self, name: str, build: Callable[[], Any]) -> Any:
        with self._lock:
            if name not in self._built:
                with reached(self.emulator):
                    client = build()
                bound(session_of(client), self.timeout, max(10, self.parallelism))
                self._built[name] = client
            return self._built[name]

    @property
    def dns(self) -> Any:
        from google.cloud import dns as gdns  # type: ignore[attr-defined]  # ships no types

        return self._get("dns", lambda: gdns.Client(project=self.project, **self._options()))

    def compute(self, name: str) -> Any:
        """A compute_v1 client by class name, e.g. "HealthChecksClient", over REST."""
        from google.cloud import compute_v1

        return self._get(
            name, lambda: getattr(compute_v1, name)(transport="rest", **self._options())
        )

    @property
    def tpu(self) -> Any:
        """google-cloud-tpu's TpuClient (v2), over REST."""
        from google.cloud import tpu_v2

        return self._get("tpu", lambda: tpu_v2.TpuClient(transport="rest", **self._options()))

    @property
    def projects(self) -> Any:
        from google.cloud import resourcemanager_v3

        return self._get(
            "projects",
            lambda: resourcemanager_v3.ProjectsClient(transport="rest", **self._options()),
        )

    def call(self, func: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        """Run one API call with retry on transient errors; counts every attempt."""

        def attempt() -> T:
            if self.stopping.is_set():
                raise Interrupted("stopped by Ctrl-C before this call")
            self.stats.count_call()
            with self._flight:
                self.in_flight += 1
            try:
                return func(*args, **kwargs)
            finally:
                with self._flight:
                    self.in_flight -= 1

        try:
            with reached(self.emulator), within(self.timeout):
                return self.retry(attempt)()
        except gexc.RetryError as exc:
            raise ApiError(out_of_time(exc, self.timeout)) from exc

    def dns_request(self, method: str, path: str, **kwargs: Any) -> Any:
        """A Cloud DNS request with a full JSON body, through google-cloud-dns' own connection.

        The library's record set model drops routing policies, so bodies are sent as they are.
        """
        return self.call(self.dns._connection.api_request, method=method, path=path, **kwargs)
