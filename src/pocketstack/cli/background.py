"""For scripts: wait until a cloud is ready, or start one in the background and return then.

``pocketstack wait`` polls a server's readiness probe (``/healthcheck/ready``) until it
answers 200, or gives up after ``--timeout`` seconds.  ``pocketstack up --wait`` (and
``api --wait``) start the same command again as a child process in its own session,
its output going to ``<data_dir>/pocketstack.log``, wait for it to be ready and print
its pid; the child runs on after this process exits (``kill <pid>`` stops it).
"""

from __future__ import annotations

import socket
import subprocess
import sys
import time

import httpx

from pocketstack.common.config import Settings

READY_PATH = "/healthcheck/ready"
POLL_INTERVAL = 0.2


def local_url(settings: Settings) -> str:
    """Where this machine reaches the server ``settings`` describe (a wildcard listen
    address is reached on loopback)."""
    host = "127.0.0.1" if settings.host in ("", "0.0.0.0") else "[::1]" if settings.host == "::" else settings.host
    return f"http://{host}:{settings.port}"


def wait_ready(url: str, timeout: float, alive: subprocess.Popen[bytes] | None = None) -> tuple[bool, str]:
    """Poll ``url``'s readiness until it is green (True) or ``timeout`` passes, or the
    process ``alive`` exits (False); the second value says what was seen last."""
    deadline = time.monotonic() + timeout
    seen = "no answer yet"
    with httpx.Client(timeout=max(1.0, min(5.0, timeout))) as client:
        while True:
            if alive is not None and alive.poll() is not None:
                return False, f"the server exited with status {alive.returncode}"
            try:
                response = client.get(url.rstrip("/") + READY_PATH)
                if response.status_code == 200:
                    return True, "ready"
                seen = f"{response.status_code}: {response.text.strip()}"
            except httpx.HTTPError as error:
                seen = f"{type(error).__name__}: {error}"
            if time.monotonic() >= deadline:
                return False, seen
            time.sleep(POLL_INTERVAL)


def wait_command(url: str, timeout: float) -> int:
    """``pocketstack wait``: 0 once ready, 1 after the timeout (saying what was seen)."""
    ready, seen = wait_ready(url, timeout)
    if ready:
        print(f"{url} is ready")
        return 0
    print(f"pocketstack: {url} not ready after {timeout:g}s ({seen})", file=sys.stderr)
    return 1


def port_free(host: str, port: int) -> bool:
    try:
        with socket.create_server((host, port)):
            return True
    except OSError:
        return False


def strip_wait_flags(argv: list[str]) -> list[str]:
    """``argv`` without ``--wait`` and ``--wait-timeout [S]`` (the child must not detach again)."""
    kept, skip = [], False
    for arg in argv:
        if skip:
            skip = False
        elif arg == "--wait-timeout":
            skip = True
        elif arg != "--wait" and not arg.startswith("--wait-timeout="):
            kept.append(arg)
    return kept


def detach(argv: list[str], settings: Settings, timeout: float) -> int:
    """Run ``pocketstack <argv>`` (``--wait`` left out) in the background; return 0 once it
    is ready, printing its pid, or 1 (the child stopped) when it does not get ready."""
    if not port_free(settings.host, settings.port):
        # Another server there would answer the readiness probe in the child's stead.
        print(f"pocketstack: {settings.host}:{settings.port} is already in use", file=sys.stderr)
        return 1
    log_path = settings.data_dir / "pocketstack.log"
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    command = [sys.executable, "-m", "pocketstack.cli.main", *strip_wait_flags(argv)]
    with open(log_path, "ab") as log:
        child = subprocess.Popen(command, stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT,
                                 start_new_session=True)
    url = local_url(settings)
    ready, seen = wait_ready(url, timeout, alive=child)
    if ready:
        (settings.data_dir / "pocketstack.pid").write_text(f"{child.pid}\n")
        print(f"pocketstack {url} ready; pid {child.pid}, log {log_path}", file=sys.stderr, flush=True)
        print(child.pid, flush=True)
        return 0
    if child.poll() is None:
        child.terminate()
        try:
            child.wait(timeout=15)
        except subprocess.TimeoutExpired:
            child.kill()
            child.wait()
    print(f"pocketstack: not ready after {timeout:g}s ({seen}); see {log_path}", file=sys.stderr)
    return 1

