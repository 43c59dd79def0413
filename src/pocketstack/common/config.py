"""One typed settings object for every pocketstack process.

Values come, in increasing priority, from the defaults below, an optional TOML file
(``POCKETSTACK_CONFIG`` or ``--config``) and ``POCKETSTACK_<NAME>`` environment
variables.  Command-line flags are applied last by the CLI through :func:`load`'s
``overrides``.  Keeping all of it in one dataclass means a typo in a setting name fails
at start-up instead of being silently ignored.
"""

from __future__ import annotations

import dataclasses
import os
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, get_type_hints
from urllib.parse import quote, urlsplit

ENV_PREFIX = "POCKETSTACK_"
DEFAULT_PORT = 8780


def _default_data_dir() -> Path:
    base = os.environ.get("XDG_DATA_HOME") or os.path.join(os.path.expanduser("~"), ".local", "share")
    return Path(base) / "pocketstack"


@dataclass
class Settings:
    """Everything a pocketstack process can be configured with."""

    # Where the all-in-one cloud keeps its SQLite database, token keys and files.
    data_dir: Path = field(default_factory=_default_data_dir)
    host: str = "127.0.0.1"
    port: int = DEFAULT_PORT
    # Seconds an idle keep-alive connection stays open (oslo.service's
    # client_socket_timeout).  Clients (requests, keystoneauth, httpx) reuse pooled
    # connections without a time limit, so a server closing them after a few seconds races
    # the client's next request on that connection: a POST then fails with "connection
    # reset", which a client may not retry.  Long-lived idle sockets cost next to nothing.
    client_socket_timeout: float = 900.0
    # Processes serving the APIs (`pocketstack up` and `pocketstack api`): the first runs
    # the command's background work too, the others only serve HTTP on the same socket
    # (pocketstack/cli/api_workers.py).  0 means one per CPU core, at most 4.
    api_workers: int = 0
    # URL the catalog advertises; derived from host/port when empty.
    public_url: str = ""
    # SQLAlchemy URL; empty means SQLite in data_dir.
    database_url: str = ""
    # RPC transport: "inproc://" (default, all-in-one) or "amqp://user:pass@host/vhost".
    transport_url: str = "inproc://"
    # tooz coordination URL; empty means the file backend in data_dir.
    coordination_url: str = ""
    # Scaled-out mode (docs/deployment.md).  Separates deployments that share a broker or
    # a coordination backend: the RPC queue prefix and the prefix of coordination groups.
    cluster_name: str = "pocketstack"
    # What this process runs: "api" (the HTTP APIs of `services`), "scheduler" (places
    # builds), "compute" (hypervisor hosts), "volume" (the block storage worker).
    # `pocketstack up` runs all of them.
    roles: str = "api,scheduler,compute,volume,orchestration"
    # Services whose objects this process builds (and, with the "api" role, serves);
    # empty means all of them.
    services: str = ""
    # The one hypervisor host a compute process runs; empty means `fake_hosts` simulated
    # hosts named compute-1..N (the all-in-one).
    compute_host: str = ""
    # Liveness: every worker process heartbeats its coordination group membership every
    # `heartbeat_interval` seconds; a host not heard of for `service_down_time` seconds
    # is reported down and no longer scheduled to (Nova's option of the same name).
    heartbeat_interval: float = 10.0
    service_down_time: float = 60.0
    # Seconds a cast to a scheduler or a host may wait for its consumer before the broker
    # drops it; an instance left in a `*-ing` state longer than that is swept (resumed by
    # its host, or put in ERROR when nobody will run it).  See docs/rpc.md.
    rpc_cast_ttl: float = 300.0
    # Seconds an RPC call (console output) waits for its answer.
    rpc_call_timeout: float = 30.0
    # Database connection pool of this process (PostgreSQL/MariaDB; docs/deployment.md).
    # -1 sizes it by process kind: an API process keeps 8 connections and opens up to 12
    # more under load, a worker process (scheduler, compute, volume, agent) 3 + 5 -- so
    # three APIs and a handful of workers stay below PostgreSQL's max_connections=100.
    # A request that waits `database_pool_timeout` seconds for a connection gets a 503
    # with Retry-After.  SQLite (one file, no server) keeps a large pool either way.
    database_pool_size: int = -1
    database_max_overflow: int = -1
    database_pool_timeout: float = 30.0
    region: str = "RegionOne"
    # Further regions the all-in-one cloud serves (comma-separated names), each with its
    # own compute, network, volume, image and object data under /regions/<name>, in the
    # one Keystone's catalog -- for clients that test multi-region logic.
    regions: str = ""
    log_level: str = "INFO"
    log_format: str = "text"  # "text" or "json"
    # Operations (docs/operations.md): `/metrics` without a token (true: an all-in-one
    # cloud on localhost), or only with an admin's X-Auth-Token (false).  `/healthcheck`
    # is always public, as oslo.middleware's is.
    metrics_public: bool = True
    # A worker process (scheduler, compute, volume, network-agent) serves `/metrics` and
    # `/healthcheck[/ready]` on this port of `host` (0: not at all); API processes serve
    # them on their own port.
    metrics_port: int = 0
    policy_file: str = ""
    # Fault injection (docs/testing.md): rules put in place at start (TOML, YAML or JSON),
    # and how often, in seconds, an API process checks the database for rules changed by
    # a process that does not share its data directory (those that do see them at once).
    faults_file: str = ""
    faults_refresh_interval: float = 1.0
    # Identity
    admin_password: str = ""
    token_expiration: int = 3600  # seconds
    token_allow_expired_window: int = 172800
    # Keystone's [token] provider: "fernet" (encrypted; keys in data_dir/fernet-keys) or
    # "jws" (ES256-signed JWTs; key pairs in data_dir/jws-keys).  Docs: docs/identity.md.
    token_provider: str = "fernet"
    # Fernet keys kept (staged, primary, secondaries); JWS public keys kept by rotation.
    max_active_keys: int = 3
    bcrypt_rounds: int = 12
    # Seconds a successful password/secret check is remembered (as an HMAC, in memory)
    # so repeated logins skip bcrypt; wrong guesses always pay full bcrypt. 0 disables.
    verified_secret_ttl: float = 300.0
    # Keystone's [auth] methods: the methods POST /v3/auth/tokens accepts (any other is
    # a 401), comma-separated; MFA rules only count the methods listed here.  `oauth1`
    # (OS-OAUTH1 access tokens, docs/identity.md "OAuth 1.0a") is on, as in Keystone.
    auth_methods: str = "password,token,application_credential,totp,oauth1"
    # Keystone's [oauth1] request_token_duration and access_token_duration: seconds an
    # OAuth request token (to be authorized) and an access token live; 0: forever.
    oauth1_request_token_duration: int = 28800
    oauth1_access_token_duration: int = 86400
    # Keystone's [totp] included_previous_windows: 30-second windows before the current
    # one whose passcodes are still accepted (0-10).
    totp_included_previous_windows: int = 1
    # Keystone's [receipt] expiration: seconds an auth receipt (the 401 of a login that
    # satisfied only part of a user's MFA rules) stays usable.
    receipt_expiration: int = 300
    # WebSSO's round trip through an identity provider (docs/identity.md "Web single
    # sign-on"): seconds a browser has to come back from it (the life of the sealed
    # pending login; Keystone leaves it to mod_auth_openidc's OIDCStateTimeout).
    federation_websso_timeout: int = 600
    # Federation (docs/identity.md): the front proxies (comma-separated addresses or
    # networks; empty: none, the default) whose requests carry an identity provider's
    # assertion as headers named `federation_header_prefix` + attribute.
    federation_trusted_proxies: str = ""
    federation_header_prefix: str = "X-Federation-"
    # The API's TLS listener (docs/identity.md "X.509 client certificates"; 0: off, the
    # default): the same APIs over HTTPS on `tls_port`, with this server certificate and
    # key (PEM); with `tls_client_ca_file` (PEM bundle) it asks for client certificates
    # and admits only those these CAs issued, which sign in through federation's `x509`
    # protocol.  `tokenless_trusted_issuers` (`;`-separated issuer DNs, RFC 4514 form as
    # mod_ssl's SSL_CLIENT_I_DN; empty: none) and `tokenless_protocol` are Keystone's
    # `[tokenless_auth] trusted_issuer` and `protocol`.
    tls_port: int = 0
    tls_cert_file: str = ""
    tls_key_file: str = ""
    tls_client_ca_file: str = ""
    tokenless_trusted_issuers: str = ""
    tokenless_protocol: str = "x509"
    # The OpenID Connect front end (docs/identity.md): a TOML file with a table per
    # identity provider id (issuer, audience, discovery or JWKS URL, introspection) whose
    # `openid` protocol takes bearer access tokens; empty: none.
    federation_oidc_file: str = ""
    # The SAML 2.0 front end (docs/identity.md "SAML"): the identity providers' SAML
    # metadata files (comma-separated); an identity provider whose remote_ids hold one's
    # entityID signs in by SAML (ECP, WebSSO).  `federation_saml_entity_id`: this
    # service provider's entityID (empty: the URL of its metadata, /v3/mellon/metadata).
    federation_saml_metadata: str = ""
    federation_saml_entity_id: str = ""
    # Keystone as a SAML identity provider (Keystone to Keystone; docs/identity.md
    # "Keystone to Keystone"), Keystone's [saml]: the entityID and SSO endpoint of its
    # metadata (empty: <identity URL>/v3/OS-FEDERATION/saml2/idp and .../saml2/sso), the
    # PEM signing certificate and key (empty: a self-signed pair made in
    # <data_dir>/saml-idp/ on first use), seconds an assertion is valid.
    saml_idp_entity_id: str = ""
    saml_idp_sso_endpoint: str = ""
    saml_idp_certfile: str = ""
    saml_idp_keyfile: str = ""
    saml_assertion_expiration: int = 3600
    # WebSSO (Keystone's [federation] trusted_dashboard, comma-separated, and
    # sso_callback_template: a file; empty: Keystone's own page).
    federation_trusted_dashboards: str = ""
    federation_sso_callback_template: str = ""
    # Kerberos (docs/identity.md "Kerberos"): with `kerberos` in `auth_methods`, the
    # `kerberos` method of POST /v3/auth/tokens and federation's `kerberos` protocol take
    # SPNEGO (`Authorization: Negotiate`), accepted with the keys of `kerberos_keytab`
    # (empty: the Kerberos library's default, KRB5_KTNAME or /etc/krb5.keytab) for
    # `kerberos_service_principal` (`HTTP/<host>@REALM`; empty: any principal of the
    # keytab).  `kerberos_realms`: the realms whose principals sign in (comma-separated;
    # empty: the service principal's, else the default realm of krb5.conf).  The
    # `kerberos` method's user is the principal without its realm, in the domain named
    # `kerberos_user_domain` (Keystone's REMOTE_DOMAIN).
    kerberos_keytab: str = ""
    kerberos_service_principal: str = ""
    kerberos_realms: str = ""
    kerberos_user_domain: str = "Default"
    # Dashboard (docs/dashboard.md): seconds a login session survives without a request
    # (it ends anyway when its token expires, after `token_expiration`).
    dashboard_idle_timeout: float = 1800.0
    # Horizon's WEBSSO_CHOICES and WEBSSO_IDP_MAPPING (docs/dashboard.md "Single
    # sign-on"): the login page's "Authenticate using" choices, comma-separated
    # `id=Label` (`credentials` is the password and application credential forms; any
    # other id is a protocol, e.g. `openid=OpenID Connect`; empty: credentials only),
    # and the choices that name an identity provider too, comma-separated
    # `id=idp_id:protocol_id`.
    dashboard_websso_choices: str = ""
    dashboard_websso_idp_mapping: str = ""
    # Security compliance (Keystone's [security_compliance]; 0 or empty: off).  Failed
    # password logins before the account locks, and for how many seconds (0: until an
    # administrator resets the password); days a password lives; how many of a user's
    # last passwords a self-service change may not reuse; days before a self-service
    # password may be changed again; a regex new passwords must match and the sentence
    # that explains it; and whether a password an administrator set must be changed
    # at its first use.
    lockout_failure_attempts: int = 0
    lockout_duration: int = 1800
    password_expires_days: int = 0
    unique_last_password_count: int = 0
    minimum_password_age: int = 0
    password_regex: str = ""
    password_regex_description: str = ""
    change_password_upon_first_use: bool = False
    # Where `pocketstack up` writes its clouds.yaml entries; empty means the file the
    # openstack CLI reads by default (~/.config/openstack/clouds.yaml).
    clouds_file: str = ""
    # Compute: simulated hypervisor hosts of the fake driver, their size, and a delay
    # (seconds) every simulated hypervisor operation takes; and the seconds a fake live
    # migration's memory copy takes unless forced to complete (or aborted meanwhile).
    fake_hosts: int = 2
    fake_host_vcpus: int = 16
    fake_host_memory_mb: int = 32768
    fake_host_disk_gb: int = 500
    fake_op_delay: float = 0.0
    fake_live_migration_time: float = 0.0
    # The hypervisor of this process's compute hosts: "fake" (simulated, the default) or
    # "qemu" (real guests, one QEMU process each; docs/guests.md).  With "qemu" the
    # all-in-one cloud runs one host named after the machine instead of `fake_hosts`.
    hypervisor: str = "fake"
    # Where the QEMU driver keeps its guests (one directory per server) and its base image
    # cache; empty: <data_dir>/qemu/<host>.
    qemu_state_dir: str = ""
    # How many QEMU hosts the all-in-one process runs: the first named after the machine,
    # the others <name>-2, <name>-3 ... each with its own state directory (real guests
    # moved between them: docs/guests.md "Moving guests"); needs `qemu_state_dir` empty.
    qemu_hosts: int = 1
    # "kvm" or "tcg" forces the accelerator; empty: KVM where /dev/kvm works, else TCG.
    qemu_accel: str = ""
    # MiB/s the memory copy of a QEMU guest's live migration may use (Nova's [libvirt]
    # live_migration_bandwidth; the disk mirrors are not capped); 0: no cap.
    live_migration_bandwidth: int = 0
    # Seconds a guest is given to power off after the ACPI power-down before it is ended
    # (Nova's shutdown_timeout).
    shutdown_timeout: float = 60.0
    # Overcommit of a real host's inventory in Placement (Nova's initial_*_allocation_ratio
    # defaults since Stein: 4.0 / 1.0 / 1.0).  The fake hosts keep 1.0.
    cpu_allocation_ratio: float = 4.0
    ram_allocation_ratio: float = 1.0
    disk_allocation_ratio: float = 1.0
    # Seconds between two power-state syncs of a host's guests against the database
    # (Nova's sync_power_state_interval); 0 disables them.
    sync_power_state_interval: float = 10.0
    # Seconds between two passes of a real host's image cache manager, and the age (seconds
    # unused) at which it removes a cached base image no guest uses (Nova's
    # image_cache_manager_interval and remove_unused_original_minimum_age_seconds).
    image_cache_manager_interval: float = 2400.0
    remove_unused_original_minimum_age_seconds: float = 86400.0
    # At start a host powers on the guests the database says are running but are not
    # (after a host reboot; Nova's option of the same name, on here by default).
    resume_guests_state_on_host_boot: bool = True
    # Seconds a shelved server keeps its place on its host before it is offloaded (Nova's
    # shelved_offload_time): 0 at once (Nova's default), -1 never (until shelveOffload);
    # otherwise a host's periodic sweep offloads it once that long has passed.
    shelved_offload_time: int = 0
    # Every server gets a config drive, whether it asked for one or not (Nova's
    # force_config_drive).
    force_config_drive: bool = False
    # Remote consoles (docs/guests.md "Consoles").  A real guest's VNC server listens on
    # TCP at `vnc_server_listen` (Nova's [vnc] server_listen), port 5900+ chosen by QEMU;
    # the noVNC proxy, served by every API process under /novnc/, must reach that address
    # (never a public one: the VNC display has no password, the token is the only lock).
    vnc_server_listen: str = "127.0.0.1"
    # The URL console clients are given, the token appended to its noVNC `path` parameter
    # (Nova's [vnc] novncproxy_base_url); empty: <public_url>/novnc/vnc_lite.html with the
    # path of this cloud's websocket.
    novncproxy_base_url: str = ""
    # Seconds a console token is valid (Nova's [consoleauth] token_ttl).
    console_token_ttl: int = 600
    # Host names a browser page may open the console websocket from besides the Host the
    # request names, comma separated (Nova's [console] allowed_origins).
    console_allowed_origins: str = ""
    # Where noVNC's HTML and JavaScript are (the Debian package novnc).
    novnc_web_dir: str = "/usr/share/novnc"
    # Object storage (all-in-one): simulated devices, replicas per item, ring partition
    # power, and seconds between replicator/auditor passes (0 disables them).
    object_devices: int = 3
    object_replicas: int = 3
    object_part_power: int = 8
    object_background_interval: float = 300.0
    # Seconds after which those passes remove tombstones, temp files left by interrupted
    # uploads and deleted database rows (Swift's reclaim_age, a week).
    object_reclaim_age: float = 604800.0
    # The <allow-access-from .../> elements GET /object-store/crossdomain.xml serves
    # (Swift's crossdomain cross_domain_policy; its permissive default).
    object_cross_domain_policy: str = '<allow-access-from domain="*" secure="false" />'
    # Container sync (docs/object-storage.md): seconds between the syncer's passes (Swift's
    # container-sync interval), Swift's container-sync-realms.conf (empty: no realms), this
    # cluster as //REALM/CLUSTER in /info, and the hosts a full X-Container-Sync-To URL may
    # name (Swift's allowed_sync_hosts).
    object_container_sync_interval: float = 300.0
    object_container_sync_realms_file: str = ""
    object_container_sync_current: str = ""
    object_container_sync_hosts: str = "127.0.0.1,localhost,::1"
    # Block storage: capacity the file backend advertises (GiB), and how long (seconds) a
    # volume may sit in a `*-ing` state before a sweep treats it as abandoned by a worker
    # that never came back (a restarted worker settles its own work at once).
    volume_capacity_gb: int = 1000
    # The file backends the volume service serves, comma-separated names (Cinder's
    # enabled_backends): each is the host `pocketstack@<name>#<name>` with its own directory
    # (`<data_dir>/volumes` for "file", `<data_dir>/volumes-<name>` for the others) and
    # reports its name as `volume_backend_name`.  Each backend advertises volume_capacity_gb.
    volume_backends: str = "file"
    volume_recovery_window: float = 300.0
    # Seconds every volume operation waits before its work (0 in real use): lets crash
    # tests kill a volume process in the middle of an operation.
    volume_operation_delay: float = 0.0
    # The name a volume process serves the volume topic under (`pocketstack volume --host`);
    # empty: the machine's host name.
    volume_host: str = ""
    # Orchestration: the name an engine drives stacks under (empty: the host name; a
    # restarted engine takes its own unfinished stacks over at once), how long its lease
    # on a stack lasts without renewal before another engine takes the stack over, and
    # seconds between polls of a resource still being built.
    orchestration_engine_id: str = ""
    orchestration_lease: float = 30.0
    orchestration_poll: float = 0.5
    # Heat's preview features, off by default as in Heat (its ``enable_stack_abandon``
    # and ``enable_stack_adopt``): abandon (and export) a stack's data, adopt resources
    # into a new stack.  Off, each answers 400 NotSupported.
    orchestration_enable_stack_abandon: bool = False
    orchestration_enable_stack_adopt: bool = False
    # Deferred operations act through a Keystone trust from the stack's owner to the
    # orchestration service's own user (Heat's ``deferred_auth_method = trusts``, its only
    # supported method; docs/orchestration.md): that user's name and password (Heat's
    # [trustee] section; empty password: `pocketstack up` generates one and keeps it in
    # <data_dir>/orchestration-trustee-password, which every process sharing the data
    # directory reads; set it on every host when engines run elsewhere), and the roles a
    # stack's trust delegates ("r1,r2"; Heat's trusts_delegated_roles; empty: all the
    # roles of the user's token on the project).
    orchestration_trustee_user: str = "heat"
    orchestration_trustee_password: str = ""
    orchestration_trusts_delegated_roles: str = ""
    # The Orchestration URL given out where something outside the cloud must call back (a
    # wait condition handle's ``endpoint`` and ``curl_cli``), Heat's ``[clients_heat] url``:
    # ``%(tenant_id)s`` becomes the stack's project.  Empty: the catalog's public URL
    # (``<public_url>/orchestration/v1/<project>``).  Set it when guests reach the API by
    # another address than the clients do.
    orchestration_heat_url: str = ""
    # The host a network agent process (`pocketstack network-agent --host`) or the
    # all-in-one cloud's in-process agent reports as; empty: the machine's host name.
    network_agent_host: str = ""
    # Hex AES-256 key: when set, backup chunks are encrypted (AES-GCM); empty: not encrypted.
    volume_backup_key: str = ""
    # Where backups are kept: "object" (objects in the owner's account; the default when the
    # cloud runs the object service) or "directory" (<data_dir>/backups); empty: the default.
    volume_backup_store: str = ""
    # Networking (Neutron ML2's options, in their formats; docs/network.md): VLAN ranges
    # per physical network "physnet:min:max[,…]" (a bare "physnet" allows provider VLANs
    # only), VXLAN VNI ranges "min:max[,…]", physical networks flat networks may use
    # ("*" = any), the type a project's own network gets, the MTU of the physical
    # network (ML2's global_physnet_mtu) and of the underlay VXLAN travels over (ML2's
    # path_mtu; 0: the physical network's).  A network's MTU may be at most its type's:
    # flat and VLAN the physical MTU, VXLAN the lower of the two less 50 bytes of
    # encapsulation (IPv4 and VXLAN headers), local the physical MTU.
    network_vlan_ranges: str = "physnet1:1000:2999"
    network_vni_ranges: str = "1:65535"
    network_flat_networks: str = "public,physnet1"
    network_tenant_network_type: str = "vxlan"
    network_physnet_mtu: int = 1500
    network_path_mtu: int = 0
    # Networking quotas every project has unless an admin set its own (Neutron's [quotas]
    # quota_network, quota_subnet, quota_port, quota_router, quota_floatingip,
    # quota_security_group, quota_security_group_rule, quota_rbac_policy, and default_quota
    # for subnet pools); -1: unlimited.  Defaults as Neutron's.
    network_quota_network: int = 100
    network_quota_subnet: int = 100
    network_quota_port: int = 500
    network_quota_router: int = 10
    network_quota_floatingip: int = 50
    network_quota_security_group: int = 10
    network_quota_security_group_rule: int = 100
    network_quota_rbac_policy: int = 10
    network_quota_subnetpool: int = -1
    # The data plane the network agent applies changes with: "noop" (records them, no
    # packets) or "linux" (bridges, dnsmasq, router namespaces and nftables, all inside
    # namespaces named <network_datapath_prefix>…; needs root, iproute2, nftables and
    # dnsmasq-base; docs/network.md "The Linux datapath").
    network_datapath: str = "noop"
    network_datapath_prefix: str = "ps-"
    # Several datapath hosts (docs/network.md "Several hosts"): this host's VXLAN address
    # (Neutron's [vxlan] local_ip; "addr", or "addr/prefix" with an underlay), an address of
    # the datapath's host namespace; set, the agent keeps only what concerns its host and
    # reaches the other hosts' VXLAN networks through it.  Empty: the only host (all-in-one).
    network_datapath_local_ip: str = ""
    # Opt-in: a device of the machine's own namespace the agent moves into its host
    # namespace and gives network_datapath_local_ip (the underlay VXLAN runs over).
    network_datapath_underlay: str = ""
    # Opt-in (Neutron's linuxbridge physical_interface_mappings): "physnet:iface[,…]".
    # The Linux datapath moves each interface into its host namespace (handed back at
    # its destroy); a flat network on the physnet gets the interface on its bridge, a
    # VLAN network the subinterface <iface>.<segmentation id> (docs/network.md).
    network_physical_interface_mappings: str = ""
    # Automatic failover: every heartbeat_interval an API process moves the routers and DHCP
    # networks of network agents that are not alive to alive ones (Neutron's
    # allow_automatic_l3agent_failover / allow_automatic_dhcp_failover).
    network_agent_failover: bool = False
    # The metadata API guests read (Nova's nova-api-metadata; docs/guests.md): where it
    # listens (Nova's metadata_listen / metadata_listen_port; `pocketstack up` and
    # `pocketstack metadata` serve it there) -- the network datapath's metadata proxy
    # forwards guests' requests to 169.254.169.254 here.
    metadata_listen: str = "127.0.0.1"
    metadata_listen_port: int = 8775
    # The secret the metadata proxy signs each request's X-Instance-ID with (HMAC-SHA256,
    # Neutron's and Nova's metadata_proxy_shared_secret).  Empty: `pocketstack up`
    # generates one and keeps it in <data_dir>/metadata-proxy-secret, which the proxy and
    # `pocketstack metadata` read too; a metadata server that has none refuses every
    # request rather than trust an unsigned one.
    metadata_proxy_shared_secret: str = ""
    # The domain a guest's hostname gets in its metadata ("vm1.novalocal"; Nova's
    # dhcp_domain); empty: the bare hostname.
    dhcp_domain: str = "novalocal"
    # Which URLs a web-download image import may fetch (Glance's [import_filtering_opts]):
    # comma-separated lists; when an allowed list is set, its disallowed list is ignored.
    # A port is checked only when the URL names one.  Defaults as Glance's.
    image_import_allowed_schemes: str = "http,https"
    image_import_disallowed_schemes: str = ""
    image_import_allowed_hosts: str = ""
    image_import_disallowed_hosts: str = ""
    image_import_allowed_ports: str = "80,443"
    image_import_disallowed_ports: str = ""
    # The Image service's named file stores (Glance's enabled_backends of file stores):
    # "id[:weight],..." -- the first is the default store, a higher weight lists a store
    # first in an image's `stores`.  Empty: one unnamed store, no multi-store API
    # (docs/image.md, "Multiple stores").
    image_stores: str = ""
    # Instance HA (docs/ha.md; the "ha" role: `pocketstack up`, `pocketstack ha`).  Every
    # `ha_monitor_interval` seconds the leading HA process looks at every compute host; a
    # host whose compute service stopped checking in *and* whose machine is dead (the
    # second, independent signal) for `ha_confirm_count` looks in a row, and at least
    # `ha_grace_period` seconds after it was first seen so, has failed: it is fenced, then
    # its servers are evacuated -- all of them (`ha_recovery_mode` "all", Masakari's
    # evacuate_all_instances) or only those that ask for it ("tagged"; the others are put
    # in ERROR with a fault).  A server asks, first match wins: its `automatic-recovery`
    # tag or its `ha_enabled_instance_metadata_key` metadata (Masakari's, "HA_Enabled"),
    # its image's `ha_enabled` property, its flavor's `ha:enabled` extra spec; a "false"
    # there keeps it out even in mode "all".  `ha_ignore_instances_in_error_state`
    # (Masakari's option) leaves servers already in ERROR where they are.  A service that
    # stopped while its machine lives is reported, never evacuated.
    ha_monitor_interval: float = 5.0
    ha_confirm_count: int = 3
    ha_grace_period: float = 0.0
    ha_recovery_mode: str = "all"
    ha_enabled_instance_metadata_key: str = "HA_Enabled"
    ha_ignore_instances_in_error_state: bool = False
    # Fence drivers (docs/ha.md "Fencing"): "fake" (simulated machines), "qemu-host" (kill
    # every QEMU process of the host on this machine), "command" (run `ha_fence_command`);
    # empty: "qemu-host" with hypervisor = "qemu", else "fake".  `ha_fence_hosts` picks
    # another driver per host: "host1=command,host2=qemu-host".
    ha_fence_driver: str = ""
    ha_fence_hosts: str = ""
    # The command driver: the fence agent's command line ("{host}" is replaced by the host
    # name, e.g. "fence_ipmilan --ip=10.0.0.{host} --action=off"); it must exit 0 once the
    # machine is off.  `ha_fence_verify_command`, when set, then must exit 0 only if the
    # machine is off (e.g. "ipmitool ... chassis power status | grep -q off").  Each run is
    # given `ha_fence_timeout` seconds; a failed fence is tried `ha_fence_attempts` times.
    ha_fence_command: str = ""
    ha_fence_verify_command: str = ""
    ha_fence_timeout: float = 30.0
    ha_fence_attempts: int = 3
    # Seconds an evacuation that recovery started may stay placed on no destination before
    # it is sent to the schedulers again (its starter, a leading HA process, may have died
    # before the cast left; a duplicate is harmless).
    ha_evacuation_resend_after: float = 60.0

    @property
    def effective_database_url(self) -> str:
        return self.database_url or f"sqlite:///{self.data_dir / 'pocketstack.db'}"

    @property
    def effective_public_url(self) -> str:
        return (self.public_url or f"http://{self.host}:{self.port}").rstrip("/")

    @property
    def effective_novncproxy_base_url(self) -> str:
        """The noVNC page console URLs point at: its ``path`` names the websocket relative
        to the server's root, as noVNC resolves it (a public_url with a path prefix too)."""
        if self.novncproxy_base_url:
            return self.novncproxy_base_url
        public = self.effective_public_url
        prefix = urlsplit(public).path.strip("/")
        websocket = f"{prefix}/novnc/websockify".lstrip("/")
        return f"{public}/novnc/vnc_lite.html?path={quote(websocket, safe='')}"

    @property
    def effective_clouds_file(self) -> Path:
        if self.clouds_file:
            return Path(self.clouds_file).expanduser()
        return Path.home() / ".config" / "openstack" / "clouds.yaml"

    @property
    def effective_coordination_url(self) -> str:
        """The tooz URL; a Redis member expires ``service_down_time`` after its last
        heartbeat unless the URL says otherwise (``membership_timeout=``)."""
        url = self.coordination_url or f"file://{self.data_dir / 'locks'}"
        if url.startswith("redis") and "membership_timeout=" not in url:
            url += ("&" if "?" in url else "?") + f"membership_timeout={self.service_down_time:g}"
        return url

    def qemu_state_path(self, host: str) -> Path:
        """The QEMU driver's state directory for ``host``."""
        return Path(self.qemu_state_dir).expanduser() if self.qemu_state_dir else self.data_dir / "qemu" / host

    @property
    def role_set(self) -> set[str]:
        return {r.strip() for r in self.roles.split(",") if r.strip()}

    @property
    def auth_method_list(self) -> list[str]:
        """The enabled authentication methods (``auth_methods``)."""
        return [m.strip() for m in self.auth_methods.split(",") if m.strip()]

    @property
    def volume_backend_list(self) -> list[str]:
        """``volume_backends`` as a list, each name once, in order."""
        return list(dict.fromkeys(n.strip() for n in self.volume_backends.split(",") if n.strip()))

    @property
    def service_list(self) -> list[str] | None:
        """The services named by ``services``, or None for all of them."""
        names = [s.strip() for s in self.services.split(",") if s.strip()]
        return names or None


def _coerce(name: str, kind: Any, value: Any) -> Any:
    if kind is bool or kind == "bool":
        if isinstance(value, bool):
            return value
        text = str(value).strip().lower()
        if text in ("1", "true", "yes", "on"):
            return True
        if text in ("0", "false", "no", "off", ""):
            return False
        raise ValueError(f"setting {name!r}: {value!r} is not a boolean")
    try:
        return kind(value)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"setting {name!r}: {value!r} is not a valid {kind.__name__}") from exc


def load(config_file: str | os.PathLike[str] | None = None, overrides: dict[str, Any] | None = None,
         environ: dict[str, str] | None = None) -> Settings:
    """Build :class:`Settings` from defaults, a TOML file, the environment and overrides."""
    environ = dict(os.environ if environ is None else environ)
    hints = get_type_hints(Settings)
    names = {f.name for f in dataclasses.fields(Settings)}
    values: dict[str, Any] = {}

    config_file = config_file or environ.get(ENV_PREFIX + "CONFIG")
    if config_file:
        with open(config_file, "rb") as fh:
            data = tomllib.load(fh)
        data = data.get("pocketstack", data)
        for key, value in data.items():
            if key not in names:
                raise ValueError(f"unknown setting {key!r} in {config_file}")
            values[key] = value
    for name in names:
        env_value = environ.get(ENV_PREFIX + name.upper())
        if env_value is not None:
            values[name] = env_value
    for key, value in (overrides or {}).items():
        if key not in names:
            raise ValueError(f"unknown setting {key!r}")
        if value is not None:
            values[key] = value
    coerced = {k: _coerce(k, hints[k], v) for k, v in values.items()}
    settings = Settings(**coerced)
    settings.data_dir = Path(settings.data_dir).expanduser()
    return settings
