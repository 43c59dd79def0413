"""Glance's visibility and ownership rules, in one place for reads, writes and lists.

* admin sees every image;
* everyone sees ``public`` and ``community`` images;
* a project sees the images it owns;
* a project sees a ``shared`` image it is a member of (any member status for a direct
  read; lists show ``accepted`` memberships unless ``member_status`` says otherwise).

Only the owner (or admin) changes an image.  Lists leave out community images the
caller does not own unless asked for with ``visibility=community`` or ``all``.
"""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.orm import Session

from pocketstack.common.context import RequestContext
from pocketstack.image import errors
from pocketstack.image import models as m
from pocketstack.image.records import ImageView, not_found


def membership(session: Session, image_id: str, project_id: str | None) -> m.ImageMember | None:
    if project_id is None:
        return None
    return session.get(m.ImageMember, (image_id, project_id))


def is_visible(session: Session, context: RequestContext, image: ImageView) -> bool:
    if context.is_admin or image.owner is None or image.visibility in ("public", "community"):
        return True
    if context.project_id is None:
        return False
    if image.owner == context.project_id:
        return True
    return image.visibility == "shared" and membership(session, image.id, context.project_id) is not None


def check_visible(session: Session, context: RequestContext, image: ImageView) -> ImageView:
    """``image`` if the caller may see it; 404 (not 403) otherwise, so private ids do not leak."""
    if not is_visible(session, context, image):
        raise not_found(image.id)
    return image


def check_mutable(context: RequestContext, image: ImageView) -> None:
    if context.is_admin:
        return
    if image.owner is None or context.project_id is None or image.owner != context.project_id:
        raise errors.ImageNotMutable()


def list_condition(context: RequestContext, visibility: str | None, member_status: str):
    """The WHERE clause limiting a list to what the caller may see, per Glance."""
    conditions = []
    if visibility is None:
        if context.project_id is None:
            conditions.append(m.Image.visibility != "community")
        else:
            conditions.append(sa.or_(m.Image.owner == context.project_id, m.Image.visibility != "community"))
    elif visibility != "all":
        conditions.append(m.Image.visibility == visibility)
    if context.is_admin:
        return sa.and_(sa.true(), *conditions)
    allowed: list[sa.ColumnElement[bool]] = [m.Image.visibility.in_(("public", "community"))]
    if context.project_id is not None:
        allowed.append(m.Image.owner == context.project_id)
        member = sa.select(m.ImageMember.image_id).where(
            m.ImageMember.image_id == m.Image.id, m.ImageMember.member == context.project_id)
        if member_status != "all":
            member = member.where(m.ImageMember.status == member_status)
        allowed.append(sa.and_(m.Image.visibility == "shared", member.exists()))
    return sa.and_(sa.true(), *conditions, sa.or_(*allowed))


def policy_target(session: Session, context: RequestContext, image: ImageView) -> dict:
    """The target Glance's policy rules are written against."""
    member = membership(session, image.id, context.project_id)
    return {"project_id": image.owner, "owner": image.owner, "visibility": image.visibility,
            "member_id": member.member if member else None, "image_id": image.id}
