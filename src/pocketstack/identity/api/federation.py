"""``/v3/OS-FEDERATION``: identity providers, their protocols, mappings, and the
protocol's ``auth`` route that signs an assertion's user in (keystone/api/os_federation.py).

Keystone creates identity providers, protocols and mappings with ``PUT`` on the id the
caller picks, and checks policy before it validates a body.
"""

from __future__ import annotations

from starlette.responses import Response

from pocketstack.common.api.request import ApiRequest, json_response
from pocketstack.common.api.routes import route
from pocketstack.common.validation import parse_bool, validate
from pocketstack.identity import errors
from pocketstack.identity.api import render, schemas
from pocketstack.identity.api.common import body, federated_token
from pocketstack.identity.api.saml import ecp_session, ecp_start, saml_entity
from pocketstack.identity.manager import Identity
from pocketstack.identity.x509 import client_attributes

FED = "/v3/OS-FEDERATION"
IDPS = FED + "/identity_providers"
IDP = IDPS + "/{idp_id}"
PROTOCOLS = IDP + "/protocols"
PROTOCOL = PROTOCOLS + "/{protocol_id}"
MAPPINGS = FED + "/mappings"
MAPPING = MAPPINGS + "/{mapping_id}"


def assertion_of(identity: Identity, req: ApiRequest) -> dict[str, str]:
    """The identity provider's attributes: on the TLS listener, mod_ssl's of the verified
    client certificate (identity/x509.py); elsewhere those a trusted front proxy sent
    with ``req`` (none from anyone else)."""
    certificate = client_attributes(req.raw.scope)
    if certificate is not None:
        return certificate
    peer = req.raw.client.host if req.raw.client else None
    return identity.federation.assertions.read(req.headers.items(), peer)


def _mapping_body(req: ApiRequest) -> dict:
    """The ``mapping`` object, ``schema_version`` defaulted (Keystone's ``1.0``); the
    rules are checked against the mapping schema by the manager."""
    data = req.json()
    mapping = data.get("mapping", {}) if isinstance(data, dict) else None
    if not isinstance(mapping, dict):
        raise errors.ValidationMessage(message="'mapping' must be an object")
    return {**mapping, "schema_version": mapping.get("schema_version") or "1.0"}


class FederationApi:
    def __init__(self, identity: Identity):
        self.identity = identity
        self.federation = identity.federation

    # -- identity providers --------------------------------------------------------------
    @route.get(IDPS, policy="identity:list_identity_providers")
    def list_idps(self, req: ApiRequest) -> dict:
        req.authorize()
        query = validate(dict(req.query), schemas.identity_providers_query)
        filters: dict = {"id": query["id"]} if "id" in query else {}
        if "enabled" in query:
            filters["enabled"] = parse_bool(query["enabled"], "enabled")
        return render.collection(req.service_url, "OS-FEDERATION/identity_providers", "identity_providers",
                                 [render.identity_provider(req.service_url, *idp)
                                  for idp in self.federation.list_idps(filters)])

    @route.get(IDP, policy="identity:get_identity_provider")
    def show_idp(self, req: ApiRequest) -> dict:
        req.authorize()
        idp = self.federation.get_idp(req.path_params["idp_id"])
        return {"identity_provider": render.identity_provider(req.service_url, *idp)}

    @route.put(IDP, policy="identity:create_identity_provider")
    def create_idp(self, req: ApiRequest) -> Response:
        req.authorize()
        fields = validate(req.json(), schemas.identity_provider_create).get("identity_provider", {})
        idp = self.federation.create_idp(req.path_params["idp_id"], fields)
        return json_response({"identity_provider": render.identity_provider(req.service_url, *idp)}, status=201)

    @route.patch(IDP, policy="identity:update_identity_provider")
    def update_idp(self, req: ApiRequest) -> dict:
        req.authorize()
        changes = body(req, schemas.identity_provider_update, "identity_provider")
        idp = self.federation.update_idp(req.path_params["idp_id"], changes)
        return {"identity_provider": render.identity_provider(req.service_url, *idp)}

    @route.delete(IDP, policy="identity:delete_identity_provider")
    def delete_idp(self, req: ApiRequest) -> None:
        req.authorize()
        self.federation.delete_idp(req.path_params["idp_id"])

    # -- protocols -----------------------------------------------------------------------
    @route.get(PROTOCOLS, policy="identity:list_protocols")
    def list_protocols(self, req: ApiRequest) -> dict:
        req.authorize()
        idp_id = req.path_params["idp_id"]
        return render.collection(req.service_url, f"OS-FEDERATION/identity_providers/{idp_id}/protocols", "protocols",
                                 [render.protocol(req.service_url, p, listed=True)
                                  for p in self.federation.list_protocols(idp_id)])

    @route.get(PROTOCOL, policy="identity:get_protocol")
    def show_protocol(self, req: ApiRequest) -> dict:
        req.authorize()
        p = self.federation.get_protocol(req.path_params["idp_id"], req.path_params["protocol_id"])
        return {"protocol": render.protocol(req.service_url, p)}

    @route.put(PROTOCOL, policy="identity:create_protocol")
    def create_protocol(self, req: ApiRequest) -> Response:
        req.authorize()
        fields = body(req, schemas.protocol_create, "protocol")
        p = self.federation.create_protocol(req.path_params["idp_id"], req.path_params["protocol_id"], fields)
        return json_response({"protocol": render.protocol(req.service_url, p)}, status=201)

    @route.patch(PROTOCOL, policy="identity:update_protocol")
    def update_protocol(self, req: ApiRequest) -> dict:
        req.authorize()
        changes = body(req, schemas.protocol_update, "protocol")
        p = self.federation.update_protocol(req.path_params["idp_id"], req.path_params["protocol_id"], changes)
        return {"protocol": render.protocol(req.service_url, p)}

    @route.delete(PROTOCOL, policy="identity:delete_protocol")
    def delete_protocol(self, req: ApiRequest) -> None:
        req.authorize()
        self.federation.delete_protocol(req.path_params["idp_id"], req.path_params["protocol_id"])

    # -- mappings ------------------------------------------------------------------------
    @route.get(MAPPINGS, policy="identity:list_mappings")
    def list_mappings(self, req: ApiRequest) -> dict:
        req.authorize()
        return render.collection(req.service_url, "OS-FEDERATION/mappings", "mappings",
                                 [render.mapping(req.service_url, mp) for mp in self.federation.list_mappings()])

    @route.get(MAPPING, policy="identity:get_mapping")
    def show_mapping(self, req: ApiRequest) -> dict:
        req.authorize()
        return {"mapping": render.mapping(req.service_url, self.federation.get_mapping(req.path_params["mapping_id"]))}

    @route.put(MAPPING, policy="identity:create_mapping")
    def create_mapping(self, req: ApiRequest) -> Response:
        req.authorize()
        mp = self.federation.create_mapping(req.path_params["mapping_id"], _mapping_body(req))
        return json_response({"mapping": render.mapping(req.service_url, mp)}, status=201)

    @route.patch(MAPPING, policy="identity:update_mapping")
    def update_mapping(self, req: ApiRequest) -> dict:
        req.authorize()
        mp = self.federation.update_mapping(req.path_params["mapping_id"], _mapping_body(req))
        return {"mapping": render.mapping(req.service_url, mp)}

    @route.delete(MAPPING, policy="identity:delete_mapping")
    def delete_mapping(self, req: ApiRequest) -> None:
        req.authorize()
        self.federation.delete_mapping(req.path_params["mapping_id"])

    # -- signing in ------------------------------------------------------------------------
    @route.post(PROTOCOL + "/auth", public=True)
    @route.get(PROTOCOL + "/auth", public=True)
    def auth(self, req: ApiRequest) -> Response:
        """An unscoped token for the assertion that came with the request (:func:`federated_token`)."""
        idp_id, protocol_id = req.path_params["idp_id"], req.path_params["protocol_id"]
        # A SAML identity provider: ECP's first step, or its last with the session the
        # assertion consumer opened (identity/saml.py, mod_auth_mellon's part); one of the OpenID Connect
        # front end: its bearer token's claims (identity/oidc.py, mod_auth_openidc's
        # part); the kerberos protocol, with the Kerberos front end on: the principal of
        # a Negotiate token (identity/kerberos.py, mod_auth_gssapi's part); any other: a
        # trusted proxy's headers.
        entity = saml_entity(self.identity, idp_id, protocol_id)
        oidc, kerberos = self.identity.oidc, self.identity.kerberos
        negotiated = None
        if entity is not None:
            session = ecp_session(self.identity, req, idp_id, protocol_id)
            if session is None:
                return ecp_start(self.identity, req, idp_id, protocol_id, entity)
            assertion = session
        elif oidc.handles(idp_id, protocol_id):
            assertion = oidc.assertion(idp_id, req.headers.get("authorization"))
        elif kerberos.handles(protocol_id):
            negotiated = kerberos.negotiate(req.headers.get("authorization"))
            assertion = negotiated.assertion()
        else:
            assertion = assertion_of(self.identity, req)
        vt = federated_token(self.identity, idp_id, protocol_id, assertion)
        headers = {"X-Subject-Token": vt.token, **(negotiated.response_headers if negotiated else {})}
        return json_response(self.identity.tokens.render(vt, catalog=False), status=201, headers=headers)
