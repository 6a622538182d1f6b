"""What an API handler receives: the store, the URL's parameters, the query and the JSON body."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from .errors import invalid_parameter
from .store import Store


@dataclass
class Call:
    store: Store
    method: str
    params: dict[str, str]
    query: Mapping[str, str] = field(default_factory=dict)
    body: Any = None

    def int_arg(self, name: str, default: int, maximum: int | None = None) -> int:
        """An integer query parameter; larger values are clamped to `maximum` as Google does."""
        raw = self.query.get(name)
        if raw in (None, ""):
            return default
        try:
            value = int(raw)
        except ValueError:
            raise invalid_parameter(f"Invalid value for parameter '{name}': '{raw}'") from None
        if value < 0:
            raise invalid_parameter(f"Invalid value for parameter '{name}': '{raw}'")
        if value == 0:
            return default
        return min(value, maximum) if maximum else value


Reply = tuple[int, Any]
Handler = Callable[[Call], Reply]
