"""A three-node MariaDB Galera cluster started by the tests, on loopback ports.

Galera is where "retry the whole transaction" stops being theoretical: every node
accepts writes, and two transactions that touch the same row on two nodes are not
serialized by a lock -- the loser fails at COMMIT with error 1213 (certification
failure).  The cluster uses the distribution's ``mariadbd`` and ``galera-4`` packages
(``.ci/run`` installs them); each node has its own data directory, runs as the ``mysql``
user (the rsync state transfer's daemon drops privileges to it) and is stopped and removed
afterwards.  Nodes 2 and 3 join by a full state transfer (rsync) from node 1, one after
the other.
"""

from __future__ import annotations

import contextlib
import shutil
import subprocess
import tempfile
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from cloudproc import free_port
from support import IN_CI

PROVIDER = Path("/usr/lib/galera/libgalera_smm.so")
NEEDED = ("mariadbd", "mariadb-install-db", "mariadb", "rsync", "wsrep_sst_rsync")
# Group communication timeouts for a loaded 2-core machine: the defaults (a node silent
# for 5 s is suspected, evicted after 15 s) can split the cluster while CI's guests and
# workers starve a node of CPU, and the races under test are about certification, not
# about eviction.
TOLERANT_OF_STARVATION = "evs.suspect_timeout=PT30S;evs.inactive_timeout=PT1M;evs.install_timeout=PT1M"


def require_galera() -> None:
    """Skip (fail on CI) unless Galera can be started here."""
    missing = [tool for tool in NEEDED if shutil.which(tool) is None]
    if not PROVIDER.exists():
        missing.append(str(PROVIDER))
    try:
        import pwd
        pwd.getpwnam("mysql")
    except KeyError:
        missing.append("the mysql user")
    if missing:
        message = "Galera cluster needs " + ", ".join(missing) + " (apt-get install mariadb-server galera-4 rsync)"
        if IN_CI:
            pytest.fail(message, pytrace=False)
        pytest.skip(message)


@dataclass
class Node:
    name: str
    root: Path
    port: int
    group_port: int
    process: subprocess.Popen | None = None

    @property
    def socket(self) -> Path:
        return self.root / "mysqld.sock"

    def sql(self, statement: str) -> str:
        result = subprocess.run(["mariadb", "-S", str(self.socket), "-uroot", "-N", "-e", statement],
                                capture_output=True, text=True, timeout=30)
        if result.returncode != 0:
            raise RuntimeError(f"{self.name}: {statement}: {result.stderr.strip()}")
        return result.stdout.strip()

    def status(self, name: str) -> str | None:
        try:
            out = self.sql(f"SHOW STATUS LIKE '{name}'")
        except (RuntimeError, subprocess.TimeoutExpired):
            return None
        return out.split("\t")[1] if out else None

    def log(self) -> str:
        path = self.root / "error.log"
        return path.read_text(errors="replace")[-4000:] if path.exists() else ""


def _write_config(node: Node, peers: list[Node], cluster: str) -> Path:
    config = node.root / "my.cnf"
    addresses = ",".join(f"127.0.0.1:{p.group_port}" for p in peers)
    config.write_text(f"""[mysqld]
datadir={node.root / 'data'}
socket={node.socket}
pid-file={node.root / 'mysqld.pid'}
log-error={node.root / 'error.log'}
port={node.port}
bind-address=127.0.0.1
user=mysql
skip-name-resolve
binlog_format=ROW
default_storage_engine=InnoDB
innodb_autoinc_lock_mode=2
innodb_buffer_pool_size=64M
innodb_flush_log_at_trx_commit=0
max_connections=300
wsrep_on=ON
wsrep_provider={PROVIDER}
wsrep_cluster_name={cluster}
wsrep_node_name={node.name}
wsrep_cluster_address=gcomm://{addresses}
wsrep_node_address=127.0.0.1:{node.group_port}
wsrep_provider_options="gmcast.listen_addr=tcp://127.0.0.1:{node.group_port};ist.recv_addr=127.0.0.1:{free_port()};gcache.size=32M;{TOLERANT_OF_STARVATION}"
wsrep_sst_receive_address=127.0.0.1:{free_port()}
wsrep_sst_method=rsync
""")
    return config


def _wait(check, what: str, nodes: list[Node], timeout: float = 120.0) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        for node in nodes:
            if node.process is not None and node.process.poll() is not None:
                raise RuntimeError(f"{node.name} exited while waiting for {what}:\n{node.log()}")
        if time.monotonic() > deadline:
            raise RuntimeError(f"Galera: {what} not reached in {timeout}s:\n" + "\n".join(n.log() for n in nodes))
        time.sleep(0.25)


def _start(node: Node, *extra: str) -> None:
    config = node.root / "my.cnf"
    node.process = subprocess.Popen(["mariadbd", f"--defaults-file={config}", *extra],
                                    stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


@contextlib.contextmanager
def galera_cluster(size: int = 3) -> Iterator[list[str]]:
    """Start a ``size``-node cluster; yield one SQLAlchemy URL per node, all naming the
    same fresh database.  Its files live in a directory of its own under the system's
    temporary directory (pytest's are private to root; the nodes run as ``mysql``)."""
    require_galera()
    root = Path(tempfile.mkdtemp(prefix="pocketstack-galera-"))
    cluster = f"pstest{uuid.uuid4().hex[:8]}"
    nodes = [Node(f"node{i + 1}", root / f"node{i + 1}", free_port(), free_port()) for i in range(size)]
    for node in nodes:
        (node.root / "data").mkdir(parents=True)
        _write_config(node, nodes, cluster)
    shutil.chown(root, "mysql", "mysql")
    for path in root.rglob("*"):
        shutil.chown(path, "mysql", "mysql")
    try:
        first = nodes[0]
        subprocess.run(["mariadb-install-db", f"--defaults-file={first.root / 'my.cnf'}",
                        "--auth-root-authentication-method=normal", "--skip-test-db"],
                       check=True, capture_output=True, timeout=120)
        _start(first, "--wsrep-new-cluster")
        _wait(lambda: first.status("wsrep_ready") == "ON", "node1 ready", nodes)
        database = "pocketstack_galera_" + uuid.uuid4().hex[:8]
        first.sql("CREATE USER IF NOT EXISTS 'root'@'127.0.0.1'; "
                  "GRANT ALL ON *.* TO 'root'@'127.0.0.1' WITH GRANT OPTION; "
                  f"CREATE DATABASE `{database}` CHARACTER SET utf8mb4 COLLATE utf8mb4_bin")
        for joined, node in enumerate(nodes[1:], start=2):
            _start(node)
            _wait(lambda node=node, joined=joined: node.status("wsrep_ready") == "ON"
                  and first.status("wsrep_cluster_size") == str(joined), f"{node.name} joined", nodes)
        yield [f"mysql+pymysql://root@127.0.0.1:{n.port}/{database}?charset=utf8mb4" for n in nodes]
    finally:
        for node in reversed(nodes):
            if node.process is not None and node.process.poll() is None:
                node.process.terminate()
        for node in nodes:
            if node.process is not None:
                try:
                    node.process.wait(timeout=60)
                except subprocess.TimeoutExpired:
                    node.process.kill()
                    node.process.wait()
        shutil.rmtree(root, ignore_errors=True)
