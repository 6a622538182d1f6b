"""mldns: the DNS side of distributed ML training on Google Cloud, declared in Python."""

from mldns import compute, dns, fleet, iam
from mldns.errors import MldnsError, ValidationError
from mldns.resources.base import Output
from mldns.rules import allow, rule, use
from mldns.stack import Stack, load_stack

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
