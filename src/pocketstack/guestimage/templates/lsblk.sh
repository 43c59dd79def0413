#!/bin/sh
# lsblk of the pocketstack tiny image: util-linux's block device listing, read from
# /sys/block and /proc/mounts, for what Tempest and CirrOS users run in a guest
# (`lsblk -lb --nodeps`, `lsblk --nodeps --noheadings --output NAME`, `lsblk --fs --ascii`).
# Same layout as util-linux 2.38 in the C locale: the columns NAME MAJ:MIN RM SIZE RO TYPE
# MOUNTPOINTS, numbers right-aligned, the rest left-aligned, one space between columns,
# partitions under their disk drawn with ASCII "|-" and "`-" (or flat with --list), sizes
# in 1024-based units (1G, 1.5G, 512M) or bytes (--bytes), empty devices (a CD-ROM drive
# with no disc) and RAM disks left out unless --all.  Columns: NAME KNAME PATH MAJ:MIN RM
# SIZE RO TYPE MOUNTPOINT MOUNTPOINTS FSTYPE SERIAL; FSTYPE is known only for a mounted
# filesystem (no blkid probing here), a device mounted twice shows its first mountpoint.
usage() {
    echo "usage: lsblk [-a] [-b] [-d] [-f] [-i] [-l] [-n] [-p] [-o LIST] [DEVICE ...]"
}
default=NAME,MAJ:MIN,RM,SIZE,RO,TYPE,MOUNTPOINTS
columns=$default
list=false bytes=false nodeps=false headings=true all=false paths=false
wanted=""
set_columns() {
    case "$1" in
        +*) columns="$columns,${1#+}" ;;
        *) columns=$1 ;;
    esac
}
while [ $# -gt 0 ]; do
    case "$1" in
        --list) list=true ;;
        --bytes) bytes=true ;;
        --nodeps) nodeps=true ;;
        --noheadings) headings=false ;;
        --ascii) ;;  # the tree is always drawn in ASCII (the guest has no UTF-8 locale)
        --all) all=true ;;
        --paths) paths=true ;;
        --fs) columns=NAME,FSTYPE,MOUNTPOINTS ;;
        --output=*) set_columns "${1#--output=}" ;;
        --output)
            [ $# -ge 2 ] || { usage >&2; exit 1; }
            set_columns "$2"; shift ;;
        --help) usage; exit 0 ;;
        --*) echo "lsblk: unrecognized option '$1'" >&2; usage >&2; exit 1 ;;
        -?*)
            flags=${1#-}
            while [ -n "$flags" ]; do
                flag=${flags%"${flags#?}"}
                flags=${flags#?}
                case "$flag" in
                    l) list=true ;;
                    b) bytes=true ;;
                    d) nodeps=true ;;
                    n) headings=false ;;
                    i) ;;
                    a) all=true ;;
                    p) paths=true ;;
                    f) columns=NAME,FSTYPE,MOUNTPOINTS ;;
                    o)
                        if [ -n "$flags" ]; then
                            set_columns "$flags"; flags=""
                        else
                            [ $# -ge 2 ] || { usage >&2; exit 1; }
                            set_columns "$2"; shift
                        fi ;;
                    h) usage; exit 0 ;;
                    *) echo "lsblk: invalid option -- '$flag'" >&2; usage >&2; exit 1 ;;
                esac
            done ;;
        *) wanted="$wanted ${1#/dev/}" ;;
    esac
    shift
done
for name in $wanted; do
    [ -e "/sys/class/block/$name/dev" ] || { echo "lsblk: /dev/$name: not a block device" >&2; exit 32; }
done

# One tab-separated record a device: depth, last-child flag, then the fields in the order
# NAME KNAME PATH MAJ:MIN RM SIZE RO TYPE MOUNTPOINT FSTYPE SERIAL.
record() {  # sysfs-dir name type depth last removable
    mounted() { awk -v dev="/dev/$1" -v n="$2" '$1 == dev { print $n; exit }' /proc/mounts; }
    printf '%s\t%s\t%s\t%s\t/dev/%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$4" "$5" "$2" "$2" "$2" \
        "$(cat "$1/dev")" "$6" "$(( $(cat "$1/size") * 512 ))" "$(cat "$1/ro")" "$3" \
        "$(mounted "$2" 2)" "$(mounted "$2" 3)" "$(cat "$1/serial" 2>/dev/null)"
}
records() {
    for dir in /sys/block/*; do
        disk=${dir##*/}
        if [ -n "$wanted" ]; then
            case " $wanted " in *" $disk "*) ;; *) continue ;; esac
        fi
        case "$(cat "$dir/dev")" in 1:*) [ "$all" = true ] || continue ;; esac
        [ "$all" = true ] || [ "$(cat "$dir/size")" != 0 ] || continue
        case "$disk" in sr*) type=rom ;; loop*) type=loop ;; *) type=disk ;; esac
        removable=$(cat "$dir/removable" 2>/dev/null || echo 0)
        record "$dir" "$disk" "$type" 0 1 "$removable"
        [ "$nodeps" = true ] && continue
        parts=""
        for part in "$dir"/"$disk"*; do
            [ -f "$part/partition" ] && parts="$parts $part"
        done
        count=$(echo $parts | wc -w)
        index=0
        for part in $parts; do
            index=$((index + 1))
            record "$part" "${part##*/}" part 1 "$([ "$index" = "$count" ] && echo 1 || echo 0)" "$removable"
        done
    done
}

records | awk -F '\t' -v columns="$columns" -v list="$list" -v bytes="$bytes" -v headings="$headings" \
        -v paths="$paths" '
function spaces(n,    i, text) {
    text = ""
    for (i = 0; i < n; i++) text = text " "
    return text
}
function human(value,    scale, power, whole, frac) {
    if (value < 1024) return value "B"
    scale = 1
    for (power = 0; power < 6 && value >= scale * 1024; power++) scale *= 1024
    whole = int(value / scale)
    frac = int((int((value - whole * scale) * 1000 / scale) + 50) / 100)
    if (frac == 10) { whole++; frac = 0 }
    return frac ? whole "." frac substr("KMGTPE", power, 1) : whole substr("KMGTPE", power, 1)
}
BEGIN {
    split("NAME KNAME PATH MAJ:MIN RM SIZE RO TYPE MOUNTPOINT FSTYPE SERIAL", known, " ")
    for (i in known) field[known[i]] = i + 2
    field["MOUNTPOINTS"] = field["MOUNTPOINT"]
    ncols = split(toupper(columns), col, ",")
    for (c = 1; c <= ncols; c++) {
        if (!(col[c] in field)) { print "lsblk: unknown column: " col[c] > "/dev/stderr"; bad = 1; exit 1 }
        right[c] = (col[c] == "RM" || col[c] == "RO" || col[c] == "SIZE")
        cell[0, c] = col[c]
        width[c] = (headings == "true") ? length(col[c]) : 0
    }
    rows = 0
}
{
    rows++
    if ($1 == 1 && list != "true") {
        branch = ($2 == 1) ? "`-" : "|-"
    } else {
        branch = ""
    }
    for (c = 1; c <= ncols; c++) {
        value = $(field[col[c]])
        if (col[c] == "SIZE" && bytes != "true") value = human(value)
        if (col[c] == "NAME") value = branch ((paths == "true") ? "/dev/" value : value)
        cell[rows, c] = value
        if (length(value) > width[c]) width[c] = length(value)
    }
}
END {
    if (bad) exit 1
    for (r = (headings == "true") ? 0 : 1; r <= rows; r++) {
        line = ""
        for (c = 1; c <= ncols; c++) {
            value = cell[r, c]
            if (c == ncols && !right[c]) { line = line value; break }
            pad = spaces(width[c] - length(value))
            line = line (right[c] ? pad value : value pad) (c < ncols ? " " : "")
        }
        print line
    }
}'
