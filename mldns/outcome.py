"""An apply that did not finish, told in one line: failures grouped by cause, the first few
addresses of each, what finished and is in the state, and where to look next."""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

from mldns.words import count, some

SHOWN = 3  # addresses named per cause
NEXT = "run `mldns plan` to see what is left"
# google-cloud-core starts its errors with the request: "POST https://...?fields=...: reason"
_REQUEST = re.compile(r"^[A-Z]+ https?://\S+: ")


def _group(cause: str, addresses: Sequence[str], counted: bool = True) -> str:
    if len(addresses) == 1:
        return f"{addresses[0]}: {cause}"
    head = f"{count(len(addresses), 'resource')}: " if counted else ""
    return f"{head}{cause} ({_first(addresses)})"


def _first(addresses: Sequence[str]) -> str:
    return some(sorted(addresses), SHOWN)


def _cause(message: str, addresses: Sequence[str]) -> str:
    """The message without the address it starts with, so that one cause groups many units."""
    for address in addresses:
        if message.startswith(address + ": "):
            message = message[len(address) + 2 :]
            break
    return _REQUEST.sub("", message)


def _left(result: Any, keys: Sequence[str]) -> list[str]:
    """The addresses of these units that this apply did not record."""
    return [
        a for key in keys for a in result.addresses.get(key, (key,)) if a not in result.recorded
    ]


def _finished(result: Any) -> str:
    """What the plan counted and this apply recorded: each record set, a table's rows one by one."""
    recorded = result.recorded
    done = sum(a in recorded for addresses in result.addresses.values() for a in addresses)
    if not done:
        return "nothing finished"
    return f"{count(done, 'resource')} finished and {'is' if done == 1 else 'are'} in the state"


def _failures(result: Any, total_said: bool = False) -> tuple[int, list[str]]:
    """How many resources failed, and one part per cause (largest first), then those skipped; a
    lone cause goes without its count when the message has just said the total."""
    groups: dict[str, list[str]] = {}
    for key, message in result.failed:
        addresses = result.addresses.get(key, (key,))
        left = _left(result, [key]) or list(addresses)
        cause = _cause(result.causes.get(key) or message, addresses)
        groups.setdefault(cause, []).extend(left)
    counted = not total_said or len(groups) > 1
    parts = [
        _group(cause, addresses, counted)
        for cause, addresses in sorted(groups.items(), key=lambda kv: (-len(kv[1]), kv[0]))
    ]
    skipped = _left(result, result.skipped)
    if skipped:
        parts.append(
            f"{count(len(skipped), 'resource')} not attempted, as what they need failed "
            f"({_first(skipped)})"
        )
    return sum(len(a) for a in groups.values()), parts


def failed(result: Any) -> str:
    """`apply failed for 550 resources: <cause> (a, b, c and 547 more); ...`, or with two causes
    `apply failed for 550 resources: 500 resources: <cause> (...); 50 resources: ...`."""
    failing, parts = _failures(result, total_said=True)
    return f"apply failed for {count(failing, 'resource')}: " + "; ".join(
        [*parts, _finished(result), NEXT]
    )


def interrupted(result: Any) -> str:
    """What a Ctrl-C left: finished and recorded, failed, not done."""
    parts = [f"stopped by Ctrl-C: {_finished(result)}"]
    if result.failed:
        parts += _failures(result)[1]
    left = _left(result, [*result.stopped, *result.not_started])
    if left:
        parts.append(f"{count(len(left), 'resource')} not done ({_first(left)})")
    parts.append(NEXT)
    return "; ".join(parts)
