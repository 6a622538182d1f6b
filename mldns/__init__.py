"""mldns: the DNS side of distributed ML training on Google Cloud, declared in Python."""

from mldns import compute, dns, iam
from mldns.errors import MldnsError, ValidationError
from mldns.resources.base import Output
from mldns.stack import Stack, load_stack

__all__ = [
    "MldnsError",
    "Output",
    "Stack",
    "ValidationError",
    "compute",
    "dns",
    "iam",
    "load_stack",
]
__version__ = "0.1.0"
