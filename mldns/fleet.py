"""Fleet sources for stack files: `from mldns import fleet`.

Record sets that follow the live fleet: `fleet.Instances(...).records("worker-{rank}",
rank_label="rank")` fills a `dns.RecordTable`; `.addresses()` and `.srv(port, target)` fill a
`dns.RecordSet`. The plan reads the fleet; `mldns reconcile` keeps the names right in a loop.
"""

from mldns.resources.fleet import Instances, ManagedInstanceGroup, Member, TpuNodes

__all__ = ["Instances", "ManagedInstanceGroup", "Member", "TpuNodes"]
