"""``/v3/OS-TRUST/trusts``: create, list, show and delete trusts, and read the roles a
trust delegates.  A token from an application credential may not touch trusts at all
(Keystone: otherwise a leaked credential could widen itself through the trust chain),
and an OAuth token may not create one (only a trust is redelegated; identity/trusts.py)."""

from __future__ import annotations

from typing import Any

from pocketstack.common.api.request import ApiRequest, json_response
from pocketstack.common.api.routes import route
from pocketstack.identity import errors
from pocketstack.identity import models as m
from pocketstack.identity.api import render, schemas
from pocketstack.identity.api.common import caller_id
from pocketstack.identity.api.delegation import refuse_application_credential_on_trusts
from pocketstack.identity.manager import Identity

TRUSTS = "/v3/OS-TRUST/trusts"
TRUST = TRUSTS + "/{trust_id}"


def _target(trust: m.Trust) -> dict[str, Any]:
    return {"target.trust.trustor_user_id": trust.trustor_user_id,
            "target.trust.trustee_user_id": trust.trustee_user_id}


class TrustsApi:
    def __init__(self, identity: Identity):
        self.identity = identity
        self.trusts = identity.trusts

    @route.get(TRUSTS, policy="identity:list_trusts")
    @route.head(TRUSTS, policy="identity:list_trusts")
    def index(self, req: ApiRequest) -> dict:
        trustor, trustee = req.query.get("trustor_user_id"), req.query.get("trustee_user_id")
        if trustor:
            req.authorize("identity:list_trusts_for_trustor", {"target.trust.trustor_user_id": trustor})
        elif trustee:
            req.authorize("identity:list_trusts_for_trustee", {"target.trust.trustee_user_id": trustee})
        else:
            req.authorize()
        refuse_application_credential_on_trusts(req)
        trusts = self.trusts.list_trusts(trustor_user_id=trustor, trustee_user_id=None if trustor else trustee)
        return render.collection(req.service_url, "OS-TRUST/trusts", "trusts",
                                 [render.trust(req.service_url, t) for t in trusts])

    @route.post(TRUSTS, policy="identity:create_trust", body=schemas.trust_create)
    def create(self, req: ApiRequest):
        fields = req.data["trust"]
        req.authorize(target={"target.trust.trustor_user_id": fields["trustor_user_id"]})
        refuse_application_credential_on_trusts(req)
        if fields.get("project_id") and not fields.get("roles"):
            raise errors.ForbiddenAction(action="At least one role should be specified")
        if caller_id(req) != fields["trustor_user_id"]:
            raise errors.ForbiddenAction(action="The authenticated user should match the trustor")
        trust = self.trusts.create(fields, caller_trust_id=req.caller.trust_id,
                                   caller_oauth=req.caller.access_token_id is not None)
        return json_response({"trust": self._full(req, trust)}, status=201)

    def _load(self, req: ApiRequest, rule: str | None = None) -> m.Trust:
        """The trust of the path: 404 before the policy check, as Keystone answers."""
        trust = self.trusts.get(req.path_params["trust_id"])
        req.authorize(rule, target=_target(trust))
        refuse_application_credential_on_trusts(req)
        return trust

    def _full(self, req: ApiRequest, trust: m.Trust) -> dict:
        with self.identity.db.session(readonly=True) as s:
            roles = self.trusts.roles(s, trust)
        return render.trust(req.service_url, trust, roles)

    @route.get(TRUST, policy="identity:get_trust")
    @route.head(TRUST, policy="identity:get_trust")
    def show(self, req: ApiRequest) -> dict:
        return {"trust": self._full(req, self._load(req))}

    @route.delete(TRUST, policy="identity:delete_trust")
    def delete(self, req: ApiRequest) -> None:
        self._load(req)
        self.trusts.delete(req.path_params["trust_id"])

    @route.get(TRUST + "/roles", policy="identity:list_roles_for_trust")
    @route.head(TRUST + "/roles", policy="identity:list_roles_for_trust")
    def roles(self, req: ApiRequest) -> dict:
        trust = self._load(req)
        body = self._full(req, trust)
        return {"roles": body["roles"], "links": body["roles_links"]}

    @route.get(TRUST + "/roles/{role_id}", policy="identity:get_role_for_trust")
    @route.head(TRUST + "/roles/{role_id}", policy="identity:get_role_for_trust")
    def role(self, req: ApiRequest) -> dict:
        trust, role_id = self._load(req), req.path_params["role_id"]
        if role_id not in trust.roles:
            raise errors.RoleNotFound(role_id=role_id)
        return {"role": render.role(req.service_url, self.identity.assignment.get_role(role_id))}
