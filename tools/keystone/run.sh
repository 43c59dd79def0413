#!/usr/bin/env bash
# Run the Keystone installed by tools/keystone/setup.sh on 127.0.0.1:5000 with ONE
# worker process (like pocketstack's one uvicorn process), in the foreground.
#
#   tools/keystone/run.sh                       # uwsgi, 1 process, $KEYSTONE_THREADS threads
#   KEYSTONE_SERVER=gunicorn tools/keystone/run.sh
#
# KEYSTONE_THREADS (default 8 = the benchmark's concurrency) threads in that one
# process; KEYSTONE_THREADS=1 is uwsgi's out-of-the-box default (and devstack's).
set -euo pipefail

VENV=${KEYSTONE_VENV:-/opt/keystone-venv}
STATE=${KEYSTONE_STATE:-/tmp/keystone-bench}
PORT=${KEYSTONE_PORT:-5000}
THREADS=${KEYSTONE_THREADS:-8}
SERVER=${KEYSTONE_SERVER:-uwsgi}

export OS_KEYSTONE_CONFIG_FILES=$STATE/keystone.conf
[ -f "$OS_KEYSTONE_CONFIG_FILES" ] || { echo "no $OS_KEYSTONE_CONFIG_FILES: run tools/keystone/setup.sh" >&2; exit 1; }

if [ "$SERVER" = uwsgi ] && [ ! -x "$VENV/bin/uwsgi" ]; then
    echo "uwsgi is not installed in $VENV; using gunicorn" >&2
    SERVER=gunicorn
fi

case "$SERVER" in
uwsgi)
    KEYSTONE_PKG=$("$VENV/bin/python" -c \
        'import importlib.util; print(importlib.util.find_spec("keystone").submodule_search_locations[0])')
    # --http11-socket: the worker speaks HTTP/1.1 with keep-alive itself (no
    # separate HTTP router process), no master process: exactly one process.
    exec "$VENV/bin/uwsgi" \
        --http11-socket "127.0.0.1:$PORT" \
        --wsgi-file "$KEYSTONE_PKG/wsgi/api.py" \
        --processes 1 --threads "$THREADS" --enable-threads \
        --buffer-size 65535 --listen 128 \
        --disable-logging --die-on-term
    ;;
gunicorn)
    # gunicorn has a master process besides the one worker: pass the worker's pid
    # (pgrep -P MASTER) to the benchmark's --server-pid.
    exec "$VENV/bin/gunicorn" --bind "127.0.0.1:$PORT" --workers 1 \
        --worker-class gthread --threads "$THREADS" --keep-alive 30 \
        --pythonpath "$(dirname "$0")" keystone_app:application
    ;;
*)
    echo "KEYSTONE_SERVER must be uwsgi or gunicorn" >&2; exit 2 ;;
esac
