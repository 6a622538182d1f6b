"""A fleet in an emulator, made through Google's own clients: instances, groups and TPU nodes.

Shared by the fleet tests, drills and bench. Every write waits for its operation, as mldns does.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from typing import Any

from google.auth.credentials import AnonymousCredentials
from google.cloud import compute_v1, tpu_v2


class World:
    """Clients for one emulator (`host:port`) and project."""

    def __init__(self, host_port: str, project: str) -> None:
        self.project = project
        options = {
            "credentials": AnonymousCredentials(),
            "transport": "rest",
            "client_options": {"api_endpoint": f"http://{host_port}"},
        }
        self.instances = compute_v1.InstancesClient(**options)
        self.zone_ops = compute_v1.ZoneOperationsClient(**options)
        self.templates = compute_v1.InstanceTemplatesClient(**options)
        self.igms = compute_v1.InstanceGroupManagersClient(**options)
        self.region_igms = compute_v1.RegionInstanceGroupManagersClient(**options)
        self.region_ops = compute_v1.RegionOperationsClient(**options)
        self.global_ops = compute_v1.GlobalOperationsClient(**options)
        self.tpu = tpu_v2.TpuClient(**options)

    def _wait(self, zone: str, op: Any) -> None:
        self.zone_ops.wait(project=self.project, zone=zone, operation=op.name)

    def add(
        self,
        name: str,
        zone: str,
        labels: dict[str, str] | None = None,
        external: bool = False,
        **nic_fields: Any,
    ) -> compute_v1.Instance:
        """Create an instance and return it as Google lists it (with its addresses)."""
        nic = compute_v1.NetworkInterface(**nic_fields)
        if external:
            nic.access_configs = [compute_v1.AccessConfig(name="External NAT")]
        body = compute_v1.Instance(
            name=name,
            machine_type=f"zones/{zone}/machineTypes/n2-standard-8",
            labels=labels or {},
            network_interfaces=[nic],
        )
        self._wait(
            zone,
            self.instances.insert_unary(project=self.project, zone=zone, instance_resource=body),
        )
        return self.get(name, zone)

    def add_many(self, specs: list[tuple[str, str, dict[str, str]]], threads: int = 8) -> None:
        """Create (name, zone, labels) instances a few at a time."""
        with ThreadPoolExecutor(max_workers=threads) as pool:
            list(pool.map(lambda spec: self.add(*spec), specs))

    def get(self, name: str, zone: str) -> compute_v1.Instance:
        return self.instances.get(project=self.project, zone=zone, instance=name)

    def delete(self, name: str, zone: str) -> None:
        self._wait(
            zone, self.instances.delete_unary(project=self.project, zone=zone, instance=name)
        )

    def stop(self, name: str, zone: str) -> None:
        self._wait(zone, self.instances.stop_unary(project=self.project, zone=zone, instance=name))

    def ip(self, name: str, zone: str) -> str:
        return self.get(name, zone).network_interfaces[0].network_i_p

    def group(
        self, name: str, zone: str, size: int, labels: dict[str, str], region: str | None = None
    ) -> None:
        """A managed instance group of `size` from a template of its own: zonal, or regional
        when `region` is given."""
        template = compute_v1.InstanceTemplate(
            name=f"{name}-tpl",
            properties=compute_v1.InstanceProperties(
                machine_type="n2-standard-8",
                labels=labels,
                network_interfaces=[compute_v1.NetworkInterface()],
            ),
        )
        op = self.templates.insert_unary(project=self.project, instance_template_resource=template)
        self.global_ops.wait(project=self.project, operation=op.name)
        igm = compute_v1.InstanceGroupManager(
            name=name,
            base_instance_name=name,
            instance_template=f"global/instanceTemplates/{name}-tpl",
            target_size=size,
        )
        if region is not None:
            op = self.region_igms.insert_unary(
                project=self.project, region=region, instance_group_manager_resource=igm
            )
            self.region_ops.wait(project=self.project, region=region, operation=op.name)
            return
        self._wait(
            zone,
            self.igms.insert_unary(
                project=self.project, zone=zone, instance_group_manager_resource=igm
            ),
        )

    def members(self, group: str, zone: str) -> list[str]:
        listed = self.igms.list_managed_instances(
            project=self.project, zone=zone, instance_group_manager=group
        )
        return sorted(m.instance.rsplit("/", 1)[-1] for m in listed)

    def tpu_node(
        self, node_id: str, location: str, accelerator: str, labels: dict[str, str]
    ) -> tpu_v2.Node:
        node = tpu_v2.Node(
            accelerator_type=accelerator, runtime_version="tpu-ubuntu2204-base", labels=labels
        )
        return self.tpu.create_node(
            parent=f"projects/{self.project}/locations/{location}", node_id=node_id, node=node
        ).result(timeout=30)
