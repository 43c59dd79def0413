#!/bin/bash
# A SAIO-style Swift 2.38.3 (proxy with tempauth and memcache, account, container and
# object servers, 3 replicas on 3 devices) for the side-by-side object benchmark
# (docs/performance.md "Object storage").  Everything lives in $SWIFT_SAIO_DIR (default
# /tmp/pocketstack-swift): configs, swift.conf and rings (`swift_dir`), devices, logs and
# pid files -- nothing under /etc.  Every port is a free one, chosen here and written to
# $SWIFT_SAIO_DIR/ports (the proxy's also to proxy-port).
#
#   python3 -m venv /opt/swift-venv && /opt/swift-venv/bin/pip install swift==2.38.3   # once
#   apt install memcached                                                                # once
#   tools/swift/setup.sh && tools/swift/start.sh
#   python benchmarks/object.py --tempauth-url http://127.0.0.1:$(cat /tmp/pocketstack-swift/proxy-port)/auth/v1.0 \
#       --tempauth-user test:tester --password testing ...
#   tools/swift/stop.sh
#
# Re-running stops a running instance first and starts from empty devices.
set -euo pipefail
export PYTHONWARNINGS=ignore  # Swift's dependencies warn about DSA on every start
S=${SWIFT_SAIO_DIR:-/tmp/pocketstack-swift}
B=${SWIFT_VENV:-/opt/swift-venv}/bin
"$(dirname "$0")/stop.sh" 2>/dev/null || true
rm -rf "$S"
mkdir -p "$S/etc" "$S/node/d1" "$S/node/d2" "$S/node/d3" "$S/run" "$S/log"
read -r P_OBJECT P_CONTAINER P_ACCOUNT P_PROXY P_MEMCACHED < <("$B/python" - <<'PY'
import socket
socks = [socket.socket() for _ in range(5)]
for s in socks:
    s.bind(("127.0.0.1", 0))
print(" ".join(str(s.getsockname()[1]) for s in socks))
PY
)
printf 'object=%s\ncontainer=%s\naccount=%s\nproxy=%s\nmemcached=%s\n' \
    "$P_OBJECT" "$P_CONTAINER" "$P_ACCOUNT" "$P_PROXY" "$P_MEMCACHED" > "$S/ports"
echo "$P_PROXY" > "$S/proxy-port"
cat > "$S/etc/swift.conf" <<CONF
[swift-hash]
swift_hash_path_prefix = objperfprefix
swift_hash_path_suffix = objperfsuffix
[storage-policy:0]
name = Policy-0
default = yes
CONF
for kind in account container object; do
  case $kind in object) port=$P_OBJECT;; container) port=$P_CONTAINER;; account) port=$P_ACCOUNT;; esac
  "$B/swift-ring-builder" "$S/etc/$kind.builder" create 10 3 0 >/dev/null
  for i in 1 2 3; do "$B/swift-ring-builder" "$S/etc/$kind.builder" add "r1z$i-127.0.0.1:$port/d$i" 100 >/dev/null; done
  "$B/swift-ring-builder" "$S/etc/$kind.builder" rebalance >/dev/null || true
  cat > "$S/$kind-server.conf" <<CONF
[DEFAULT]
swift_dir = $S/etc
devices = $S/node
mount_check = false
disable_fallocate = true
bind_ip = 127.0.0.1
bind_port = $port
workers = 0
log_facility = LOG_LOCAL2
log_level = WARNING
[pipeline:main]
pipeline = $kind-server
[app:$kind-server]
use = egg:swift#$kind
[$kind-replicator]
[$kind-updater]
[$kind-auditor]
CONF
done
cat > "$S/proxy-server.conf" <<CONF
[DEFAULT]
swift_dir = $S/etc
bind_ip = 127.0.0.1
bind_port = $P_PROXY
workers = 0
log_level = WARNING
[pipeline:main]
pipeline = catch_errors gatekeeper healthcheck proxy-logging cache listing_formats tempauth copy slo dlo proxy-logging proxy-server
[app:proxy-server]
use = egg:swift#proxy
account_autocreate = true
# 10 s (the default) gave 503s on 16 parallel 16 MiB PUTs on the loaded 2-core machine.
node_timeout = 60
conn_timeout = 5
[filter:tempauth]
use = egg:swift#tempauth
user_test_tester = testing .admin
[filter:healthcheck]
use = egg:swift#healthcheck
[filter:cache]
use = egg:swift#memcache
memcache_servers = 127.0.0.1:$P_MEMCACHED
[filter:catch_errors]
use = egg:swift#catch_errors
[filter:gatekeeper]
use = egg:swift#gatekeeper
[filter:proxy-logging]
use = egg:swift#proxy_logging
[filter:listing_formats]
use = egg:swift#listing_formats
[filter:copy]
use = egg:swift#copy
[filter:slo]
use = egg:swift#slo
[filter:dlo]
use = egg:swift#dlo
CONF
echo "Swift in $S: proxy http://127.0.0.1:$P_PROXY/auth/v1.0 (test:tester / testing); start with tools/swift/start.sh"
