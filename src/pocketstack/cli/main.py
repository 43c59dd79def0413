"""``pocketstack``: run the cloud and administer it.

    pocketstack up                   all-in-one cloud on 127.0.0.1:8780 (--seed FILE: docs/seeding.md)
    pocketstack seed FILE            make a running cloud what a seed file describes
    pocketstack wait                 until a cloud is ready (scripts; docs/operations.md)
    pocketstack api                  scaled out: the HTTP APIs (docs/deployment.md)
    pocketstack scheduler            scaled out: a compute scheduler
    pocketstack compute --host NAME  scaled out: one hypervisor host (--hypervisor fake|qemu)
    pocketstack volume --host NAME   scaled out: a volume worker (file backend)
    pocketstack network-agent --host NAME  scaled out: a network agent (datapath driver)
    pocketstack metadata             scaled out: the metadata API guests read (docs/guests.md)
    pocketstack ha                   scaled out: an instance-HA monitor (docs/ha.md)
    pocketstack reset                back to the bootstrapped state (docs/testing.md)
    pocketstack snapshot save FILE   the whole cloud's state to a file (snapshot restore FILE: back)
    pocketstack db upgrade           apply database migrations
    pocketstack token-keys rotate    rotate the token keys (token-keys create: set them up)
    pocketstack ring ...             build object rings (swift-ring-builder work-alike)
    pocketstack object dispersion    how many copies of a sample of objects are in place
    pocketstack object expirer       delete objects past their X-Delete-At
    pocketstack object-server ...    run an object storage node
    pocketstack image build-tiny     build the tiny cirros-like guest image (docs/guests.md)
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING

from pocketstack.common import config, log, startgc

if TYPE_CHECKING:
    from pocketstack.seed import SeedDocument

# Settings a sub-command may set from its flags (a flag left out keeps the configured value).
OVERRIDES = ("host", "port", "data_dir", "database_url", "transport_url", "coordination_url", "admin_password",
             "clouds_file", "fake_hosts", "services", "compute_host", "fake_host_vcpus", "fake_host_memory_mb",
             "fake_host_disk_gb", "hypervisor", "metadata_listen_port", "api_workers", "regions",
             "metrics_port", "faults_file")


HYPERVISORS = ("fake", "qemu")


def _settings(args: argparse.Namespace, **fixed) -> config.Settings:
    overrides = {k: getattr(args, k, None) for k in OVERRIDES}
    return config.load(args.config, overrides | fixed)


def cmd_up(args: argparse.Namespace) -> int:
    from pocketstack.cli.first_start import ALL_IN_ONE

    seed = None
    if args.seed:  # a bad seed file stops the command before the cloud is touched
        from pocketstack.cli import seeding  # (jsonschema, YAML, httpx: only for a seed)

        seed = seeding.load(args.seed)
    settings = _settings(args, **ALL_IN_ONE)
    if args.wait:
        from pocketstack.cli.background import detach

        return detach(args.argv, settings, args.wait_timeout)
    return _serve_api(settings, with_metadata=True, seed=seed)


def cmd_seed(args: argparse.Namespace) -> int:
    from pocketstack.cli import seeding

    if args.schema:
        return seeding.print_schema()
    if not args.file:
        raise ValueError("seed: a seed file is required (or --schema)")
    return seeding.seed_running(args.file, args.cloud, args.clouds_file)


def cmd_api(args: argparse.Namespace) -> int:
    from pocketstack.common.worker import check_scaled_out

    settings = _settings(args, roles="api")
    check_scaled_out(settings)
    if args.wait:
        from pocketstack.cli.background import detach

        return detach(args.argv, settings, args.wait_timeout)
    return _serve_api(settings)


def cmd_wait(args: argparse.Namespace) -> int:
    from pocketstack.cli.background import local_url, wait_command

    return wait_command(args.url or local_url(_settings(args)), args.timeout)


def _serve_api(settings: config.Settings, with_metadata: bool = False, seed: SeedDocument | None = None) -> int:
    """Bootstrap identity, write clouds.yaml and serve the cloud's APIs until Ctrl-C; the
    all-in-one cloud (``with_metadata``) serves the metadata API on its own listener too.
    A ``seed`` is applied once the services run, before any request is answered (and
    before the extra API worker processes start); if it fails the command exits 1
    without serving."""
    started = time.monotonic()
    startgc.pause()  # until the services run (Cloud.asgi_app)
    from pocketstack.cli import api_workers

    log.setup(settings.log_level, settings.log_format)
    api_socket = api_workers.listen(settings)  # first: a port in use stops the command before it changes anything
    processes = api_workers.worker_count(settings)
    if processes > 1:  # before anything imports prometheus_client
        api_workers.share_metrics(settings)
    from pocketstack.cli.first_start import hash_ahead, prepare

    passwords = hash_ahead(settings)  # on another core while the imports below run
    import uvicorn

    from pocketstack.cloud import Cloud
    from pocketstack.common import tls
    from pocketstack.metadata import server as metadata

    metadata_socket = _metadata_listener(settings) if with_metadata else None
    tls_socket = tls.listen(settings) if settings.tls_port else None
    bridged = processes > 1 and settings.transport_url.startswith("inproc")
    cloud = Cloud(settings, bridge=api_workers.bridge_path(settings) if bridged else None)
    created = prepare(cloud, passwords)

    async def on_start() -> None:
        """Once the services run: the seed, then the word that requests are about to be served."""
        if seed is not None:
            from pocketstack.cli import seeding

            await seeding.seed_serving(cloud, seed)
        print(f"  ready in {time.monotonic() - started:.2f}s; Ctrl-C stops", flush=True)

    app = cloud.asgi_app(on_start=on_start)
    print(f"pocketstack {settings.effective_public_url}  (data: {settings.data_dir})", flush=True)
    for user, password in created.items():
        print(f"  created user {user!r} with password {password!r} (shown once)", flush=True)
    print(f"  clouds.yaml: {settings.effective_clouds_file} (clouds 'pocketstack', 'pocketstack-demo')",
          flush=True)
    besides = []
    if metadata_socket is not None:
        besides.append((metadata.server(metadata.metadata_app(cloud, create_secret=True), settings,
                                        beside_another=True), metadata_socket))
        print(f"  metadata API: http://{settings.metadata_listen}:{settings.metadata_listen_port}", flush=True)
    if tls_socket is not None:
        besides.append((metadata.Beside(tls.config(app, settings)), tls_socket))
        print(f"  TLS listener: https://{settings.host}:{settings.tls_port}"
              f"{' (client certificates)' if settings.tls_client_ca_file else ''}", flush=True)
    workers = api_workers.ApiWorkers(settings, api_socket, processes - 1)
    print(f"  API served by {processes} process{'es' if processes > 1 else ''} (--api-workers)", flush=True)
    server = uvicorn.Server(uvicorn.Config(app, log_config=None, access_log=False, lifespan="on",
                                           timeout_keep_alive=int(settings.client_socket_timeout)))
    workers.start(lambda: server.started)
    try:
        if not besides:
            server.run(sockets=[api_socket])
        else:
            metadata.run_beside(server, besides, [api_socket])
    except KeyboardInterrupt:
        # uvicorn re-raises the signal once its graceful shutdown has finished.
        pass
    except SystemExit:
        # uvicorn exits when the app's startup fails (a seed the cloud refused, printed).
        if server.started:
            raise
    finally:
        workers.stop()
    return 0 if server.started else 1


def _metadata_listener(settings: config.Settings):
    """The all-in-one cloud's metadata socket.  Real guests need it: a port in use stops
    the command.  The fake hypervisor's servers read nothing, and API-only clouds (two in
    one CI job, say) must not fail on it: they start without it, saying so."""
    from pocketstack.metadata import server as metadata

    try:
        return metadata.listen(settings)
    except ValueError as error:
        if settings.hypervisor != "fake":
            raise
        print(f"pocketstack: {error}; starting without it (no guest of the fake hypervisor reads it)",
              file=sys.stderr, flush=True)
        return None


def cmd_metadata(args: argparse.Namespace) -> int:
    from pocketstack.cloud import Cloud
    from pocketstack.metadata import server as metadata

    settings = _settings(args, roles="metadata", metadata_listen=args.metadata_listen)
    log.setup(settings.log_level, settings.log_format)
    sock = metadata.listen(settings)
    # The compute and network services' contracts, read in this process; no workers.
    cloud = Cloud(settings, ["network", "compute"])
    try:
        print(f"pocketstack metadata API on http://{settings.metadata_listen}:{settings.metadata_listen_port}",
              flush=True)
        metadata.server(metadata.metadata_app(cloud), settings).run(sockets=[sock])
    except KeyboardInterrupt:
        pass
    finally:
        cloud.close()
    return 0


# Services a worker process builds for their managers (a scheduler claims in Placement; a
# host allocates ports, attaches volumes, uploads snapshots), and the one it runs.
COMPUTE_LIBRARIES = ["placement", "image", "network", "volume", "compute"]


def cmd_scheduler(args: argparse.Namespace) -> int:
    from pocketstack.common.worker import run_worker

    settings = _settings(args, roles="scheduler")
    log.setup(settings.log_level, settings.log_format)
    return run_worker(settings, COMPUTE_LIBRARIES, ["compute"])


def cmd_compute(args: argparse.Namespace) -> int:
    from pocketstack.common.worker import run_worker

    settings = _settings(args, roles="compute")
    log.setup(settings.log_level, settings.log_format)
    # "network" too: the ports a host creates and binds are fanned out to the network agents.
    return run_worker(settings, COMPUTE_LIBRARIES, ["network", "compute"])


def cmd_ha(args: argparse.Namespace) -> int:
    from pocketstack.common.worker import run_worker

    settings = _settings(args, roles="ha")
    log.setup(settings.log_level, settings.log_format)
    # The compute service's contract (its RPC to the schedulers, its host liveness) in this
    # process; several `pocketstack ha` run active/active, one of them leading.  "network"
    # too: fencing a host's network (ports unbound, networks re-sent) fans out to the agents.
    return run_worker(settings, COMPUTE_LIBRARIES + ["ha"], ["network", "compute", "ha"])


def cmd_orchestration(args: argparse.Namespace) -> int:
    from pocketstack.common.worker import run_worker

    settings = _settings(args, roles="orchestration", orchestration_engine_id=args.engine_id)
    log.setup(settings.log_level, settings.log_format)
    # The engine acts through the public APIs (Cloud.api_client): no other service here.
    return run_worker(settings, ["orchestration"], ["orchestration"])


def cmd_volume(args: argparse.Namespace) -> int:
    from pocketstack.common.worker import run_worker

    settings = _settings(args, roles="volume", volume_host=args.volume_host)
    log.setup(settings.log_level, settings.log_format)
    return run_worker(settings, ["image", "volume"], ["volume"])


def cmd_network_agent(args: argparse.Namespace) -> int:
    from pocketstack.common.worker import run_worker

    settings = _settings(args, roles="network-agent", network_agent_host=args.network_agent_host)
    log.setup(settings.log_level, settings.log_format)
    return run_worker(settings, ["network"], ["network"])


def cmd_reset(args: argparse.Namespace) -> int:
    from pocketstack.cli import state

    return _state_command(lambda: state.reset(_settings(args)))


def cmd_snapshot(args: argparse.Namespace) -> int:
    from pocketstack.cli import state

    return _state_command(lambda: state.snapshot(_settings(args), args.snapshot_command, Path(args.file)))


def _state_command(run) -> int:
    """Run a state command, its refusals said in one line: the running cloud's answer, or
    why a stopped cloud's state cannot be replaced (no recorded state, another schema)."""
    from pocketstack.common.errors import ApiError
    from pocketstack.testing.client import StateApiError

    try:
        return run()
    except StateApiError as error:
        print(f"pocketstack: the cloud answered {error}", file=sys.stderr)
    except ApiError as error:
        print(f"pocketstack: {error.message}", file=sys.stderr)
    except OSError as error:
        print(f"pocketstack: {error}", file=sys.stderr)
    return 1


def _state_flags(parser: argparse.ArgumentParser) -> None:
    """How the state commands find a running cloud and act as its admin."""
    parser.add_argument("--port", type=int, help=f"port the cloud listens on (default {config.DEFAULT_PORT})")
    parser.add_argument("--admin-password", help="admin password (default: the one clouds.yaml holds)")
    parser.add_argument("--clouds-file", help="clouds.yaml holding the admin password")


def cmd_db(args: argparse.Namespace) -> int:
    from pocketstack.common.db import Database
    from pocketstack.common.db.migrate import new_revision, upgrade

    if args.db_command == "revision":
        new_revision(args.service, args.message)
        return 0
    settings = _settings(args)
    db = Database(settings.effective_database_url)
    upgrade(db.engine)
    print(f"database {db.engine.url.render_as_string(hide_password=True)} is up to date")
    return 0


def cmd_token_keys(args: argparse.Namespace) -> int:
    from pocketstack.identity.keys import KeyRepository, token_key_repository

    settings = _settings(args)
    provider = args.provider or settings.token_provider
    keys = token_key_repository(provider, settings.data_dir, settings.max_active_keys)
    if args.keys_command == "create":
        before = sorted(keys.path.rglob("*")) if keys.path.exists() else []
        keys.ensure()
        made = sorted(keys.path.rglob("*")) != before
        print(f"{provider} token keys {'created' if made else 'already exist'} in {keys.path}")
        return 0
    keys.ensure()
    new = keys.rotate()
    if isinstance(keys, KeyRepository):
        print(f"rotated: key {new} is now primary ({keys.path})")
    else:
        print(f"rotated: key {new} signs from now on ({keys.private_key_path}; public keys in {keys.public_dir})")
    return 0


def cmd_ring(args: argparse.Namespace) -> int:
    from pocketstack.object.ring.cli import main as ring_main

    return ring_main(args.ring_args)


def cmd_object(args: argparse.Namespace) -> int:
    from pocketstack.object.dispersion import report
    from pocketstack.object.rings import open_cluster

    result = report(open_cluster(_settings(args).data_dir / "object"), sample=args.sample)
    print(result.json() if args.json else result.text())
    return 0


def cmd_object_expirer(args: argparse.Namespace) -> int:
    from pocketstack.object.expirer import run

    settings = _settings(args)
    log.setup(settings.log_level, settings.log_format)
    return run(settings.data_dir / "object", once=args.once, interval=args.interval)


def cmd_object_server(args: argparse.Namespace) -> int:

    from pocketstack.object.server import serve

    settings = _settings(args)
    log.setup(settings.log_level, settings.log_format)
    return serve(Path(args.devices), args.host, args.port, Path(args.swift_dir) if args.swift_dir else None,
                 settings.object_background_interval, settings.object_reclaim_age,
                 settings.client_socket_timeout)


def cmd_image(args: argparse.Namespace) -> int:

    from pocketstack.guestimage.build import build_tiny, default_cache
    from pocketstack.guestimage.errors import BuildError

    log.setup("INFO", "text")
    cache = Path(args.cache) if args.cache else default_cache(_settings(args).data_dir)
    try:
        result = build_tiny(Path(args.output), args.format, args.size, cache)
    except BuildError as error:
        print(f"pocketstack: {error}", file=sys.stderr)
        return 1
    print(result.summary())
    return 0


def _wait_flags(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--wait", action="store_true",
                        help="start in the background, return once ready and print the server's pid "
                             "(output in <data dir>/pocketstack.log)")
    parser.add_argument("--wait-timeout", type=float, default=120.0,
                        help="with --wait: seconds to wait for readiness (default 120)")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="pocketstack", description="OpenStack in one command.")
    parser.add_argument("--config", help="TOML settings file (also POCKETSTACK_CONFIG)")
    parser.add_argument("--data-dir", help="data directory (default ~/.local/share/pocketstack)")
    parser.add_argument("--database-url", help="SQLAlchemy URL (default SQLite in the data directory)")
    parser.add_argument("--transport-url", help="RPC transport (default inproc://; scaled out amqp://...)")
    parser.add_argument("--coordination-url", help="tooz URL (default file:// in the data directory)")
    sub = parser.add_subparsers(dest="command", required=True)

    up = sub.add_parser("up", help="run the all-in-one cloud")
    up.add_argument("--host", help="address to listen on (default 127.0.0.1)")
    up.add_argument("--port", type=int, help=f"port to listen on (default {config.DEFAULT_PORT})")
    up.add_argument("--admin-password", help="admin password (default: generated on first start)")
    up.add_argument("--clouds-file", help="clouds.yaml to write (default ~/.config/openstack/clouds.yaml)")
    up.add_argument("--fake-hosts", type=int, help="simulated compute hosts (default 2)")
    up.add_argument("--hypervisor", choices=HYPERVISORS,
                    help="fake (simulated hosts, the default) or qemu (real guests on this machine)")
    up.add_argument("--metadata-port", dest="metadata_listen_port", type=int,
                    help="port of the metadata API guests read (default 8775)")
    up.add_argument("--api-workers", type=int, help="processes serving the APIs (default: one per core, at most 4)")
    up.add_argument("--regions", help="further regions to serve, comma-separated (e.g. RegionTwo,RegionThree)")
    up.add_argument("--seed", metavar="FILE",
                    help="seed file to apply at start, idempotently (docs/seeding.md); the cloud does not start "
                         "if it fails")
    _wait_flags(up)
    up.add_argument("--faults-file", help="fault injection rules to put in place at start (docs/testing.md)")
    up.set_defaults(func=cmd_up)

    seed = sub.add_parser("seed", help="apply a seed file to a running cloud, idempotently (docs/seeding.md)")
    seed.add_argument("file", nargs="?", help="the seed file (YAML)")
    seed.add_argument("--schema", action="store_true", help="print the seed format's JSON Schema and exit")
    seed.add_argument("--cloud", default=None,
                      help="clouds.yaml entry of an admin (default $OS_CLOUD, else 'pocketstack')")
    seed.add_argument("--clouds-file", help="clouds.yaml to read (default: where the openstack CLI looks)")
    seed.set_defaults(func=cmd_seed)

    api = sub.add_parser("api", help="scaled out: serve the HTTP APIs (no scheduler, no hosts)")
    api.add_argument("--services", help="comma-separated services to serve (default: all)")
    api.add_argument("--host", help="address to listen on (default 127.0.0.1)")
    api.add_argument("--port", type=int, help=f"port to listen on (default {config.DEFAULT_PORT})")
    api.add_argument("--admin-password", help="admin password (default: generated on first start)")
    api.add_argument("--clouds-file", help="clouds.yaml to write (default ~/.config/openstack/clouds.yaml)")
    api.add_argument("--api-workers", type=int, help="processes serving the APIs (default: one per core, at most 4)")
    _wait_flags(api)
    api.set_defaults(func=cmd_api)

    wait = sub.add_parser("wait", help="wait until a cloud is ready (exit 0), or fail after --timeout (exit 1)")
    wait.add_argument("--url", help="the server's root URL (default: http://<host>:<port> of the settings)")
    wait.add_argument("--host", help="address of the server (default 127.0.0.1)")
    wait.add_argument("--port", type=int, help=f"port of the server (default {config.DEFAULT_PORT})")
    wait.add_argument("--timeout", type=float, default=60.0, help="seconds to wait (default 60)")
    wait.set_defaults(func=cmd_wait)

    scheduler = sub.add_parser("scheduler", help="scaled out: run a compute scheduler (active/active)")
    scheduler.add_argument("--metrics-port", type=int, help="serve /metrics and /healthcheck[/ready] on this port")
    scheduler.set_defaults(func=cmd_scheduler)

    compute = sub.add_parser("compute", help="scaled out: run one hypervisor host")
    compute.add_argument("--host", dest="compute_host", required=True, help="the host's name")
    compute.add_argument("--vcpus", dest="fake_host_vcpus", type=int, help="VCPU inventory (default 16)")
    compute.add_argument("--memory-mb", dest="fake_host_memory_mb", type=int, help="MEMORY_MB (default 32768)")
    compute.add_argument("--disk-gb", dest="fake_host_disk_gb", type=int, help="DISK_GB (default 500)")
    compute.add_argument("--hypervisor", choices=HYPERVISORS,
                         help="fake (simulated, the default) or qemu (real guests; --vcpus etc. are then the "
                              "machine's own)")
    compute.add_argument("--metrics-port", type=int, help="serve /metrics and /healthcheck[/ready] on this port")
    compute.set_defaults(func=cmd_compute)

    ha = sub.add_parser("ha", help="scaled out: run an instance-HA monitor (active/active, one leads)")
    ha.add_argument("--hypervisor", choices=HYPERVISORS,
                    help="the hypervisor of the hosts it watches (picks the default fence driver)")
    ha.set_defaults(func=cmd_ha)

    volume = sub.add_parser("volume", help="scaled out: run a volume worker on the shared backend (active/active)")
    volume.add_argument("--host", dest="volume_host", required=True, help="the volume host's name")
    volume.add_argument("--metrics-port", type=int, help="serve /metrics and /healthcheck[/ready] on this port")
    volume.set_defaults(func=cmd_volume)

    engine = sub.add_parser("orchestration", help="scaled out: an orchestration engine (stacks are taken over "
                                                  "from an engine that stops renewing its lease)")
    engine.add_argument("--engine-id", required=True, help="the engine's name (a restart takes its stacks back)")
    engine.set_defaults(func=cmd_orchestration)

    agent = sub.add_parser("network-agent", help="scaled out: a network agent applying datapath changes on its host")
    agent.add_argument("--host", dest="network_agent_host", required=True, help="the agent's host name")
    agent.add_argument("--metrics-port", type=int, help="serve /metrics and /healthcheck[/ready] on this port")
    agent.set_defaults(func=cmd_network_agent)

    meta = sub.add_parser("metadata", help="scaled out: serve the metadata API guests read (Nova's metadata API)")
    meta.add_argument("--host", dest="metadata_listen", help="address to listen on (default 127.0.0.1)")
    meta.add_argument("--port", dest="metadata_listen_port", type=int, help="port to listen on (default 8775)")
    meta.set_defaults(func=cmd_metadata)

    reset = sub.add_parser("reset", help="return the cloud to its bootstrapped state (running: through its API; "
                                         "stopped: on its data directory)")
    _state_flags(reset)
    reset.set_defaults(func=cmd_reset)

    snapshot = sub.add_parser("snapshot", help="the whole cloud's state to or from a file")
    snapshot_sub = snapshot.add_subparsers(dest="snapshot_command", required=True)
    for action, text in (("save", "write the cloud's state to FILE"), ("restore", "put the cloud in FILE's state")):
        parser_ = snapshot_sub.add_parser(action, help=text)
        parser_.add_argument("file", help="the state file (a tar archive)")
        _state_flags(parser_)
    snapshot.set_defaults(func=cmd_snapshot)

    db = sub.add_parser("db", help="database maintenance")
    db_sub = db.add_subparsers(dest="db_command", required=True)
    db_sub.add_parser("upgrade", help="apply all pending migrations")
    revision = db_sub.add_parser("revision", help="(developers) autogenerate a migration")
    revision.add_argument("--service", required=True)
    revision.add_argument("-m", "--message", required=True)
    db.set_defaults(func=cmd_db)

    keys = sub.add_parser("token-keys", help="token keys (Fernet or JWS)")
    keys_sub = keys.add_subparsers(dest="keys_command", required=True)
    for action, text in (("create", "set up the key repository if it is empty"),
                         ("rotate", "Fernet: promote the staged key and stage a new one; "
                                    "JWS: a new key pair signs, older public keys still validate")):
        keys_parser = keys_sub.add_parser(action, help=text)
        keys_parser.add_argument("--provider", choices=("fernet", "jws"),
                                 help="whose keys (default: the token_provider setting)")
    keys.set_defaults(func=cmd_token_keys)

    ring = sub.add_parser("ring", help="object rings (swift-ring-builder work-alike)", add_help=False)
    ring.add_argument("ring_args", nargs=argparse.REMAINDER)
    ring.set_defaults(func=cmd_ring)

    obj = sub.add_parser("object", help="object storage tools")
    obj_sub = obj.add_subparsers(dest="object_command", required=True)
    dispersion = obj_sub.add_parser("dispersion", help="report how many copies of a sample are in place")
    dispersion.add_argument("--sample", type=int, default=100, help="containers/objects to check (default 100)")
    dispersion.add_argument("--json", action="store_true", help="machine-readable output")
    obj.set_defaults(func=cmd_object)
    expirer = obj_sub.add_parser("expirer", help="delete objects past their X-Delete-At (Swift's object-expirer)")
    expirer.add_argument("--once", action="store_true", help="one pass, then exit (default: every --interval)")
    expirer.add_argument("--interval", type=float, default=300, help="seconds between passes (default 300)")
    expirer.set_defaults(func=cmd_object_expirer)

    node = sub.add_parser("object-server", help="run an object storage node (Swift object-server)")
    node.add_argument("--devices", required=True, help="directory holding one directory per device")
    node.add_argument("--port", type=int, required=True, help="port to listen on (the ring's device port)")
    node.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1)")
    node.add_argument("--swift-dir", help="directory with the cluster's hash_path_suffix "
                                           "(default: parent of --devices)")
    node.set_defaults(func=cmd_object_server)

    image = sub.add_parser("image", help="guest images")
    image_sub = image.add_subparsers(dest="image_command", required=True)
    tiny = image_sub.add_parser("build-tiny", help="build a small cirros-like bootable image from Debian packages")
    tiny.add_argument("--output", default="tiny.qcow2", help="image file to write (default tiny.qcow2)")
    tiny.add_argument("--format", choices=("qcow2", "raw"), default="qcow2", help="disk format (default qcow2)")
    tiny.add_argument("--size", type=int, default=128, help="virtual disk size in MiB (default 128)")
    tiny.add_argument("--cache", help="downloaded packages (default <data dir>/cache/guestimage)")
    image.set_defaults(func=cmd_image)
    return parser


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv[:1] == ["ring"]:
        # argparse cannot pass options such as --help through to a sub-command untouched.
        return cmd_ring(argparse.Namespace(ring_args=argv[1:]))
    args = build_parser().parse_args(argv)
    args.argv = argv  # what --wait starts again in the background
    try:
        return args.func(args)
    except KeyboardInterrupt:
        return 130
    except ValueError as error:
        print(f"pocketstack: {error}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
