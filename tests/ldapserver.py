"""A throwaway OpenLDAP ``slapd`` on a free loopback port, for the LDAP identity tests:
its own ``slapd.conf`` and MDB database in a temporary directory, filled with
``ldapadd`` (Debian packages ``slapd`` and ``ldap-utils``; .ci/run installs them)."""

from __future__ import annotations

import contextlib
import shutil
import socket
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from cloudproc import free_port
from support import IN_CI, require_tools

SUFFIX = "dc=example,dc=org"
ROOT_DN = f"cn=admin,{SUFFIX}"
ROOT_PASSWORD = "slapd-root-secret"
TOOLS = {"slapd": "slapd", "ldapadd": "ldap-utils"}

CONFIG = """\
include /etc/ldap/schema/core.schema
include /etc/ldap/schema/cosine.schema
include /etc/ldap/schema/inetorgperson.schema
modulepath /usr/lib/ldap
moduleload back_mdb
pidfile {dir}/slapd.pid
database mdb
maxsize 16777216
suffix "{suffix}"
rootdn "{root_dn}"
rootpw {root_password}
directory {dir}/db
access to attrs=userPassword by self write by anonymous auth by * none
access to * by * read
"""


@dataclass
class Slapd:
    url: str
    port: int
    process: subprocess.Popen
    dir: Path

    def add(self, ldif: str) -> None:
        """``ldapadd`` the entries of ``ldif`` as the root DN."""
        subprocess.run(["ldapadd", "-x", "-H", self.url, "-D", ROOT_DN, "-w", ROOT_PASSWORD],
                       input=ldif, text=True, check=True, capture_output=True, timeout=30)

    def modify(self, ldif: str) -> None:
        subprocess.run(["ldapmodify", "-x", "-H", self.url, "-D", ROOT_DN, "-w", ROOT_PASSWORD],
                       input=ldif, text=True, check=True, capture_output=True, timeout=30)

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=10)


def require_ldap3() -> None:
    """The cloud's LDAP driver needs ``ldap3`` (a dependency in pyproject.toml): skip
    when a venv predates it, fail on CI."""
    try:
        import ldap3  # noqa: F401
    except ImportError:
        message = "ldap3 is not installed (pip install -e . installs it)"
        if IN_CI:
            pytest.fail(message, pytrace=False)
        pytest.skip(message)


def _slapd() -> str:
    return shutil.which("slapd") or "/usr/sbin/slapd"


@contextlib.contextmanager
def running_slapd(tmp: Path) -> Iterator[Slapd]:
    """Start slapd in the foreground (``-d 0``: it never forks, so this process owns it)
    and wait until it accepts connections."""
    require_tools(TOOLS, "the LDAP identity backend's tests (a real OpenLDAP server)")
    require_ldap3()
    (tmp / "db").mkdir(parents=True)
    conf = tmp / "slapd.conf"
    conf.write_text(CONFIG.format(dir=tmp, suffix=SUFFIX, root_dn=ROOT_DN, root_password=ROOT_PASSWORD))
    port = free_port()
    url = f"ldap://127.0.0.1:{port}"
    log = (tmp / "slapd.log").open("w")
    process = subprocess.Popen([_slapd(), "-f", str(conf), "-h", url + "/", "-d", "0"], stdout=log,
                               stderr=subprocess.STDOUT)
    server = Slapd(url=url, port=port, process=process, dir=tmp)
    try:
        deadline = time.monotonic() + 30
        while True:
            if process.poll() is not None:
                raise AssertionError(f"slapd exited ({process.returncode}):\n{(tmp / 'slapd.log').read_text()}")
            with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), timeout=1):
                break
            assert time.monotonic() < deadline, "slapd did not listen within 30 s"
            time.sleep(0.05)
        server.add(f"dn: {SUFFIX}\nobjectClass: dcObject\nobjectClass: organization\ndc: example\no: Example\n\n"
                   f"dn: ou=Users,{SUFFIX}\nobjectClass: organizationalUnit\nou: Users\n\n"
                   f"dn: ou=UserGroups,{SUFFIX}\nobjectClass: organizationalUnit\nou: UserGroups\n")
        yield server
    finally:
        server.stop()
        log.close()


def user_ldif(uid: str, password: str, mail: str | None = None, description: str | None = None,
              **more: str) -> str:
    lines = [f"dn: uid={uid},ou=Users,{SUFFIX}", "objectClass: inetOrgPerson", f"uid: {uid}", f"cn: {uid}",
             f"sn: {uid}", f"userPassword: {password}"]
    lines += [f"mail: {mail}"] if mail else []
    lines += [f"description: {description}"] if description else []
    lines += [f"{attribute}: {value}" for attribute, value in more.items()]
    return "\n".join(lines) + "\n\n"


def group_ldif(cn: str, *member_uids: str) -> str:
    lines = [f"dn: cn={cn},ou=UserGroups,{SUFFIX}", "objectClass: groupOfNames", f"cn: {cn}",
             *(f"member: uid={uid},ou=Users,{SUFFIX}" for uid in member_uids)]
    return "\n".join(lines) + "\n\n"
