"""Reset a cloud to its bootstrapped state, or to a named snapshot, without a restart.

The first start records the *baseline*: the state right after bootstrap, before any
service ran (``<data_dir>/state/bootstrap.state``).  Resetting puts that state back —
every table by content, the data files — and restarts the services that keep state in
memory (compute: its hosts and their guests; network: its agent, which replays the
restored state to the datapath; volume: its worker), on a fresh RPC transport, so no
queued message of the old state survives.  Token keys, object rings and the database
schema are configuration, not state: they are never touched, so tokens of the admin
and demo users stay valid and clouds.yaml keeps working.

Live reset is for the all-in-one cloud, served by one process or several
(``--api-workers``: an API worker process asks the primary, which runs the services,
over the RPC bridge), with simulated or real guests and either datapath: the restarted
compute hosts remove the guests of servers the restored state does not hold, and the
network agent's full resynchronisation removes the namespaces, bridges, taps and rules
of what it does not hold.  The further regions of ``--regions`` (each its own database
and data directory) are part of the state: captured, restored and restarted with it.
A scaled-out cloud is refused with the reason (:meth:`StateKeeper.refusal`); a stopped
cloud of any shape is reset by ``pocketstack reset`` on its data directory.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import functools
import hashlib
import re
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from pocketstack.common.db.migrate import current_heads
from pocketstack.common.rpc.transports.local import LocalTransport
from pocketstack.testing import errors, files
from pocketstack.testing.snapshot import State, manifest
from pocketstack.testing.tables import TableRows, TableSet

if TYPE_CHECKING:
    from pocketstack.cloud import Cloud

BASELINE = "bootstrap.state"
USERS_DIGEST = "bootstrap.users"  # what the bootstrap users' rows were when the baseline last followed them
SUFFIX = ".state"
NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")
# Services whose running parts hold state in memory: stopped before a reset, started after.
RESTARTED = ("network", "compute", "volume")
# Counters that only grow (table, column): restored one past their current value, so a
# cache keyed by them (identity's token validation cache, in every process) never takes
# an old state for the new one.
COUNTERS = (("identity_state", "generation"),)
# Rows the bootstrap users' later starts may change (``up --admin-password``): the
# baseline follows them, so a reset keeps the passwords clouds.yaml holds.
BOOTSTRAP_USERS = ("identity_user", "name", ("admin", "demo"))


@dataclass(frozen=True)
class SnapshotInfo:
    name: str
    created_at: str
    size: int

    def to_json(self) -> dict[str, object]:
        return {"name": self.name, "created_at": self.created_at, "size": self.size}


class StateKeeper:
    """The state of one cloud: capture, restore, the baseline and named snapshots."""

    def __init__(self, cloud: Cloud):
        self.cloud = cloud
        self.data_dir: Path = cloud.settings.data_dir
        self.root = self.data_dir / "state"
        self._baseline: State | None = None
        self._lock = threading.Lock()      # one capture or restore at a time
        self._live = asyncio.Lock()         # one live reset at a time (on the server's loop)

    @functools.cached_property
    def tables(self) -> TableSet:
        return TableSet(self.cloud.db.engine)

    def schema(self) -> list[str]:
        return sorted(current_heads(self.cloud.db.engine))

    # -- state as a value ---------------------------------------------------------------
    def capture(self) -> State:
        """The cloud's state, with that of each further region it serves (each has its own
        database and data directory)."""
        with self._lock:
            state = State(self.schema(), self.tables.dump(), files.capture(self.data_dir))
        state.regions = {region.settings.region: region.state.capture() for region in self.cloud.regions}
        return state

    def apply(self, state: State) -> None:
        """Make the databases and data files hold ``state``, its regions' parts in theirs
        (not the running services: see :meth:`reset`)."""
        state = self._current(state)
        regions = self._regions_of(state)
        # Every part checked (and upgraded) before anything is replaced.
        parts = [(region.state, region.state._current(regions[region.settings.region]))
                 for region in self.cloud.regions]
        for keeper, part in [(self, state), *parts]:
            keeper._restore(part)

    def _restore(self, state: State) -> None:
        with self._lock:
            try:
                self.tables.restore(self._advance_counters(state.tables))
                files.restore(self.data_dir, state.files)
            except ValueError as error:  # a state file naming what this cloud does not have
                raise errors.BadStateFile(reason=str(error)) from None

    def _regions_of(self, state: State) -> dict[str, State]:
        """``state``'s parts for the further regions this cloud serves: exactly those."""
        served = sorted(region.settings.region for region in self.cloud.regions)
        if sorted(state.regions) != served:
            held = ", ".join(sorted(state.regions)) or "none"
            raise errors.BadStateFile(reason=f"it holds the further regions {held}; this cloud serves "
                                             f"{', '.join(served) or 'none'}")
        return state.regions

    def _current(self, state: State) -> State:
        """``state`` at this database's schema: upgraded when it is older."""
        schema = self.schema()
        if sorted(state.schema) == schema:
            return state
        from pocketstack.testing.migrate import UnknownSchema, upgraded  # Alembic: only for an older state

        try:
            moved = upgraded(state)
        except UnknownSchema as error:
            raise errors.BadStateFile(reason=str(error)) from None
        if moved.schema != schema:
            raise errors.BadStateFile(reason=f"it was taken at schema {', '.join(sorted(state.schema))}, which "
                                             f"does not lead to this database's {', '.join(schema)}")
        return moved

    def _advance_counters(self, tables: dict[str, TableRows]) -> dict[str, TableRows]:
        current = self.tables.dump([table for table, _ in COUNTERS])
        result = dict(tables)
        for table, column in COUNTERS:
            if table not in tables or table not in current or not current[table].rows:
                continue
            ceiling = max(row[current[table].columns.index(column)] for row in current[table].rows)
            rows = tables[table]
            at = rows.columns.index(column)
            result[table] = TableRows(rows.columns, [[*r[:at], ceiling + 1, *r[at + 1:]] for r in rows.rows])
        return result

    def put_back(self, state: State) -> None:
        """Apply ``state``, then point the catalog at where the services are served now
        (the state may come from a start on another port).  Alone, for a stopped cloud;
        inside :meth:`reset` for a running one."""
        from pocketstack.identity.bootstrap import sync_catalog

        self.apply(state)
        for cloud in (self.cloud, *self.cloud.regions):
            sync_catalog(self.cloud.identity, cloud.settings.region, cloud.catalog())

    # -- the baseline ---------------------------------------------------------------------
    @property
    def baseline_path(self) -> Path:
        return self.root / BASELINE

    def has_baseline(self) -> bool:
        return self.baseline_path.is_file()

    def record_baseline(self) -> None:
        """Record the state as the baseline if none is recorded yet (the first start), else
        let the baseline follow the bootstrap users (a new ``--admin-password``).  Cheap
        when they did not change: one table is read and compared by digest."""
        self.root.mkdir(parents=True, exist_ok=True)
        users = self._bootstrap_users()
        digest = hashlib.sha256(repr(users.rows).encode()).hexdigest()
        marker = self.root / USERS_DIGEST
        if not self.has_baseline():
            self._baseline = self.capture()
            self._baseline.save(self.baseline_path)
        else:
            if self._baseline_schema() != self.schema():  # pocketstack was upgraded since
                self._baseline = self._current(self.baseline())
                self._baseline.save(self.baseline_path)
            if not marker.is_file() or marker.read_text() != digest:
                self._follow(users)
            if self._baseline_regions() != sorted(r.settings.region for r in self.cloud.regions):
                self._follow_regions()
        marker.write_text(digest)

    def _follow_regions(self) -> None:
        """The cloud serves other further regions than when the baseline was recorded: a
        new region's baseline is its state now (before any service ran), a region no
        longer served is dropped."""
        baseline = self.baseline()
        baseline.regions = {region.settings.region: baseline.regions.get(region.settings.region)
                            or region.state.capture() for region in self.cloud.regions}
        baseline.save(self.baseline_path)

    def _follow(self, users: TableRows) -> None:
        baseline = self.baseline()
        table, column, names = BOOTSTRAP_USERS
        old = baseline.tables[table]
        if old.columns == users.columns:
            kept = [r for r in old.rows if r[old.columns.index(column)] not in names]
            baseline.tables[table] = TableRows(old.columns, kept + users.rows)
            baseline.save(self.baseline_path)

    def _baseline_schema(self) -> list[str]:
        """The recorded state's schema revisions, read without loading its rows."""
        return sorted(manifest(self.baseline_path)["schema"])

    def _baseline_regions(self) -> list[str]:
        return sorted(manifest(self.baseline_path).get("regions", []))

    def _bootstrap_users(self) -> TableRows:
        """The bootstrap users' rows as they are now (a table reflected on its own: this
        runs at every start)."""
        table, column, names = BOOTSTRAP_USERS
        rows = TableSet(self.cloud.db.engine, only=[table]).dump([table])[table]
        at = rows.columns.index(column)
        return TableRows(rows.columns, sorted((r for r in rows.rows if r[at] in names), key=lambda r: str(r[at])))

    def baseline(self) -> State:
        if self._baseline is None:
            if not self.has_baseline():
                raise errors.NoBaseline()
            self._baseline = State.load(self.baseline_path)
        return self._baseline

    # -- named snapshots ------------------------------------------------------------------
    def _path(self, name: str) -> Path:
        if not NAME.match(name):
            raise errors.BadSnapshotName(name=name)
        return self.root / "snapshots" / (name + SUFFIX)

    def snapshot_path(self, name: str, exists: bool = True) -> Path:
        path = self._path(name)
        if exists and not path.is_file():
            raise errors.SnapshotNotFound(name=name)
        return path

    def save(self, name: str) -> SnapshotInfo:
        path = self._path(name)
        if path.exists():
            raise errors.SnapshotExists(name=name)
        path.parent.mkdir(parents=True, exist_ok=True)
        self.capture().save(path)
        return self.info(name)

    def store(self, name: str, state: State) -> SnapshotInfo:
        """Keep an uploaded state under ``name`` (replacing one of that name)."""
        path = self._path(name)
        path.parent.mkdir(parents=True, exist_ok=True)
        state.save(path)
        return self.info(name)

    def info(self, name: str) -> SnapshotInfo:
        path = self.snapshot_path(name)
        return SnapshotInfo(name, _created_at(path), path.stat().st_size)

    def snapshots(self) -> list[SnapshotInfo]:
        folder = self.root / "snapshots"
        names = sorted(p.name[:-len(SUFFIX)] for p in folder.glob("*" + SUFFIX)) if folder.is_dir() else []
        return [self.info(name) for name in names]

    def load(self, name: str) -> State:
        return State.load(self.snapshot_path(name))

    def delete(self, name: str) -> None:
        self.snapshot_path(name).unlink()

    # -- a running cloud ------------------------------------------------------------------
    def refusal(self) -> str | None:
        """Why this process cannot reset its cloud while it runs, if it cannot."""
        settings, cloud = self.cloud.settings, self.cloud
        if not (cloud.in_process_rpc or urlsplit(settings.transport_url).scheme == "local"):
            return ("it is scaled out (its workers run in other processes); stop them all, run "
                    "`pocketstack reset` on the stopped cloud and start them again")
        return None

    def check_live(self) -> None:
        """409 unless this process can reset its cloud while it runs."""
        if not self.has_baseline():
            raise errors.NoBaseline()
        reason = self.refusal()
        if reason is not None:
            raise errors.CannotReset(reason=reason)

    async def reset(self, name: str | None = None) -> float:
        """Put snapshot ``name`` (default: the baseline) back into the running cloud; the
        seconds it took.  Runs on the loop that runs the services: in an API worker
        process of ``--api-workers``, the primary process does it."""
        self.check_live()
        if name is not None:
            self.snapshot_path(name)  # 404 before anything stops
        transport = self.cloud.transport
        if isinstance(transport, LocalTransport):
            return float(await transport.ask_primary("reset", name=name))
        started = time.monotonic()
        wanted = await asyncio.to_thread(self.baseline if name is None else functools.partial(self.load, name))
        cloud = self.cloud
        clouds = [cloud, *cloud.regions]
        async with self._live:
            running = [s for c in clouds for s in c.running_services() if s.name in RESTARTED]
            for service in reversed(running):
                await service.stop()
            for c in clouds:
                await c.renew_transport()
            try:
                await asyncio.to_thread(self.put_back, wanted)
            finally:
                for service in running:
                    await service.start()
        return time.monotonic() - started


def _created_at(path: Path) -> str:
    return dt.datetime.fromtimestamp(path.stat().st_mtime, dt.timezone.utc).isoformat(timespec="seconds")
