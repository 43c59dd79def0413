"""``pocketstack ring ...`` end to end in a temporary directory."""

from __future__ import annotations

import subprocess
import sys

from pocketstack.object.ring import Ring, RingBuilder
from pocketstack.object.ring.cli import EXIT_ERROR, EXIT_SUCCESS, EXIT_WARNING, main


def run(capsys, *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_cli_round_trip(tmp_path, capsys) -> None:
    builder = str(tmp_path / "object.builder")
    assert run(capsys, "create", builder, "8", "3", "1")[0] == EXIT_SUCCESS

    code, out, _ = run(capsys, "add", builder,
                       "r1z1-10.0.0.1:6200/sdb", "100", "r1z2-10.0.0.2:6200/sdb", "100",
                       "r1z3-10.0.0.3:6200/sdb", "100")
    assert code == EXIT_SUCCESS and "got id 2" in out
    code, out, _ = run(capsys, "add", builder, "--region", "1", "--zone", "1",
                       "--ip", "10.0.0.4", "--port", "6200", "--device", "sdc",
                       "--weight", "100", "--meta", "new disk")
    assert code == EXIT_SUCCESS and "got id 3" in out

    code, out, _ = run(capsys, "rebalance", builder, "--seed", "1")
    assert code == EXIT_SUCCESS
    assert "Reassigned 256 (100.00%) partitions" in out
    ring_path = tmp_path / "object.ring.gz"
    assert ring_path.exists()
    ring = Ring(ring_path)
    assert ring.partition_count == 256 and len(ring.devs) == 4

    code, out, _ = run(capsys, "show", builder)
    assert code == EXIT_SUCCESS
    assert "256 partitions, 3.000000 replicas, 1 regions, 3 zones, 4 devices" in out
    assert "is up-to-date" in out and "new disk" in out

    # Swift's argument order works too; nothing to do now -> warning status
    code, out, _ = run(capsys, builder, "rebalance")
    assert code == EXIT_WARNING and "No partitions could be reassigned" in out

    # weight change blocked by min_part_hours, then allowed
    assert run(capsys, "set_weight", builder, "d3", "50")[0] == EXIT_SUCCESS
    code, out, _ = run(capsys, "rebalance", builder)
    assert code == EXIT_WARNING
    assert run(capsys, "pretend_min_part_hours_passed", builder)[0] == EXIT_SUCCESS
    code, out, _ = run(capsys, "rebalance", builder, "--seed", "2")
    assert code == EXIT_SUCCESS and "Balance is now" in out
    assert RingBuilder.load(builder).devs[3].weight == 50

    # remove by IP (a search value starting with '-')
    code, out, _ = run(capsys, "remove", builder, "-10.0.0.4")
    assert code == EXIT_SUCCESS and "marked for removal" in out
    code, out, _ = run(capsys, "rebalance", builder)
    assert code == EXIT_SUCCESS and "removed 1 device" in out
    assert len([d for d in Ring(ring_path).devs if d]) == 3

    code, out, _ = run(capsys, "dispersion", builder, "--verbose")
    assert code == EXIT_SUCCESS and "Dispersion is 0.000000" in out and "r1z2" in out
    assert run(capsys, "validate", builder)[0] == EXIT_SUCCESS
    code, out, _ = run(capsys, "search", builder, "z2")
    assert "10.0.0.2" in out
    assert run(capsys, "set_overload", builder, "10%")[0] == EXIT_SUCCESS
    assert RingBuilder.load(builder).overload == 0.1
    assert run(capsys, "set_min_part_hours", builder, "0")[0] == EXIT_SUCCESS
    assert RingBuilder.load(builder).min_part_hours == 0


def test_cli_errors(tmp_path, capsys) -> None:
    builder = str(tmp_path / "object.builder")
    code, _, err = run(capsys, "show", builder)
    assert code == EXIT_ERROR and "does not exist" in err
    run(capsys, "create", builder, "6", "3", "0")
    code, _, err = run(capsys, "add", builder, "bogus", "1")
    assert code == EXIT_ERROR and "invalid device" in err
    code, _, err = run(capsys, "rebalance", builder)
    assert code == EXIT_ERROR and "requires at least 3 devices" in err
    code, _, err = run(capsys, "set_weight", builder, "d9", "1")
    assert code == EXIT_ERROR and "matched no devices" in err
    code, _, err = run(capsys, "create", builder, "x", "3", "0")
    assert code == EXIT_ERROR


def test_cli_runs_as_module(tmp_path) -> None:
    builder = str(tmp_path / "account.builder")
    result = subprocess.run(
        [sys.executable, "-m", "pocketstack.object.ring.cli", "create", builder, "4", "1", "0"],
        capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stderr
    assert "16 partitions" in result.stdout
