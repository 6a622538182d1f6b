"""Bounds every HTTP wait by what is left of a deadline.

Google's clients pass their own read timeouts (60 s for Cloud DNS and Cloud Storage, 600 s for
Compute), and a server that accepts a connection and never answers holds each read that long.
`bound` mounts an adapter on a client's requests session that cuts every connect and read to
what is left of the deadline opened by `within` on this thread (or to `cap` outside one)."""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Iterator
from typing import Any
from urllib.parse import urlsplit

import requests
from google.api_core import exceptions as gexc
from requests.adapters import HTTPAdapter

_local = threading.local()


@contextlib.contextmanager
def within(seconds: float) -> Iterator[None]:
    """A deadline `seconds` from now for the HTTP calls this thread makes inside the block
    (an enclosing, earlier deadline still holds)."""
    previous: float | None = getattr(_local, "at", None)
    at = time.monotonic() + seconds
    _local.at = at if previous is None else min(previous, at)
    try:
        yield
    finally:
        _local.at = previous


def left(cap: float) -> float:
    """Seconds left of this thread's deadline, at most `cap`."""
    at: float | None = getattr(_local, "at", None)
    return cap if at is None else min(cap, at - time.monotonic())


class BoundedAdapter(HTTPAdapter):
    """An HTTPAdapter whose every wait ends with the deadline."""

    def __init__(self, cap: float, pool_maxsize: int = 10) -> None:
        super().__init__(pool_maxsize=pool_maxsize)
        self.cap = cap

    def send(  # type: ignore[override]  # requests' stubs spell each argument out
        self,
        request: requests.PreparedRequest,
        stream: bool = False,
        timeout: Any = None,
        **kw: Any,
    ) -> requests.Response:
        remaining = left(self.cap)
        if remaining <= 0:
            raise requests.exceptions.ReadTimeout("no time left of the deadline", request=request)
        return super().send(request, stream, _clamp(timeout, remaining), **kw)


def _clamp(timeout: Any, remaining: float) -> Any:
    if isinstance(timeout, (int, float)):
        return min(timeout, remaining)
    if isinstance(timeout, tuple):
        return tuple(remaining if t is None else min(t, remaining) for t in timeout)
    return remaining  # None, or a urllib3 Timeout: the deadline is the tighter bound


def bound(session: requests.Session, cap: float, pool_maxsize: int = 10) -> requests.Session:
    """Mount a `BoundedAdapter` on `session` for http and https."""
    adapter = BoundedAdapter(cap, pool_maxsize)
    session.mount("https://", adapter)
    session.mount("http://", adapter)
    return session


def out_of_time(exc: gexc.RetryError, timeout: float) -> str:
    """One line for a call that found no success within --timeout."""
    last = exc.cause if exc.cause is not None else exc
    if isinstance(last, requests.exceptions.ReadTimeout):
        request = getattr(last, "request", None)
        host = urlsplit(getattr(request, "url", "") or "").netloc or "the endpoint"
        return (
            f"no answer from {host} within --timeout {timeout:g}s; "
            "it accepted the connection and said nothing"
        )
    return f"no success within --timeout {timeout:g}s of retries; last error: {str(last)[:300]}"
