"""The simulated machine of a fake host another process runs (instance HA, scaled out):
the process claims ``<data_dir>/fake/<host>.machine``; others read it and power it off."""

from __future__ import annotations

import os
import subprocess
import sys
import time

from pocketstack.compute.drivers.fake_machine import MachineFile, start_time

CLAIM = ("import sys, time; from pathlib import Path; "
         "from pocketstack.compute.drivers.fake_machine import MachineFile; "
         "MachineFile(Path(sys.argv[1])).claim(); print('claimed', flush=True); time.sleep(120)")


def test_a_claimed_machine_lives_with_its_process_and_dies_when_powered_off(tmp_path):
    path = tmp_path / "fake" / "host-a.machine"
    machine = MachineFile(path)
    assert machine.alive() is None  # nobody runs it: it cannot be read
    host = subprocess.Popen([sys.executable, "-c", CLAIM, str(path)], stdout=subprocess.PIPE, text=True,
                            env={**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)})
    try:
        assert host.stdout.readline().strip() == "claimed"
        assert machine.alive() is True
        machine.power_off(wait=10)
        assert host.wait(timeout=10) == -9  # SIGKILL, as pulling the power
        assert machine.alive() is False  # the file is left: the machine died
        machine.power_off(wait=1)  # again: nothing to do
    finally:
        if host.poll() is None:
            host.kill()
            host.wait()


def test_a_clean_stop_leaves_nothing_to_read_and_a_reused_pid_is_no_machine(tmp_path):
    path = tmp_path / "host-b.machine"
    machine = MachineFile(path)
    machine.claim()
    assert machine.alive() is True  # this process runs it
    machine.release()
    assert not path.exists() and machine.alive() is None
    # A pid that lives but started at another time is another process: the machine is dead.
    path.write_text(f"{os.getpid()} {int(start_time(os.getpid()) or 0) + 1}\n")
    assert machine.alive() is False
    machine.release()  # not ours: kept
    assert path.exists()
    path.write_text("garbage")
    assert machine.alive() is None
    started = time.monotonic()
    machine.power_off(wait=5)  # nothing runs it: returns at once
    assert time.monotonic() - started < 1
