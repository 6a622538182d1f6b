"""Reading fleet sources: Compute instances, managed groups' members and TPU hosts, as Members.

The only code that reads the fleet from Google. Each read makes as few calls as the API allows:
one aggregated list of instances per page (filtered by label and status on Google's side), the
group's listManagedInstances pages, one list of a location's TPU nodes per page. Every call goes
through `Clients.call`, so retries and the plan's call summary count it.
"""

from __future__ import annotations

import re
from typing import Any

from google.api_core import exceptions as gexc

from mldns.clients import Clients
from mldns.errors import ApiError, UsageError
from mldns.resources.fleet import Instances, ManagedInstanceGroup, Member, Source, TpuNodes

PAGE_SIZE = 500  # instances.aggregatedList's maximum
TPU_PAGE_SIZE = 1000


def instance_filter(labels: dict[str, str], status: str | None) -> str:
    """The AIP-160 filter of a selector: every label, and the status, in parentheses."""
    terms = [f'(labels.{key} = "{value}")' for key, value in sorted(labels.items())]
    if status:
        terms.append(f"(status = {status})")
    return " ".join(terms)


def _short(url: str) -> str:
    return url.rsplit("/", 1)[-1]


def instance_member(instance: Any, zone: str) -> Member:
    """A Member from a compute_v1 Instance: the first interface's addresses."""
    nics = list(instance.network_interfaces)
    nic = nics[0] if nics else None
    external = external6 = None
    if nic is not None:
        for config in nic.access_configs:
            if config.nat_i_p:
                external = config.nat_i_p
                break
        for config in nic.ipv6_access_configs:
            if config.external_ipv6:
                external6 = config.external_ipv6
                break
    return Member(
        name=instance.name,
        zone=zone,
        labels=dict(instance.labels),
        internal=(nic.network_i_p or None) if nic is not None else None,
        external=external,
        internal6=(nic.ipv6_address or None) if nic is not None else None,
        external6=external6,
    )


class FleetReader:
    """Reads the members of fleet sources through Google's official clients."""

    def __init__(self, clients: Clients) -> None:
        self.clients = clients

    def prepare(self, sources: list[Source]) -> None:
        """Build the clients `sources` need (Google's libraries take seconds to import), so a
        standby that takes over reads at once."""
        for source in sources:
            if isinstance(source, TpuNodes):
                _ = self.clients.tpu
            else:
                self.clients.compute("InstancesClient")
            if isinstance(source, ManagedInstanceGroup):
                regional = source.region is not None
                self.clients.compute(
                    "RegionInstanceGroupManagersClient"
                    if regional
                    else "InstanceGroupManagersClient"
                )

    def read(self, source: Source, project: str) -> list[Member]:
        """The members of `source` now; UsageError for a location or group that does not exist."""
        project = source.project or project
        if isinstance(source, Instances):
            instances = self.instances(project, source.label_map, source.status)
            return [m for m in instances if source.keeps(m.zone)]
        if isinstance(source, ManagedInstanceGroup):
            return self._group(source, project)
        if isinstance(source, TpuNodes):
            return self._tpu(source, project)
        raise TypeError(f"not a fleet source: {source!r}")

    def instances(self, project: str, labels: dict[str, str], status: str | None) -> list[Member]:
        """Every instance of the project matching the labels and status: one call per page."""
        from google.cloud import compute_v1

        client = self.clients.compute("InstancesClient")
        members: list[Member] = []
        token = ""
        while True:
            request = compute_v1.AggregatedListInstancesRequest(
                project=project,
                filter=instance_filter(labels, status),
                max_results=PAGE_SIZE,
                page_token=token,
            )
            page = self._call(lambda r=request: next(iter(client.aggregated_list(request=r).pages)))
            for scope, scoped in page.items.items():
                zone = _short(scope)
                members.extend(instance_member(i, zone) for i in scoped.instances)
            token = page.next_page_token
            if not token:
                return members

    def _group(self, source: ManagedInstanceGroup, project: str) -> list[Member]:
        """The group's members, with addresses from one aggregated list of the project's
        instances in that status (not a get per member)."""
        from google.cloud import compute_v1

        regional = source.region is not None
        name = "RegionInstanceGroupManagersClient" if regional else "InstanceGroupManagersClient"
        client = self.clients.compute(name)
        where = {"region": source.region} if regional else {"zone": source.zone}
        request_type = (
            compute_v1.ListManagedInstancesRegionInstanceGroupManagersRequest
            if regional
            else compute_v1.ListManagedInstancesInstanceGroupManagersRequest
        )
        members: set[tuple[str, str]] = set()
        token = ""
        while True:
            request = request_type(
                project=project,
                instance_group_manager=source.name,
                max_results=PAGE_SIZE,
                page_token=token,
                **where,
            )
            page = self._call(
                lambda r=request: next(iter(client.list_managed_instances(request=r).pages))
            )
            for managed in page.managed_instances:
                url = managed.instance
                zone = url.split("/zones/")[1].split("/")[0] if "/zones/" in url else ""
                members.add((zone, _short(url)))
            token = page.next_page_token
            if not token:
                break
        if not members:
            return []
        everyone = self.instances(project, source.label_map, source.status)
        return [m for m in everyone if (m.zone, m.name) in members]

    def _tpu(self, source: TpuNodes, project: str) -> list[Member]:
        """One member per host of each node in the state asked for: one call per page."""
        from google.cloud import tpu_v2

        client = self.clients.tpu
        labels = source.label_map
        members: list[Member] = []
        token = ""
        while True:
            request = tpu_v2.ListNodesRequest(
                parent=f"projects/{project}/locations/{source.location}",
                page_size=TPU_PAGE_SIZE,
                page_token=token,
            )
            page = self._call(lambda r=request: next(iter(client.list_nodes(request=r).pages)))
            for node in page.nodes:
                if tpu_v2.Node.State(node.state).name != source.state:
                    continue
                if any(node.labels.get(k) != v for k, v in labels.items()):
                    continue
                for worker, endpoint in enumerate(node.network_endpoints):
                    members.append(
                        Member(
                            name=_short(node.name),
                            zone=source.location,
                            labels=dict(node.labels),
                            internal=endpoint.ip_address or None,
                            external=endpoint.access_config.external_ip or None,
                            worker=worker,
                        )
                    )
            token = page.next_page_token
            if not token:
                return members

    def _call(self, read: Any) -> Any:
        """One read; a location, zone or group Google does not know is the user's error."""
        try:
            return self.clients.call(read)
        except (gexc.NotFound, gexc.BadRequest, gexc.Forbidden) as exc:
            raise UsageError(_message(exc)) from None
        except gexc.GoogleAPICallError as exc:
            raise ApiError(f"reading the fleet failed: {_message(exc)}") from None


def _message(exc: gexc.GoogleAPICallError) -> str:
    """Google's status and message, without the request line the REST transport puts first."""
    text = re.sub(r"^[A-Z]+ https?://\S+: ", "", str(exc.message))
    return f"{exc.code} {text}".strip() if exc.code else text
