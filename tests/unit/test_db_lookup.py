"""get_or_raise: the row, or the caller's own not-found error (never None)."""

import pytest
import sqlalchemy as sa
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column

from pocketstack.common.db.lookup import get_or_raise


class _Base(DeclarativeBase):
    pass


class Thing(_Base):
    __tablename__ = "thing"
    id: Mapped[str] = mapped_column(sa.String(8), primary_key=True)


class ThingNotFound(Exception):
    pass


def test_the_row_or_the_named_error():
    engine = sa.create_engine("sqlite://")
    _Base.metadata.create_all(engine)
    with Session(engine) as s:
        s.add(Thing(id="a"))
        s.flush()
        assert get_or_raise(s, Thing, "a", lambda: ThingNotFound("a")).id == "a"
        with pytest.raises(ThingNotFound, match="b"):
            get_or_raise(s, Thing, "b", lambda: ThingNotFound("b"))
