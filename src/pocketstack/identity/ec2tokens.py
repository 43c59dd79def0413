"""``POST /v3/ec2tokens``: a token for an AWS-signed request, as Keystone issues it.

An EC2-compatible front end forwards the request it received with its signature; the
access key names an ``ec2`` credential, whose secret must reproduce the signature.  The
token is scoped to the credential's project with the ``ec2credential`` method; a
credential made with a trust-scoped or application-credential token yields a token of
that same trust or application credential.  Signed timestamps older than
:data:`AUTH_TTL` are refused, so a captured request cannot be replayed later.
"""

from __future__ import annotations

import datetime as dt
import json
import time

from pocketstack.common.db import utcnow
from pocketstack.identity import errors
from pocketstack.identity import models as m
from pocketstack.identity.auth import ValidatedToken
from pocketstack.identity.credentials import EC2, hash_access_key
from pocketstack.identity.ec2_signature import SignatureError, matches
from pocketstack.identity.tokens import SCOPE_PROJECT, TokenPayload

AUTH_TTL = dt.timedelta(minutes=15)  # Keystone's [credential] auth_ttl


def _credentials(body) -> dict:
    """The signed request: Keystone reads ``credentials``, ``credential`` or ``ec2Credentials``."""
    if not body:
        raise errors.ValidationMessage(message="request must include a request body")
    found = body.get("credentials") or body.get("credential") or body.get("ec2Credentials") or {}
    if not isinstance(found, dict) or "access" not in found:
        raise errors.Ec2AuthenticationFailed(reason="EC2 Signature not supplied")
    for key in ("params", "headers"):
        if not isinstance(found.get(key) or {}, dict):
            raise errors.InvalidInput(field=f"credentials.{key}", reason="expected an object.")
    return found


def _check_timestamp(request: dict) -> None:
    params, headers = request.get("params") or {}, request.get("headers") or {}
    stamp = params.get("Timestamp") or headers.get("X-Amz-Date") or params.get("X-Amz-Date")
    if not stamp:
        return  # the signer chose not to sign a time
    try:
        parsed = dt.datetime.fromisoformat(str(stamp).replace("Z", "+00:00"))
    except ValueError as error:
        raise errors.Ec2AuthenticationFailed(reason=f"Credential timestamp is invalid: {error}") from None
    if parsed.tzinfo is not None:
        parsed = parsed.astimezone(dt.timezone.utc).replace(tzinfo=None)
    if utcnow() > parsed + AUTH_TTL:
        raise errors.Ec2AuthenticationFailed(reason="Credential is expired")


class Ec2TokenIssuer:
    def __init__(self, identity):
        self.identity = identity

    def authenticate(self, body) -> ValidatedToken:
        request = _credentials(body)
        identity = self.identity
        cred = identity.credentials.find(hash_access_key(str(request["access"])))
        if cred is None or cred.type != EC2:
            raise errors.Ec2AccessKeyNotFound()
        blob = json.loads(identity.credentials.blob(cred))
        given = request.get("signature")
        if not given:
            raise errors.Ec2AuthenticationFailed(reason="EC2 signature not supplied.")
        try:
            good = matches(str(blob.get("secret", "")), request, str(given))
        except SignatureError:
            good = False
        if not good:
            raise errors.Ec2AuthenticationFailed(reason="Invalid EC2 signature.")
        with identity.db.session(readonly=True) as s:
            project = identity.resource.load_project(s, cred.project_id or "None")
            user = identity.users.load_user(s, cred.user_id)
            if not user.enabled or not project.enabled:
                raise errors.AuthenticationRequired()
            _check_timestamp(request)
            user_id = self._token_user(s, blob, user, project)
        payload = TokenPayload(user_id=user_id, methods=["ec2credential"], expires_at=time.time() +
                               identity.tokens.expiration, scope_type=SCOPE_PROJECT, scope_id=project.id,
                               application_credential_id=blob.get("app_cred_id"), trust_id=blob.get("trust_id"),
                               access_token_id=blob.get("access_token_id"))
        # Keystone counts trust uses only at /v3/auth/tokens.
        return identity.tokens.mint(payload, consume_trust=False)

    def _token_user(self, s, blob: dict, user: m.User, project: m.Project) -> str:
        """Who the token is for: the trustee of the credential's trust (the credential's
        user is the trustor when it was made with an impersonating token), else its user,
        who must hold a role on the project.  A credential made with an application
        credential or OAuth access token gives a token of that delegation, on its project."""
        if blob.get("trust_id"):
            return self.identity.trusts.load(s, blob["trust_id"]).trustee_user_id
        if blob.get("app_cred_id"):
            app_cred = self.identity.app_creds.load(s, blob["app_cred_id"])
            if app_cred.project_id != project.id:
                raise errors.Ec2AuthenticationFailed(
                    reason="EC2 credential project does not match the application credential project.")
        elif blob.get("access_token_id"):
            access = s.get(m.OAuthAccessToken, blob["access_token_id"])
            if access is None or access.project_id != project.id:
                raise errors.Ec2AuthenticationFailed(
                    reason="EC2 credential project does not match the OAuth1 access token project.")
        elif not self.identity.assignment.effective_roles(s, user.id, project=project):
            raise errors.Ec2AuthenticationFailed(reason="User not valid for project.")
        return user.id
