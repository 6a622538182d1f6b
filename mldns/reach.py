"""Why a call to Google (or an emulator) could not be made, in one line: no credentials, or an
endpoint no retry will reach. `reached` wraps the API clients' calls and the Cloud Storage state
backend's alike."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from urllib.parse import urlsplit

import requests
from google.auth import exceptions as auth_exc
from urllib3.exceptions import NameResolutionError, NewConnectionError

from mldns.errors import CredentialsError, UnreachableError


def unreachable(exc: BaseException) -> str | None:
    """Why no connection could be made, when waiting would not help: refused, a name that does
    not resolve, TLS that fails. None for what a retry may cure (a connection dropped mid-call,
    a connect timeout)."""
    if isinstance(exc, requests.exceptions.SSLError):
        inner = getattr(exc.args[0], "reason", None) if exc.args else None
        detail = getattr(inner, "args", None)
        first = detail[0] if detail else inner
        text = getattr(first, "verify_message", None) or getattr(first, "reason", None) or first
        return f"TLS failed ({text or exc})"
    if not isinstance(exc, requests.exceptions.ConnectionError) or isinstance(
        exc, requests.exceptions.ConnectTimeout
    ):
        return None
    cause = getattr(exc.args[0], "reason", None) if exc.args else None
    if isinstance(cause, NameResolutionError):
        return f"the name {host_of(exc).rsplit(':', 1)[0]} does not resolve"
    origin = cause.__cause__ if isinstance(cause, NewConnectionError) else None
    if isinstance(origin, OSError) and not isinstance(origin, TimeoutError):
        return (origin.strerror or str(origin)).lower()
    return None


def host_of(exc: BaseException) -> str:
    """The host:port a failed request was for."""
    request = getattr(exc, "request", None)
    return urlsplit(getattr(request, "url", "") or "").netloc or "the endpoint"


def unreachable_error(exc: BaseException, why: str, emulator: str | None) -> UnreachableError:
    """The one line for an endpoint `unreachable` gave up on."""
    if emulator is not None:
        return UnreachableError(
            f"cannot reach the emulator at {emulator}: {why}; is `mldns emulator` running?"
        )
    return UnreachableError(
        f"cannot reach {host_of(exc)}: {why}; check the network and proxy, "
        "or use --local / --emulator HOST:PORT"
    )


def no_credentials(exc: BaseException) -> CredentialsError:
    """One line on how to get credentials, with the first sentence of google-auth's reason."""
    detail = str(exc).split(". ")[0].rstrip(".")
    return CredentialsError(
        f"no Google credentials ({detail}): log in with `gcloud auth application-default login`, "
        "or use --local (an emulator in this process) or --emulator HOST:PORT"
    )


def refused_credentials(exc: auth_exc.RefreshError) -> CredentialsError:
    """Credentials Google would not take (expired, revoked)."""
    return CredentialsError(
        f"Google credentials were refused ({str(exc)[:200]}): log in again with "
        "`gcloud auth application-default login`"
    )


@contextlib.contextmanager
def reached(emulator: str | None) -> Iterator[None]:
    """No credentials, refused ones, or an endpoint that cannot be reached (`emulator`, else
    Google): one line each, raised as mldns errors."""
    try:
        yield
    except requests.exceptions.ConnectionError as exc:
        why = unreachable(exc)
        if why is None:
            raise
        raise unreachable_error(exc, why, emulator) from exc
    except auth_exc.DefaultCredentialsError as exc:
        raise no_credentials(exc) from exc
    except auth_exc.RefreshError as exc:
        raise refused_credentials(exc) from exc
