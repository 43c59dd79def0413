"""``/v3/credentials``, ``/v3/users/{user_id}/credentials/OS-EC2`` and ``/v3/ec2tokens``.

Users manage their own credentials, administrators everyone's (Keystone's defaults).
A delegated token (trust-scoped, from an application credential or an OAuth access
token) reaches only the credentials of its own project, and a restricted application
credential cannot make EC2 credentials: either could otherwise mint a secret that
outlives the delegation (identity/api/delegation.py).
"""

from __future__ import annotations

import json
import uuid
from typing import Any

from starlette.responses import Response

from pocketstack.common.api.request import ApiRequest, json_response
from pocketstack.common.api.routes import route
from pocketstack.common.validation import query_flag
from pocketstack.identity import errors
from pocketstack.identity import models as m
from pocketstack.identity.api import render, schemas
from pocketstack.identity.api.common import body
from pocketstack.identity.api.delegation import in_delegated_scope, refuse_restricted
from pocketstack.identity.credentials import EC2, hash_access_key
from pocketstack.identity.manager import Identity

CREDENTIALS = "/v3/credentials"
CREDENTIAL = CREDENTIALS + "/{credential_id}"
EC2_CREDENTIALS = "/v3/users/{user_id}/credentials/OS-EC2"


def _delegation(req: ApiRequest) -> dict[str, str]:
    """What an ec2 credential made with this token keeps of its delegation, so that
    ``/v3/ec2tokens`` issues no more than the token that made it could."""
    ctx = req.caller
    found = {"trust_id": ctx.trust_id, "app_cred_id": ctx.application_credential_id,
             "access_token_id": ctx.access_token_id}
    return {k: v for k, v in found.items() if v}


class CredentialsApi:
    def __init__(self, identity: Identity):
        self.identity = identity
        self.credentials = identity.credentials

    def _check_scope(self, req: ApiRequest, cred: m.Credential) -> None:
        if not in_delegated_scope(req, cred.project_id):
            raise errors.ForbiddenAction(action="Credential project does not match the project scope of the "
                                                "delegated token")

    def _render(self, req: ApiRequest, cred: m.Credential) -> dict:
        return render.credential(req.service_url, cred, self.credentials.blob(cred))

    @route.get(CREDENTIALS, policy="identity:list_credentials")
    def index(self, req: ApiRequest) -> dict:
        ctx = req.caller
        req.authorize(target=None if ctx.system_scope else {"target.credential.user_id": ctx.user_id})
        found = self.credentials.list_credentials(user_id=req.query.get("user_id"), type=req.query.get("type"))
        visible = [c for c in found if req.allowed("identity:get_credential", {"target.credential.user_id": c.user_id})
                   and in_delegated_scope(req, c.project_id)]
        return render.collection(req.service_url, "credentials", "credentials",
                                 [self._render(req, c) for c in visible])

    @route.post(CREDENTIALS, policy="identity:create_credential", body=schemas.credential_create)
    def create(self, req: ApiRequest):
        fields = req.data["credential"]
        req.authorize(target={"target.credential.user_id": fields["user_id"]})
        if fields["type"] == EC2:
            refuse_restricted(self.identity, req, "credentials")
        if not in_delegated_scope(req, fields.get("project_id")):
            raise errors.ForbiddenAction(action="Credential project does not match the project scope of the "
                                                "delegated token")
        cred = self.credentials.create(fields, delegation=_delegation(req))
        return json_response({"credential": self._render(req, cred)}, status=201)

    def _authorized(self, req: ApiRequest) -> m.Credential:
        """The credential of the path, after the policy check on it (403 for a caller who
        may not see it, whether or not it exists; 404 for one who may)."""
        found = self.credentials.find(req.path_params["credential_id"])
        req.authorize(target={"target.credential.user_id": found.user_id} if found else {})
        if found is None:
            raise errors.CredentialNotFound(credential_id=req.path_params["credential_id"])
        self._check_scope(req, found)
        return found

    @route.get(CREDENTIAL, policy="identity:get_credential")
    def show(self, req: ApiRequest) -> dict:
        return {"credential": self._render(req, self._authorized(req))}

    @route.patch(CREDENTIAL, policy="identity:update_credential")
    def update(self, req: ApiRequest) -> dict:
        current = self._authorized(req)
        changes = body(req, schemas.credential_update, "credential")
        if changes.get("id") is not None and changes["id"] != current.id:
            raise errors.ValidationMessage(message="Cannot change ID")
        # The owner may not hand the credential to someone else.
        req.authorize(target={"target.credential.user_id": changes.get("user_id", current.user_id)})
        cred = self.credentials.update(current.id, changes)
        return {"credential": self._render(req, cred)}

    @route.delete(CREDENTIAL, policy="identity:delete_credential")
    def delete(self, req: ApiRequest) -> None:
        self.credentials.delete(self._authorized(req).id)


class Ec2CredentialsApi:
    """EC2 credentials of a user: an ``ec2`` credential with a generated access key and
    secret, named in the path by its access key."""

    def __init__(self, identity: Identity):
        self.identity = identity
        self.credentials = identity.credentials

    def _ec2(self, req: ApiRequest, cred: m.Credential) -> dict:
        return render.ec2_credential(req.service_url, cred, json.loads(self.credentials.blob(cred)))

    @route.get(EC2_CREDENTIALS, policy="identity:ec2_list_credentials")
    def index(self, req: ApiRequest) -> dict:
        user_id = req.path_params["user_id"]
        req.authorize(target={"target.user.id": user_id})
        self.identity.users.get_user(user_id)
        creds = [c for c in self.credentials.list_credentials(user_id=user_id, type=EC2)
                 if in_delegated_scope(req, c.project_id)]
        return render.collection(req.service_url, f"users/{user_id}/credentials/OS-EC2", "credentials",
                                 [self._ec2(req, c) for c in creds])

    @route.post(EC2_CREDENTIALS, policy="identity:ec2_create_credential", body_required=False)
    def create(self, req: ApiRequest):
        user_id = req.path_params["user_id"]
        req.authorize(target={"target.credential.user_id": user_id})
        refuse_restricted(self.identity, req, "application credentials")
        self.identity.users.get_user(user_id)
        data = req.json(required=False) or {}
        tenant_id = data.get("tenant_id") if isinstance(data, dict) else None
        if not isinstance(tenant_id, str):
            raise errors.ProjectNotFound(project_id=tenant_id)
        self.identity.resource.get_project(tenant_id)
        if not in_delegated_scope(req, tenant_id):
            raise errors.ForbiddenAction(action="EC2 credential project does not match the project scope of the "
                                                "delegated token")
        blob = {"access": uuid.uuid4().hex, "secret": uuid.uuid4().hex, "trust_id": req.caller.trust_id}
        cred = self.credentials.create({"user_id": user_id, "project_id": tenant_id, "type": EC2,
                                        "blob": json.dumps(blob)}, delegation={})
        return json_response({"credential": self._ec2(req, cred)}, status=201)

    def _load(self, req: ApiRequest) -> m.Credential:
        """The credential named by its access key, 404 when there is none, 401 when it
        is not an ec2 one (Keystone's answers); policy checked on its owner."""
        cred = self.credentials.get(hash_access_key(req.path_params["access"]))
        req.authorize(target={"target.credential.user_id": cred.user_id})
        self.identity.users.get_user(req.path_params["user_id"])
        if cred.type != EC2:
            raise errors.Ec2AuthenticationFailed(reason="EC2 access key not found.")
        if not in_delegated_scope(req, cred.project_id):
            raise errors.ForbiddenAction(action="EC2 credential project does not match the project scope of the "
                                                "delegated token")
        return cred

    @route.get(EC2_CREDENTIALS + "/{access}", policy="identity:ec2_get_credential")
    def show(self, req: ApiRequest) -> dict:
        return {"credential": self._ec2(req, self._load(req))}

    @route.delete(EC2_CREDENTIALS + "/{access}", policy="identity:ec2_delete_credential")
    def delete(self, req: ApiRequest) -> None:
        self.credentials.delete(self._load(req).id)


class Ec2TokensApi:
    def __init__(self, identity: Identity):
        self.identity = identity

    @route.post("/v3/ec2tokens", policy="identity:ec2tokens_validate", body_required=False)
    def issue(self, req: ApiRequest) -> Response:
        req.authorize()
        data: Any = req.json(required=False)
        if data is not None and not isinstance(data, dict):
            raise errors.ValidationMessage(message="request must include a request body")
        vt = self.identity.ec2tokens.authenticate(data)
        catalog = not query_flag(req.query, "nocatalog")
        if catalog:
            with self.identity.db.session(readonly=True) as s:
                vt.catalog = self.identity.catalog.build_catalog(s, vt.project.id if vt.project else None)
        return json_response(self.identity.tokens.render(vt, catalog=catalog), headers={"X-Subject-Token": vt.token})
