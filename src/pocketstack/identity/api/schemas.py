"""JSON Schemas of the Identity API's request bodies (Keystone's rules).

Entities that Keystone lets carry extra attributes (projects, users, groups, roles,
the catalog) allow them; the rest reject unknown attributes with a 400.
"""

from __future__ import annotations

from typing import Any

from pocketstack.common.validation import BOOLEAN, DESCRIPTION, ID, NULLABLE_ID


def _string(max_length: int, min_length: int = 1) -> dict:
    return {"type": "string", "minLength": min_length, "maxLength": max_length}


def _envelope(key: str, properties: dict, required: list[str] | None = None,
              extra: bool = True, min_properties: int = 0) -> dict:
    inner = {"type": "object", "properties": properties, "additionalProperties": extra}
    if required:
        inner["required"] = required
    if min_properties:
        inner["minProperties"] = min_properties
    return {"type": "object", "properties": {key: inner}, "required": [key], "additionalProperties": False}


TAG = {"type": "string", "minLength": 1, "maxLength": 255, "pattern": "^[^,/]*$"}
TAGS = {"type": "array", "items": TAG, "maxItems": 80, "uniqueItems": True}
OPTIONS = {"type": "object"}
PROJECT_NAME = _string(64)

_PROJECT = {"name": PROJECT_NAME, "description": DESCRIPTION, "domain_id": NULLABLE_ID, "parent_id": NULLABLE_ID,
            "enabled": BOOLEAN, "is_domain": BOOLEAN, "tags": TAGS, "options": OPTIONS}
_DOMAIN = {"name": PROJECT_NAME, "description": DESCRIPTION, "enabled": BOOLEAN, "tags": TAGS,
           "options": OPTIONS, "explicit_domain_id": ID}
# Keystone's MFA user options (resource_options.py): rules are a list of distinct,
# non-empty lists of distinct method names; null removes an option.
USER_OPTIONS = {"type": "object", "properties": {
    "multi_factor_auth_rules": {"type": ["array", "null"], "uniqueItems": True, "items": {
        "type": "array", "items": {"type": "string"}, "minItems": 1, "uniqueItems": True}},
    "multi_factor_auth_enabled": {"type": ["boolean", "null"]}}}
_USER = {"name": _string(255), "domain_id": ID, "password": {"type": ["string", "null"], "maxLength": 4096},
         "enabled": BOOLEAN, "default_project_id": NULLABLE_ID, "description": DESCRIPTION,
         "options": USER_OPTIONS}
_GROUP = {"name": _string(64), "domain_id": ID, "description": DESCRIPTION}
_ROLE = {"name": _string(255), "domain_id": NULLABLE_ID, "description": DESCRIPTION, "options": OPTIONS}
_REGION = {"id": _string(255), "parent_region_id": {"type": ["string", "null"]}, "description": DESCRIPTION}
_SERVICE = {"type": _string(255), "name": {"type": "string", "maxLength": 255}, "enabled": BOOLEAN,
            "description": DESCRIPTION}
_ENDPOINT = {"service_id": ID, "interface": {"type": "string", "enum": ["public", "internal", "admin"]},
             "url": {"type": "string", "minLength": 1, "maxLength": 225, "pattern": "^[a-zA-Z0-9+.-]+://"},
             "region_id": {"type": ["string", "null"]}, "region": {"type": ["string", "null"]},
             "enabled": BOOLEAN}

project_create = _envelope("project", _PROJECT, ["name"])
project_update = _envelope("project", _PROJECT, min_properties=1)
domain_create = _envelope("domain", _DOMAIN, ["name"])
domain_update = _envelope("domain", _DOMAIN, min_properties=1)
user_create = _envelope("user", _USER, ["name"])
user_update = _envelope("user", _USER, min_properties=1)
group_create = _envelope("group", _GROUP, ["name"])
group_update = _envelope("group", _GROUP, min_properties=1)
role_create = _envelope("role", _ROLE, ["name"])
role_update = _envelope("role", _ROLE, min_properties=1)
region_create = _envelope("region", _REGION)
region_update = _envelope("region", {k: v for k, v in _REGION.items() if k != "id"}, min_properties=1)
service_create = _envelope("service", _SERVICE, ["type"])
service_update = _envelope("service", _SERVICE, min_properties=1)
# Keystone's policy schema: a string blob and a type of at most 255 characters.
_POLICY = {"blob": {"type": "string"}, "type": {"type": "string", "maxLength": 255}}
policy_create = _envelope("policy", _POLICY, ["blob", "type"])
policy_update = _envelope("policy", _POLICY, min_properties=1)
endpoint_create = _envelope("endpoint", _ENDPOINT, ["service_id", "interface", "url"])
endpoint_update = _envelope("endpoint", _ENDPOINT, min_properties=1)
password_change = _envelope("user", {"password": _string(4096), "original_password": _string(4096)},
                            ["password", "original_password"], extra=False)
app_cred_create = _envelope("application_credential", {
    "name": _string(255), "secret": {"type": ["string", "null"], "minLength": 1},
    "description": DESCRIPTION, "expires_at": {"type": ["string", "null"]},
    "unrestricted": {"type": ["boolean", "null"]},
    "roles": {"type": "array", "items": {"type": "object", "properties": {"id": ID, "name": _string(255)},
                                         "minProperties": 1, "additionalProperties": False}},
    "access_rules": {"type": "array", "items": {
        "type": "object", "additionalProperties": False,
        "properties": {"id": {"type": "string", "minLength": 1, "maxLength": 64, "pattern": "^[a-zA-Z0-9-]+$"},
                       "service": {"type": "string", "minLength": 1, "maxLength": 64,
                                   "pattern": "^[a-zA-Z0-9-]+$"},
                       "path": {"type": "string", "maxLength": 225, "pattern": "^/"},
                       "method": {"enum": ["DELETE", "GET", "HEAD", "PATCH", "POST", "PUT"]}},
        # By id (one the user has) or by what it allows.
        "anyOf": [{"required": ["id"]}, {"required": ["service", "path", "method"]}]}},
}, ["name"], extra=False)
# POST /v3/auth/tokens, as Keystone's ``token_issue`` schema: every id, name and secret
# a string, every reference an object.  Presence rules ("id or name") stay in the code,
# which answers them with Keystone's own messages.
_STRING = {"type": "string"}
_REF: dict[str, Any] = {"type": "object", "properties": {"id": _STRING, "name": _STRING}}
_USER_REF: dict[str, Any] = {"type": "object", "properties": {"id": _STRING, "name": _STRING, "domain": _REF}}
auth = {
    "type": "object",
    "properties": {"auth": {"type": "object", "properties": {
        "identity": {"type": "object", "properties": {
            "methods": {"type": "array", "items": _STRING, "minItems": 1},
            "password": {"type": "object", "properties": {
                "user": {"type": "object", "properties": {**_USER_REF["properties"], "password": _STRING}}}},
            "token": {"type": "object", "properties": {"id": _STRING}, "required": ["id"]},
            "application_credential": {"type": "object", "properties": {
                "id": _STRING, "name": _STRING, "secret": _STRING, "user": _USER_REF}},
            "totp": {"type": "object", "properties": {
                "user": {"type": "object", "properties": {**_USER_REF["properties"], "passcode": _STRING}}},
                "required": ["user"]}},
            "required": ["methods"]},
        # "unscoped" as a string, or {"unscoped": {}} from old keystoneauth releases.
        "scope": {"type": ["object", "string"], "properties": {
            "project": {"type": "object", "properties": {"id": _STRING, "name": _STRING, "domain": _REF}},
            "domain": _REF,
            "OS-TRUST:trust": {"type": "object", "properties": {"id": _STRING}},
            "system": {"type": "object", "properties": {"all": BOOLEAN}}}}},
        "required": ["identity"]}},
    "required": ["auth"],
}

# POST /v3/OS-TRUST/trusts, as Keystone's ``trust_create_request_body``: extra
# attributes are kept, each role is ``{"id"}`` or ``{"name"}``.
_NULLABLE_STRING = {"type": ["string", "null"]}
trust_create = _envelope("trust", {
    "trustor_user_id": _STRING, "trustee_user_id": _STRING, "impersonation": BOOLEAN,
    "project_id": _NULLABLE_STRING, "expires_at": _NULLABLE_STRING,
    "remaining_uses": {"type": ["integer", "null"], "minimum": 1},
    "allow_redelegation": {"type": ["boolean", "null"]},
    "redelegation_count": {"type": ["integer", "null"], "minimum": 0},
    "redelegated_trust_id": _NULLABLE_STRING,
    "roles": {"type": "array", "items": {
        "type": "object", "properties": {"id": ID, "name": _string(255)},
        "minProperties": 1, "maxProperties": 1, "additionalProperties": False}},
}, ["trustor_user_id", "trustee_user_id", "impersonation"])

# /v3/credentials, as Keystone's credential schemas: an ec2 credential names its project.
_CREDENTIAL = {"blob": _STRING, "project_id": _NULLABLE_STRING, "type": _STRING, "user_id": _STRING}
credential_create = _envelope("credential", {"id": _STRING, **_CREDENTIAL}, ["blob", "type", "user_id"])
credential_create["properties"]["credential"].update({
    "if": {"properties": {"type": {"const": "ec2"}}},
    "then": {"required": ["blob", "type", "user_id", "project_id"]}})
credential_update = _envelope("credential", _CREDENTIAL, min_properties=1)

# Unified limits, as Keystone's limit schemas: a service id must look like a UUID
# (hyphens optional, Keystone's ``is_uuid_like``), a limit is an integer from -1
# (unlimited) to the largest signed 32-bit one, a limit names a project or a domain.
_UUID_LIKE = {"type": "string", "pattern": "^-*(?:[0-9a-fA-F]-*){32}$"}
_LIMIT_VALUE = {"type": "integer", "minimum": -1, "maximum": 0x7FFFFFFF}
_RESOURCE_NAME = {**_string(255), "pattern": r"[\S]+"}
_REGION_ID = {"type": ["string", "null"], "minLength": 1, "maxLength": 255}
_KS_DESCRIPTION = {"type": ["string", "null"], "maxLength": 255}
_KS_ID = {"type": ["string", "null"], "minLength": 1, "maxLength": 64, "pattern": "^[a-zA-Z0-9-]+$"}
_REGISTERED_LIMIT = {"service_id": _UUID_LIKE, "region_id": _REGION_ID, "resource_name": _RESOURCE_NAME,
                     "default_limit": _LIMIT_VALUE, "description": _KS_DESCRIPTION}
_LIMIT = {"service_id": _UUID_LIKE, "region_id": _REGION_ID, "resource_name": _RESOURCE_NAME,
          "resource_limit": _LIMIT_VALUE, "description": _KS_DESCRIPTION, "project_id": _KS_ID, "domain_id": _KS_ID}


def _owner(key: str, other: str) -> dict:
    """A limit belongs to exactly one project or domain: ``key`` given (not null), ``other``
    absent (Keystone answers 400 when both are given)."""
    return {"required": [key], "properties": {key: {"type": "string"}}, "not": {"required": [other]}}


def _batch(key: str, item: dict) -> dict:
    return {"type": "object", "properties": {key: {"type": "array", "items": item, "minItems": 1}},
            "required": [key], "additionalProperties": False}


registered_limits_create = _batch("registered_limits", {
    "type": "object", "properties": _REGISTERED_LIMIT, "additionalProperties": False,
    "required": ["service_id", "resource_name", "default_limit"]})
registered_limit_update = _envelope("registered_limit", _REGISTERED_LIMIT, extra=False)
limits_create = _batch("limits", {
    "type": "object", "properties": _LIMIT, "additionalProperties": False,
    "required": ["service_id", "resource_name", "resource_limit"],
    "oneOf": [_owner("project_id", "domain_id"), _owner("domain_id", "project_id")]})
limit_update = _envelope("limit", {"resource_limit": _LIMIT_VALUE, "description": _KS_DESCRIPTION}, extra=False)
# Query filters Keystone validates (other parameters are ignored).
_REGISTERED_FILTERS = {"service_id": _UUID_LIKE, "region_id": _REGION_ID, "resource_name": _RESOURCE_NAME}
registered_limits_query = {"type": "object", "properties": _REGISTERED_FILTERS}
limits_query = {"type": "object", "properties": {**_REGISTERED_FILTERS, "project_id": _KS_ID, "domain_id": _KS_ID}}

# OS-EP-FILTER endpoint groups, as Keystone's schemas (which filters may be used is
# checked by the code, with Keystone's messages).
_ENDPOINT_GROUP = {
    "name": _RESOURCE_NAME, "description": {"type": ["string", "null"]},
    "filters": {"type": "object", "properties": {
        "interface": {"type": "string", "enum": ["admin", "internal", "public"]},
        "service_id": _STRING, "region_id": _NULLABLE_STRING, "enabled": BOOLEAN}}}
endpoint_group_create = _envelope("endpoint_group", _ENDPOINT_GROUP, ["name", "filters"], extra=False)
endpoint_group_update = _envelope("endpoint_group", _ENDPOINT_GROUP, extra=False, min_properties=1)
endpoint_groups_query = {"type": "object", "properties": {"name": _RESOURCE_NAME}, "additionalProperties": False}

# -- OS-FEDERATION (keystone/federation/schema.py) ----------------------------------------
_REMOTE_ID = {"type": "string", "maxLength": 64}
_IDP = {"enabled": BOOLEAN, "description": DESCRIPTION,
        "authorization_ttl": {"type": ["integer", "null"], "minimum": 0},
        "remote_ids": {"type": ["array", "null"], "items": _REMOTE_ID, "uniqueItems": True}}
identity_provider_create = {
    "type": "object", "additionalProperties": False,
    "properties": {"identity_provider": {"type": "object", "additionalProperties": False, "properties": {
        **_IDP, "domain_id": {"type": ["string", "null"], "minLength": 1, "maxLength": 64}}}}}
identity_provider_update = _envelope("identity_provider", _IDP, extra=False, min_properties=1)
identity_providers_query = {"type": "object", "properties": {"id": {"type": "string"}}}
_MAPPING_ID = {"type": "string", "minLength": 1, "maxLength": 64}
protocol_create = _envelope("protocol", {"mapping_id": _MAPPING_ID,
                                         "remote_id_attribute": {"type": ["string", "null"], "maxLength": 64}},
                            ["mapping_id"], extra=False)
protocol_update = _envelope("protocol", {"mapping_id": _MAPPING_ID, "remote_id_attribute": _REMOTE_ID},
                            ["mapping_id"], extra=False, min_properties=1)

# Service providers (Keystone to Keystone): Keystone's URL type (rfc1738's scheme, a
# colon, anything) and a RelayState prefix that fits its column.
_SP_URL = {"type": "string", "minLength": 0, "maxLength": 225, "pattern": "^[a-zA-Z0-9+.-]+:.+"}
_SP = {"auth_url": _SP_URL, "sp_url": _SP_URL, "description": DESCRIPTION, "enabled": BOOLEAN,
       "relay_state_prefix": {"type": ["string", "null"], "maxLength": 256}}
service_provider_create = _envelope("service_provider", _SP, ["auth_url", "sp_url"], extra=False)
service_provider_update = _envelope("service_provider", _SP, extra=False, min_properties=1)
service_providers_query = {"type": "object", "properties": {"id": {"type": "string"}}}
_BASIC_ID = {"type": "object", "properties": {"id": {"type": "string"}}, "required": ["id"],
             "additionalProperties": False}
# The ``auth`` object of POST /v3/auth/OS-FEDERATION/saml2[/ecp]: a token, for a service provider.
saml_create = {"type": "object", "properties": {
    "identity": {"type": "object", "properties": {"token": _BASIC_ID, "methods": {"type": "array"}},
                 "required": ["token"], "additionalProperties": False},
    "scope": {"type": "object", "properties": {"service_provider": _BASIC_ID}, "required": ["service_provider"],
              "additionalProperties": False}},
    "required": ["identity", "scope"], "additionalProperties": False}

# -- OS-OAUTH1 (keystone/oauth1/schema.py) ----------------------------------------------------
_CONSUMER = {"description": _KS_DESCRIPTION}
# Keystone reads a missing ``consumer`` as an empty one.
consumer_create = {"type": "object", "properties": {"consumer": {
    "type": "object", "properties": _CONSUMER, "additionalProperties": True}}, "additionalProperties": False}
consumer_update = {"type": "object", "properties": {"consumer": {
    "type": "object", "properties": _CONSUMER, "not": {"required": ["secret"]}, "minProperties": 1,
    "additionalProperties": True}}, "required": ["consumer"], "additionalProperties": False}
request_token_authorize = {"type": "object", "properties": {"roles": {"type": "array", "items": {
    "type": "object", "properties": {"id": _KS_ID, "name": _RESOURCE_NAME},
    "minProperties": 1, "maxProperties": 1, "additionalProperties": False}}}, "additionalProperties": False}
