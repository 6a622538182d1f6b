"""mldns: the DNS side of distributed ML training on Google Cloud, declared in Python."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from mldns import compute, dns, fleet, iam
from mldns.errors import MldnsError, ValidationError
from mldns.resources.base import Output
from mldns.stack import Stack, load_stack

if TYPE_CHECKING:
    from mldns.rules import allow, rule, use

__all__ = [
    "MldnsError",
    "Output",
    "Stack",
    "ValidationError",
    "allow",
    "compute",
    "dns",
    "fleet",
    "iam",
    "load_stack",
    "rule",
    "use",
]
__version__ = "0.1.0"

# The rules (and through them plans and their views) are imported when a stack file, a notebook
# or the engine first uses them: a stack file that declares none is read without them.
_FROM_RULES = ("allow", "rule", "use")


def __getattr__(name: str) -> Any:
    if name in _FROM_RULES:
        from mldns import rules

        return getattr(rules, name)
    raise AttributeError(f"module 'mldns' has no attribute {name!r}")
