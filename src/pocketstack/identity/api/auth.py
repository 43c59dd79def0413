"""Version discovery and ``/v3/auth/*``."""

from __future__ import annotations

import json

from starlette.responses import Response

from pocketstack.common.access_rules import enforces_access_rules
from pocketstack.common.api.request import ApiRequest, json_response
from pocketstack.common.api.routes import route
from pocketstack.common.validation import query_flag
from pocketstack.identity import errors
from pocketstack.identity.api import render, schemas
from pocketstack.identity.api.common import caller_id
from pocketstack.identity.api.federation import assertion_of
from pocketstack.identity.api.oauth1 import oauth_of
from pocketstack.identity.api.resources import tags_of
from pocketstack.identity.auth import ValidatedToken
from pocketstack.identity.manager import Identity
from pocketstack.identity.receipts import RECEIPT_HEADER, AuthReceiptIssued

VERSION = "v3.14"
UPDATED = "2020-04-07T00:00:00Z"
MEDIA_TYPE = "application/vnd.openstack.identity-v3+json"
TOKENS = "/v3/auth/tokens"


def version_document(base: str) -> dict:
    return {"id": VERSION, "status": "stable", "updated": UPDATED,
            "links": [{"rel": "self", "href": f"{base}/v3/"}],
            "media-types": [{"base": "application/json", "type": MEDIA_TYPE}]}


class VersionsApi:
    """Version discovery: ``/`` (300 Multiple Choices, as Keystone) and ``/v3``."""

    @route.get("/", public=True)
    def versions(self, req: ApiRequest) -> Response:
        return json_response({"versions": {"values": [version_document(req.service_url)]}}, status=300)

    @route.get("/v3", public=True)
    @route.get("/v3/", public=True)
    def version(self, req: ApiRequest) -> dict:
        return {"version": version_document(req.service_url)}


class TokensApi:
    """``/v3/auth/tokens``: issue, validate, check and revoke tokens."""

    def __init__(self, identity: Identity):
        self.identity = identity
        self.tokens = identity.tokens

    @route.post(TOKENS, public=True, body=schemas.auth)
    def issue(self, req: ApiRequest) -> Response:
        # The kerberos method: the principal of the request's Negotiate token (a 401
        # asking for one first), as mod_auth_gssapi hands Keystone REMOTE_USER.
        negotiated = (self.identity.kerberos.negotiate(req.headers.get("authorization"))
                      if self.tokens.kerberos_requested(req.data["auth"]) else None)
        try:
            vt = self.tokens.authenticate(req.data["auth"], req.headers.get(RECEIPT_HEADER),
                                           assertion_of(self.identity, req), negotiated,
                                           oauth=oauth_of(req))
        except AuthReceiptIssued as partial:
            # Keystone's answer to a login that met only part of the user's MFA rules.
            return json_response(partial.body, status=401, headers={RECEIPT_HEADER: partial.receipt_id})
        catalog = not query_flag(req.query, "nocatalog")
        if catalog:
            vt.catalog = self.tokens.catalog(vt.project.id if vt.project else None)
        headers = {"X-Subject-Token": vt.token, **(negotiated.response_headers if negotiated else {})}
        return json_response(self.tokens.render(vt, catalog=catalog), status=201, headers=headers)

    def _subject(self, req: ApiRequest, catalog: bool = False, for_a_service: bool = False) -> ValidatedToken:
        """The subject token, validated.  ``for_a_service``: validation on behalf of a
        service, which must say it enforces access rules (``OpenStack-Identity-Access-Rules``)
        for a token that has some -- Keystone's refusal of an older keystonemiddleware."""
        token = req.headers.get("x-subject-token")
        if not token:
            raise errors.SubjectTokenMissing()
        vt = self.tokens.validate(token, catalog=catalog)
        if for_a_service and vt.access_rules is not None and not enforces_access_rules(req.headers):
            raise errors.TokenNotValid(reason="Failed to validate token")
        return vt

    @route.get(TOKENS, policy="identity:validate_token")
    def validate(self, req: ApiRequest) -> Response:
        catalog = not query_flag(req.query, "nocatalog")
        vt = self._subject(req, for_a_service=True)
        req.authorize(target={"target.token.user_id": vt.user.id})
        # Rendered and encoded once per token and identity generation (auth.py).
        return Response(self.tokens.render_json(vt, catalog=catalog), media_type="application/json",
                        headers={"X-Subject-Token": vt.token})

    @route.head(TOKENS, policy="identity:validate_token")
    def check(self, req: ApiRequest) -> Response:
        vt = self._subject(req, for_a_service=True)
        req.authorize(target={"target.token.user_id": vt.user.id})
        return Response(status_code=200, headers={"X-Subject-Token": vt.token})

    @route.delete(TOKENS, policy="identity:revoke_token")
    def revoke(self, req: ApiRequest) -> None:
        vt = self._subject(req)
        req.authorize(target={"target.token.user_id": vt.user.id})
        self.identity.revoke.revoke_token(vt.payload)


class AuthScopesApi:
    """What the caller's token may reach: ``/v3/auth/catalog``, ``projects``, ``domains``
    and ``system`` (any valid token; no policy, as in Keystone)."""

    def __init__(self, identity: Identity):
        self.identity = identity

    @route.get("/v3/auth/catalog")
    def catalog(self, req: ApiRequest) -> Response:
        ctx = req.caller
        if ctx.scope == "unscoped":
            raise errors.UnscopedCatalog()
        # The catalog's JSON is encoded once per identity generation (auth.py).
        links = json.dumps({"self": f"{req.service_url}/v3/auth/catalog", "previous": None, "next": None})
        return Response(b'{"catalog": ' + self.identity.tokens.catalog_json(ctx.project_id)
                        + b', "links": ' + links.encode() + b"}", media_type="application/json")

    def _token_groups(self, req: ApiRequest) -> list[str]:
        """The groups a federated caller's token carries (none for other tokens)."""
        token = req.caller.auth_token
        return self.identity.tokens.validate(token).payload.group_ids if token else []

    @route.get("/v3/auth/projects")
    @route.get("/v3/OS-FEDERATION/projects")  # deprecated, the same (Keystone)
    def projects(self, req: ApiRequest) -> dict:
        projects = [p for p in self.identity.assignment.projects_for_user(caller_id(req), self._token_groups(req))
                    if p.enabled]
        tags = tags_of(self.identity, [p.id for p in projects])
        return render.collection(req.service_url, "auth/projects", "projects",
                                 [render.project(req.service_url, p, tags[p.id]) for p in projects])

    @route.get("/v3/auth/domains")
    @route.get("/v3/OS-FEDERATION/domains")  # deprecated, the same (Keystone)
    def domains(self, req: ApiRequest) -> dict:
        domains = [d for d in self.identity.assignment.domains_for_user(caller_id(req), self._token_groups(req))
                   if d.enabled]
        return render.collection(req.service_url, "auth/domains", "domains",
                                 [render.domain(req.service_url, d) for d in domains])

    @route.get("/v3/auth/system")
    def system(self, req: ApiRequest) -> dict:
        with self.identity.db.session(readonly=True) as s:
            roles = self.identity.assignment.effective_roles(s, caller_id(req), system=True,
                                                             groups=self._token_groups(req))
        return {"system": [{"all": True}] if roles else [],
                "links": {"self": f"{req.service_url}/v3/auth/system", "previous": None, "next": None}}
