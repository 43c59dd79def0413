"""OAuth 1.0a request signatures (RFC 5849), checked by oauthlib as Keystone does
(keystone/oauth1/validator.py): HMAC-SHA1 with the consumer's secret and, after the
first leg, the request or access token's secret; ids are 32-hex uuids and verifiers
eight characters.

Unlike Keystone, a nonce is accepted once (per process) while its timestamp is within
oauthlib's ten minutes, so a captured signed request cannot be replayed for a second
token.  This module imports oauthlib: :mod:`pocketstack.identity.oauth1` loads it on the
first OAuth request, never at start.
"""

from __future__ import annotations

import secrets
import string
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from oauthlib import oauth1
from oauthlib.common import extract_params
from oauthlib.oauth1.rfc5849 import utils

from pocketstack.identity import errors

if TYPE_CHECKING:
    from pocketstack.identity.oauth1 import SignedRequest

# keystone/oauth1/backends/base.py: letters and digits but the ones easily confused.
VERIFIER_CHARS = "".join(c for c in string.ascii_letters + string.digits if c not in "jiIl1oO0")
HEX = set("abcdef0123456789")
DUMMY = "0" * 32
FORM = "application/x-www-form-urlencoded"


def new_verifier() -> str:
    return "".join(secrets.choice(VERIFIER_CHARS) for _ in range(8))


def parse_authorization(header: str) -> dict[str, str]:
    """The ``oauth_*`` parameters of an ``Authorization: OAuth ...`` header."""
    try:
        return dict(utils.parse_authorization_header(header))
    except (ValueError, TypeError, KeyError):
        raise errors.OAuthHeadersMissing() from None


class NonceCache:
    """(consumer, token, timestamp, nonce) seen within the timestamp lifetime."""

    def __init__(self, lifetime: float, max_entries: int = 100_000):
        self.lifetime, self.max_entries = lifetime, max_entries
        self._seen: OrderedDict[tuple, float] = OrderedDict()
        self._lock = threading.Lock()

    def first_use(self, key: tuple) -> bool:
        now = time.monotonic()
        with self._lock:
            while self._seen and (next(iter(self._seen.values())) < now - self.lifetime
                                  or len(self._seen) >= self.max_entries):
                self._seen.popitem(last=False)
            if key in self._seen:
                return False
            self._seen[key] = now
            return True


@dataclass
class Secrets:
    """Lookups into the OAuth tables: each returns None for an unknown id."""

    consumer: Callable[[str], str | None]
    request_token: Callable[[str], tuple[str, str, str | None] | None]  # (consumer, secret, verifier)
    access_token: Callable[[str], tuple[str, str] | None]  # (consumer, secret)


class Validator(oauth1.RequestValidator):
    """Keystone's ``OAuthValidator``: everything but the signature is Keystone's to check
    (expiry, roles), so realms and callbacks are accepted as they come."""

    def __init__(self, lookups: Secrets, nonces: NonceCache):
        super().__init__()
        self.lookups, self.nonces = lookups, nonces

    enforce_ssl = False
    safe_characters = HEX
    dummy_client = DUMMY
    dummy_request_token = DUMMY
    dummy_access_token = DUMMY

    @staticmethod
    def _check_token(token: str) -> bool:
        return set(token) <= HEX and len(token) == 32

    def check_client_key(self, client_key):
        return self._check_token(client_key)

    def check_request_token(self, request_token):
        return self._check_token(request_token)

    def check_access_token(self, access_token):
        return self._check_token(access_token)

    def check_nonce(self, nonce):
        return bool(nonce) and set(nonce) <= HEX

    def check_verifier(self, verifier):
        return len(verifier) == 8 and all(c in VERIFIER_CHARS for c in verifier)

    def get_client_secret(self, client_key, request):
        return self.lookups.consumer(client_key) or secrets.token_hex(16)

    def get_request_token_secret(self, client_key, token, request):
        found = self.lookups.request_token(token)
        return found[1] if found and found[0] == client_key else secrets.token_hex(16)

    def get_access_token_secret(self, client_key, token, request):
        found = self.lookups.access_token(token)
        return found[1] if found and found[0] == client_key else secrets.token_hex(16)

    def get_default_realms(self, client_key, request):
        return []

    def get_realms(self, token, request):
        return []

    def get_redirect_uri(self, token, request):
        return "oob"

    def get_rsa_key(self, client_key, request):
        return ""

    def invalidate_request_token(self, client_key, request_token, request):
        pass  # the access token's creation deletes it

    def validate_client_key(self, client_key, request):
        return self.lookups.consumer(client_key) is not None

    def validate_request_token(self, client_key, token, request):
        found = self.lookups.request_token(token)
        return found is not None and found[0] == client_key

    def validate_access_token(self, client_key, token, request):
        found = self.lookups.access_token(token)
        return found is not None and found[0] == client_key

    def validate_timestamp_and_nonce(self, client_key, timestamp, nonce, request, request_token=None,
                                     access_token=None):
        return self.nonces.first_use((client_key, request_token or access_token, timestamp, nonce))

    def validate_redirect_uri(self, client_key, redirect_uri, request):
        return True

    def validate_requested_realms(self, client_key, realms, request):
        return True

    def validate_realms(self, client_key, token, request, uri=None, realms=None):
        return True

    def validate_verifier(self, client_key, token, verifier, request):
        found = self.lookups.request_token(token)
        return found is not None and found[2] is not None and secrets.compare_digest(found[2], verifier)

    def verify_request_token(self, token, request):
        return isinstance(token, str)

    def verify_realms(self, token, realms, request):
        return True

    def save_access_token(self, token, request):
        pass

    def save_request_token(self, token, request):
        pass

    def save_verifier(self, token, verifier, request):
        pass


def _generate_token(*_args, **_kwargs) -> str:
    return DUMMY  # oauthlib's own token is discarded: Keystone's tables make the real one


def _refusal(body: str | None) -> errors.ApiError | None:
    """oauthlib's verdict as Keystone words it: no body is a bad signature (401), an
    ``error=`` body a 400 naming oauthlib's reason (``validate_oauth_params``)."""
    if not body:
        return errors.OAuthFailed(reason="Invalid signature")
    params = dict(extract_params(body) or [])
    others = {k: v for k, v in params.items() if not k.startswith("oauth_")}
    if "error" in others:
        return errors.OAuthParamsInvalid(error=others["error"], description=others.get("error_description", ""))
    if others:
        return errors.BadRequest("Unknown parameters found,please provide only oauth parameters.")
    return None


def _form_body(signed: SignedRequest) -> str:
    content_type = signed.headers.get("content-type") or signed.headers.get("Content-Type") or ""
    return signed.body if FORM in content_type else ""


def check_request_token_request(signed: SignedRequest, validator: Validator) -> None:
    """The first leg: a consumer's signed ``POST /v3/OS-OAUTH1/request_token``."""
    endpoint = oauth1.RequestTokenEndpoint(validator, token_generator=_generate_token)
    _headers, body, _status = endpoint.create_request_token_response(
        signed.url, http_method=signed.method, body=_form_body(signed), headers=dict(signed.headers))
    refusal = _refusal(body)
    if refusal is not None:
        raise refusal


def check_access_token_request(signed: SignedRequest, validator: Validator) -> bool:
    """The third leg, signed with the request token and its verifier: whether oauthlib
    accepts it (False: the caller words the refusal); a 400 for malformed parameters."""
    endpoint = oauth1.AccessTokenEndpoint(validator, token_generator=_generate_token)
    _headers, body, _status = endpoint.create_access_token_response(
        signed.url, http_method=signed.method, body=_form_body(signed), headers=dict(signed.headers))
    refusal = _refusal(body)
    if isinstance(refusal, errors.OAuthFailed):
        return False
    if refusal is not None:
        raise refusal
    return True


def check_protected_request(signed: SignedRequest, validator: Validator) -> bool:
    """A request signed with an access token (the ``oauth1`` method of ``POST
    /v3/auth/tokens``)."""
    endpoint = oauth1.ResourceEndpoint(validator, token_generator=_generate_token)
    valid, _request = endpoint.validate_protected_resource_request(
        signed.url, http_method=signed.method, body=_form_body(signed), headers=dict(signed.headers), realms=None)
    return bool(valid)
