"""Fence drivers: isolate a failed host completely before anything of it runs elsewhere.

A fence driver does one thing, :meth:`FenceDriver.fence`: power the host off (or the
equivalent) and answer whether that is *confirmed*.  Recovery starts only on a confirmed
fence; an unconfirmed one is tried again (``ha_fence_attempts``), then reported and the
host left alone, because a guest still running there must never run twice.

- ``fake``: the simulated machine of a fake-driver host is switched off (its guests stop;
  a host another process of this machine runs: that process is killed); confirmed when
  the machine reads as dead.
- ``qemu-host``: the host's guests run as QEMU processes on this machine: each one is
  killed (SIGKILL, as pulling the power) and the fence is confirmed once none is left.
- ``command``: an operator's fence agent (``fence_ipmilan``, ``ipmitool``, a Redfish
  script), run with a timeout; exit status 0 fences, and the optional verify command must
  then exit 0 too (e.g. ``ipmitool ... power status | grep -q off``).
"""

from __future__ import annotations

import logging
import os
import shlex
import signal
import subprocess
import time
from dataclasses import dataclass
from typing import Protocol

from pocketstack.common.config import Settings
from pocketstack.compute.contract import ComputeContract

LOG = logging.getLogger(__name__)
DRIVERS = ("fake", "qemu-host", "command")


@dataclass(frozen=True)
class FenceResult:
    confirmed: bool
    message: str


class FenceDriver(Protocol):
    name: str

    def fence(self, host: str) -> FenceResult:
        """Power ``host`` off; confirmed only when it is known to be off (blocking)."""


class FakeFence:
    """The simulated machine's power switch (the compute contract's fake hosts)."""

    name = "fake"

    def __init__(self, compute: ComputeContract):
        self.compute = compute

    def fence(self, host: str) -> FenceResult:
        self.compute.power_off_host(host)
        alive = self.compute.host_alive(host)
        if alive is False:
            return FenceResult(True, f"simulated host {host} powered off")
        return FenceResult(False, f"simulated host {host} " + ("still reads as alive" if alive else
                                                                 "cannot be read (no process of this machine runs it)"))


class QemuHostFence:
    """Every QEMU process of a host on this machine killed, and none left."""

    name = "qemu-host"

    def __init__(self, compute: ComputeContract, wait: float = 10.0):
        self.compute = compute
        self.wait = wait

    def fence(self, host: str) -> FenceResult:
        killed = self.compute.guest_processes(host)
        for pid in killed.values():
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass  # gone already
            except PermissionError as error:
                return FenceResult(False, f"cannot kill QEMU {pid} of host {host}: {error}")
        deadline = time.monotonic() + self.wait
        while (left := self.compute.guest_processes(host)) and time.monotonic() < deadline:
            time.sleep(0.05)
        if left:
            return FenceResult(False, f"QEMU of guest(s) {', '.join(sorted(left))} of host {host} still running")
        return FenceResult(True, f"killed {len(killed)} QEMU process(es) of host {host}; none left")


class CommandFence:
    """An operator's fence agent: ``command`` (then ``verify``) with ``{host}`` filled in,
    run by ``/bin/sh`` with ``timeout`` seconds each."""

    name = "command"

    def __init__(self, command: str, verify: str = "", timeout: float = 30.0):
        self.command = command
        self.verify = verify
        self.timeout = timeout

    def _run(self, template: str, host: str) -> tuple[bool, str]:
        line = template.replace("{host}", shlex.quote(host))
        try:
            done = subprocess.run(["/bin/sh", "-c", line], capture_output=True, text=True, timeout=self.timeout,
                                  stdin=subprocess.DEVNULL)
        except subprocess.TimeoutExpired:
            return False, f"{line!r} did not finish within {self.timeout:g}s"
        output = (done.stdout + done.stderr).strip()[-300:]
        return done.returncode == 0, f"{line!r} exited {done.returncode}" + (f": {output}" if output else "")

    def fence(self, host: str) -> FenceResult:
        if not self.command:
            return FenceResult(False, "the command fence driver has no ha_fence_command")
        ok, message = self._run(self.command, host)
        if ok and self.verify:
            ok, checked = self._run(self.verify, host)
            message = f"{message}; verify {checked}"
        return FenceResult(ok, message)


def fence_with_retries(driver: FenceDriver, host: str, attempts: int, pause: float = 1.0) -> FenceResult:
    """``driver.fence(host)`` until confirmed, at most ``attempts`` times; every attempt's
    message, for the record."""
    messages = []
    for attempt in range(1, max(1, attempts) + 1):
        try:
            result = driver.fence(host)
        except Exception as error:  # a broken driver is an unconfirmed fence, never a skipped one
            LOG.exception("fence driver %s failed on host %s", driver.name, host)
            result = FenceResult(False, f"{type(error).__name__}: {error}")
        messages.append(f"attempt {attempt} ({driver.name}): {result.message}")
        if result.confirmed:
            return FenceResult(True, "; ".join(messages))
        if attempt < attempts:
            time.sleep(pause)
    return FenceResult(False, "; ".join(messages))


class Fencers:
    """The fence driver of each host, as the settings choose it."""

    def __init__(self, settings: Settings, compute: ComputeContract):
        self.default, self.by_host = chosen_drivers(settings)
        self.drivers: dict[str, FenceDriver] = {
            "fake": FakeFence(compute),
            "qemu-host": QemuHostFence(compute),
            "command": CommandFence(settings.ha_fence_command, settings.ha_fence_verify_command,
                                    settings.ha_fence_timeout),
        }

    def for_host(self, host: str) -> FenceDriver:
        return self.drivers[self.by_host.get(host, self.default)]


def chosen_drivers(settings: Settings) -> tuple[str, dict[str, str]]:
    """The default fence driver and those chosen per host (``ha_fence_hosts``:
    ``"host1=command,host2=qemu-host"``); ValueError when a setting names no driver."""
    default = settings.ha_fence_driver or ("qemu-host" if settings.hypervisor == "qemu" else "fake")
    if default not in DRIVERS:
        raise ValueError(f"setting 'ha_fence_driver': {default!r} is not one of {', '.join(DRIVERS)}")
    by_host = {}
    for item in filter(None, (part.strip() for part in settings.ha_fence_hosts.split(","))):
        host, sep, driver = item.partition("=")
        if not sep or not host.strip() or driver.strip() not in DRIVERS:
            raise ValueError(f"setting 'ha_fence_hosts': {item!r} is not host=<{'|'.join(DRIVERS)}>")
        by_host[host.strip()] = driver.strip()
    return default, by_host
