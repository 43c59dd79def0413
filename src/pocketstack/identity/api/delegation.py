"""What a token issued through a delegation may manage (keystone/api/users.py,
credentials.py, trusts.py and os_oauth1.py, whose guards these mirror one by one).

Three delegations: a trust, an application credential and an OAuth 1.0a access token.
Each guard answers Keystone's 403 with Keystone's sentence, because clients (and the
keystone Tempest plugin) tell the refusals apart by it.  What the guards protect is the
accountability of a delegation: a secret minted with a delegated token would outlive the
delegation's expiry or scope without carrying its chain.
"""

from __future__ import annotations

from pocketstack.common.api.request import ApiRequest
from pocketstack.common.context import RequestContext
from pocketstack.identity import errors
from pocketstack.identity.api.common import caller_id
from pocketstack.identity.manager import Identity


def is_delegated(ctx: RequestContext) -> bool:
    """Any of the three delegations (Keystone's ``_is_delegated_token``)."""
    return bool(ctx.trust_id or ctx.application_credential_id or ctx.access_token_id)


def in_delegated_scope(req: ApiRequest, project_id: str | None) -> bool:
    """A delegated token reaches only what belongs to its own project; a project-less
    credential (a TOTP secret) is out of its reach."""
    return not is_delegated(req.caller) or project_id == req.caller.project_id


def refuse_any_delegation(req: ApiRequest, action: str) -> None:
    """403 for all three delegations: managing OAuth access tokens, authorizing request
    tokens (Keystone's ``_block_delegated_token`` and ``AuthorizeResource``)."""
    if is_delegated(req.caller):
        raise errors.OAuthDelegatedCaller(action=action)


def refuse_trust_or_oauth(req: ApiRequest) -> None:
    """403 for trust and OAuth tokens on application credentials and access rules, even
    to read them (``_block_delegated_token_app_creds``); an application credential's
    own token is judged by its ``unrestricted`` flag instead."""
    if req.caller.trust_id or req.caller.access_token_id:
        raise errors.OAuthDelegatedCaller(action="Cannot manage application credentials")


def refuse_restricted(identity: Identity, req: ApiRequest, what: str) -> None:
    """403 for a restricted application credential's token making or deleting more
    secrets of the kind ``what`` names (``_check_unrestricted_application_credential``)."""
    cred_id = req.caller.application_credential_id
    if cred_id and not identity.app_creds.get(caller_id(req), cred_id).unrestricted:
        raise errors.ForbiddenAction(action=f"Using method 'application_credential' is not allowed for managing "
                                            f"additional {what}.")


def refuse_application_credential_on_trusts(req: ApiRequest) -> None:
    """403 for an application credential's token on any trust call, whatever its flag."""
    if req.caller.application_credential_id:
        raise errors.ForbiddenAction(action="Using method 'application_credential' is not allowed for managing "
                                            "trusts.")
