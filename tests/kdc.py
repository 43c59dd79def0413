"""A real MIT Kerberos KDC for tests: a realm made in a temporary directory
(``kdb5_util create -s``), ``krb5kdc`` on a free loopback port, principals and keytabs
made with ``kadmin.local``, and ``kinit`` into a ticket cache of the test's own.  The
programs are Debian's ``krb5-kdc``, ``krb5-admin-server`` and ``krb5-user``; the
processes see only this realm's files (``KRB5_CONFIG``, ``KRB5_KDC_PROFILE``)."""

from __future__ import annotations

import os
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path

from pocketstack.testing.harness import free_port

from support import require_tools

TOOLS = {"krb5kdc": "krb5-kdc", "kdb5_util": "krb5-kdc", "kadmin.local": "krb5-admin-server",
         "kinit": "krb5-user", "kdestroy": "krb5-user"}
REALM = "POCKETSTACK.TEST"
MASTER_PASSWORD = "kdc-master-password"


def require_kdc() -> None:
    """Skip (fail on CI) unless the KDC's programs and python-gssapi are installed."""
    require_tools(TOOLS, "a test Kerberos KDC")
    import pytest

    from support import IN_CI
    try:
        import gssapi  # noqa: F401
        import requests_kerberos  # noqa: F401
    except ImportError as exc:
        message = f"Kerberos tests need python-gssapi and requests-kerberos (the 'kerberos' extra): {exc}"
        if IN_CI:
            pytest.fail(message + " (CI=true: make test installs the test extra)", pytrace=False)
        pytest.skip(message)


def krb5_conf(realms: tuple[str, ...], port: int, *, clockskew: int = 300) -> str:
    """The clients' and the service's krb5.conf: the first realm is the default and the
    host ``localhost``'s; the others trust it directly (``[capaths]``)."""
    kdcs = "".join(f"    {r} = {{\n        kdc = 127.0.0.1:{port}\n    }}\n" for r in realms)
    paths = "".join(f"    {a} = {{\n        {b} = .\n    }}\n" for a in realms for b in realms if a != b)
    return f"""[libdefaults]
    default_realm = {realms[0]}
    dns_lookup_kdc = false
    dns_lookup_realm = false
    dns_canonicalize_hostname = false
    rdns = false
    udp_preference_limit = 1
    clockskew = {clockskew}
    default_ccache_name = FILE:/nonexistent/set-KRB5CCNAME

[realms]
{kdcs}
[capaths]
{paths}
[domain_realm]
    localhost = {realms[0]}
"""


@dataclass
class Kdc:
    """A KDC serving ``realm`` (and ``others``, each with a database of its own),
    running; ``env`` is what a process needs to use it."""

    directory: Path
    realm: str = REALM
    others: tuple[str, ...] = ()
    port: int = 0
    process: subprocess.Popen | None = None
    passwords: dict[str, str] = field(default_factory=dict)
    keytab: Path | None = None  # the service's, once made (add_service)
    service: str = ""

    @property
    def env(self) -> dict[str, str]:
        return {"KRB5_CONFIG": str(self.directory / "krb5.conf"),
                "KRB5_KDC_PROFILE": str(self.directory / "kdc.conf"),
                "KRB5RCACHEDIR": str(self.directory)}

    def run(self, *args: str, env: dict[str, str] | None = None, input: str | None = None,
            check: bool = True) -> subprocess.CompletedProcess:
        result = subprocess.run(list(args), env={**os.environ, **self.env, **(env or {})}, input=input,
                                capture_output=True, text=True, timeout=60, check=False)
        if check and result.returncode != 0:
            raise AssertionError(f"{' '.join(args)}: {result.stdout}{result.stderr}")
        return result

    def start(self) -> Kdc:
        self.port = free_port()
        d = self.directory
        realms = (self.realm, *self.others)
        # Two seconds of clock skew: a ticket that expired is refused soon after.
        (d / "krb5.conf").write_text(krb5_conf(realms, self.port, clockskew=2))
        databases = "".join(f"""    {r} = {{
        database_name = {d}/{r}.db
        key_stash_file = {d}/{r}.stash
        acl_file = {d}/kadm5.acl
        max_life = 10h
        max_renewable_life = 0
        supported_enctypes = aes256-cts-hmac-sha1-96:normal aes128-cts-hmac-sha1-96:normal
    }}
""" for r in realms)
        (d / "kdc.conf").write_text(f"""[kdcdefaults]
    kdc_ports = {self.port}
    kdc_tcp_ports = {self.port}
    kdc_listen = 127.0.0.1:{self.port}
    kdc_tcp_listen = 127.0.0.1:{self.port}

[realms]
{databases}
[logging]
    kdc = FILE:{d}/kdc.log
""")
        (d / "kadm5.acl").write_text("")
        for r in realms:
            self.run("kdb5_util", "create", "-s", "-r", r, "-P", MASTER_PASSWORD)
        for a in self.others:  # direct cross-realm trust both ways: the same key in both databases
            for principal in (f"krbtgt/{self.realm}@{a}", f"krbtgt/{a}@{self.realm}"):
                for r in realms:
                    self.kadmin(f"addprinc -pw cross-realm-{principal} {principal}", realm=r)
        with open(d / "krb5kdc.out", "wb") as out:
            self.process = subprocess.Popen(["krb5kdc", "-n", *(x for r in realms for x in ("-r", r))],
                                            env={**os.environ, **self.env}, stdout=out, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 20
        while "commencing operation" not in self.log():
            if self.process.poll() is not None or time.monotonic() > deadline:
                raise AssertionError(f"krb5kdc did not start: {self.log()}")
            time.sleep(0.05)
        return self

    def log(self) -> str:
        path = self.directory / "kdc.log"
        return path.read_text(errors="replace") if path.exists() else ""

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(timeout=10)

    def kadmin(self, query: str, realm: str = "") -> str:
        return self.run("kadmin.local", "-r", realm or self.realm, "-q", query).stdout

    def add_user(self, name: str, password: str, *, realm: str = "") -> str:
        principal = f"{name}@{realm or self.realm}"
        self.kadmin(f"addprinc -pw {password} {principal}", realm=realm)
        self.passwords[principal] = password
        return principal

    def add_service(self, principal: str, keytab: Path) -> str:
        """A service principal with a random key, exported to ``keytab``."""
        full = principal if "@" in principal else f"{principal}@{self.realm}"
        self.kadmin(f"addprinc -randkey {full}")
        self.kadmin(f"ktadd -k {keytab} {full}")
        self.keytab, self.service = keytab, full
        return full

    def kinit(self, principal: str, ccache: Path, *, lifetime: str = "") -> dict[str, str]:
        """A ticket-granting ticket for ``principal`` in ``ccache``; the environment that uses it."""
        env = {"KRB5CCNAME": f"FILE:{ccache}"}
        self.run("kinit", *(["-l", lifetime] if lifetime else []), principal, env=env,
                 input=self.passwords[principal] + "\n")
        return {**self.env, **env}
