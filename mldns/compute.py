"""Compute resources for stack files: `from mldns import compute`."""

from mldns.resources.compute import Backend, BackendService, HealthCheck

__all__ = ["Backend", "BackendService", "HealthCheck"]
