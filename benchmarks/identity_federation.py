#!/usr/bin/env python3
"""Token issue by X.509 client certificate and by OpenID Connect, beside the password
issue, on one pocketstack server: what ``identity.py``'s ``issue-x509`` and
``issue-oidc`` workloads need, set up from nothing, then the benchmark itself.

It makes a CA, the TLS listener's certificate and a client certificate (tests/pki.py),
starts the test OpenID provider (tests/oidc_provider.py) in its own process, starts
``pocketstack up`` on a fresh data directory with the TLS listener and that provider
in ``federation_oidc_file``, and registers Keystone's federation set-up for both: an
identity provider per front end (remote id: the issuer's DN, the provider's issuer), a
protocol (``x509``, ``openid``) and a mapping putting the signed-in user in a group
with ``member`` on a project. Then it runs

    identity.py --workloads issue,issue-x509,issue-oidc --server-pid <the server> ...

with any further arguments passed on (``--duration 15 --concurrency 8``, ``--json``),
and stops everything. The server runs with one API process (the TLS listener lives in
the API process only, docs/identity.md), so the three issues share one process.

    python benchmarks/identity_federation.py --duration 15
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx
from cryptography.hazmat.primitives import serialization

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
sys.path.insert(0, str(REPO / "tests"))

from pki import issue, loopback_server, name  # noqa: E402 - tests/pki.py, after the path
from pocketstack.testing.harness import free_port  # noqa: E402

PASSWORD = "secret"
ISSUER_DN = "CN=Bench CA,O=pocketstack"


def _certificates(d: Path) -> dict[str, str]:
    ca = issue(name(O="pocketstack", CN="Bench CA"), ca=True)
    files = {"ca": str(d / "ca.pem")}
    Path(files["ca"]).write_bytes(ca.cert.public_bytes(serialization.Encoding.PEM))
    files["server"], files["server_key"] = loopback_server(ca).write(d, "server")
    files["client"], files["client_key"] = issue(name(O="ACME", OU="eng", CN="bench"), ca).write(d, "client")
    return files


def _wait(url: str, process: subprocess.Popen, timeout: float = 120.0, **kw) -> None:
    deadline = time.monotonic() + timeout
    while True:
        try:
            if httpx.get(url, timeout=2.0, trust_env=False, **kw).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        if process.poll() is not None or time.monotonic() > deadline:
            raise SystemExit(f"{url} did not answer (exit code {process.poll()})")
        time.sleep(0.2)


def _federate(base: str, issuer: str) -> None:
    """The identity providers, mappings and protocols; a group with member on a project."""
    with httpx.Client(base_url=base + "/v3", timeout=60.0, trust_env=False) as c:
        r = c.post("/auth/tokens", json={"auth": {"identity": {"methods": ["password"], "password": {"user": {
            "name": "admin", "domain": {"id": "default"}, "password": PASSWORD}}},
            "scope": {"project": {"name": "admin", "domain": {"id": "default"}}}}})
        r.raise_for_status()
        c.headers["X-Auth-Token"] = r.headers["X-Subject-Token"]
        group = c.post("/groups", json={"group": {"name": "federated-bench"}}).json()["group"]["id"]
        project = c.post("/projects", json={"project": {"name": "federated-bench"}}).json()["project"]["id"]
        member = c.get("/roles?name=member").json()["roles"][0]["id"]
        c.put(f"/projects/{project}/groups/{group}/roles/{member}").raise_for_status()
        for idp, protocol, remote_id, attribute, claim in (
                ("x509-bench", "x509", ISSUER_DN, "SSL_CLIENT_I_DN", "SSL_CLIENT_S_DN_CN"),
                ("oidc-bench", "openid", issuer, "HTTP_OIDC_ISS", "OIDC_CLAIM_preferred_username")):
            rules = [{"local": [{"user": {"name": "{0}"}}, {"group": {"id": group}}], "remote": [{"type": claim}]}]
            c.put(f"/OS-FEDERATION/mappings/{idp}", json={"mapping": {"rules": rules}}).raise_for_status()
            c.put(f"/OS-FEDERATION/identity_providers/{idp}",
                  json={"identity_provider": {"enabled": True, "remote_ids": [remote_id]}}).raise_for_status()
            c.put(f"/OS-FEDERATION/identity_providers/{idp}/protocols/{protocol}", json={"protocol": {
                "mapping_id": idp, "remote_id_attribute": attribute}}).raise_for_status()


def _stop(process: subprocess.Popen) -> None:
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)


def main(argv: list[str]) -> int:
    with tempfile.TemporaryDirectory(prefix="identity-federation-") as tmp:
        d = Path(tmp)
        pki = _certificates(d)
        idp_port, port, tls_port = free_port(), free_port(), free_port()
        issuer = f"http://127.0.0.1:{idp_port}"
        (d / "oidc.toml").write_text(f'[oidc-bench]\nissuer = "{issuer}"\naudience = "pocketstack"\n')
        provider = subprocess.Popen([sys.executable, str(REPO / "tests" / "oidc_provider.py"), str(idp_port)],
                                    stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        env = {**os.environ, "POCKETSTACK_API_WORKERS": "1", "POCKETSTACK_TLS_PORT": str(tls_port),
               "POCKETSTACK_TLS_CERT_FILE": pki["server"], "POCKETSTACK_TLS_KEY_FILE": pki["server_key"],
               "POCKETSTACK_TLS_CLIENT_CA_FILE": pki["ca"], "POCKETSTACK_FEDERATION_OIDC_FILE": str(d / "oidc.toml")}
        server = subprocess.Popen([str(Path(sys.executable).parent / "pocketstack"), "--data-dir", str(d / "data"),
                                   "up", "--port", str(port), "--admin-password", PASSWORD], env=env,
                                  stdout=(d / "server.log").open("w"), stderr=subprocess.STDOUT)
        try:
            _wait(f"{issuer}/.well-known/openid-configuration", provider)
            base = f"http://127.0.0.1:{port}/identity"
            _wait(base + "/v3", server)
            _federate(base, issuer)
            return subprocess.call([sys.executable, str(HERE / "identity.py"), "--auth-url", base,
                                    "--password", PASSWORD, "--workloads", "issue,issue-x509,issue-oidc",
                                    "--server-pid", str(server.pid),
                                    "--x509-url", f"https://127.0.0.1:{tls_port}/identity", "--x509-ca", pki["ca"],
                                    "--x509-cert", pki["client"], "--x509-key", pki["client_key"],
                                    "--oidc-token-url", issuer + "/token", *argv])
        finally:
            _stop(server)
            _stop(provider)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
