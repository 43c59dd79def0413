#!/bin/bash
# SAIO-style all-in-one Swift 2.38.3 for the side-by-side benchmark (object-perf).
# Real Swift for side-by-side benchmarks (docs/performance.md "Object storage").
# Needs: python3 -m venv /opt/swift-venv && /opt/swift-venv/bin/pip install swift==2.38.3; apt install memcached.
# Then tools/swift/start.sh; benchmarks/object.py --tempauth-url http://127.0.0.1:8089/auth/v1.0 --password testing; tools/swift/stop.sh
set -e
S=${SWIFT_SAIO_DIR:-/tmp/pocketstack-swift}
B=${SWIFT_VENV:-/opt/swift-venv}/bin
mkdir -p /etc/swift $S/node/d1 $S/node/d2 $S/node/d3 $S/run $S/log
cat > /etc/swift/swift.conf <<CONF
[swift-hash]
swift_hash_path_prefix = objperfprefix
swift_hash_path_suffix = objperfsuffix
[storage-policy:0]
name = Policy-0
default = yes
CONF
for kind in account container object; do
  case $kind in object) port=6200;; container) port=6201;; account) port=6202;; esac
  rm -f /etc/swift/$kind.builder /etc/swift/$kind.ring.gz
  $B/swift-ring-builder /etc/swift/$kind.builder create 10 3 0 >/dev/null
  for i in 1 2 3; do $B/swift-ring-builder /etc/swift/$kind.builder add r1z$i-127.0.0.1:$port/d$i 100 >/dev/null; done
  $B/swift-ring-builder /etc/swift/$kind.builder rebalance >/dev/null || true
  cat > $S/$kind-server.conf <<CONF
[DEFAULT]
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
cat > $S/proxy-server.conf <<CONF
[DEFAULT]
bind_ip = 127.0.0.1
bind_port = 8089
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
memcache_servers = 127.0.0.1:11219
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
