"""Blocking QMP for driver threads, over the maintained ``qemu.qmp`` library.

``qemu.qmp.QMPClient`` is asyncio; driver methods are blocking and run on worker threads.
One event loop thread per driver owns every QMP connection; a thread calls
:meth:`QmpLoop.execute`, which runs the command on that loop and waits for its answer.
(The library's own ``legacy.QEMUMonitorProtocol`` binds a connection to the event loop of
the thread that made it, which does not fit a pool of worker threads.)

A QMP server socket takes one client at a time, so a guest has at most one connection,
kept open and re-made when it breaks (QEMU restarted, compute restarted).  Socket paths
are reached through ``/proc/self/fd/<dirfd>/`` so that deep state directories do not hit
the 108-byte limit of a unix socket address.
"""

from __future__ import annotations

import asyncio
import os
import threading
from collections.abc import Coroutine
from pathlib import Path
from typing import Any, TypeVar

from qemu.qmp import ExecuteError, QMPClient

T = TypeVar("T")

__all__ = ["ExecuteError", "QmpError", "QmpLoop"]


class QmpError(Exception):
    """The guest's QMP socket could not be reached or answered an error."""


class QmpLoop:
    def __init__(self, name: str = "qmp"):
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, name=name, daemon=True)
        self._thread.start()
        self._clients: dict[str, QMPClient] = {}
        self._lock = threading.Lock()

    def _run(self, coro: Coroutine[Any, Any, T], timeout: float) -> T:
        return asyncio.run_coroutine_threadsafe(coro, self._loop).result(timeout)

    async def _connect(self, key: str, socket: Path) -> QMPClient:
        client = self._clients.get(key)
        if client is not None and client.runstate.name == "RUNNING":
            return client
        if client is not None:
            await client.disconnect()
        client = QMPClient(key)
        dirfd = os.open(socket.parent, os.O_PATH | os.O_DIRECTORY)
        try:
            await asyncio.wait_for(client.connect(f"/proc/self/fd/{dirfd}/{socket.name}"), 10)
        finally:
            os.close(dirfd)
        self._clients[key] = client
        return client

    async def _execute(self, key: str, socket: Path, command: str, args: dict | None, retry: bool,
                       fd: int | None = None) -> Any:
        client = await self._connect(key, socket)
        client.events.clear()  # state is polled, never read from events: keep the queue from growing
        try:
            if fd is not None:
                client.send_fd_scm(fd)  # taken by this command (getfd)
            return await client.execute(command, args)
        except ExecuteError:
            raise
        except Exception:
            if not retry:
                raise
            # A broken connection (QEMU restarted since): one fresh try.
            await self._drop(key)
            client = await self._connect(key, socket)
            return await client.execute(command, args)

    async def _drop(self, key: str) -> None:
        client = self._clients.pop(key, None)
        if client is not None:
            try:
                await client.disconnect()
            except Exception:  # noqa: BLE001 - the connection is gone either way
                pass

    def execute(self, key: str, socket: Path, command: str, args: dict | None = None, timeout: float = 30,
                retry: bool = True, fd: int | None = None) -> Any:
        """Run ``command`` on the guest ``key`` whose QMP socket is ``socket`` (once more on a
        fresh connection if the kept one turns out broken, unless ``retry`` is false);
        ``fd`` is sent along (SCM_RIGHTS) for a command that takes one, such as ``getfd``."""
        try:
            return self._run(self._execute(key, socket, command, args, retry and fd is None, fd), timeout)
        except ExecuteError as exc:
            raise QmpError(f"{command}: {exc.error_class}: {exc}") from exc
        except (OSError, EOFError, asyncio.TimeoutError, TimeoutError) as exc:
            raise QmpError(f"{command}: QMP of {key} unreachable ({exc.__class__.__name__}: {exc})") from exc
        except Exception as exc:  # the library's ConnectError/StateError and the like
            raise QmpError(f"{command}: QMP of {key} failed ({exc.__class__.__name__}: {exc})") from exc

    def drop(self, key: str) -> None:
        """Forget the connection of ``key`` (its QEMU is gone or about to be)."""
        self._run(self._drop(key), 10)

    def close(self) -> None:
        if self._loop.is_closed():
            return
        for key in list(self._clients):
            try:
                self.drop(key)
            except Exception:  # noqa: BLE001 - closing anyway
                pass
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(5)
        self._loop.close()
