"""Request replay: re-run only while a conflict struck before any visible effect."""

from __future__ import annotations

import pytest
from sqlalchemy import exc as sa_exc

from pocketstack.common.db.cas import ConcurrentUpdate
from pocketstack.common.db.replay import REPLAYS, note_effect, run_replayable


class Certification(Exception):
    """What PyMySQL raises for a Galera certification failure."""

    def __init__(self):
        super().__init__(1213, "Deadlock found when trying to get lock; try restarting transaction")


def conflict() -> sa_exc.OperationalError:
    return sa_exc.OperationalError("COMMIT", {}, Certification())


def test_conflict_before_any_effect_is_replayed():
    runs = []

    def handler(value):
        runs.append(value)
        if len(runs) < 3:
            raise conflict()
        note_effect()
        return value * 2
    assert run_replayable(handler, 21) == 42
    assert runs == [21, 21, 21]


def test_conflict_after_an_effect_propagates():
    runs = []

    def handler():
        runs.append(1)
        note_effect()          # e.g. a first transaction committed, or a cast was sent
        raise conflict()
    with pytest.raises(sa_exc.OperationalError):
        run_replayable(handler)
    assert len(runs) == 1


def test_other_errors_are_not_replayed():
    runs = []

    def handler():
        runs.append(1)
        raise sa_exc.IntegrityError("INSERT", {}, Exception(1062, "Duplicate entry"))
    with pytest.raises(sa_exc.IntegrityError):
        run_replayable(handler)
    assert len(runs) == 1


def test_replays_are_bounded():
    runs = []

    def handler():
        runs.append(1)
        raise ConcurrentUpdate("always")
    with pytest.raises(ConcurrentUpdate):
        run_replayable(handler)
    assert len(runs) == REPLAYS + 1


def test_effects_are_per_run_and_outside_a_request_ignored():
    note_effect()              # no request running: nothing to record, nothing fails
    runs = []

    def handler():
        runs.append(1)
        if len(runs) == 1:
            raise conflict()
        return "ok"
    assert run_replayable(handler) == "ok" and len(runs) == 2


def test_replays_and_conflicts_are_counted():
    from pocketstack.common.metrics import Metrics

    metrics = Metrics()
    runs = []

    def replayed():
        runs.append(1)
        if len(runs) == 1:
            raise ConcurrentUpdate("lost")
        return "ok"

    def after_effect():
        note_effect()
        raise conflict()

    assert run_replayable(replayed, metrics=metrics) == "ok"
    with pytest.raises(sa_exc.OperationalError):
        run_replayable(after_effect, metrics=metrics)

    def count(name, **labels):
        return metrics.registry.get_sample_value(name, labels) or 0

    assert count("pocketstack_db_conflicts_total", scope="request", kind="cas") == 1
    assert count("pocketstack_db_conflicts_total", scope="request", kind="database") == 1
    assert count("pocketstack_db_retries_total", scope="request") == 1  # the effect forbade a second replay
