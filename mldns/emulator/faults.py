"""Fault injection for drills: matching requests fail, are delayed, or lose their connection."""

from __future__ import annotations

import random
import re
import threading
from dataclasses import asdict, dataclass, field
from typing import Any

from .errors import ApiError

_REASON_MESSAGES = {
    "backendError": "Backend Error",
    "rateLimitExceeded": "Rate Limit Exceeded",
    "internalError": "Internal Error",
}


@dataclass
class Fault:
    """One rule. `count` bounds how many requests it hits; `probability` makes it random."""

    id: int
    method: str | None = None
    path: str = ""
    status: int | None = None
    reason: str | None = None
    message: str | None = None
    probability: float | None = None
    count: int | None = None
    delay_ms: int = 0
    drop: bool = False
    after: bool = False
    hits: int = 0
    _regex: re.Pattern[str] = field(default=re.compile(""), repr=False)

    def public(self) -> dict[str, Any]:
        data = asdict(self)
        data.pop("_regex")
        return data

    def error(self) -> ApiError:
        status = self.status or 503
        reason = self.reason or ("backendError" if status >= 500 else "invalid")
        message = self.message or _REASON_MESSAGES.get(reason, f"Emulated {status} ({reason})")
        return ApiError(status, reason, message)


_FIELDS = {
    "method",
    "path",
    "status",
    "reason",
    "message",
    "probability",
    "count",
    "delay_ms",
    "drop",
    "after",
}


class Faults:
    """The active rules and the seeded random source that `probability` draws from."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._rules: list[Fault] = []
        self._next_id = 1
        self._random = random.Random(0)

    def add(self, spec: dict[str, Any]) -> dict[str, Any]:
        """Add a rule (and/or reseed with {"seed": N}); ValueError on a malformed spec."""
        unknown = set(spec) - _FIELDS - {"seed"}
        if unknown:
            raise ValueError(f"unknown fault field(s): {', '.join(sorted(unknown))}")
        with self._lock:
            if "seed" in spec:
                self._random.seed(spec["seed"])
            given = {k for k, v in spec.items() if k != "seed" and v not in (None, False, "", 0)}
            if "seed" in spec and not given:
                return {"seed": spec["seed"]}
            try:
                regex = re.compile(spec.get("path") or "")
            except re.error as exc:
                raise ValueError(f"bad path regex: {exc}") from None
            probability = spec.get("probability")
            if probability is not None and not 0 <= float(probability) <= 1:
                raise ValueError("probability must be between 0 and 1")
            count = spec.get("count")
            if count is not None and int(count) < 1:
                raise ValueError("count must be at least 1")
            status = spec.get("status")
            if status is not None and not 400 <= int(status) <= 599:
                raise ValueError("status must be an HTTP error status (400-599)")
            fault = Fault(
                id=self._next_id,
                method=(spec.get("method") or None) and str(spec["method"]).upper(),
                path=spec.get("path") or "",
                status=int(status) if status is not None else None,
                reason=spec.get("reason"),
                message=spec.get("message"),
                probability=float(probability) if probability is not None else None,
                count=int(count) if count is not None else None,
                delay_ms=int(spec.get("delay_ms") or 0),
                drop=bool(spec.get("drop")),
                after=bool(spec.get("after")),
                _regex=regex,
            )
            if fault.status is None and not fault.drop and not fault.delay_ms:
                fault.status = 503
            self._next_id += 1
            self._rules.append(fault)
            return fault.public()

    def clear(self) -> None:
        with self._lock:
            self._rules.clear()

    def list(self) -> list[dict[str, Any]]:
        with self._lock:
            return [f.public() for f in self._rules]

    def match(self, method: str, path: str) -> Fault | None:
        """The first rule that fires for this request, consuming one of its `count`."""
        with self._lock:
            for fault in self._rules:
                if fault.method and fault.method != method:
                    continue
                if not fault._regex.search(path):
                    continue
                if fault.probability is not None and self._random.random() >= fault.probability:
                    continue
                fault.hits += 1
                if fault.count is not None:
                    fault.count -= 1
                    if fault.count <= 0:
                        self._rules.remove(fault)
                return fault
            return None
