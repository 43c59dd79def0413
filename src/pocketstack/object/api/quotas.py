"""Quotas on containers and accounts: Swift's ``container_quotas`` and
``account_quotas`` middlewares.

A container's owner caps it with ``X-Container-Meta-Quota-Bytes`` and
``X-Container-Meta-Quota-Count`` (digits, else 400 when set).  A reseller admin (the
cloud admin: rule ``object:reseller_admin``) caps an account with
``X-Account-Quota-Bytes`` (legacy: ``X-Account-Meta-Quota-Bytes``),
``X-Account-Quota-Count`` and their ``-Policy-<name>`` forms; the account's own users
may read but never set or remove them (403).  Account quotas are kept as system
metadata (``X-Account-Sysmeta-Quota-*``, shown as ``X-Account-Quota-*``).

An object PUT or COPY that would take the container or account over a cap is refused
with 413 ``Upload exceeds quota.``; as in Swift the size counted is the request's
Content-Length (a copy's source size), so a chunked upload is let in while the
container or account is still within its cap.  A reseller admin's uploads are not
held to account quotas.  Deletes are never refused.
"""

from __future__ import annotations

from collections.abc import Mapping

from pocketstack.common.api.request import ApiRequest
from pocketstack.object import errors

CONTAINER_BYTES = "X-Container-Meta-Quota-Bytes"
CONTAINER_COUNT = "X-Container-Meta-Quota-Count"
ACCOUNT_SYSMETA = "X-Account-Sysmeta-"
POLICY = ("Policy-0", "0")  # (name, index) of the one storage policy
KINDS = ("Quota-Bytes", "Quota-Count")


def _digits(value: str) -> bool:
    return value.isascii() and value.isdigit()


def _limit(value: str | None) -> int | None:
    return int(value) if value and _digits(value) else None


def is_reseller(req: ApiRequest) -> bool:
    """Is the caller Swift keystoneauth's reseller admin (``reseller_request``)?"""
    return req.context is not None and req.attributes.get("tempurl") is None \
        and req.allowed("object:reseller_admin", {})


# -- containers --------------------------------------------------------------------------------
def check_container_headers(headers: Mapping[str, str]) -> None:
    """A container PUT or POST: its quota values must be digits (or empty: removed)."""
    value = headers.get(CONTAINER_BYTES.lower())
    if value and not _digits(value):
        raise errors.InvalidBytesQuota()
    value = headers.get(CONTAINER_COUNT.lower())
    if value and not _digits(value):
        raise errors.InvalidCountQuota()


def check_container(container_info: dict, length: int) -> None:
    """413 unless ``length`` more bytes and one more object fit the container's quotas."""
    meta = container_info["metadata"]
    limit = _limit(meta.get(CONTAINER_BYTES, [""])[0])
    if limit is not None and limit < int(container_info["bytes_used"]) + length:
        raise errors.QuotaExceeded()
    limit = _limit(meta.get(CONTAINER_COUNT, [""])[0])
    if limit is not None and limit < int(container_info["object_count"]) + 1:
        raise errors.QuotaExceeded()


# -- accounts ----------------------------------------------------------------------------------
def account_updates(req: ApiRequest) -> dict[str, str]:
    """The system metadata an account POST sets from its quota headers (``""``: removed);
    403 when anyone but a reseller admin sends one, 400 for a value that is not digits."""
    headers = {name.lower(): value for name, value in req.headers.items()}
    for legacy in ("x-account-meta-quota-bytes", "x-remove-account-meta-quota-bytes"):
        current = legacy.replace("-meta-", "-")
        if legacy in headers and not headers.get(current):
            headers[current] = headers[legacy]
    wanted: dict[str, str | None] = {}
    for kind in KINDS:
        key = kind.lower()
        wanted[ACCOUNT_SYSMETA + kind] = "" if headers.get(f"x-remove-account-{key}") \
            else headers.get(f"x-account-{key}")
        tail = f"account-{key}-policy-{POLICY[0].lower()}"
        wanted[f"{ACCOUNT_SYSMETA}{kind}-Policy-{POLICY[1]}"] = "" if headers.get("x-remove-" + tail) \
            else headers.get("x-" + tail)
    given = {name: value for name, value in wanted.items() if value is not None}
    if not given:
        return {}
    if not is_reseller(req):
        raise errors.QuotaNotSettable()
    if any(value and not _digits(value) for value in given.values()):
        raise errors.InvalidAccountQuota()
    return given


def account_view(headers: dict[str, str]) -> dict[str, str]:
    """An account's response headers: its quotas shown, its other system metadata hidden."""
    view = {}
    for name, value in headers.items():
        if not name.startswith(ACCOUNT_SYSMETA):
            view[name] = value
            continue
        rest = name[len(ACCOUNT_SYSMETA):]
        for kind in KINDS:
            if rest == kind:
                view["X-Account-" + kind] = value
            elif rest == f"{kind}-Policy-{POLICY[1]}":
                view[f"X-Account-{kind}-Policy-{POLICY[0]}"] = value
    return view


def check_account(req: ApiRequest, account_info: dict, length: int) -> None:
    """413 unless ``length`` more bytes and one more object fit the account's quotas
    (a reseller admin's uploads are not held to them)."""
    if is_reseller(req):
        return
    meta = account_info["metadata"]

    def limit(kind: str) -> int | None:
        return _limit(meta.get(ACCOUNT_SYSMETA + kind, [""])[0])

    # Before the system metadata, the quota was plain metadata: still honoured.
    byte_limit = limit("Quota-Bytes")
    if not meta.get(ACCOUNT_SYSMETA + "Quota-Bytes", [""])[0]:
        byte_limit = _limit(meta.get("X-Account-Meta-Quota-Bytes", [""])[0])
    bytes_used, count = int(account_info["bytes_used"]), int(account_info["object_count"])
    if byte_limit is not None and byte_limit < bytes_used + length:
        raise errors.QuotaExceeded()
    count_limit = limit("Quota-Count")
    if count_limit is not None and count_limit < count + 1:
        raise errors.QuotaExceeded()
    # One policy: its usage is the account's.
    policy_bytes = limit(f"Quota-Bytes-Policy-{POLICY[1]}")
    if policy_bytes is not None and policy_bytes < bytes_used + length:
        raise errors.PolicyQuotaExceeded()
    policy_count = limit(f"Quota-Count-Policy-{POLICY[1]}")
    if policy_count is not None and policy_count < count + 1:
        raise errors.PolicyQuotaExceeded()
