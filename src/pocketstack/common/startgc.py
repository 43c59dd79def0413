"""The cyclic garbage collector, paused while a server process starts.

Starting a server builds objects that live as long as the process -- modules, SQLAlchemy's
mapped classes and tables, the services -- and almost no garbage.  With the collector on,
each few hundred allocations walk the growing heap again: 10-15% of the CPU a start
spends (docs/performance.md, "Cold start").  A server's entry point pauses it
(:func:`pause`, before its imports); once the services run (:func:`settle`, just before
the first request) what the start built is moved out of the collector's sight
(``gc.freeze``: later collections do not walk it again either) and collection resumes
for what requests create.  A process that never paused (tests building clouds in
process) is left alone.
"""

from __future__ import annotations

import gc

_paused = False


def pause() -> None:
    """Stop collecting until :func:`settle` (a server process's start)."""
    global _paused
    gc.disable()
    _paused = True


def settle() -> None:
    """The start is over: keep what it built out of later collections, collect again."""
    global _paused
    if _paused:
        _paused = False
        gc.freeze()
        gc.enable()
