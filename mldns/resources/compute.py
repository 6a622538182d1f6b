"""Compute health checks and backend services, validated by Google's documented rules."""

from __future__ import annotations

from typing import Any, ClassVar

import attrs

from mldns.kinds import register
from mldns.regions import region_problem
from mldns.resources.base import (
    GCE_NAME,
    ListItems,
    Resource,
    check,
    fail,
    is_bool,
    is_int,
    is_str,
    str_tuple,
)

HEALTH_CHECK_TYPES = ("HTTP", "HTTPS", "HTTP2", "TCP", "SSL", "GRPC")
# Which of the probe's fields each type has, as Compute's discovery document gives them.
HTTP_LIKE = ("HTTP", "HTTPS", "HTTP2")
STREAM_LIKE = ("TCP", "SSL")
PROXY_HEADERS = ("NONE", "PROXY_V1")
BACKEND_PROTOCOLS = ("HTTP", "HTTPS", "HTTP2", "TCP", "SSL", "UDP", "GRPC")
SCHEMES = ("EXTERNAL", "EXTERNAL_MANAGED", "INTERNAL", "INTERNAL_MANAGED", "INTERNAL_SELF_MANAGED")
BALANCING_MODES = ("UTILIZATION", "RATE", "CONNECTION")

_name = check(
    lambda v: GCE_NAME.match(v),
    "must match [a-z]([-a-z0-9]*[a-z0-9])? (at most 63 characters), got {value!r}",
)


_AT_MOST_1024 = "must be a string of at most 1024 characters or None, got {value!r}"


def _int_range(low: int, high: int) -> Any:
    return check(
        lambda v: is_int(v) and low <= v <= high,
        f"must be an integer from {low} to {high}, got {{value!r}}",
    )


@attrs.frozen(eq=False)
class HealthCheck(Resource):
    """A global health check; with `source_regions` it can back Cloud DNS routing policies.

    Args:
        name: The health check's name in the project.
        type: "HTTP", "HTTPS", "HTTP2", "TCP", "SSL" or "GRPC".
        port: The port probed.
        request_path: The path probed (HTTP, HTTPS and HTTP2).
        host: The Host header sent (HTTP, HTTPS and HTTP2).
        request: The bytes sent once connected (TCP and SSL).
        response: The bytes the reply must start with (all but GRPC).
        proxy_header: "NONE" or "PROXY_V1", the header sent before the probe (all but GRPC).
        grpc_service_name: The service the gRPC health check asks about (GRPC); by default the
            server's overall health.
        check_interval_sec: Seconds between probes (at least 30 with source_regions).
        timeout_sec: Seconds a probe may take.
        healthy_threshold: Successes before a target counts as healthy.
        unhealthy_threshold: Failures before a target counts as unhealthy.
        source_regions: Exactly three regions to probe from, as Cloud DNS requires; such a
            health check serves Cloud DNS routing only, never a backend service.
        protect: Refuse to delete or replace the health check.

    Example:
        hc = stack.add(
            compute.HealthCheck(
                name="trainer-hc",
                port=8080,
                request_path="/healthz",
                check_interval_sec=30,
                source_regions=["us-central1", "europe-west4", "asia-southeast1"],
            )
        )
    """

    kind: ClassVar[str] = "compute.HealthCheck"
    key_field: ClassVar[str | None] = "name"
    replaceable: ClassVar[bool] = True
    state_keys: ClassVar[tuple[str, ...]] = ("name",)
    id_collection: ClassVar[str] = "global/healthChecks/"
    id_form: ClassVar[str] = "the health check's name"

    name: str = attrs.field(validator=_name)
    type: str = attrs.field(
        default="HTTP",
        converter=lambda v: v.upper() if isinstance(v, str) else v,
        validator=check(
            lambda v: v in HEALTH_CHECK_TYPES,
            "must be HTTP, HTTPS, HTTP2, TCP, SSL or GRPC, got {value!r}",
        ),
    )
    port: int = attrs.field(default=80, validator=_int_range(1, 65535))
    request_path: str = attrs.field(
        default="/",
        validator=check(
            lambda v: is_str(v) and v.startswith("/") and v.isprintable() and " " not in v,
            "must be a path starting with '/', without spaces (RFC 3986), got {value!r}",
        ),
    )
    host: str | None = attrs.field(
        default=None,
        validator=check(lambda v: v is None or (is_str(v) and v), "must be a host name or None"),
    )
    request: str | None = attrs.field(
        default=None,
        validator=check(lambda v: v is None or (is_str(v) and len(v) <= 1024), _AT_MOST_1024),
    )
    response: str | None = attrs.field(
        default=None,
        validator=check(lambda v: v is None or (is_str(v) and len(v) <= 1024), _AT_MOST_1024),
    )
    proxy_header: str = attrs.field(
        default="NONE",
        validator=check(
            lambda v: v in PROXY_HEADERS, "must be 'NONE' or 'PROXY_V1', got {value!r}"
        ),
    )
    grpc_service_name: str | None = attrs.field(
        default=None,
        validator=check(
            lambda v: v is None or (is_str(v) and v.isascii() and v.isprintable()),
            "must be ASCII text or None, got {value!r}",
        ),
    )
    check_interval_sec: int = attrs.field(default=5, validator=_int_range(1, 300))
    timeout_sec: int = attrs.field(default=5, validator=_int_range(1, 300))
    healthy_threshold: int = attrs.field(default=2, validator=_int_range(1, 10))
    unhealthy_threshold: int = attrs.field(default=2, validator=_int_range(1, 10))
    source_regions: tuple[str, ...] | None = attrs.field(
        default=None,
        converter=str_tuple,
        validator=check(
            lambda v: v is None or all(is_str(r) and r for r in v), "must be a list of region names"
        ),
    )
    protect: bool = attrs.field(default=False, validator=check(is_bool, "must be True or False"))

    def __attrs_post_init__(self) -> None:
        if self.timeout_sec > self.check_interval_sec:
            fail(
                self,
                "timeout_sec",
                f"{self.timeout_sec} exceeds check_interval_sec {self.check_interval_sec}",
            )
        self._check_type_fields()
        if self.source_regions is not None:
            if len(self.source_regions) != 3 or len(set(self.source_regions)) != 3:
                fail(
                    self,
                    "source_regions",
                    f"must name exactly 3 distinct regions, got {len(self.source_regions)}",
                )
            if self.check_interval_sec < 30:
                fail(self, "check_interval_sec", "must be at least 30 when source_regions is set")
            for region in self.source_regions:
                problem = region_problem(region)
                if problem:
                    fail(self, "source_regions", problem)

    def _check_type_fields(self) -> None:
        """Each type probes with its own fields; one set for another type is refused."""
        kind = self.type
        if kind not in HTTP_LIKE and (self.request_path != "/" or self.host):
            fail(self, "request_path", f"{kind} health checks have no request path or host")
        if kind not in STREAM_LIKE and self.request is not None:
            fail(self, "request", f"{kind} health checks send no request bytes (TCP and SSL do)")
        if kind == "GRPC" and (self.response is not None or self.proxy_header != "NONE"):
            fail(self, "response", "GRPC health checks have no response or proxy_header")
        if kind != "GRPC" and self.grpc_service_name is not None:
            fail(self, "grpc_service_name", f"only GRPC health checks name a service, not {kind}")

    @property
    def key(self) -> str:
        return self.name


@attrs.frozen
class Backend:
    """One instance group behind a backend service; the group itself is not managed here.

    Args:
        group: The instance group's URL or path ("projects/P/zones/Z/instanceGroups/G").
        balancing_mode: "UTILIZATION", "RATE" or "CONNECTION".
        capacity_scaler: Share of the group's capacity to use: 0 (drained) or 0.1 to 1.
        max_utilization: Target utilisation (0 to 1) for "UTILIZATION" only, or None.

    Example:
        compute.Backend(group="projects/my-project/zones/us-central1-a/instanceGroups/trainers")
    """

    group: str = attrs.field(
        validator=check(
            lambda v: is_str(v) and "instanceGroups/" in v,
            "must be an instance group URL or path, got {value!r}",
        )
    )
    balancing_mode: str = attrs.field(
        default="UTILIZATION",
        validator=check(lambda v: v in BALANCING_MODES, "must be UTILIZATION, RATE or CONNECTION"),
    )
    capacity_scaler: float = attrs.field(
        default=1.0,
        validator=check(
            lambda v: isinstance(v, (int, float)) and (v == 0 or 0.1 <= v <= 1),
            "must be 0.0 or from 0.1 to 1.0 (Compute's range), got {value!r}",
        ),
    )
    max_utilization: float | None = attrs.field(
        default=None,
        validator=check(
            lambda v: v is None or (isinstance(v, (int, float)) and 0 <= v <= 1),
            "must be from 0.0 to 1.0 or None",
        ),
    )

    def __attrs_post_init__(self) -> None:
        if self.max_utilization is not None and self.balancing_mode != "UTILIZATION":
            fail(
                self,
                "max_utilization",
                f"applies to the UTILIZATION balancing mode only, not {self.balancing_mode} "
                "(Compute ignores it there)",
            )


@attrs.frozen(eq=False)
class BackendService(Resource):
    """A global backend service whose health checks are declared in the same stack or by URL.

    Args:
        name: The backend service's name in the project.
        health_checks: HealthChecks (or their URLs) that probe the backends.
        backends: The Backend instance groups it sends traffic to.
        protocol: "HTTP", "HTTPS", "HTTP2", "TCP", "SSL", "UDP" or "GRPC".
        port_name: The named port on the instance groups.
        timeout_sec: Seconds a backend may take to answer.
        load_balancing_scheme: "EXTERNAL", "EXTERNAL_MANAGED", "INTERNAL", "INTERNAL_MANAGED" or
            "INTERNAL_SELF_MANAGED".
        protect: Refuse to delete or replace the backend service.

    Example:
        stack.add(
            compute.BackendService(
                name="trainers", health_checks=[hc], backends=[compute.Backend(group=group_url)]
            )
        )
    """

    kind: ClassVar[str] = "compute.BackendService"
    key_field: ClassVar[str | None] = "name"
    replaceable: ClassVar[bool] = True
    state_keys: ClassVar[tuple[str, ...]] = ("name",)
    id_collection: ClassVar[str] = "global/backendServices/"
    id_form: ClassVar[str] = "the backend service's name"
    # A backend is its instance group: its other fields are settings of that group's share.
    list_items: ClassVar[ListItems] = ListItems(fields=("group",))

    name: str = attrs.field(validator=_name)
    health_checks: tuple[Any, ...] = attrs.field(converter=str_tuple)
    backends: tuple[Backend, ...] = attrs.field(
        default=(),
        converter=str_tuple,
        validator=check(
            lambda v: all(isinstance(b, Backend) for b in v), "must be a list of compute.Backend"
        ),
    )
    protocol: str = attrs.field(
        default="HTTP",
        validator=check(
            lambda v: v in BACKEND_PROTOCOLS, "must be one of " + ", ".join(BACKEND_PROTOCOLS)
        ),
    )
    port_name: str = attrs.field(
        default="http", validator=check(lambda v: is_str(v) and v, "must be a named port")
    )
    timeout_sec: int = attrs.field(default=30, validator=_int_range(1, 2147483647))
    load_balancing_scheme: str = attrs.field(
        default="EXTERNAL",
        validator=check(lambda v: v in SCHEMES, "must be one of " + ", ".join(SCHEMES)),
    )
    protect: bool = attrs.field(default=False, validator=check(is_bool, "must be True or False"))

    def __attrs_post_init__(self) -> None:
        hcs = self.health_checks
        if not isinstance(hcs, tuple) or len(hcs) != 1:
            fail(
                self,
                "health_checks",
                "must hold exactly one health check (Google allows one per backend service)",
            )
        if not all(isinstance(h, HealthCheck) or (is_str(h) and "healthChecks/" in h) for h in hcs):
            fail(
                self, "health_checks", "must be compute.HealthCheck resources or health check URLs"
            )
        for hc in hcs:
            if isinstance(hc, HealthCheck) and hc.source_regions is not None:
                fail(
                    self,
                    "health_checks",
                    f"{hc.address} has source_regions, which Compute allows only for health "
                    "checks that serve Cloud DNS routing, never a backend service; give the "
                    "backend service a health check of its own without source_regions",
                )
        drained = [b for b in self.backends if b.capacity_scaler == 0]
        if drained and len(self.backends) == 1:
            fail(self, "backends", "the only backend cannot have capacity_scaler 0 (drained)")

    @property
    def key(self) -> str:
        return self.name

    def references(self) -> tuple[Resource, ...]:
        return tuple(h for h in self.health_checks if isinstance(h, Resource))


register(HealthCheck)
register(BackendService)
