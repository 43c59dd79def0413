#!/bin/bash
# Start the Swift set up by tools/swift/setup.sh: its own memcached, then the account,
# container, object and proxy servers (pids in $SWIFT_SAIO_DIR/run).  Fails, and stops
# what it started, unless every server runs and the proxy answers /healthcheck and a
# tempauth login.
set -euo pipefail
export PYTHONWARNINGS=ignore  # Swift's dependencies warn about DSA on every start
S=${SWIFT_SAIO_DIR:-/tmp/pocketstack-swift}; B=${SWIFT_VENV:-/opt/swift-venv}/bin
[ -f "$S/ports" ] || { echo "no $S/ports: run tools/swift/setup.sh" >&2; exit 1; }
port() { sed -n "s/^$1=//p" "$S/ports"; }
"$(dirname "$0")/stop.sh"
memcached -u "$(id -un)" -l 127.0.0.1 -p "$(port memcached)" -U 0 -m 64 > "$S/log/memcached.log" 2>&1 &
echo $! > "$S/run/memcached.pid"
for srv in account container object proxy; do
  "$B/swift-$srv-server" "$S/$srv-server.conf" > "$S/log/$srv.log" 2>&1 & echo $! > "$S/run/$srv.pid"
done
proxy="http://127.0.0.1:$(port proxy)"
for _ in $(seq 60); do
  for f in "$S"/run/*.pid; do
    kill -0 "$(cat "$f")" 2>/dev/null || { echo "$(basename "$f" .pid) exited:" >&2; tail "$S"/log/*.log >&2; "$(dirname "$0")/stop.sh"; exit 1; }
  done
  if [ "$(curl -s -o /dev/null -w '%{http_code}' "$proxy/healthcheck")" = 200 ] &&
     [ "$(curl -s -o /dev/null -w '%{http_code}' -H 'X-Auth-User: test:tester' -H 'X-Auth-Key: testing' "$proxy/auth/v1.0")" = 200 ]; then
    echo "up: $proxy"; exit 0
  fi
  sleep 0.5
done
echo "not up" >&2; tail "$S"/log/*.log >&2; "$(dirname "$0")/stop.sh"; exit 1
