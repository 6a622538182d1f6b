"""One exception root: every failure a user can cause or meet ends as an MldnsError.

The CLI turns these into one line and exit code 1; anything else is a bug and shows a traceback.
"""

from __future__ import annotations


def one_line(message: str) -> str:
    """Escape control characters (a user's name may hold a newline) so a message stays one line."""
    return "".join(c if c.isprintable() else repr(c)[1:-1] for c in message)


class MldnsError(Exception):
    """Base of every error mldns reports to its user."""

    exit_code = 1


class ValidationError(MldnsError):
    """A declaration is wrong; names the resource address and the field."""

    def __init__(self, address: str, field: str | None, message: str) -> None:
        self.address = address
        self.field = field
        self.message = message
        where = f"{address}: {field}" if field else address
        super().__init__(one_line(f"{where}: {message}"))


class StackFileError(MldnsError):
    """The stack file could not be loaded (syntax error, exception, no Stack in it)."""


class StateError(MldnsError):
    """The state file is unreadable, corrupt, from the future or from another lineage."""


class StateMoved(StateError):
    """The state was moved to another backend by `state migrate`; a tombstone stands in its
    place, naming where it went."""

    def __init__(self, message: str, moved_to: str, lineage: str) -> None:
        super().__init__(message)
        self.moved_to = moved_to
        self.lineage = lineage


class LockError(MldnsError):
    """Another mldns process holds the state lock."""


class PlanFileError(MldnsError):
    """A saved plan is unreadable, tampered with, or stale."""


class UnsafePlanError(MldnsError):
    """A plan breaks a safety rule (protected resource, destructive threshold, adopt needed)."""


class RulesViolated(UnsafePlanError):
    """A plan breaks a mandatory rule, or a rule failed: it is not applied."""


class ApiError(MldnsError):
    """A Google API call failed in a way no retry or reconciliation could fix."""


class UnreachableError(ApiError):
    """The endpoint refused the connection, its name does not resolve, or TLS failed: no retry
    would help, so the user hears of it at once."""


class CredentialsError(MldnsError):
    """No usable Google credentials (Application Default Credentials)."""


class ApplyError(MldnsError):
    """An apply finished with failed actions; the state holds everything that was done."""

    def __init__(self, message: str, failures: list[tuple[str, str]] | None = None) -> None:
        self.failures = failures or []
        super().__init__(message)


class Interrupted(MldnsError):
    """Ctrl-C stopped an apply: what finished is in the state; the rest is for the next run."""

    exit_code = 130


class UsageError(MldnsError):
    """Options that contradict each other or make no sense together."""


class LockLostError(LockError):
    """Another run took the state lock over (this one was paused past its lease): stop writing."""
