"""Which providers exist; the engine asks here instead of importing each one."""

from __future__ import annotations

from mldns.clients import Clients
from mldns.providers.base import Provider


def build_providers(clients: Clients) -> list[Provider]:
    """One provider per API, in the order their refreshes run."""
    from mldns.providers.dns import DnsProvider

    providers: list[Provider] = []
    try:
        from mldns.providers.compute import ComputeProvider

        providers.append(ComputeProvider(clients))
    except ImportError:
        pass
    providers.append(DnsProvider(clients))
    try:
        from mldns.providers.iam import IamProvider

        providers.append(IamProvider(clients))
    except ImportError:
        pass
    return providers
