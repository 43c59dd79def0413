#!/bin/sh
# curl of the pocketstack tiny image: plain-HTTP requests over busybox nc, for what Tempest
# and CirrOS users run in a guest -- `curl http://169.254.169.254/latest/meta-data/public-ipv4`,
# `curl -X POST -d DATA URL`.  One HTTP/1.0 request (so the answer is never chunked), the
# body written as received.  Options: -X/--request, -d/--data/--data-raw/--data-binary
# (@FILE reads a file; the request becomes a form POST), -H/--header, -o/--output, -i/--include,
# -I/--head, -f/--fail, -s/--silent, -S/--show-error, -m/--max-time, --connect-timeout,
# -k/--insecure and -L/--location (accepted; no TLS, redirects not followed); -V/--version
# (Tempest's `curl -V` decides whether the guest can read the metadata API).  Exit statuses
# as curl's: 1 unsupported protocol, 2 bad usage, 3 bad URL, 7 cannot connect, 22 HTTP error
# with --fail, 28 timeout, 52 empty reply.
usage() {
    echo "usage: curl [-s] [-S] [-f] [-i|-I] [-X METHOD] [-d DATA] [-H HEADER] [-o FILE] [-m SECONDS] URL"
}
method="" data="" has_data=false output="" include=false head=false fail=false silent=false
show_error=false max_time=60 connect_timeout=10 url="" headers=""
need() { [ "$1" -ge 2 ] || { echo "curl: option $2: requires parameter" >&2; exit 2; }; }
while [ $# -gt 0 ]; do
    case "$1" in
        -X|--request) need $# "$1"; method=$2; shift ;;
        -d|--data|--data-raw|--data-binary|--data-ascii)
            need $# "$1"
            case "$1:$2" in
                --data-raw:*) value=$2 ;;
                *:@*) value=$(cat "${2#@}") || exit 26 ;;
                *) value=$2 ;;
            esac
            if [ "$has_data" = true ]; then data="$data&$value"; else data=$value; fi
            has_data=true; shift ;;
        -H|--header) need $# "$1"; headers="$headers$2
"; shift ;;
        -o|--output) need $# "$1"; output=$2; shift ;;
        -m|--max-time) need $# "$1"; max_time=${2%%.*}; shift ;;
        --connect-timeout) need $# "$1"; connect_timeout=${2%%.*}; shift ;;
        -i|--include) include=true ;;
        -I|--head) head=true ;;
        -f|--fail) fail=true ;;
        -s|--silent) silent=true ;;
        -S|--show-error) show_error=true ;;
        -k|--insecure|-L|--location) ;;
        -[fsSiIkL][fsSiIkL]*)  # several flags in one: -fsS
            flags=${1#-}
            while [ -n "$flags" ]; do
                case "${flags%"${flags#?}"}" in
                    f) fail=true ;; s) silent=true ;; S) show_error=true ;;
                    i) include=true ;; I) head=true ;; k|L) ;;
                esac
                flags=${flags#?}
            done ;;
        -h|--help) usage; exit 0 ;;
        -V|--version) printf 'curl 0.0.0 (x86_64-pc-linux-gnu) tiny (busybox nc)\nProtocols: http\nFeatures:\n'
                      exit 0 ;;
        -*) echo "curl: option $1: is unknown" >&2; usage >&2; exit 2 ;;
        *) [ -z "$url" ] || { echo "curl: only one URL is supported here" >&2; exit 2; }; url=$1 ;;
    esac
    shift
done
complain() {  # status message: curl's "curl: (N) message" unless --silent without --show-error
    if [ "$silent" = false ] || [ "$show_error" = true ]; then echo "curl: ($1) $2" >&2; fi
    exit "$1"
}
[ -n "$url" ] || { echo "curl: no URL specified" >&2; usage >&2; exit 2; }
case "$url" in
    http://*) rest=${url#http://} ;;
    *://*) complain 1 "Protocol \"${url%%://*}\" not supported" ;;
    *) rest=$url ;;
esac
case "$rest" in
    */*) authority=${rest%%/*}; path=/${rest#*/} ;;
    *) authority=$rest; path=/ ;;
esac
path=${path%%#*}
case "$authority" in
    \[*\]:*) host=${authority%%]:*}; host=${host#[}; port=${authority##*]:} ;;
    \[*\]) host=${authority#[}; host=${host%]}; port=80 ;;
    *:*) host=${authority%%:*}; port=${authority##*:} ;;
    *) host=$authority; port=80 ;;
esac
case "$port" in ''|*[!0-9]*) complain 3 "URL rejected: Port number was not a decimal number between 0 and 65535" ;; esac
[ -n "$host" ] || complain 3 "URL rejected: No host part in the URL"
case "$host" in *:*) host_header="[$host]" ;; *) host_header=$host ;; esac
[ "$port" = 80 ] || host_header="$host_header:$port"
if [ -z "$method" ]; then
    if [ "$head" = true ]; then method=HEAD; elif [ "$has_data" = true ]; then method=POST; else method=GET; fi
fi

work=$(mktemp -d) || exit 2
trap 'rm -rf "$work"' EXIT
response=$work/response
# The user's headers replace curl's own of the same name, and "Name:" with nothing after
# the colon only removes curl's, as in curl (`-H 'Content-Type: application/json'`).
given() {
    printf %s "$headers" | awk -F : -v name="$1" 'tolower($1) == tolower(name) { found = 1 } END { exit !found }'
}
default() { given "$1" || printf '%s: %s\r\n' "$1" "$2"; }
{
    printf '%s %s HTTP/1.0\r\n' "$method" "$path"
    default Host "$host_header"
    default User-Agent curl/tiny
    default Accept '*/*'
    printf 'Connection: close\r\n'
    if [ "$has_data" = true ]; then
        default Content-Type application/x-www-form-urlencoded
        printf 'Content-Length: %s\r\n' "$(printf %s "$data" | wc -c)"
    fi
    printf %s "$headers" | while IFS= read -r header; do
        case "$header" in *:*) [ -n "$(printf %s "${header#*:}" | tr -d ' \t')" ] || continue ;; esac
        printf '%s\r\n' "$header"
    done
    printf '\r\n'
    [ "$has_data" = true ] && printf %s "$data"
} > "$work/request"
# nc reads the request from a FIFO whose writer stays until nc is done: like curl, the
# sending side is never shut down before the answer is in (busybox nc shuts it down at the
# end of its input, which servers such as uvicorn take for a client that left: they answer
# nothing).  The server ends the exchange by closing (Connection: close).
mkfifo "$work/to-server" || exit 2
timeout "$max_time" nc -w "$connect_timeout" "$host" "$port" < "$work/to-server" > "$response" 2>/dev/null &
nc_pid=$!
(
    cat "$work/request"
    while kill -0 "$nc_pid" 2>/dev/null; do sleep 0.1; done
) > "$work/to-server"
wait "$nc_pid"
status=$?
if [ ! -s "$response" ]; then
    [ "$status" = 143 ] && complain 28 "Operation timed out after $max_time seconds"
    [ "$status" = 0 ] && complain 52 "Empty reply from server"
    complain 7 "Failed to connect to $host port $port"
fi
code=$(head -n 1 "$response" | awk '{ print $2 }')
case "$code" in [1-5][0-9][0-9]) ;; *) complain 8 "Weird server reply" ;; esac
blank=$(grep -n -m 1 -e "$(printf '^\r$')" -e '^$' "$response" | cut -d : -f 1)
[ -n "$blank" ] || blank=$(wc -l < "$response")
if [ "$fail" = true ] && [ "$code" -ge 400 ]; then
    complain 22 "The requested URL returned error: $code"
fi
emit() {
    if [ "$include" = true ] || [ "$head" = true ]; then head -n "$blank" "$response"; fi
    [ "$head" = true ] || tail -n +"$((blank + 1))" "$response"
}
if [ -n "$output" ] && [ "$output" != - ]; then
    emit > "$output" || complain 23 "Failure writing output to destination"
else
    emit
fi
exit 0
