"""The KVM probe's answer is kept per boot of the machine (compute/drivers/kvm_probe.py).

A stand-in QEMU (a shell script that prints the probe's marker and counts its starts)
shows when the probe really runs: once per binary, CPU model and boot, whatever the
number of processes asking.
"""

from __future__ import annotations

import json
import os
import stat
import time
from pathlib import Path

from pocketstack.compute.drivers.kvm_probe import CACHE_FILE, probe_kvm_cached


def _fake_qemu(tmp_path: Path, says: str, stream: str = "") -> tuple[str, Path]:
    """A QEMU that says ``says`` on stdout (``stream=">&2"``: on stderr, as QEMU reports
    a KVM failure) and then hangs, as a paused guest does."""
    starts = tmp_path / "starts"
    binary = tmp_path / "qemu-system-x86_64"
    binary.write_text(f"#!/bin/sh\necho start >> {starts}\nprintf '{says}\\n' {stream}\nexec sleep 5\n")
    binary.chmod(0o755)
    return str(binary), starts


def _starts(starts: Path) -> int:
    return len(starts.read_text().splitlines()) if starts.exists() else 0


def test_the_probe_runs_once_per_boot_binary_and_cpu_model(tmp_path) -> None:
    binary, starts = _fake_qemu(tmp_path, "accel-probe-ok")
    cache = tmp_path / "cache"
    assert probe_kvm_cached(binary, "host", cache)[0]
    answer = probe_kvm_cached(binary, "host", cache)
    assert answer[0] and "probed earlier since this boot" in answer[1]
    assert _starts(starts) == 1
    assert stat.S_IMODE(cache.stat().st_mode) == 0o700
    probe_kvm_cached(binary, "host,-arch-capabilities", cache)  # another CPU model
    assert _starts(starts) == 2
    # Another boot of the machine: asked again.
    path = cache / CACHE_FILE
    path.write_text(json.dumps({**json.loads(path.read_text()), "boot_id": "an earlier boot"}))
    assert probe_kvm_cached(binary, "host", cache)[0]
    assert _starts(starts) == 3
    # Another QEMU (upgraded in place): asked again.
    later = time.time() + 10
    os.utime(binary, (later, later))
    probe_kvm_cached(binary, "host", cache)
    assert _starts(starts) == 4


def test_a_refusal_is_remembered_too_and_a_shared_directory_is_not_trusted(tmp_path) -> None:
    binary, starts = _fake_qemu(tmp_path, "KVM internal error. Suberror: 1", ">&2")
    cache = tmp_path / "cache"
    first = probe_kvm_cached(binary, "host", cache)
    assert first == (False, "KVM internal error. Suberror: 1")
    assert not probe_kvm_cached(binary, "host", cache)[0]
    assert _starts(starts) == 1
    shared = tmp_path / "shared"
    shared.mkdir(mode=0o777)
    shared.chmod(0o777)
    probe_kvm_cached(binary, "host", shared)
    probe_kvm_cached(binary, "host", shared)
    assert _starts(starts) == 3 and not (shared / CACHE_FILE).exists()
