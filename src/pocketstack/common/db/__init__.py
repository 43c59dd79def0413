"""Database access: engines, sessions, the declarative base, CAS and migrations."""

from pocketstack.common.db.base import Base, JSONText, new_id, utcnow
from pocketstack.common.db.engine import Database

__all__ = ["Base", "Database", "JSONText", "new_id", "utcnow"]
