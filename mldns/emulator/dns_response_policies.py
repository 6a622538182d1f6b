"""Cloud DNS v1 response policies and their rules: `projects/{p}/responsePolicies[/{rp}/rules]`.

A response policy answers chosen names for the networks (or GKE clusters) it is bound to before
any zone does: a rule gives local data (record sets, wildcards allowed) or lets a name bypass
the policy. A network is bound to at most one response policy; the emulator refuses a second one
with a 400 `invalid` naming the policy that holds it (Google does not document its error).
"""

from __future__ import annotations

import bisect
import re
from typing import Any

import dns.exception
import dns.name

from .call import Call, Reply
from .dns_networks import check_networks, google_url
from .errors import already_exists, invalid, invalid_parameter, not_found, quota_exceeded
from .ids import decode_token, encode_token, new_id
from .records import check_rrset
from .schema import validate
from .store import Project, Store

PREFIX = "/dns/v1/projects/<project>/responsePolicies"
MAX_PAGE = 1000
NAME = re.compile(r"^[a-z]([-a-z0-9]{0,61}[a-z0-9])?$")
POLICIES = "responsePolicies"
WHERE = "entity.responsePolicy"
RULE_WHERE = "entity.responsePolicyRule"
POLICY_FIELDS: dict[str, Any] = {"description": "", "networks": [], "gkeClusters": [], "labels": {}}
RULE_FIELDS = ("dnsName", "localData", "behavior")


def policies(project: Project) -> dict[str, Any]:
    """Response policies by name, each `{"resource": ..., "rules": {name: rule}}`."""
    return project.collection(POLICIES)


def _project(call: Call) -> Project:
    project_id = call.params["project"]
    project = call.store.project(project_id)
    if project is None:
        raise not_found(f"The 'parameters.project' resource named '{project_id}' does not exist.")
    return project


def _entry(call: Call) -> tuple[Project, dict[str, Any]]:
    project = _project(call)
    name = call.params["policy"]
    entry = policies(project).get(name)
    if entry is None:
        raise not_found(f"The 'parameters.responsePolicy' resource named '{name}' does not exist.")
    return project, entry


def _page(call: Call, items: dict[str, Any], key: str, view) -> dict[str, Any]:
    limit = call.int_arg("maxResults", MAX_PAGE, MAX_PAGE)
    names = sorted(items)
    start = 0
    token = call.query.get("pageToken")
    if token:
        try:
            start = bisect.bisect_right(names, str(decode_token(token)))
        except ValueError:
            raise invalid_parameter(f"Invalid value for parameter 'pageToken': '{token}'") from None
    page = names[start : start + limit]
    reply: dict[str, Any] = {key: [view(items[n]) for n in page]}
    if start + limit < len(names):
        reply["nextPageToken"] = encode_token(page[-1])
    return reply


# ---------------------------------------------------------------- policies


def _check_policy(store: Store, project: Project, policy: dict[str, Any]) -> None:
    quota = store.quota
    if len(policy.get("description") or "") > 1024:
        raise invalid(f"Invalid value for '{WHERE}.description': longer than 1024 characters")
    networks = check_networks(policy.get("networks"), f"{WHERE}.networks")
    if len(networks) > quota["networksPerResponsePolicy"]:
        raise quota_exceeded(
            f"Quota exceeded for 'networksPerResponsePolicy': {len(networks)} > "
            f"{quota['networksPerResponsePolicy']}"
        )
    clusters = [c.get("gkeClusterName") for c in policy.get("gkeClusters") or []]
    for i, cluster in enumerate(clusters):
        if not cluster:
            raise invalid(f"Required field '{WHERE}.gkeClusters[{i}].gkeClusterName' not specified")
    if len(clusters) > quota["gkeClustersPerResponsePolicy"]:
        raise quota_exceeded("Quota exceeded for 'gkeClustersPerResponsePolicy'")
    for other_project in store.projects.values():
        for other in policies(other_project).values():
            resource = other["resource"]
            if (
                other_project is project
                and resource["responsePolicyName"] == policy["responsePolicyName"]
            ):
                continue
            taken = set(check_networks(resource.get("networks"), "")) & set(networks)
            if taken:
                raise invalid(
                    f"Invalid value for '{WHERE}.networks': the network {min(taken)} is already "
                    f"bound to response policy '{resource['responsePolicyName']}'; a network has "
                    "at most one response policy"
                )
    policy["networks"] = [
        {**item, "networkUrl": google_url(path)}
        for item, path in zip(policy.get("networks") or [], networks, strict=True)
    ]


def _with_fields(policy: dict[str, Any], fields: dict[str, Any]) -> dict[str, Any]:
    new = dict(policy)
    for key, value in fields.items():
        new[key] = POLICY_FIELDS[key] if value is None else value
    return new


def create_policy(call: Call) -> Reply:
    body = call.body or {}
    validate("dns", "ResponsePolicy", body, WHERE)
    project = _project(call)
    name = body.get("responsePolicyName")
    if not isinstance(name, str) or not name:
        raise invalid(f"Required field '{WHERE}.responsePolicyName' not specified")
    if not NAME.match(name):
        raise invalid(f"Invalid value for '{WHERE}.responsePolicyName': '{name}'")
    table = policies(project)
    if name in table:
        raise already_exists(f"The resource '{WHERE}' named '{name}' already exists")
    if len(table) >= call.store.quota["responsePolicies"]:
        raise quota_exceeded("Quota exceeded for 'responsePolicies'")
    resource = _with_fields(
        {"kind": "dns#responsePolicy", "id": new_id(), "responsePolicyName": name},
        {k: body.get(k) for k in POLICY_FIELDS},
    )
    _check_policy(call.store, project, resource)
    table[name] = {"resource": resource, "rules": {}}
    return 200, resource


def get_policy(call: Call) -> Reply:
    return 200, _entry(call)[1]["resource"]


def list_policies(call: Call) -> Reply:
    table = policies(_project(call))
    return 200, _page(call, table, "responsePolicies", lambda e: e["resource"])


def patch_policy(call: Call) -> Reply:
    return _modify_policy(call, full=False)


def update_policy(call: Call) -> Reply:
    return _modify_policy(call, full=True)


def _modify_policy(call: Call, full: bool) -> Reply:
    body = call.body or {}
    validate("dns", "ResponsePolicy", body, WHERE)
    project, entry = _entry(call)
    old = entry["resource"]
    if body.get("responsePolicyName") not in (None, old["responsePolicyName"]):
        raise invalid(f"Invalid value for '{WHERE}.responsePolicyName': it cannot be changed")
    new = _with_fields(old, {k: body.get(k) for k in POLICY_FIELDS if full or k in body})
    _check_policy(call.store, project, new)
    entry["resource"] = new
    return 200, {"responsePolicy": new}


def delete_policy(call: Call) -> Reply:
    project, entry = _entry(call)
    if entry["rules"]:
        raise invalid(
            f"The response policy '{call.params['policy']}' cannot be deleted because it still "
            f"holds {len(entry['rules'])} rule(s); delete them first"
        )
    del policies(project)[call.params["policy"]]
    return 204, None


# ---------------------------------------------------------------- rules


def _check_dns_name(value: Any, where: str) -> str:
    if not isinstance(value, str) or not value:
        raise invalid(f"Required field '{where}.dnsName' not specified")
    if not value.endswith("."):
        raise invalid(f"Invalid value for '{where}.dnsName': '{value}' (must end in '.')")
    labels = value[:-1].split(".")
    if "*" in "".join(labels[1:]) or ("*" in labels[0] and labels[0] != "*"):
        raise invalid(
            f"Invalid value for '{where}.dnsName': '{value}' (a wildcard is a whole leftmost label)"
        )
    try:
        dns.name.from_text(value)
    except dns.exception.DNSException:
        raise invalid(f"Invalid value for '{where}.dnsName': '{value}'") from None
    return value.lower()


def _check_rule(store: Store, rule: dict[str, Any]) -> dict[str, Any]:
    dns_name = _check_dns_name(rule.get("dnsName"), RULE_WHERE)
    rule = {**rule, "dnsName": dns_name}
    datas = (rule.get("localData") or {}).get("localDatas") or []
    behavior = rule.get("behavior")
    if behavior in (None, "behaviorUnspecified"):
        rule.pop("behavior", None)
        behavior = None
    if bool(datas) == bool(behavior):
        raise invalid(
            f"Invalid value for '{RULE_WHERE}': give localData.localDatas or "
            "behavior: bypassResponsePolicy, exactly one"
        )
    clean, seen = [], set()
    for i, rrset in enumerate(datas):
        at = f"{RULE_WHERE}.localData.localDatas[{i}]"
        if str(rrset.get("name", "")).lower() != dns_name:
            raise invalid(f"Invalid value for '{at}.name': it must equal the rule's dnsName")
        if rrset.get("routingPolicy"):
            raise invalid(f"Invalid value for '{at}.routingPolicy': local data has rrdatas only")
        checked = check_rrset(
            {**rrset, "name": dns_name}, {"dnsName": dns_name}, at, store.quota, lambda p, n: False
        )
        if checked["type"] in seen:
            raise invalid(f"Invalid value for '{at}.type': {checked['type']} is given twice")
        seen.add(checked["type"])
        clean.append(checked)
    if clean:
        rule["localData"] = {"localDatas": clean}
    else:
        rule.pop("localData", None)
    return rule


def _rule(entry: dict[str, Any], name: str) -> dict[str, Any]:
    rule = entry["rules"].get(name)
    if rule is None:
        raise not_found(
            f"The 'parameters.responsePolicyRule' resource named '{name}' does not exist."
        )
    return rule


def create_rule(call: Call) -> Reply:
    body = call.body or {}
    validate("dns", "ResponsePolicyRule", body, RULE_WHERE)
    _, entry = _entry(call)
    name = body.get("ruleName")
    if not isinstance(name, str) or not name:
        raise invalid(f"Required field '{RULE_WHERE}.ruleName' not specified")
    if not NAME.match(name):
        raise invalid(f"Invalid value for '{RULE_WHERE}.ruleName': '{name}'")
    if name in entry["rules"]:
        raise already_exists(f"The resource '{RULE_WHERE}' named '{name}' already exists")
    if len(entry["rules"]) >= call.store.quota["responsePolicyRulesPerResponsePolicy"]:
        raise quota_exceeded("Quota exceeded for 'responsePolicyRulesPerResponsePolicy'")
    _unique_dns_name(entry, body.get("dnsName"), name)
    rule = _check_rule(
        call.store,
        {"kind": "dns#responsePolicyRule", "ruleName": name}
        | {k: body[k] for k in RULE_FIELDS if body.get(k) is not None},
    )
    entry["rules"][name] = rule
    return 200, rule


def _unique_dns_name(entry: dict[str, Any], dns_name: Any, rule_name: str) -> None:
    """One rule per name in a policy (an assumption: Google keys rules by name as RPZ does)."""
    wanted = str(dns_name or "").lower()
    for other in entry["rules"].values():
        if other["ruleName"] != rule_name and other["dnsName"] == wanted:
            raise already_exists(
                f"The rule '{other['ruleName']}' already answers '{wanted}' in this response policy"
            )


def get_rule(call: Call) -> Reply:
    _, entry = _entry(call)
    return 200, _rule(entry, call.params["rule"])


def list_rules(call: Call) -> Reply:
    _, entry = _entry(call)
    return 200, _page(call, entry["rules"], "responsePolicyRules", lambda r: r)


def patch_rule(call: Call) -> Reply:
    return _modify_rule(call, full=False)


def update_rule(call: Call) -> Reply:
    return _modify_rule(call, full=True)


def _modify_rule(call: Call, full: bool) -> Reply:
    body = call.body or {}
    validate("dns", "ResponsePolicyRule", body, RULE_WHERE)
    _, entry = _entry(call)
    name = call.params["rule"]
    old = _rule(entry, name)
    if body.get("ruleName") not in (None, name):
        raise invalid(f"Invalid value for '{RULE_WHERE}.ruleName': it cannot be changed")
    new = {k: v for k, v in old.items() if not full or k not in RULE_FIELDS}
    for key in RULE_FIELDS:
        if key in body:
            if body[key] is None:
                new.pop(key, None)
            else:
                new[key] = body[key]
    if body.get("localData"):
        new.pop("behavior", None)
    elif body.get("behavior") not in (None, "behaviorUnspecified"):
        new.pop("localData", None)
    _unique_dns_name(entry, new.get("dnsName"), name)
    rule = _check_rule(call.store, new)
    entry["rules"][name] = rule
    return 200, {"responsePolicyRule": rule}


def delete_rule(call: Call) -> Reply:
    _, entry = _entry(call)
    _rule(entry, call.params["rule"])
    del entry["rules"][call.params["rule"]]
    return 204, None


RULES = [
    (PREFIX, ["GET"], list_policies),
    (PREFIX, ["POST"], create_policy),
    (f"{PREFIX}/<policy>", ["GET"], get_policy),
    (f"{PREFIX}/<policy>", ["PATCH"], patch_policy),
    (f"{PREFIX}/<policy>", ["PUT"], update_policy),
    (f"{PREFIX}/<policy>", ["DELETE"], delete_policy),
    (f"{PREFIX}/<policy>/rules", ["GET"], list_rules),
    (f"{PREFIX}/<policy>/rules", ["POST"], create_rule),
    (f"{PREFIX}/<policy>/rules/<rule>", ["GET"], get_rule),
    (f"{PREFIX}/<policy>/rules/<rule>", ["PATCH"], patch_rule),
    (f"{PREFIX}/<policy>/rules/<rule>", ["PUT"], update_rule),
    (f"{PREFIX}/<policy>/rules/<rule>", ["DELETE"], delete_rule),
]
