"""Local emulator of Cloud DNS v1, Compute v1, Resource Manager v3 and Cloud Storage v1 (the part
that keeps a state object safe), faithful on the wire.

It lets mldns run and be tested offline with Google's own client libraries. It imports nothing
from the engine: only `mldns.routing` and `mldns.regions`, standalone modules of the standard
library and data, which its DNS server answers by, and `mldns.metrics_server`, which serves its
metrics as it serves the reconcile loop's.
"""

from .errors import EmulatorDataError, PortInUse
from .server import Emulator, serve
from .store import DEFAULT_DNS_QUOTA, parse_quota

__all__ = [
    "DEFAULT_DNS_QUOTA",
    "Emulator",
    "EmulatorDataError",
    "PortInUse",
    "parse_quota",
    "serve",
]
