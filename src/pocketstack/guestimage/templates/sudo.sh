#!/bin/sh
# sudo of the pocketstack tiny image: run a command as root, as CirrOS's sudo does for its
# user (NOPASSWD: ALL).  Who may: root and the members of group sudo -- the kernel checks
# that when this runs /usr/lib/tiny/rootexec (root:sudo, mode 4750, set-uid), which makes
# every id 0.  No PAM, no password, no sudoers: the options Tempest and CirrOS users pass
# are accepted, a user other than root is refused.  The command runs with sudo's default
# (reset) environment: PATH, HOME, USER, LOGNAME, SHELL, and TERM when set.
usage() {
    echo "usage: sudo [-n] [-E] [-H] [-u root] [-i | -s] [--] [command [arg ...]]"
}
login=false
shell=false
keep_env=false
while [ $# -gt 0 ]; do
    case "$1" in
        -n|--non-interactive|-H|--set-home|-S|--stdin|-k|--reset-timestamp) shift ;;
        -E|--preserve-env) keep_env=true; shift ;;
        -u|--user)
            [ $# -ge 2 ] || { usage >&2; exit 1; }
            case "$2" in root|0|'#0') ;; *) echo "sudo: only root is available in this image" >&2; exit 1 ;; esac
            shift 2 ;;
        -i|--login) login=true; shift ;;
        -s|--shell) shell=true; shift ;;
        -h|--help) usage; exit 0 ;;
        -V|--version) echo "sudo (pocketstack tiny image)"; exit 0 ;;
        --) shift; break ;;
        -*) echo "sudo: unknown option: $1" >&2; usage >&2; exit 1 ;;
        *) break ;;
    esac
done
if [ "$login" = true ]; then
    cd /root || exit 1
    [ $# -gt 0 ] && set -- /bin/sh -l -c "$*" || set -- /bin/sh -l
elif [ "$shell" = true ]; then
    [ $# -gt 0 ] && set -- /bin/sh -c "$*" || set -- /bin/sh
elif [ $# -eq 0 ]; then
    usage >&2
    exit 1
fi
if [ "$keep_env" = true ]; then
    exec /usr/lib/tiny/rootexec /bin/busybox env "$@"
fi
exec /usr/lib/tiny/rootexec /bin/busybox env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin HOME=/root USER=root \
    LOGNAME=root SHELL=/bin/sh ${TERM:+TERM="$TERM"} "$@"
