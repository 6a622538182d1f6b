"""Thread-safe state of the emulated cloud, and its persistence to one JSON file.

One re-entrant lock guards everything: API handlers validate and mutate under it, so a DNS Change
is checked whole and applied atomically, and a save never sees half a request.
"""

from __future__ import annotations

import json
import os
import tempfile
import threading
from typing import Any

from .errors import EmulatorDataError
from .ids import project_number, rfc3339_now
from .storage_api import Storage

FORMAT_VERSION = 1

# Google's documented defaults (Cloud DNS quotas page); each may be overridden.
DEFAULT_DNS_QUOTA: dict[str, int] = {
    "managedZones": 10000,
    "rrsetsPerManagedZone": 10000,
    "rrsetAdditionsPerChange": 1000,
    "rrsetDeletionsPerChange": 1000,
    "totalRrdataSizePerChange": 100000,
    "resourceRecordsPerRrset": 100,
    "itemsPerRoutingPolicy": 100,
    "networksPerManagedZone": 10000,
    "managedZonesPerNetwork": 10000,
    "dnsKeysPerManagedZone": 4,
    "policies": 100,
    "networksPerPolicy": 1000,
    "targetNameServersPerManagedZone": 100,
    "targetNameServersPerPolicy": 100,
    "peeringZonesPerTargetNetwork": 10000,
    "gkeClustersPerManagedZone": 1000,
    "gkeClustersPerPolicy": 1000,
    "gkeClustersPerResponsePolicy": 1000,
    "managedZonesPerGkeCluster": 1000,
    "responsePolicies": 100,
    "responsePolicyRulesPerResponsePolicy": 100000,
    "networksPerResponsePolicy": 1000,
    "internetHealthChecksPerManagedZone": 100,
    "nameserversPerDelegation": 100,
    "outboundEndpointsPerManagedZone": 100,
    "outboundEndpointsPerPolicy": 100,
}


def parse_quota(items: list[str] | tuple[str, ...]) -> dict[str, int]:
    """Turn ["KEY=N", ...] into {KEY: N}; ValueError with a one-line message on bad input."""
    result: dict[str, int] = {}
    for item in items:
        key, sep, number = item.partition("=")
        key = key.strip()
        if not sep or not key:
            raise ValueError(
                f"quota {item!r}: expected KEY=N, for example rrsetsPerManagedZone=200000"
            )
        if key not in DEFAULT_DNS_QUOTA:
            raise ValueError(
                f"quota {item!r}: unknown key {key!r}; known: {', '.join(sorted(DEFAULT_DNS_QUOTA))}"
            )
        try:
            value = int(number.strip())
        except ValueError:
            raise ValueError(f"quota {item!r}: {number.strip()!r} is not an integer") from None
        if value < 0:
            raise ValueError(f"quota {item!r}: must not be negative")
        result[key] = value
    return result


class Zone:
    """A managed zone: its resource, its record sets keyed by (name, type), its history."""

    def __init__(self, resource: dict[str, Any]) -> None:
        self.resource = resource
        self.rrsets: dict[tuple[str, str], dict[str, Any]] = {}
        self._keys: list[tuple[str, str]] | None = None
        self.changes: list[dict[str, Any]] = []
        self.change_gets: dict[str, int] = {}
        self.operations: dict[str, dict[str, Any]] = {}

    @staticmethod
    def key(rrset: dict[str, Any]) -> tuple[str, str]:
        return (str(rrset.get("name", "")).lower(), str(rrset.get("type", "")).upper())

    def sorted_keys(self) -> list[tuple[str, str]]:
        """Keys in list order, sorted lazily and cached until the set of keys changes."""
        if self._keys is None:
            self._keys = sorted(self.rrsets)
        return self._keys

    def put(self, rrset: dict[str, Any]) -> None:
        key = self.key(rrset)
        if key not in self.rrsets:
            self._keys = None
        self.rrsets[key] = rrset

    def remove(self, key: tuple[str, str]) -> None:
        del self.rrsets[key]
        self._keys = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "resource": self.resource,
            "rrsets": [self.rrsets[k] for k in self.sorted_keys()],
            "changes": self.changes,
            "changeGets": self.change_gets,
            "operations": self.operations,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Zone:
        zone = cls(data["resource"])
        for rrset in data.get("rrsets", []):
            zone.put(rrset)
        zone.changes = list(data.get("changes", []))
        zone.change_gets = dict(data.get("changeGets", {}))
        zone.operations = dict(data.get("operations", {}))
        return zone


class Project:
    """Everything one project holds across the three APIs."""

    def __init__(self, project_id: str) -> None:
        self.id = project_id
        self.number = project_number(project_id)
        self.create_time = rfc3339_now()
        self.zones: dict[str, Zone] = {}
        self.health_checks: dict[str, dict[str, Any]] = {}
        self.backend_services: dict[str, dict[str, Any]] = {}
        self.operations: dict[str, dict[str, Any]] = {}
        self.policy: dict[str, Any] | None = None
        self.dns_policies: dict[str, dict[str, Any]] = {}
        self.collections: dict[str, dict[str, Any]] = {}

    def collection(self, name: str) -> dict[str, Any]:
        """A named table of resources that a newer API module keeps, saved with the project."""
        return self.collections.setdefault(name, {})

    def to_dict(self) -> dict[str, Any]:
        return {
            "number": self.number,
            "createTime": self.create_time,
            "zones": {name: zone.to_dict() for name, zone in self.zones.items()},
            "healthChecks": self.health_checks,
            "backendServices": self.backend_services,
            "operations": self.operations,
            "policy": self.policy,
            "dnsPolicies": self.dns_policies,
            "collections": self.collections,
        }

    @classmethod
    def from_dict(cls, project_id: str, data: dict[str, Any]) -> Project:
        project = cls(project_id)
        project.number = data.get("number", project.number)
        project.create_time = data.get("createTime", project.create_time)
        project.zones = {n: Zone.from_dict(z) for n, z in data.get("zones", {}).items()}
        project.health_checks = dict(data.get("healthChecks", {}))
        project.backend_services = dict(data.get("backendServices", {}))
        project.operations = dict(data.get("operations", {}))
        project.policy = data.get("policy")
        project.dns_policies = dict(data.get("dnsPolicies", {}))
        project.collections = dict(data.get("collections", {}))
        return project


class Store:
    """The whole emulated cloud plus the knobs that shape its behaviour."""

    def __init__(
        self,
        data_file: str | os.PathLike[str] | None = None,
        quota: dict[str, int] | None = None,
        change_pending_gets: int = 0,
        operation_polls_to_done: int = 2,
        missing_projects: tuple[str, ...] | list[str] = (),
    ) -> None:
        self.lock = threading.RLock()
        self.data_file = os.fspath(data_file) if data_file is not None else None
        self.quota = {**DEFAULT_DNS_QUOTA, **(quota or {})}
        self.change_pending_gets = change_pending_gets
        self.operation_polls_to_done = operation_polls_to_done
        self.missing_projects = set(missing_projects)
        self.projects: dict[str, Project] = {}
        self.storage = Storage()
        if self.data_file and os.path.exists(self.data_file):
            self.load()

    def project(self, project_id: str) -> Project | None:
        """The project, created on first use; None for a project configured as missing."""
        if project_id in self.missing_projects:
            return None
        with self.lock:
            project = self.projects.get(project_id)
            if project is None:
                project = self.projects[project_id] = Project(project_id)
            return project

    def reset(self) -> None:
        with self.lock:
            self.projects.clear()
            self.storage.clear()  # its generation counter runs on: generations are never reused
            self.save()

    def to_dict(self) -> dict[str, Any]:
        with self.lock:
            data: dict[str, Any] = {
                "version": FORMAT_VERSION,
                "projects": {pid: p.to_dict() for pid, p in sorted(self.projects.items())},
            }
            if self.storage.buckets:
                data["storage"] = self.storage.to_dict()
            return data

    def load(self) -> None:
        """Replace the state with the data file's; EmulatorDataError if it is not ours."""
        path = self.data_file
        assert path is not None, "load() reads the data file the store was made with"
        try:
            with open(path, encoding="utf-8") as fh:
                data = json.load(fh)
            if not isinstance(data, dict) or data.get("version") != FORMAT_VERSION:
                raise ValueError(f"not an emulator data file (format version {FORMAT_VERSION})")
            projects = {pid: Project.from_dict(pid, p) for pid, p in data["projects"].items()}
            storage = Storage()
            storage.load(data.get("storage", {}))
        except (OSError, ValueError, KeyError, TypeError, AttributeError) as exc:
            detail = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
            raise EmulatorDataError(f"cannot load emulator data file {path}: {detail}") from None
        with self.lock:
            self.projects, self.storage = projects, storage

    def save(self) -> None:
        """Write the data file atomically (temporary file, fsync, rename); no-op without one."""
        if not self.data_file:
            return
        with self.lock:
            text = json.dumps(self.to_dict(), separators=(",", ":"))
            directory = os.path.dirname(os.path.abspath(self.data_file))
            fd, tmp = tempfile.mkstemp(prefix=".emulator-", suffix=".tmp", dir=directory)
            try:
                with os.fdopen(fd, "w", encoding="utf-8") as fh:
                    fh.write(text)
                    fh.flush()
                    os.fsync(fh.fileno())
                os.replace(tmp, self.data_file)
            except BaseException:
                if os.path.exists(tmp):
                    os.unlink(tmp)
                raise
