"""Errors in Google's JSON shape, so official clients map them exactly as they map Google's."""

from __future__ import annotations

import errno
from typing import Any

_STATUS_BY_CODE = {
    400: "INVALID_ARGUMENT",
    401: "UNAUTHENTICATED",
    403: "PERMISSION_DENIED",
    404: "NOT_FOUND",
    409: "ALREADY_EXISTS",
    412: "FAILED_PRECONDITION",
    429: "RESOURCE_EXHAUSTED",
    500: "INTERNAL",
    502: "UNAVAILABLE",
    503: "UNAVAILABLE",
    504: "DEADLINE_EXCEEDED",
}


class ApiError(Exception):
    """An API failure that the server turns into Google's error body."""

    def __init__(self, code: int, reason: str, message: str, status: str | None = None) -> None:
        super().__init__(message)
        self.code = code
        self.reason = reason
        self.message = message
        self.status = status or _STATUS_BY_CODE.get(code, "UNKNOWN")

    def body(self) -> dict[str, Any]:
        return {
            "error": {
                "code": self.code,
                "message": self.message,
                "status": self.status,
                "errors": [{"domain": "global", "reason": self.reason, "message": self.message}],
            }
        }


class EmulatorDataError(Exception):
    """The data file cannot be loaded; the message names the file and says why, on one line."""


class PortInUse(Exception):
    """A port the emulator was told to listen on cannot be had; the message names it, on one line."""


def cannot_listen(flag: str, host: str, port: int | None, exc: OSError, what: str = "") -> str:
    """One line on a socket that would not bind, with the remedy its error calls for."""
    if exc.errno == errno.EADDRINUSE:
        remedy = "choose another port"
    elif exc.errno == errno.EACCES:
        remedy = "choose a port above 1023, or run with the right to bind it"
    else:
        remedy = "is --host an address of this machine?"
    return f"{flag} {port}: cannot listen on {host}:{port}{what}: {exc.strerror or exc}; {remedy}"


def invalid(message: str) -> ApiError:
    return ApiError(400, "invalid", message)


def invalid_parameter(message: str) -> ApiError:
    return ApiError(400, "invalidParameter", message)


def not_found(message: str) -> ApiError:
    return ApiError(404, "notFound", message)


def already_exists(message: str) -> ApiError:
    return ApiError(409, "alreadyExists", message)


def condition_not_met(message: str) -> ApiError:
    return ApiError(412, "conditionNotMet", message)


def quota_exceeded(message: str) -> ApiError:
    return ApiError(403, "quotaExceeded", message)
