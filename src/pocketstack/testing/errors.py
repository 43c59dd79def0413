"""Named errors of the state API (reset and snapshots), answered in Keystone's JSON
error format as the rest of pocketstack's own administration is."""

from __future__ import annotations

from pocketstack.common.errors import BadRequest, Conflict, NotFound


class SnapshotNotFound(NotFound):
    msg_fmt = "Snapshot {name} could not be found."


class SnapshotExists(Conflict):
    msg_fmt = "Snapshot {name} already exists; delete it first."


class BadSnapshotName(BadRequest):
    msg_fmt = ("Invalid snapshot name {name!r}: use 1 to 64 letters, digits, '.', '_' or '-', "
               "starting with a letter or digit.")


class BadStateFile(BadRequest):
    msg_fmt = "The uploaded state file cannot be used: {reason}"


class CannotReset(Conflict):
    msg_fmt = "This cloud cannot be reset while it runs: {reason}"


class NoBaseline(Conflict):
    msg_fmt = ("No bootstrap state is recorded for this cloud: it was not started as a cloud for tests "
               "(by `pocketstack up`, `pocketstack api` or the pytest plugin), so its state is never replaced "
               "wholesale.")
