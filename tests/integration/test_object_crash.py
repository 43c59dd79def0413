"""A real ``pocketstack up`` killed with SIGKILL in the middle of an object upload: the
replicas' temp files it leaves behind are reclaimed by the next process's background
passes once they are older than ``object_reclaim_age``, and the upload never shows."""

from __future__ import annotations

import signal
import socket
import time
from pathlib import Path

import httpx

from cloudproc import ADMIN_PASSWORD, running_cloud

SENT, DECLARED = 3_000_000, 10_000_000


def _login(url: str) -> tuple[str, str]:
    """``(token, storage url)`` of the admin project."""
    auth = httpx.post(url + "/identity/v3/auth/tokens", timeout=30, json={"auth": {
        "identity": {"methods": ["password"], "password": {"user": {
            "name": "admin", "domain": {"id": "default"}, "password": ADMIN_PASSWORD}}},
        "scope": {"project": {"name": "admin", "domain": {"id": "default"}}}}})
    assert auth.status_code == 201, auth.text
    return auth.headers["X-Subject-Token"], f"{url}/object-store/v1/AUTH_{auth.json()['token']['project']['id']}"


def _start_partial_upload(storage: str, token: str, path: str) -> socket.socket:
    """PUT an object by hand, stopping after ``SENT`` of ``DECLARED`` bytes."""
    url = httpx.URL(storage + path)
    sock = socket.create_connection((url.host, url.port))
    sock.sendall((f"PUT {url.raw_path.decode()} HTTP/1.1\r\nHost: {url.host}\r\nX-Auth-Token: {token}\r\n"
                  f"Content-Length: {DECLARED}\r\n\r\n").encode() + b"x" * SENT)
    return sock


def _temp_files(data_dir: Path) -> list[Path]:
    return [p for p in (data_dir / "object" / "devices").glob("*/tmp/*") if p.is_file()]


def _wait_for(check, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.1)
    return True


def test_temp_files_of_an_upload_cut_by_a_crash_are_reclaimed(tmp_path):
    with running_cloud(tmp_path, env={"POCKETSTACK_OBJECT_BACKGROUND_INTERVAL": "0"}) as first:
        token, storage = _login(first.url)
        assert httpx.put(f"{storage}/crash", headers={"X-Auth-Token": token}).status_code == 201
        sock = _start_partial_upload(storage, token, "/crash/interrupted")
        assert _wait_for(lambda: len(_temp_files(first.data_dir)) == 3, timeout=10), _temp_files(first.data_dir)
        first.process.send_signal(signal.SIGKILL)
        first.process.wait(timeout=15)
        sock.close()
        assert len(_temp_files(first.data_dir)) == 3
    time.sleep(1.5)  # older than the reclaim age below
    env = {"POCKETSTACK_OBJECT_BACKGROUND_INTERVAL": "0.3", "POCKETSTACK_OBJECT_RECLAIM_AGE": "1"}
    with running_cloud(tmp_path, env=env) as second:
        assert _wait_for(lambda: _temp_files(second.data_dir) == [], timeout=20), _temp_files(second.data_dir)
        token, storage = _login(second.url)
        assert httpx.head(f"{storage}/crash/interrupted", headers={"X-Auth-Token": token}).status_code == 404
        assert "Traceback" not in second.log()
