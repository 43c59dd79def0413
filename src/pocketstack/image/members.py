"""Image members: the projects a ``shared`` image is offered to.

The owner adds and removes members; each member alone accepts, rejects or returns to
pending its own membership (which decides whether the image shows in its lists).
Members of non-shared images are kept but inert, as in Glance.
"""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy import exc as sa_exc
from sqlalchemy.orm import Session

from pocketstack.common.context import RequestContext
from pocketstack.common.db import Database
from pocketstack.common.db.base import utcnow
from pocketstack.common.db.cas import cas_update, run_in_transaction
from pocketstack.image import access, errors
from pocketstack.image import models as m
from pocketstack.image.records import ImageView, MemberView, load_view, member_view
from pocketstack.image.schemas import MEMBER_STATUSES

MAX_MEMBERS = 128


def _shared(session: Session, context: RequestContext, image_id: str) -> ImageView:
    image = access.check_visible(session, context, load_view(session, image_id))
    if image.visibility != "shared":
        raise errors.MembersOnlyForShared()
    return image


def _member_not_found(image_id: str, member_id: str) -> errors.NotFound:
    return errors.MemberNotFound(member_id=member_id, image_id=image_id)


class MemberManager:
    def __init__(self, db: Database):
        self.db = db

    def list_members(self, context: RequestContext, image_id: str) -> list[MemberView]:
        """Every member for the owner and admin; only its own membership for a member."""
        with self.db.session(readonly=True) as s:
            image = _shared(s, context, image_id)
            stmt = sa.select(m.ImageMember).where(m.ImageMember.image_id == image.id)
            if not context.is_admin and image.owner != context.project_id:
                stmt = stmt.where(m.ImageMember.member == context.project_id)
            return [member_view(r) for r in s.scalars(stmt.order_by(m.ImageMember.created_at,
                                                                  m.ImageMember.member))]

    def get_member(self, context: RequestContext, image_id: str, member_id: str) -> MemberView:
        with self.db.session(readonly=True) as s:
            image = _shared(s, context, image_id)
            row = s.get(m.ImageMember, (image.id, member_id))
            if row is None or not (context.is_admin or image.owner == context.project_id
                                   or member_id == context.project_id):
                raise _member_not_found(image_id, member_id)
            return member_view(row)

    def add_member(self, context: RequestContext, image_id: str, member_id: str) -> MemberView:
        def work(s: Session) -> MemberView:
            image = _shared(s, context, image_id)
            access.check_mutable(context, image)
            if s.get(m.ImageMember, (image.id, member_id)) is not None:
                raise errors.DuplicateMember(member_id=member_id, image_id=image_id)
            count = s.scalar(sa.select(sa.func.count()).where(m.ImageMember.image_id == image.id))
            if (count or 0) >= MAX_MEMBERS:
                raise errors.TooManyMembers(limit=MAX_MEMBERS)
            now = utcnow()
            row = m.ImageMember(image_id=image.id, member=member_id, status="pending",
                                created_at=now, updated_at=now)
            s.add(row)
            s.flush()
            return member_view(row)

        try:
            return run_in_transaction(self.db, work)
        except sa_exc.IntegrityError:
            raise errors.DuplicateMember(member_id=member_id, image_id=image_id) from None

    def update_member(self, context: RequestContext, image_id: str, member_id: str, status: str) -> MemberView:
        """Only the member itself (or admin) decides its membership status."""
        if status not in MEMBER_STATUSES:
            raise errors.InvalidMemberStatus(member_status=status)

        def work(s: Session) -> MemberView:
            image = _shared(s, context, image_id)
            row = s.get(m.ImageMember, (image.id, member_id))
            if row is None or not (context.is_admin or image.owner == context.project_id
                                   or member_id == context.project_id):
                raise _member_not_found(image_id, member_id)
            if not context.is_admin and member_id != context.project_id:
                raise errors.MemberStatusForbidden()
            now = utcnow()
            cas_update(s, m.ImageMember, where={"image_id": image.id, "member": member_id},
                       values={"status": status, "updated_at": now})
            return MemberView(image.id, member_id, status, row.created_at, now)

        return run_in_transaction(self.db, work)

    def delete_member(self, context: RequestContext, image_id: str, member_id: str) -> None:
        def work(s: Session) -> None:
            image = _shared(s, context, image_id)
            if s.get(m.ImageMember, (image.id, member_id)) is None:
                raise _member_not_found(image_id, member_id)
            access.check_mutable(context, image)
            s.execute(sa.delete(m.ImageMember).where(m.ImageMember.image_id == image.id,
                                                     m.ImageMember.member == member_id))

        run_in_transaction(self.db, work)
