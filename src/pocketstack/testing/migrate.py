"""Bring a state taken at an older schema revision to the current one.

A cloud's recorded bootstrap state, a named snapshot or a state file in a CI cache
outlives an upgrade of pocketstack.  Its rows are replayed through the migrations on a
scratch SQLite database: created at the state's revisions, filled with its rows,
upgraded to the current heads (data migrations included), and read back.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

from alembic.util.exc import CommandError

from pocketstack.common.db import Database
from pocketstack.common.db.migrate import current_heads, upgrade
from pocketstack.testing.snapshot import State
from pocketstack.testing.tables import TableSet


class UnknownSchema(ValueError):
    """The state's revisions are not in this pocketstack's migrations (a newer one wrote it)."""


def upgraded(state: State) -> State:
    """``state`` at the current heads (itself when it already is)."""
    with tempfile.TemporaryDirectory(prefix="pocketstack-state-") as tmp:
        scratch = Database(f"sqlite:///{Path(tmp) / 'state.db'}")
        try:
            try:
                for revision in state.schema:
                    upgrade(scratch.engine, revision)
            except CommandError as error:
                raise UnknownSchema(f"its schema revisions are unknown here ({error})") from None
            TableSet(scratch.engine).restore(state.tables)
            upgrade(scratch.engine)
            return State(sorted(current_heads(scratch.engine)), TableSet(scratch.engine).dump(), state.files,
                         state.created_at, state.regions)
        finally:
            scratch.dispose()
