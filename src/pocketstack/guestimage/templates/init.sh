#!/bin/busybox sh
# /init of the pocketstack tiny guest image (rendered by pocketstack.guestimage.rootfs).
#
# The kernel starts this from the initramfs as PID 1.  It sets the machine up the way
# cirros does -- modules, persistent data disk, the config drive (label config-2), the
# network (network_data.json or DHCP), else the metadata service, hostname, SSH keys,
# dropbear, user data -- prints facts for tests on the serial console, then hands over
# to busybox init, which runs a login prompt on ttyS0 and tty1.  Values between double
# at-signs are filled in at build time.
#
# Serial console lines a test may rely on (stable; docs/guests.md):
#   tiny-facts: <key>=<value> ...   machine facts, one topic a line
#   tiny: ...                       progress messages
#   <hostname> login:               the login prompt (after the banner from /etc/issue)

/bin/busybox --install -s
export PATH=/usr/sbin:/usr/bin:/sbin:/bin

USER_NAME="@@USER@@"
USER_PASSWORD="@@PASSWORD@@"
DEFAULT_HOSTNAME="@@HOSTNAME@@"
CONFIG_LABEL="@@CONFIG_LABEL@@"
DATA_LABEL="@@DATA_LABEL@@"
METADATA_HOST="@@METADATA_HOST@@"
METADATA_PATH="@@METADATA_PATH@@"
KERNEL_VERSION="@@KERNEL_VERSION@@"

say() { echo "tiny: $*"; }
fact() { echo "tiny-facts: $*"; }

mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev 2>/dev/null
mkdir -p /dev/pts /dev/shm /run /tmp /var/log /mnt/config /mnt/data /home /root
mount -t devpts -o gid=5,mode=620 devpts /dev/pts
mount -t tmpfs -o mode=1777 tmpfs /dev/shm
mount -t tmpfs -o mode=755 tmpfs /run
chmod 1777 /tmp
ln -sf /proc/mounts /etc/mtab
hostname "$DEFAULT_HOSTNAME"
say "pocketstack tiny image @@RELEASE@@"

# Modules, in dependency order (computed at build time: no depmod in the image).
while read -r module; do
    insmod "/lib/modules/$KERNEL_VERSION/$module.ko" 2>/dev/null
done < /etc/tiny/modules

# Persistent data: /home, /root and /tmp live on the image's ext4 partition, so files
# written there survive a reboot and are in a snapshot (CirrOS's /tmp is on its root disk:
# Tempest writes its timestamps there).  Without it (e.g. booted with -kernel) they stay
# in memory.
data=""
for attempt in 1 2 3 4 5 6 7 8 9 10; do
    data=$(findfs "LABEL=$DATA_LABEL" 2>/dev/null) && break
    sleep 0.2
done
if [ -n "$data" ] && mount -t ext4 "$data" /mnt/data 2>/dev/null; then
    mkdir -p /mnt/data/home /mnt/data/root /mnt/data/tmp
    chmod 700 /mnt/data/root
    chmod 1777 /mnt/data/tmp
    mount -o bind /mnt/data/home /home
    mount -o bind /mnt/data/root /root
    mount -o bind /mnt/data/tmp /tmp
    say "data partition $data mounted (/home, /root, /tmp)"
else
    say "no data partition: /home and /root are not persistent"
fi

# Users: root (no password login) and the cirros-style user with a known password.
mkdir -p "/home/$USER_NAME"
hash=$(mkpasswd -m sha512 "$USER_PASSWORD")
cat > /etc/passwd <<PASSWD
root:x:0:0:root:/root:/bin/sh
$USER_NAME:x:1000:1000:$USER_NAME:/home/$USER_NAME:/bin/sh
PASSWD
cat > /etc/group <<GROUP
root:x:0:
tty:x:5:
sudo:x:@@SUDO_GID@@:$USER_NAME
$USER_NAME:x:1000:
GROUP
cat > /etc/shadow <<SHADOW
root:*:1:0:99999:7:::
$USER_NAME:$hash:1:0:99999:7:::
SHADOW
chmod 600 /etc/shadow
chown 1000:1000 "/home/$USER_NAME"

mkdir -p /run/tiny
flat=/run/tiny/meta_data.flat
netflat=/run/tiny/network_data.flat
source=none

# Metadata, first from the config drive (found by its label, before the network: its
# network_data.json may configure the NICs).
try_config_drive() {
    device=$1
    for fstype in iso9660 vfat; do
        if mount -r -t "$fstype" "$device" /mnt/config 2>/dev/null; then
            if [ -f /mnt/config/openstack/latest/meta_data.json ]; then
                return 0
            fi
            umount /mnt/config
        fi
    done
    return 1
}
found=""
for attempt in 1 2 3 4 5 6 7 8 9 10; do
    found=$(findfs "LABEL=$CONFIG_LABEL" 2>/dev/null) && break
    sleep 0.2
done
if [ -n "$found" ] && try_config_drive "$found"; then
    source="config-drive"
    for file in meta_data.json network_data.json user_data; do
        [ -f "/mnt/config/openstack/latest/$file" ] && cp "/mnt/config/openstack/latest/$file" "/run/tiny/$file"
    done
    umount /mnt/config
fi

# Network: a NIC that network_data.json gives a static IPv4 address (matched by MAC) gets
# it; every other ethN asks DHCP (a few seconds at most when nothing answers): a quick
# first lease, then a patient daemon keeps it.
: > "$netflat"
[ -f /run/tiny/network_data.json ] && awk -f /usr/share/tiny/json.awk /run/tiny/network_data.json > "$netflat"
nd() { awk -F '\t' -v key="$1" '$1 == key { print $2; exit }' "$netflat"; }
prefix() {
    bits=0
    for octet in $(echo "$1" | tr . ' '); do
        case "$octet" in
            255) bits=$((bits + 8)) ;; 254) bits=$((bits + 7)) ;; 252) bits=$((bits + 6)) ;;
            248) bits=$((bits + 5)) ;; 240) bits=$((bits + 4)) ;; 224) bits=$((bits + 3)) ;;
            192) bits=$((bits + 2)) ;; 128) bits=$((bits + 1)) ;;
        esac
    done
    echo "$bits"
}
static_config() {
    mac=$(cat "/sys/class/net/$1/address")
    link=$(awk -F '\t' -v mac="$mac" '$1 ~ /^links\/[0-9]+\/ethernet_mac_address$/ && tolower($2) == mac {
        split($1, part, "/"); print part[2]; exit }' "$netflat")
    [ -n "$link" ] || return 1
    link_id=$(nd "links/$link/id")
    mtu=$(nd "links/$link/mtu")
    [ -n "$mtu" ] && [ "$mtu" != null ] && ip link set "$1" mtu "$mtu"
    configured=1
    for n in $(awk -F '\t' -v id="$link_id" '$1 ~ /^networks\/[0-9]+\/link$/ && $2 == id {
            split($1, part, "/"); print part[2] }' "$netflat"); do
        [ "$(nd "networks/$n/type")" = ipv4 ] || continue
        ip -4 addr add "$(nd "networks/$n/ip_address")/$(prefix "$(nd "networks/$n/netmask")")" dev "$1" || continue
        configured=0
        for r in $(awk -F '\t' -v n="$n" '$1 ~ "^networks/" n "/routes/[0-9]+/gateway$" {
                split($1, part, "/"); print part[4] }' "$netflat"); do
            network=$(nd "networks/$n/routes/$r/network")
            gateway=$(nd "networks/$n/routes/$r/gateway")
            if [ "$network" = 0.0.0.0 ]; then  # the first NIC's default route stays (udhcpc.script)
                ip -4 route show default | grep -q . || ip -4 route replace default via "$gateway" dev "$1"
            else
                ip -4 route replace "$network/$(prefix "$(nd "networks/$n/routes/$r/netmask")")" via "$gateway" dev "$1"
            fi
        done
    done
    return $configured
}
awk -F '\t' '$1 ~ /^services\/[0-9]+\/address$/ || $1 ~ /^networks\/[0-9]+\/services\/[0-9]+\/address$/ {
    print "nameserver " $2 }' "$netflat" | sort -u > /run/tiny/resolv.static
ip link set lo up
leases=0
for path in /sys/class/net/eth*; do
    [ -e "$path" ] || continue
    nic=${path##*/}
    ip link set "$nic" up
    if static_config "$nic"; then
        leases=$((leases + 1))
        [ -s /run/tiny/resolv.static ] && cp /run/tiny/resolv.static /etc/resolv.conf
        say "$nic: static address $(ip -4 -o addr show dev "$nic" | awk '{print $4}') from network_data.json"
    elif udhcpc -i "$nic" -q -n -t 3 -T 1 -A 1 -S -s /usr/share/udhcpc/default.script >/dev/null 2>&1; then
        leases=$((leases + 1))
        address=$(ip -4 -o addr show dev "$nic" | awk '{print $4}')
        say "$nic: DHCP lease $address"
        # The daemon that keeps the lease, as patient as a distribution's: renewals 3 s
        # apart, never exits, and the hook keeps the address until the lease ends
        # (templates/udhcpc.script), so a DHCP server silent for a while (its dnsmasq
        # reconfigured) costs nothing.  SIGUSR1 renews at once (Tempest's renew_lease).
        udhcpc -i "$nic" -f -r "${address%/*}" -t 3 -T 3 -A 10 -S -p "/run/udhcpc.$nic.pid" \
            -s /usr/share/udhcpc/default.script >/dev/null 2>&1 &
    else
        say "$nic: no DHCP lease"
    fi
done

# Without a config drive, the metadata service (once a NIC is configured: the address may
# be reached by a default route, a DHCP static route or on the link).
# GET $METADATA_PATH/$1 into $2.  A plain HTTP/1.0 request over nc: busybox-static's
# wget crashes when the host has no default route.
metadata_get() {
    printf 'GET %s/%s HTTP/1.0\r\nHost: %s\r\nConnection: close\r\n\r\n' "$METADATA_PATH" "$1" "$METADATA_HOST" \
        | timeout 10 nc -w 3 "$METADATA_HOST" 80 > /run/tiny/http.raw 2>/dev/null
    head -n 1 /run/tiny/http.raw | grep -q '^HTTP/1\.[01] 200 ' || return 1
    blank=$(grep -n -m 1 -e "$(printf '^\r$')" -e '^$' /run/tiny/http.raw | cut -d : -f 1)
    [ -n "$blank" ] || return 1
    tail -n +"$((blank + 1))" /run/tiny/http.raw > "$2"
}
if [ "$source" = none ] && [ "$leases" -gt 0 ]; then
    if metadata_get meta_data.json /run/tiny/meta_data.json; then
        source="metadata-service"
        metadata_get user_data /run/tiny/user_data || rm -f /run/tiny/user_data
    else
        rm -f /run/tiny/meta_data.json
    fi
fi
: > "$flat"
[ -f /run/tiny/meta_data.json ] && awk -f /usr/share/tiny/json.awk /run/tiny/meta_data.json > "$flat"
meta() { awk -F '\t' -v key="$1" '$1 == key { print $2; exit }' "$flat"; }

name=$(meta hostname)
name=${name%%.*}
[ -n "$name" ] && hostname "$name"
host=$(hostname)
echo "$host" > /etc/hostname
printf '127.0.0.1\tlocalhost\n127.0.1.1\t%s %s\n' "$(meta hostname)" "$host" > /etc/hosts

# SSH keys from metadata (public_keys, and keys[] of type ssh) for the user.
ssh_dir="/home/$USER_NAME/.ssh"
mkdir -p "$ssh_dir"
awk -F '\t' '$1 ~ /^public_keys\// { print $2 }' "$flat" > /run/tiny/keys
awk -F '\t' '$1 ~ /^keys\/[0-9]+\/data$/ { print $2 }' "$flat" >> /run/tiny/keys
if [ -s /run/tiny/keys ]; then
    sort -u /run/tiny/keys > "$ssh_dir/authorized_keys"
fi
touch "$ssh_dir/authorized_keys"
chmod 700 "$ssh_dir"
chmod 600 "$ssh_dir/authorized_keys"
chown -R 1000:1000 "$ssh_dir"

# SSH server: an ed25519 host key made now (others on demand), printed as cloud-init does.
mkdir -p /etc/dropbear
key=/etc/dropbear/dropbear_ed25519_host_key
dropbearkey -t ed25519 -f "$key" > /run/tiny/hostkey.txt 2>/dev/null
dropbear -R -r "$key" -p 22 2>/dev/null && say "dropbear started on port 22"
echo "-----BEGIN SSH HOST KEY FINGERPRINTS-----"
sed -n 's/^Fingerprint: //p' /run/tiny/hostkey.txt
echo "-----END SSH HOST KEY FINGERPRINTS-----"
echo "-----BEGIN SSH HOST KEY KEYS-----"
grep '^ssh-' /run/tiny/hostkey.txt
echo "-----END SSH HOST KEY KEYS-----"

# ACPI power button -> clean poweroff (what an API "stop" sends first).
acpid -c /etc/acpi 2>/dev/null

# Facts for tests and operators (format documented in docs/guests.md).
cpus=0; sockets=""; cores=""
for cpu in /sys/devices/system/cpu/cpu[0-9]*; do
    [ -d "$cpu/topology" ] || continue
    cpus=$((cpus + 1))
    package=$(cat "$cpu/topology/physical_package_id")
    sockets="$sockets $package"
    cores="$cores $package:$(cat "$cpu/topology/core_id")"
done
nsockets=$(echo $sockets | tr ' ' '\n' | sort -u | grep -c .)
ncores=$(echo $cores | tr ' ' '\n' | sort -u | grep -c .)
[ "$nsockets" -gt 0 ] || nsockets=1
[ "$ncores" -gt 0 ] || ncores=1
fact "hostname=$host"
fact "cpus=$cpus sockets=$nsockets cores=$((ncores / nsockets)) threads=$((cpus / ncores)) nproc=$(nproc)"
fact "memory total_kb=$(awk '/^MemTotal:/ { print $2 }' /proc/meminfo)"
for dev in /sys/block/*; do
    disk=${dev##*/}
    case "$disk" in loop*|ram*) continue ;; esac
    echo "$disk" >> /run/tiny/disks
    fact "disk name=$disk size_bytes=$(( $(cat "$dev/size") * 512 ))"
done
for path in /sys/class/net/*; do
    nic=${path##*/}
    [ "$nic" = lo ] && continue
    address=$(ip -4 -o addr show dev "$nic" | awk '{ print $4; exit }')
    fact "nic name=$nic mac=$(cat "$path/address") address=${address:-none} mtu=$(cat "$path/mtu")"
done
# The default gateway and whether it answers a ping (the first hop of the guest's network).
gateway=$(ip -4 route show default | awk '{ print $3; exit }')
if [ -z "$gateway" ]; then
    fact "gateway address=none"
elif ping -c 3 -W 2 "$gateway" >/dev/null 2>&1; then
    fact "gateway address=$gateway ping=ok"
else
    fact "gateway address=$gateway ping=failed"
fi
fact "metadata source=$source uuid=$(meta uuid)"
while read -r line; do
    [ -n "$line" ] && fact "ssh-key user=$USER_NAME $line"
done < "$ssh_dir/authorized_keys"

# User data that is a script runs at every boot, as root, after everything above.
if [ -f /run/tiny/user_data ] && [ "$(head -c 2 /run/tiny/user_data)" = "#!" ]; then
    chmod 700 /run/tiny/user_data
    say "running user data"
    /run/tiny/user_data
    say "user data exited with status $?"
fi

# Disks hot-plugged from now on are reported by /etc/tiny/hotplug (mdev, netlink).
mdev -d 2>/dev/null

fact "ready uptime=$(cut -d ' ' -f 1 /proc/uptime)"
exec /sbin/init
