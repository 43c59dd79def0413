"""What starting the all-in-one cloud loads: no library that only some requests need.

Start-up time is mostly imports (docs/performance.md, "Cold start"), so the libraries
only some requests use are imported where they are used.  This starts a cloud as
``pocketstack up`` does (fake hypervisor: Cloud, bootstrap, every service's workers) in
a fresh interpreter and checks they stayed out -- and that nothing probed KVM; then
builds every service's API (what the first request to each service's root does) and
checks they stay out still, Heat's API aside.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

SRC = Path(__file__).resolve().parents[2] / "src"
LAZY = ["alembic", "httpx", "jinja2", "jsonschema", "cryptography", "hypothesis", "mako", "gssapi", "ldap3", "oauthlib",
        "pocketstack.cli.seeding", "pocketstack.compute.drivers.qemu", "pocketstack.compute.drivers.kvm_probe",
        "sqlalchemy.dialects.postgresql", "pocketstack.orchestration.resources.registry",
        "pocketstack.orchestration.api"]

SCRIPT = textwrap.dedent("""
    import asyncio, json, sys
    from pocketstack.cli.first_start import ALL_IN_ONE, hash_ahead, prepare
    from pocketstack.common import config
    from pocketstack.cloud import Cloud
    from pocketstack.common import tls  # what `pocketstack up` imports besides

    data = sys.argv[1]
    settings = config.load(None, {"data_dir": data, "admin_password": "secret",
                                  "clouds_file": data + "/clouds.yaml", **ALL_IN_ONE})
    cloud = Cloud(settings)
    prepare(cloud, hash_ahead(settings))

    async def run():
        await cloud.start_services()
        await cloud.stop_services()

    asyncio.run(run())
    started = sorted(sys.modules)
    for service in cloud.services:  # what each service's first request (its root) builds
        service.app()
    cloud.close()
    print(json.dumps([started, sorted(sys.modules)]))
""")


def test_starting_the_cloud_leaves_request_only_libraries_unloaded(tmp_path) -> None:
    env = {**os.environ, "PYTHONPATH": str(SRC), "POCKETSTACK_BCRYPT_ROUNDS": "4"}
    env.pop("POCKETSTACK_CONFIG", None)
    done = subprocess.run([sys.executable, "-c", SCRIPT, str(tmp_path / "data")], env=env,
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-3000:]
    started, served = (set(names) for names in json.loads(done.stdout.splitlines()[-1]))
    assert [name for name in LAZY if name in started] == []
    assert "pocketstack.identity.service" in started  # it did start the cloud
    # Every service's API built (each root answered): still none of them but Heat's API
    # (jsonschema: the volume API's and SLO manifests' validators are made on first use).
    assert [name for name in LAZY if name in served and not name.startswith("pocketstack.orchestration.")] == []
    assert "pocketstack.volume.api.validation" in served and "pocketstack.object.api.large" in served
