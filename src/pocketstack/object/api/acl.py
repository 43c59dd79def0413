"""Container ACLs (``X-Container-Read``/``X-Container-Write``) as Swift's keystoneauth reads them.

Elements are comma separated: ``.r:*`` (anyone may read objects, no token needed),
``.rlistings`` (with ``.r:*``: anyone may also list), and grants
``<project>:<user>`` where either side may be ``*`` and ids or names are accepted.
"""

from __future__ import annotations

from pocketstack.common.context import RequestContext
from pocketstack.object import errors


def parse(value: str) -> list[str]:
    items = [item.strip() for item in value.split(",") if item.strip()]
    for item in items:
        if item.startswith(".") and not (item.startswith(".r:") or item == ".rlistings"):
            raise errors.UnknownAclElement(item=item)
        if not item.startswith(".") and ":" not in item:
            raise errors.InvalidAclElement(item=item)
    return items


def grants(items: list[str], context: RequestContext | None) -> bool:
    """Does a grant element match the caller's project and user?"""
    if context is None:
        return False
    for item in items:
        if item.startswith("."):
            continue
        project, _, user = item.partition(":")
        if project in ("*", context.project_id, context.project_name) and \
                user in ("*", context.user_id, context.user_name):
            return True
    return False


def allows_public_read(items: list[str]) -> bool:
    return any(item in (".r:*", ".r:*.") or item == ".r:.*" for item in items)


def allows_public_listing(items: list[str]) -> bool:
    return allows_public_read(items) and ".rlistings" in items
