#!/bin/bash
# start memcached + the four Swift servers; pids in run/
S=${SWIFT_SAIO_DIR:-/tmp/pocketstack-swift}; B=${SWIFT_VENV:-/opt/swift-venv}/bin
memcached -u root -l 127.0.0.1 -p 11219 -m 64 > $S/log/memcached.log 2>&1 & echo $! > $S/run/memcached.pid
for srv in account container object proxy; do
  $B/swift-$srv-server $S/$srv-server.conf > $S/log/$srv.log 2>&1 & echo $! > $S/run/$srv.pid
done
for i in $(seq 30); do curl -s -o /dev/null -w '%{http_code}' 127.0.0.1:8089/healthcheck 2>/dev/null | grep -q 200 && echo up && exit 0; sleep 1; done
echo "not up"; tail $S/log/*.log
