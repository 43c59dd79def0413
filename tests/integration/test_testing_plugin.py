"""pocketstack as a cloud for tests, from the outside: the sample application's own test
suite run by pytest with the plugin (examples/sample-app), and ``pocketstack reset`` /
``pocketstack snapshot`` against a running ``pocketstack up`` and a stopped one."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import httpx

from pocketstack.testing import Cloud
from pocketstack.testing.snapshot import State

ROOT = Path(__file__).resolve().parents[2]
SAMPLE = ROOT / "examples" / "sample-app"


def _env() -> dict[str, str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join([str(ROOT / "src"), env.get("PYTHONPATH", "")])
    # The plugin by name: an editable install made before the entry point existed lacks it.
    env["PYTEST_DISABLE_PLUGIN_AUTOLOAD"] = "1"
    return env


def test_sample_app_suite_passes_with_the_plugin():
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-p", "pocketstack.testing.plugin",
         "-W", "ignore::DeprecationWarning"],
        cwd=SAMPLE, env=_env(), capture_output=True, text=True, timeout=240)
    summary = result.stdout.strip().splitlines()[-1] if result.stdout.strip() else ""
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-2000:]
    assert "7 passed, 1 skipped" in summary, summary


def _cli(cloud: Cloud, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "pocketstack.cli.main", "--data-dir", str(cloud.data_dir), *args,
                           "--port", str(cloud.port), "--clouds-file", str(cloud.clouds_yaml)],
                          env=_env(), capture_output=True, text=True, timeout=120)


def _networks(cloud: Cloud) -> list[str]:
    return sorted(n.name for n in cloud.connection().network.networks())


def _saved_networks(cloud: Cloud, path: Path) -> list:
    """The networks in the stopped cloud's state, read with ``pocketstack snapshot save``."""
    assert _cli(cloud, "snapshot", "save", str(path)).returncode == 0
    networks = State.load(path).tables["network_network"]
    return sorted(row[networks.columns.index("name")] for row in networks.rows)


def test_cli_reset_and_snapshot_files_running_and_stopped(tmp_path):
    state_file = tmp_path / "prepared.state"
    cloud = Cloud(mode="subprocess", data_dir=tmp_path / "data")
    with cloud:
        conn = cloud.connection()
        conn.network.create_network(name="prepared")
        saved = _cli(cloud, "snapshot", "save", str(state_file))
        assert saved.returncode == 0, saved.stderr
        conn.network.create_network(name="later")
        done = _cli(cloud, "reset")
        assert done.returncode == 0 and "bootstrapped state" in done.stdout, done.stderr
        assert _networks(cloud) == []
        restored = _cli(cloud, "snapshot", "restore", str(state_file))
        assert restored.returncode == 0, restored.stderr
        assert _networks(cloud) == ["prepared"]
        # The running cloud's temporary snapshots are gone.
        assert httpx.get(f"{cloud.url}/_pocketstack/snapshots",
                         headers={"X-Auth-Token": cloud.state.token()}).json() == {"snapshots": []}
        wrong = _cli(cloud, "reset", "--admin-password", "wrong")
        assert wrong.returncode == 1 and "401" in wrong.stderr
    # Stopped: the same commands work on the data directory.
    assert _cli(cloud, "reset").returncode == 0
    assert _saved_networks(cloud, tmp_path / "after-reset.state") == []
    assert _cli(cloud, "snapshot", "restore", str(state_file)).returncode == 0
    assert _saved_networks(cloud, tmp_path / "after-restore.state") == ["prepared"]
