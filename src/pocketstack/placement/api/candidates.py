"""``GET /allocation_candidates`` (1.10): each request group (the unnumbered one and,
from 1.25, numbered ``resources<N>`` groups) is satisfied by one provider of a tree,
answered in the allocation-request and provider-summary shapes of the microversion."""

from __future__ import annotations

import re

from pocketstack.common.api.request import ApiRequest
from pocketstack.common.api.routes import route
from pocketstack.placement import errors
from pocketstack.placement import inventory as inv_rules
from pocketstack.placement.api import query
from pocketstack.placement.api.common import check_uuid
from pocketstack.placement.candidates import Candidate, CandidateSet, RequestGroup, find_candidate_sets
from pocketstack.placement.manager import PlacementManager

_GROUP_PARAM = re.compile(r"^(resources|required|member_of|in_tree)(.*)$")
# Numbered suffixes: digits from 1.25, any of [a-zA-Z0-9_-]{1,64} from 1.33.
_DIGITS = re.compile(r"^[1-9][0-9]*$")
_NAMED = re.compile(r"^[a-zA-Z0-9_-]{1,64}$")
_SINCE = {"limit": (1, 16), "required": (1, 17), "member_of": (1, 21), "in_tree": (1, 31),
          "group_policy": (1, 25)}


def _split_params(req: ApiRequest) -> dict[str, dict[str, list[str]]]:
    """{suffix: {param: [values]}}; 400 for unknown parameters, bad suffixes, and
    parameters newer than the request's microversion."""
    groups: dict[str, dict[str, list[str]]] = {}
    for key in req.query:
        if key in ("limit", "group_policy"):
            continue
        match = _GROUP_PARAM.match(key)
        if not match:
            raise query.bad(f"Invalid query string parameters: Additional properties are not allowed "
                            f"('{key}' was unexpected)")
        name, suffix = match.groups()
        if suffix:
            pattern = _NAMED if req.at_least(1, 33) else _DIGITS
            if not req.at_least(1, 25) or not pattern.match(suffix):
                raise query.bad(f"Invalid query string parameters: '{key}' is not a valid parameter at "
                                f"microversion {req.version}")
        groups.setdefault(suffix, {})[name] = req.query.getlist(key)
    for key, since in _SINCE.items():
        used = key in req.query or any(key in params for params in groups.values())
        if used and not req.at_least(*since):
            raise query.bad(f"Invalid query string parameters: {key} requires microversion {since[0]}.{since[1]}")
    return groups


def _group(req: ApiRequest, manager: PlacementManager, suffix: str, params: dict[str, list[str]]) -> RequestGroup:
    if "resources" not in params:
        raise query.bad(f"All request groups need resources: 'resources{suffix}' is missing for the "
                        f"parameters {', '.join(k + suffix for k in sorted(params))}.")
    if len(params["resources"]) > 1:
        raise query.bad(f"Only one 'resources{suffix}' parameter is allowed.")
    resources = query.resources(params["resources"][0])
    query.check_classes_exist(manager.catalog, resources)
    required, forbidden, any_traits = query.traits(req, params.get("required", []),
                                                   allow_forbidden=req.at_least(1, 22))
    query.check_traits_exist(manager.catalog, required | forbidden | set().union(*any_traits))
    in_tree = params.get("in_tree", [None])[-1]
    if in_tree is not None:
        check_uuid(in_tree, "in_tree")
    return RequestGroup(suffix, resources, frozenset(required), frozenset(forbidden),
                        tuple(frozenset(g) for g in any_traits),
                        tuple(frozenset(g) for g in query.member_of(req, params.get("member_of", []))), in_tree)


def _request_body(req: ApiRequest, found: CandidateSet) -> dict:
    if not req.at_least(1, 12):
        return {"allocations": [{"resource_provider": {"uuid": rp}, "resources": res}
                                for rp, res in found.allocations.items()]}
    body: dict = {"allocations": {rp: {"resources": res} for rp, res in found.allocations.items()}}
    if req.at_least(1, 34):
        body["mappings"] = found.mappings
    return body


def _summary(req: ApiRequest, c: Candidate, requested: set[str]) -> dict:
    # 1.27: summaries list every class the provider has, not only the requested ones.
    classes = {rc: inv for rc, inv in c.inventories.items() if req.at_least(1, 27) or rc in requested}
    out: dict = {"resources": {rc: {"capacity": int(inv_rules.capacity(inv)), "used": c.usages.get(rc, 0)}
                               for rc, inv in classes.items()}}
    if req.at_least(1, 17):
        out["traits"] = list(c.traits)
    if req.at_least(1, 29):
        out["parent_provider_uuid"] = c.parent_provider_uuid
        out["root_provider_uuid"] = c.root_provider_uuid
    return out


class AllocationCandidatesApi:
    def __init__(self, manager: PlacementManager):
        self.manager = manager

    @route.get("/allocation_candidates", policy="placement:allocation_candidates", since="1.10")
    def index(self, req: ApiRequest) -> dict:
        """Where the requested resources would fit, as allocation requests."""
        req.authorize()
        params = _split_params(req)
        if not params:
            raise query.bad("Invalid query string parameters: 'resources' is a required property")
        groups = [_group(req, self.manager, suffix, p) for suffix, p in sorted(params.items())]
        policy = req.query.get("group_policy")
        if policy is not None and policy not in ("none", "isolate"):
            raise query.bad(f"Invalid query string parameters: group_policy must be 'none' or 'isolate', "
                            f"got {policy!r}")
        if policy is None and sum(1 for g in groups if g.suffix) > 1:
            raise errors.GroupPolicyRequired()
        found = find_candidate_sets(self.manager.db, groups, isolate=policy == "isolate",
                                    limit=query.limit(req.query.get("limit")))
        requested = {rc for g in groups for rc in g.resources}
        summaries = {rp: _summary(req, c, requested) for f in found for rp, c in f.providers.items()}
        return {"allocation_requests": [_request_body(req, f) for f in found], "provider_summaries": summaries}
