"""Object versioning and the expirer as operators and users meet them: the real
python-swiftclient CLI against a real ``pocketstack up``, and the real
``pocketstack object expirer --once`` next to it."""

from __future__ import annotations

import os
import subprocess
import time

import pytest

from cloudproc import ADMIN_PASSWORD, BIN, running_cloud


@pytest.fixture(scope="module")
def cloud(tmp_path_factory):
    with running_cloud(tmp_path_factory.mktemp("object-versions")) as proc:
        yield proc


def swift(cloud, *args, cwd=None):
    env = {k: v for k, v in os.environ.items() if not k.startswith(("OS_", "ST_"))}
    env.update(OS_AUTH_URL=cloud.url + "/identity/v3", OS_USERNAME="admin", OS_PASSWORD=ADMIN_PASSWORD,
               OS_PROJECT_NAME="admin", OS_USER_DOMAIN_NAME="Default", OS_PROJECT_DOMAIN_NAME="Default",
               OS_AUTH_VERSION="3", OS_IDENTITY_API_VERSION="3")
    result = subprocess.run([str(BIN / "swift"), *args], env=env, capture_output=True, text=True, cwd=cwd,
                            timeout=120)
    if result.returncode != 0:
        raise AssertionError(f"swift {' '.join(args)} failed:\n{result.stdout}\n{result.stderr}")
    return result.stdout


def test_swift_cli_versions_location(cloud, tmp_path):
    swift(cloud, "post", "archive")
    swift(cloud, "post", "-H", "X-Versions-Location: archive", "current")
    assert "Versions-Location: archive" in swift(cloud, "stat", "current").replace("X-", "")
    for text in ("first\n", "second\n", "third\n"):
        (tmp_path / "notes.txt").write_text(text)
        swift(cloud, "upload", "current", "notes.txt", cwd=tmp_path)
    versions = swift(cloud, "list", "archive").split()
    assert len(versions) == 2 and all(v.startswith("009notes.txt/") for v in versions)
    swift(cloud, "delete", "current", "notes.txt")
    assert swift(cloud, "download", "current", "notes.txt", "-o", "-") == "second\n"
    assert len(swift(cloud, "list", "archive").split()) == 1


def test_swift_cli_history_location(cloud, tmp_path):
    swift(cloud, "post", "history")
    swift(cloud, "post", "-H", "X-History-Location: history", "journal")
    (tmp_path / "entry").write_text("v1")
    swift(cloud, "upload", "journal", "entry", cwd=tmp_path)
    swift(cloud, "delete", "journal", "entry")
    assert swift(cloud, "list", "journal").split() == []
    kept = swift(cloud, "list", "history", "--long")
    assert kept.count("005entry/") == 2 and "application/x-deleted;swift_versions_deleted=1" in kept


def test_expirer_command_removes_expired_objects(cloud, tmp_path):
    (tmp_path / "brief").write_text("gone soon")
    swift(cloud, "upload", "-H", "X-Delete-After: 1", "temporary", "brief", cwd=tmp_path)
    swift(cloud, "upload", "temporary", "brief", "--object-name", "stays", cwd=tmp_path)
    deadline = time.time() + 10
    while "brief" in swift(cloud, "list", "temporary").split():
        result = subprocess.run([str(BIN / "pocketstack"), "--data-dir", str(cloud.data_dir), "object", "expirer",
                                 "--once"], capture_output=True, text=True, timeout=120)
        assert result.returncode == 0, result.stderr
        assert time.time() < deadline, result.stdout
        time.sleep(0.5)
    assert swift(cloud, "list", "temporary").split() == ["stays"]
    assert "Objects: 1" in swift(cloud, "stat", "temporary")


def test_the_running_cloud_expires_objects_in_the_background(tmp_path):
    with running_cloud(tmp_path, env={"POCKETSTACK_OBJECT_BACKGROUND_INTERVAL": "0.5"}) as proc:
        (tmp_path / "note").write_text("short-lived")
        swift(proc, "upload", "-H", "X-Delete-After: 1", "background", "note", cwd=tmp_path)
        deadline = time.time() + 30
        while swift(proc, "list", "background").split():
            assert time.time() < deadline, proc.log()
            time.sleep(0.5)
        assert "Objects: 0" in swift(proc, "stat", "background")
        assert "object expirer pass: 1 expired" in proc.log()
