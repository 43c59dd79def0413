"""A file in the data directory whose change tells every process sharing that directory
(the all-in-one's API worker processes, API servers started with the same data directory)
that the fault rules changed: a ``stat`` per request is all it costs them to notice at
once, where reading the database's generation would cost a thread trip and a query.

The file is replaced (written beside, then renamed over), so each change gives it a new
inode as well as a new modification time; a change the stamp could still miss (two within
one timestamp tick that happened to reuse an inode) is caught by the registry's periodic
check of the database.
"""

from __future__ import annotations

import os
import threading
from pathlib import Path

Stamp = tuple[int, int, int] | None


class ChangeSignal:
    def __init__(self, path: Path):
        self.path = path

    def stamp(self) -> Stamp:
        """What the file looks like now (None: it does not exist yet)."""
        try:
            st = os.stat(self.path)
        except FileNotFoundError:
            return None
        return st.st_mtime_ns, st.st_ino, st.st_size

    def announce(self, generation: int) -> None:
        """Tell the other processes the rules are now at ``generation``."""
        scratch = self.path.with_name(f".{self.path.name}.{os.getpid()}.{threading.get_ident()}")
        scratch.write_text(f"{generation}\n")
        os.replace(scratch, self.path)
