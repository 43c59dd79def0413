"""``pocketstack``: run the cloud and administer it.

    pocketstack up                   all-in-one cloud on 127.0.0.1:8780
    pocketstack api                  scaled out: the HTTP APIs (docs/deployment.md)
    pocketstack scheduler            scaled out: a compute scheduler
    pocketstack compute --host NAME  scaled out: one hypervisor host (--hypervisor fake|qemu)
    pocketstack volume --host NAME   scaled out: a volume worker (file backend)
    pocketstack network-agent --host NAME  scaled out: a network agent (datapath driver)
    pocketstack metadata             scaled out: the metadata API guests read (docs/guests.md)
    pocketstack db upgrade           apply database migrations
    pocketstack token-keys rotate    rotate the Fernet token keys
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

from pocketstack.common import config, log

# Settings a sub-command may set from its flags (a flag left out keeps the configured value).
OVERRIDES = ("host", "port", "data_dir", "database_url", "transport_url", "coordination_url", "admin_password",
             "clouds_file", "fake_hosts", "services", "compute_host", "fake_host_vcpus", "fake_host_memory_mb",
             "fake_host_disk_gb", "hypervisor", "metadata_listen_port")


HYPERVISORS = ("fake", "qemu")


def _settings(args: argparse.Namespace, **fixed) -> config.Settings:
    overrides = {k: getattr(args, k, None) for k in OVERRIDES}
    return config.load(args.config, overrides | fixed)


def cmd_up(args: argparse.Namespace) -> int:
    return _serve_api(_settings(args, roles="api,scheduler,compute,volume,network-agent", services=""),
                      with_metadata=True)


def cmd_api(args: argparse.Namespace) -> int:
    from pocketstack.common.worker import check_scaled_out

    settings = _settings(args, roles="api")
    check_scaled_out(settings)
    return _serve_api(settings)


def _serve_api(settings: config.Settings, with_metadata: bool = False) -> int:
    """Bootstrap identity, write clouds.yaml and serve the cloud's APIs until Ctrl-C; the
    all-in-one cloud (``with_metadata``) serves the metadata API on its own listener too."""
    started = time.monotonic()
    import uvicorn

    from pocketstack.cli.clouds import write_clouds
    from pocketstack.cloud import Cloud
    from pocketstack.identity.bootstrap import bootstrap, generate_password
    from pocketstack.metadata import server as metadata

    log.setup(settings.log_level, settings.log_format)
    metadata_socket = metadata.listen(settings) if with_metadata else None
    cloud = Cloud(settings)
    created = bootstrap(cloud.identity, admin_password=settings.admin_password or generate_password(),
                        demo_password=generate_password(), region=settings.region, services=cloud.catalog())
    passwords = dict(created)
    if settings.admin_password and "admin" not in created:
        _reset_admin_password(cloud, settings.admin_password)
        passwords["admin"] = settings.admin_password
    auth_url = cloud.service("identity").catalog_url()
    write_clouds(settings.effective_clouds_file, auth_url, settings.region, passwords)
    app = cloud.asgi_app()
    print(f"pocketstack {settings.effective_public_url}  (data: {settings.data_dir})", flush=True)
    for user, password in created.items():
        print(f"  created user {user!r} with password {password!r} (shown once)", flush=True)
    print(f"  clouds.yaml: {settings.effective_clouds_file} (clouds 'pocketstack', 'pocketstack-demo')",
          flush=True)
    if metadata_socket is not None:
        beside = metadata.server(metadata.metadata_app(cloud, create_secret=True), settings, beside_another=True)
        print(f"  metadata API: http://{settings.metadata_listen}:{settings.metadata_listen_port}", flush=True)
    print(f"  ready in {time.monotonic() - started:.2f}s; Ctrl-C stops", flush=True)
    server = uvicorn.Server(uvicorn.Config(app, host=settings.host, port=settings.port, log_config=None,
                                           access_log=False, lifespan="on",
                                           timeout_keep_alive=int(settings.client_socket_timeout)))
    try:
        if metadata_socket is None:
            server.run()
        else:
            metadata.run_beside(server, beside, metadata_socket)
    except KeyboardInterrupt:
        # uvicorn re-raises the signal once its graceful shutdown has finished.
        pass
    return 0


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


def _reset_admin_password(cloud, password: str) -> None:
    from pocketstack.identity.resource import DEFAULT_DOMAIN_ID

    with cloud.db.session(readonly=True) as s:
        admin = cloud.identity.users.find_user_by_name(s, "admin", DEFAULT_DOMAIN_ID)
    cloud.identity.users.update_user(admin.id, {"password": password})


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
    from pocketstack.identity.keys import KeyRepository

    settings = _settings(args)
    keys = KeyRepository(settings.data_dir / "fernet-keys", settings.max_active_keys)
    keys.ensure()
    primary = keys.rotate()
    print(f"rotated: key {primary} is now primary ({keys.path})")
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
    from pathlib import Path

    from pocketstack.object.server import serve

    settings = _settings(args)
    log.setup(settings.log_level, settings.log_format)
    return serve(Path(args.devices), args.host, args.port, Path(args.swift_dir) if args.swift_dir else None,
                 settings.object_background_interval, settings.object_reclaim_age,
                 settings.client_socket_timeout)


def cmd_image(args: argparse.Namespace) -> int:
    from pathlib import Path

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
    up.set_defaults(func=cmd_up)

    api = sub.add_parser("api", help="scaled out: serve the HTTP APIs (no scheduler, no hosts)")
    api.add_argument("--services", help="comma-separated services to serve (default: all)")
    api.add_argument("--host", help="address to listen on (default 127.0.0.1)")
    api.add_argument("--port", type=int, help=f"port to listen on (default {config.DEFAULT_PORT})")
    api.add_argument("--admin-password", help="admin password (default: generated on first start)")
    api.add_argument("--clouds-file", help="clouds.yaml to write (default ~/.config/openstack/clouds.yaml)")
    api.set_defaults(func=cmd_api)

    scheduler = sub.add_parser("scheduler", help="scaled out: run a compute scheduler (active/active)")
    scheduler.set_defaults(func=cmd_scheduler)

    compute = sub.add_parser("compute", help="scaled out: run one hypervisor host")
    compute.add_argument("--host", dest="compute_host", required=True, help="the host's name")
    compute.add_argument("--vcpus", dest="fake_host_vcpus", type=int, help="VCPU inventory (default 16)")
    compute.add_argument("--memory-mb", dest="fake_host_memory_mb", type=int, help="MEMORY_MB (default 32768)")
    compute.add_argument("--disk-gb", dest="fake_host_disk_gb", type=int, help="DISK_GB (default 500)")
    compute.add_argument("--hypervisor", choices=HYPERVISORS,
                         help="fake (simulated, the default) or qemu (real guests; --vcpus etc. are then the "
                              "machine's own)")
    compute.set_defaults(func=cmd_compute)

    volume = sub.add_parser("volume", help="scaled out: run a volume worker on the shared backend (active/active)")
    volume.add_argument("--host", dest="volume_host", required=True, help="the volume host's name")
    volume.set_defaults(func=cmd_volume)

    agent = sub.add_parser("network-agent", help="scaled out: a network agent applying datapath changes on its host")
    agent.add_argument("--host", dest="network_agent_host", required=True, help="the agent's host name")
    agent.set_defaults(func=cmd_network_agent)

    meta = sub.add_parser("metadata", help="scaled out: serve the metadata API guests read (Nova's metadata API)")
    meta.add_argument("--host", dest="metadata_listen", help="address to listen on (default 127.0.0.1)")
    meta.add_argument("--port", dest="metadata_listen_port", type=int, help="port to listen on (default 8775)")
    meta.set_defaults(func=cmd_metadata)

    db = sub.add_parser("db", help="database maintenance")
    db_sub = db.add_subparsers(dest="db_command", required=True)
    db_sub.add_parser("upgrade", help="apply all pending migrations")
    revision = db_sub.add_parser("revision", help="(developers) autogenerate a migration")
    revision.add_argument("--service", required=True)
    revision.add_argument("-m", "--message", required=True)
    db.set_defaults(func=cmd_db)

    keys = sub.add_parser("token-keys", help="Fernet token keys")
    keys_sub = keys.add_subparsers(dest="keys_command", required=True)
    keys_sub.add_parser("rotate", help="promote the staged key and stage a new one")
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
    try:
        return args.func(args)
    except KeyboardInterrupt:
        return 130
    except ValueError as error:
        print(f"pocketstack: {error}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
