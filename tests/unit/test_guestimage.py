"""The tiny guest image's pure logic: module order, disk layout, initramfs, init script.

The build itself (packages, mtools, syslinux) and a boot are in
tests/integration/test_tiny_image.py; these run anywhere in milliseconds.
"""

from __future__ import annotations

import gzip
import json
import shutil
import stat
import struct
import subprocess
from pathlib import Path

import pytest

from pocketstack.guestimage import configdrive, cpio, debs, disk, elf, kmod, rootfs

from support import require_tools


def module(name, depends=(), softdeps=()):
    return kmod.Module(name, Path(f"/x/{name}.ko"), tuple(depends), tuple(softdeps))


# -- kernel modules ------------------------------------------------------------------------

def test_load_order_puts_dependencies_first_once():
    available = {m.name: m for m in (
        module("virtio_ring"), module("virtio", ["virtio_ring"]),
        module("virtio_pci", ["virtio", "virtio_ring"]), module("virtio_blk", ["virtio", "virtio_ring"]))}
    order = [m.name for m in kmod.load_order(["virtio_blk", "virtio_pci"], available)]
    assert order == ["virtio_ring", "virtio", "virtio_blk", "virtio_pci"]


def test_load_order_skips_builtin_and_missing_soft_dependencies():
    available = {m.name: m for m in (module("ext4", ["jbd2"], ["crc32c", "crc16"]), module("jbd2"),
                                     module("crc16"))}
    order = [m.name for m in kmod.load_order(["ext4", "vfat"], available, builtin={"vfat"})]
    assert order == ["crc16", "jbd2", "ext4"]  # crc32c: a soft dependency nobody provides


def test_load_order_refuses_a_missing_hard_dependency_and_cycles():
    with pytest.raises(kmod.ModuleError, match="nbd not found"):
        kmod.load_order(["nbd"], {})
    with pytest.raises(kmod.ModuleError, match="jbd2 not found .*ext4"):
        kmod.load_order(["ext4"], {"ext4": module("ext4", ["jbd2"])})
    with pytest.raises(kmod.ModuleError, match="cycle"):
        kmod.load_order(["a"], {"a": module("a", ["b"]), "b": module("b", ["a"])})


def test_module_names_and_softdeps():
    assert kmod.module_name(Path("kernel/fs/nls/nls-cp437.ko.xz")) == "nls_cp437"
    assert kmod.parse_softdeps(["pre: crc32c crc-16 post: foo", "post: bar"]) == ("crc32c", "crc_16")


def test_wanted_modules_cover_what_a_cloud_guest_needs():
    for name in ("virtio_pci", "virtio_blk", "virtio_net", "isofs", "vfat", "ext4", "sr_mod"):
        assert name in kmod.WANTED


# -- ELF -------------------------------------------------------------------------------------

def test_needed_reads_a_host_program_and_refuses_non_elf(tmp_path):
    program = Path(shutil.which("ls") or "/bin/ls").resolve()
    assert "libc.so.6" in elf.needed(program.read_bytes())
    bogus = tmp_path / "x"
    bogus.write_bytes(b"#!/bin/sh\n" * 10)
    with pytest.raises(elf.ElfError):
        elf.needed(bogus.read_bytes())


# -- packages ------------------------------------------------------------------------------

def test_parse_depends_takes_first_alternative_without_versions():
    field = "libc6 (>= 2.34), libcrypt1 (>= 1:4.1.0), zlib1g (>= 1:1.1.4) | libz-ng, python3:any, , foo [amd64]"
    assert debs.parse_depends(field) == ["libc6", "libcrypt1", "zlib1g", "python3", "foo"]
    assert debs.file_version("1:1.35.0-4") == "1%3a1.35.0-4"


def test_cache_finds_a_package_by_its_download_name(tmp_path):
    (tmp_path / "busybox-static_1%3a1.35.0-4_amd64.deb").write_bytes(b"")
    cache = debs.Cache(tmp_path)
    assert cache.cached("busybox-static", "1:1.35.0-4").name == "busybox-static_1%3a1.35.0-4_amd64.deb"
    assert cache.cached("busybox-static", "1:1.36.0-1") is None
    assert cache.cached("busybox", "1:1.35.0-4") is None


# -- disk layout -----------------------------------------------------------------------------

def test_plan_puts_boot_at_one_mib_and_data_after_it():
    layout = disk.plan(128, 40)
    assert (layout.boot.start, layout.boot.sectors, layout.boot.active) == (2048, 40 * 2048, True)
    assert layout.data.start == 2048 + 40 * 2048
    assert layout.data.start + layout.data.sectors == layout.total_sectors == 128 * 2048
    with pytest.raises(ValueError, match="too small"):
        disk.plan(48, 40)


def test_mbr_round_trips_and_carries_boot_code_and_signature():
    layout = disk.plan(128, 40)
    sector = disk.mbr(layout, b"\xfa" * 440, 0x12345678)
    assert len(sector) == 512 and sector[:440] == b"\xfa" * 440 and sector[510:] == b"\x55\xaa"
    assert sector[440:444] == bytes.fromhex("78563412")
    assert disk.parse_mbr(sector) == [layout.boot, layout.data]
    with pytest.raises(ValueError):
        disk.mbr(layout, b"\0" * 441, 0)


def test_chs_of_first_sectors_and_beyond_the_limit():
    assert disk.chs(0) == bytes((0, 1, 0))
    assert disk.chs(2048) == bytes((32, 33, 0))  # cylinder 0, head 32, sector 33
    assert disk.chs(255 * 63 * 2000) == bytes((254, 255, 255))


def test_copy_sparse_writes_only_data(tmp_path):
    source = tmp_path / "part"
    source.write_bytes(b"\0" * disk.MIB + b"data" + b"\0" * 100)
    target = tmp_path / "disk"
    with open(target, "wb") as handle:
        handle.truncate(4 * disk.MIB)
        disk.copy_sparse(source, handle, disk.MIB)
    data = target.read_bytes()
    assert data[2 * disk.MIB:2 * disk.MIB + 4] == b"data" and data.count(b"data") == 1


# -- initramfs -------------------------------------------------------------------------------

def test_cpio_round_trip_with_parents_devices_and_links():
    tree = cpio.Tree()
    tree.file("usr/share/tiny/json.awk", "x", 0o644)
    tree.symlink("bin/sh", "busybox")
    tree.device("dev/console", stat.S_IFCHR, 5, 1)
    tree.file("home/cirros/.profile", b"p", uid=1000, gid=1000)
    entries = {e.path: e for e in cpio.read_archive(cpio.archive(tree, 1700000000))}
    assert [p for p in entries if p.startswith("usr")] == ["usr", "usr/share", "usr/share/tiny",
                                                          "usr/share/tiny/json.awk"]
    assert stat.S_ISDIR(entries["usr/share"].mode)
    assert stat.S_ISLNK(entries["bin/sh"].mode) and entries["bin/sh"].data == b"busybox"
    assert stat.S_ISCHR(entries["dev/console"].mode) and entries["dev/console"].rdev == (5, 1)
    assert (entries["home/cirros/.profile"].uid, entries["usr/share/tiny/json.awk"].uid) == (1000, 0)


def test_initramfs_is_reproducible_and_gzip():
    tree = cpio.Tree()
    tree.file("init", "#!/bin/sh\n", 0o755)
    first, second = cpio.initramfs(tree, 5), cpio.initramfs(tree, 5)
    assert first == second
    assert gzip.decompress(first).startswith(b"070701")


def test_cpio_is_readable_by_gnu_cpio(tmp_path):
    require_tools({"cpio": "cpio"}, "reading the initramfs back with GNU cpio")
    tree = cpio.Tree()
    tree.file("etc/issue", "hello\n")
    tree.symlink("bin/sh", "busybox")
    listing = subprocess.run(["cpio", "-t", "--quiet"], input=cpio.archive(tree), capture_output=True, check=True)
    assert listing.stdout.decode().split() == ["bin", "bin/sh", "etc", "etc/issue"]


# -- init, config files, metadata parsing ----------------------------------------------------

def test_init_script_is_rendered_completely_and_parses():
    script = rootfs.init_script("6.1.0-99-amd64", "0.1.0 (linux 6.1.0-99-amd64)")
    assert "@@" not in script
    assert 'KERNEL_VERSION="6.1.0-99-amd64"' in script and 'USER_NAME="cirros"' in script
    assert 'CONFIG_LABEL="config-2"' in script
    assert script.rstrip().endswith("exec /sbin/init")
    sh = shutil.which("sh")
    assert sh is not None
    subprocess.run([sh, "-n"], input=script.encode(), check=True)


def test_render_refuses_an_unfilled_marker():
    with pytest.raises(ValueError, match="@@MISSING@@"):
        rootfs.render("a @@FILLED@@ b @@MISSING@@", {"FILLED": "x"})


def test_boot_configuration_puts_the_console_on_the_serial_port():
    config = rootfs.syslinux_cfg()
    append = next(line for line in config.splitlines() if "APPEND" in line)
    # The last console= is /dev/console: the serial port, where the facts are printed.
    assert append.split().index("console=ttyS0,115200n8") > append.split().index("console=tty0")
    assert "SERIAL 0 115200" in config
    assert "ttyS0::respawn:/sbin/getty" in rootfs.inittab() and "tty1::respawn" in rootfs.inittab()
    issue = rootfs.issue("r1")
    assert "login as 'cirros' user. default password: 'gocubsgo'." in issue and "\\" not in issue


def flatten(document: str, tmp_path: Path) -> dict[str, str]:
    awk = shutil.which("awk")
    if awk is None:
        pytest.skip("awk is not installed")
    script = tmp_path / "json.awk"
    script.write_text(rootfs.template("json.awk"))
    data = tmp_path / "meta_data.json"
    data.write_text(document)
    out = subprocess.run([awk, "-f", str(script), str(data)], capture_output=True, text=True, check=True).stdout
    return dict(line.split("\t", 1) for line in out.splitlines())


def test_json_flattener_reads_nova_meta_data(tmp_path):
    meta = {"uuid": "83679162-1378-4288-a2d4-70e13ec132aa", "hostname": "vm-1.novalocal", "name": "vm 1",
            "launch_index": 0, "availability_zone": "nova", "meta": {},
            "public_keys": {"mykey": "ssh-ed25519 AAAAC3Nza test@host\n"},
            "keys": [{"name": "mykey", "type": "ssh", "data": "ssh-ed25519 AAAAC3Nza test@host\n"}],
            "devices": [], "project_id": "p", "random_seed": "a/b+c==", "note": "quote \" back\\slash é"}
    flat = flatten(json.dumps(meta, indent=2), tmp_path)
    assert flat["hostname"] == "vm-1.novalocal" and flat["name"] == "vm 1"
    assert flat["public_keys/mykey"] == "ssh-ed25519 AAAAC3Nza test@host"
    assert flat["keys/0/data"] == "ssh-ed25519 AAAAC3Nza test@host" and flat["keys/0/type"] == "ssh"
    assert flat["launch_index"] == "0" and flat["random_seed"] == "a/b+c=="
    assert flat["note"] == 'quote " back\\slash ?'
    assert "meta" not in flat and "devices" not in flat


# -- config drive ----------------------------------------------------------------------------

def test_config_drive_files_follow_the_openstack_layout():
    content = configdrive.files({"uuid": "u", "hostname": "h"}, b"#!/bin/sh\n")
    assert json.loads(content["openstack/latest/meta_data.json"]) == {"uuid": "u", "hostname": "h"}
    assert content["openstack/2013-10-17/user_data"] == b"#!/bin/sh\n"
    assert json.loads(content["openstack/latest/network_data.json"]) == {}
    assert "openstack/latest/user_data" not in configdrive.files({})


def test_cli_parses_build_tiny():
    from pocketstack.cli.main import build_parser

    args = build_parser().parse_args(["image", "build-tiny", "--output", "x.raw", "--format", "raw", "--size", "64"])
    assert (args.output, args.format, args.size, args.cache) == ("x.raw", "raw", 64, None)
    defaults = build_parser().parse_args(["image", "build-tiny"])
    assert (defaults.output, defaults.format, defaults.size) == ("tiny.qcow2", "qcow2", 128)
    with pytest.raises(SystemExit):
        build_parser().parse_args(["image", "build-tiny", "--format", "vmdk"])


def run_udhcpc_hook(tmp_path: Path, event: str = "bound", default_dev: str = "", **lease: str) -> list[str]:
    """Run the guest's udhcpc hook with the host's sh and a fake ``ip`` that logs its calls
    (its files in ``tmp_path``; ``ip -4 route show default`` answers a default route by
    ``default_dev`` when given, and is not logged); the calls of this run."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir(exist_ok=True)
    calls = tmp_path / "calls"
    calls.write_text("")
    show = f'echo "default via 10.9.9.1 dev {default_dev}"' if default_dev else ":"
    (bin_dir / "ip").write_text(f'#!/bin/sh\nif [ "$*" = "-4 route show default" ]; then {show}; exit 0; fi\n'
                                f'echo "$*" >> {calls}\n')
    (bin_dir / "ip").chmod(0o755)
    hook = tmp_path / "default.script"
    hook.write_text(rootfs.template("udhcpc.script").replace("/etc/resolv.conf", str(tmp_path / "resolv.conf"))
                    .replace("/run/tiny", str(tmp_path)))
    env = {"PATH": f"{bin_dir}:/usr/bin:/bin", "interface": "eth0", **lease}
    subprocess.run(["sh", str(hook), event], env=env, check=True)
    return calls.read_text().splitlines()


def test_udhcpc_hook_applies_address_router_and_dns(tmp_path):
    calls = run_udhcpc_hook(tmp_path, ip="10.0.0.5", mask="24", router="10.0.0.1", dns="10.0.0.2 10.0.0.3")
    assert "-4 addr add 10.0.0.5/24 dev eth0" in calls
    assert "-4 route replace default via 10.0.0.1 dev eth0" in calls
    assert (tmp_path / "resolv.conf").read_text() == "nameserver 10.0.0.2\nnameserver 10.0.0.3\n"


def test_udhcpc_hook_prefers_classless_static_routes(tmp_path):
    calls = run_udhcpc_hook(tmp_path, ip="10.0.0.5", mask="24", router="10.0.0.1",
                            staticroutes="169.254.169.254/32 10.0.0.2 10.0.0.0/24 0.0.0.0 0.0.0.0/0 10.0.0.1")
    routes = [call for call in calls if "route" in call]
    assert routes == ["-4 route replace 169.254.169.254/32 via 10.0.0.2 dev eth0",
                      "-4 route replace 10.0.0.0/24 dev eth0",
                      "-4 route replace 0.0.0.0/0 via 10.0.0.1 dev eth0"]


def test_udhcpc_hook_leaves_another_nics_default_route(tmp_path):
    """The first NIC with a default route keeps it: a lease on eth1 (Tempest's device
    tagging server has seven NICs) adds its address and other routes only; eth0's own
    renewals still replace it."""
    static = "169.254.169.254/32 10.2.2.2 0.0.0.0/0 10.2.2.1"
    calls = run_udhcpc_hook(tmp_path, default_dev="eth0", interface="eth1", ip="10.2.2.100", mask="24",
                            router="10.2.2.1", staticroutes=static)
    assert [c for c in calls if "route" in c] == ["-4 route replace 169.254.169.254/32 via 10.2.2.2 dev eth1"]
    calls = run_udhcpc_hook(tmp_path, default_dev="eth1", interface="eth1", ip="10.2.2.100", mask="24",
                            router="10.2.2.1")
    assert "-4 route replace default via 10.2.2.1 dev eth1" in calls
    calls = run_udhcpc_hook(tmp_path, default_dev="eth0", interface="eth1", ip="10.2.2.100", mask="24",
                            router="10.2.2.1")
    assert not [c for c in calls if "route" in c]


def test_udhcpc_hook_keeps_the_address_while_its_lease_runs(tmp_path):
    """An unanswered renewal, the daemon's start or a second SIGUSR1 make udhcpc ask for
    "deconfig": the address stays until the lease ends; a DHCPNAK or an expired lease
    takes it away (Tempest's test_subnet_details renews while dnsmasq reloads)."""
    run_udhcpc_hook(tmp_path, ip="10.0.0.5", mask="24", lease="86400", dns="10.0.0.2")
    uptime = int(float(Path("/proc/uptime").read_text().split()[0]))
    assert uptime + 86300 < int((tmp_path / "lease.eth0").read_text()) <= uptime + 86401
    assert run_udhcpc_hook(tmp_path, "deconfig") == []
    assert run_udhcpc_hook(tmp_path, "leasefail") == []
    (tmp_path / "lease.eth0").write_text("0\n")  # expired
    assert run_udhcpc_hook(tmp_path, "leasefail") == ["-4 addr flush dev eth0", "link set eth0 up"]
    assert not (tmp_path / "lease.eth0").exists()
    assert run_udhcpc_hook(tmp_path, "deconfig") == ["-4 addr flush dev eth0", "link set eth0 up"]  # none
    run_udhcpc_hook(tmp_path, ip="10.0.0.5", mask="24", lease="86400")
    assert run_udhcpc_hook(tmp_path, "nak") == []
    assert run_udhcpc_hook(tmp_path, "deconfig") == ["-4 addr flush dev eth0", "link set eth0 up"]


def test_guest_init_keeps_a_patient_dhcp_daemon():
    """A quick first lease at boot (-q: the client exits), then a daemon without -n whose
    renewals wait 3 s each, with the pid file Tempest signals."""
    init = rootfs.template("init.sh")
    [quick] = [line for line in init.splitlines() if "udhcpc -i" in line and " -q " in line]
    assert " -n " in quick and " -p " not in quick
    [daemon] = [line for line in init.splitlines() if "udhcpc -i" in line and " -q " not in line]
    assert " -n " not in daemon and " -T 3 " in daemon and '-p "/run/udhcpc.$nic.pid"' in daemon


def test_fix_root_timestamps_normalises_live_entries_only(tmp_path):
    boot = bytearray(512)
    struct.pack_into("<H", boot, 11, 512)  # bytes per sector
    struct.pack_into("<H", boot, 14, 1)  # reserved sectors
    boot[16] = 2  # FATs
    struct.pack_into("<H", boot, 17, 16)  # root entries
    struct.pack_into("<H", boot, 22, 1)  # sectors per FAT
    root = bytearray(16 * 32)
    root[0:11], root[11] = b"LDLINUX SYS", 0x27
    root[32:43], root[43] = b"\xe5ELETED TXT", 0x20
    root[64:75], root[75] = b"ALONGNAME  ", 0x0F
    for offset in (0, 32, 64):
        root[offset + 13:offset + 26] = b"\x77" * 13
    image = tmp_path / "fat"
    image.write_bytes(bytes(boot) + bytes(1024) + bytes(root))
    with open(image, "r+b") as handle:
        assert disk.fix_root_timestamps(handle, 1704067200) == 1
    after = image.read_bytes()[3 * 512:]
    clock, day = disk.dos_datetime(1704067200)
    assert (clock, day) == (0, (44 << 9) | (1 << 5) | 1)  # 2024-01-01 00:00:00
    assert struct.unpack_from("<HHHHH", after, 14)[0:3] == (clock, day, day)
    assert struct.unpack_from("<HH", after, 22) == (clock, day)
    assert after[32 + 13:32 + 26] == b"\x77" * 13 and after[64 + 13:64 + 26] == b"\x77" * 13
