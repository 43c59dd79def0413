"""The tools the tiny image adds to busybox for Tempest: sudo (and its set-uid helper),
lsblk, blkid, mkfs and curl, run here on the host.

The helper is a real x86-64 program: on such a host, as root, it is installed as in the
image and executed by an unprivileged user in and out of its group.  The scripts run
with the host's ``sh`` over a fake sysfs, a fake ``findfs``/``mkdosfs`` or a local HTTP
server, and busybox's ``nc`` for curl.  The guest itself runs them in
tests/integration/test_tiny_image.py.
"""

from __future__ import annotations

import http.server
import os
import platform
import select
import shutil
import socket
import struct
import subprocess
import tempfile
import threading
from pathlib import Path

import pytest

from pocketstack.guestimage import rootexec, rootfs

NOBODY = 65534
GROUP = 4242  # the helper's group in these tests (the image uses 27, "sudo")


def script(tmp_path: Path, name: str, replace: dict[str, str] | None = None) -> Path:
    text = rootfs.template(name)
    for old, new in (replace or {}).items():
        assert old in text
        text = text.replace(old, new)
    path = tmp_path / name
    path.write_text(text)
    path.chmod(0o755)
    return path


def fake_bin(directory: Path, name: str, body: str) -> None:
    directory.mkdir(exist_ok=True)
    (directory / name).write_text(f"#!/bin/sh\n{body}\n")
    (directory / name).chmod(0o755)


# -- the set-uid helper ---------------------------------------------------------------------

def test_rootexec_is_a_small_static_x86_64_executable():
    program = rootexec.program()
    assert program[:4] == b"\x7fELF" and program[4:6] == b"\x02\x01"
    kind, machine = struct.unpack_from("<HH", program, 16)
    entry, phoff = struct.unpack_from("<QQ", program, 24)
    phnum, = struct.unpack_from("<H", program, 56)
    assert (kind, machine, phoff, phnum) == (2, 0x3E, 64, 2)
    assert entry == rootexec.BASE + 64 + 2 * 56 and len(program) < 300
    load = struct.unpack_from("<IIQQQQQQ", program, 64)
    assert load[:4] == (1, 5, 0, rootexec.BASE) and load[5] == load[6] == len(program)  # R+X, whole file
    stack = struct.unpack_from("<II", program, 64 + 56)
    assert stack == (0x6474E551, 6)  # PT_GNU_STACK, RW: no executable stack


@pytest.fixture
def installed_helper():
    """The helper installed root:GROUP 4750 in a directory every user may enter."""
    if platform.machine() != "x86_64" or os.geteuid() != 0:
        pytest.skip("runs the x86-64 helper as root and as another user")
    with tempfile.TemporaryDirectory(dir="/tmp") as name:
        directory = Path(name)
        directory.chmod(0o755)
        if os.statvfs(directory).f_flag & os.ST_NOSUID:
            pytest.skip("/tmp is mounted nosuid")
        helper = directory / "rootexec"
        helper.write_bytes(rootexec.program())
        os.chown(helper, 0, GROUP)
        helper.chmod(0o4750)
        yield helper


def run_as_nobody(command: str, groups: list[int]) -> subprocess.CompletedProcess:
    # Through sh: the exec that the kernel checks happens without any capability left.
    return subprocess.run(["sh", "-c", command], user=NOBODY, group=NOBODY, extra_groups=groups,
                          capture_output=True, text=True, timeout=30)


def test_rootexec_gives_a_group_member_every_root_id(installed_helper):
    done = run_as_nobody(f"{installed_helper} /usr/bin/id -u; {installed_helper} /usr/bin/id -G; "
                         f"{installed_helper} /bin/sh -c 'cat /proc/self/status' | grep -E '^(Uid|Gid):'", [GROUP])
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert lines[:2] == ["0", "0"]  # uid 0; gid 0 and no supplementary group left
    assert lines[2].split()[1:] == ["0"] * 4 and lines[3].split()[1:] == ["0"] * 4  # real, effective, saved, fs


def test_rootexec_refuses_users_outside_its_group_and_fails_cleanly(installed_helper):
    refused = run_as_nobody(f"{installed_helper} /usr/bin/id -u", [])
    assert refused.returncode == 126 and "Permission denied" in refused.stderr and refused.stdout == ""
    missing = run_as_nobody(f"{installed_helper} /nonexistent", [GROUP])
    no_command = run_as_nobody(f"{installed_helper}", [GROUP])
    assert (missing.returncode, no_command.returncode) == (127, 127)


def test_sudo_runs_the_command_as_root_with_a_reset_environment(installed_helper):
    shared = installed_helper.parent  # tmp_path's parents are root's alone
    sudo = script(shared, "sudo.sh", {"/usr/lib/tiny/rootexec /bin/busybox env": f"{installed_helper} /usr/bin/env"})
    done = run_as_nobody(f"FOO=bar {sudo} sh -c 'id -u; echo \"$HOME $USER ${{FOO:-unset}}\"'", [GROUP])
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines() == ["0", "/root root unset"]
    kept = run_as_nobody(f"FOO=bar {sudo} -E -n -u root -- sh -c 'echo $FOO'", [GROUP])
    assert kept.stdout == "bar\n"
    assert run_as_nobody(f"{sudo} -s 'id -u; id -g'", [GROUP]).stdout.split() == ["0", "0"]
    timestamp = run_as_nobody(f'{sudo} sh -c "date > {shared}/timestamp; sync"', [GROUP])
    assert timestamp.returncode == 0 and (shared / "timestamp").stat().st_uid == 0
    assert run_as_nobody(f"{sudo} id -u", []).returncode == 126  # not in the group: the kernel says no


def test_sudo_refuses_other_users_unknown_options_and_no_command(tmp_path):
    sudo = script(tmp_path, "sudo.sh")
    for args, message in ((["-u", "cirros", "id"], "only root"), (["-x", "id"], "unknown option: -x"),
                          ([], "usage: sudo")):
        done = subprocess.run(["sh", str(sudo), *args], capture_output=True, text=True)
        assert done.returncode == 1 and message in done.stderr
    assert "usage: sudo" in subprocess.run(["sh", str(sudo), "-h"], capture_output=True, text=True).stdout


# -- lsblk -----------------------------------------------------------------------------------

def fake_sysfs(root: Path) -> None:
    """Two virtio disks (the first with two partitions, the second with a serial), an empty
    CD-ROM drive and an unused loop device; the data partition mounted twice."""
    def device(path: str, dev: str, sectors: int, **extra: str) -> None:
        node = root / "sys/block" / path
        node.mkdir(parents=True)
        for name, value in {"dev": dev, "size": str(sectors), "ro": "0", **extra}.items():
            (node / name).write_text(value + "\n")
        (root / "sys/class/block").mkdir(parents=True, exist_ok=True)
        (root / "sys/class/block" / path.split("/")[-1]).symlink_to(node)

    device("vda", "253:0", 262144, removable="0")
    device("vda/vda1", "253:1", 81920, partition="1")
    device("vda/vda2", "253:2", 180224, partition="2")
    device("vdb", "253:16", 2097152, removable="0", serial="5b6f3a1e-2c4d-4e8f-9a0b")
    device("sr0", "11:0", 0, removable="1")
    device("loop0", "7:0", 0, removable="0")
    (root / "mounts").write_text("rootfs / rootfs rw 0 0\n/dev/vda2 /mnt/data ext4 rw 0 0\n"
                                 "/dev/vda2 /home ext4 rw 0 0\nproc /proc proc rw 0 0\n")


@pytest.fixture
def lsblk(tmp_path):
    fake_sysfs(tmp_path)
    path = script(tmp_path, "lsblk.sh", {"/sys/": f"{tmp_path}/sys/", "/proc/mounts": f"{tmp_path}/mounts"})

    def run(*args: str) -> subprocess.CompletedProcess:
        return subprocess.run(["sh", str(path), *args], capture_output=True, text=True)
    return run


def tempest_disks(output: str) -> list[str]:
    """What Tempest's RemoteClient.get_disks/list_disks make of ``lsblk -lb --nodeps``."""
    pos = None
    selected = []
    for line in output.splitlines():
        if pos is None and line.find("TYPE") > 0:
            pos = line.find("TYPE")
        elif pos is not None and line[pos:pos + 4] == "disk":
            selected.append(line.split()[0])
    return selected


def test_lsblk_lists_disks_as_util_linux_does_for_tempest(lsblk):
    listing = lsblk("-lb", "--nodeps")
    assert listing.returncode == 0, listing.stderr
    assert listing.stdout.splitlines() == [
        "NAME MAJ:MIN RM       SIZE RO TYPE MOUNTPOINTS",
        "vda  253:0    0  134217728  0 disk ",
        "vdb  253:16   0 1073741824  0 disk "]
    assert tempest_disks(listing.stdout) == ["vda", "vdb"]
    assert listing.stdout.count("vdb") == 1  # test_minimum_basic's check_disks
    names = lsblk("--nodeps", "--noheadings", "--output", "NAME")
    assert names.stdout == "vda\nvdb\n"


def test_lsblk_draws_partitions_with_sizes_and_mountpoints(lsblk):
    assert lsblk().stdout.splitlines() == [
        "NAME   MAJ:MIN RM SIZE RO TYPE MOUNTPOINTS",
        "vda    253:0    0 128M  0 disk ",
        "|-vda1 253:1    0  40M  0 part ",
        "`-vda2 253:2    0  88M  0 part /mnt/data",
        "vdb    253:16   0   1G  0 disk "]
    assert lsblk("-l", "-o", "NAME,TYPE").stdout.splitlines() == [
        "NAME TYPE", "vda  disk", "vda1 part", "vda2 part", "vdb  disk"]
    assert lsblk("--fs", "--ascii", "/dev/vda").stdout.splitlines() == [
        "NAME   FSTYPE MOUNTPOINTS", "vda           ", "|-vda1        ", "`-vda2 ext4   /mnt/data"]
    assert lsblk("-dno", "NAME,SERIAL", "vdb").stdout == "vdb 5b6f3a1e-2c4d-4e8f-9a0b\n"
    every = lsblk("-a", "-d", "-o", "+KNAME").stdout
    assert "sr0   11:0     1   0B  0 rom              sr0" in every.splitlines() and "loop0" in every


def test_lsblk_rejects_what_it_does_not_know(lsblk):
    assert lsblk("-x").returncode == 1 and "invalid option -- 'x'" in lsblk("-x").stderr
    assert lsblk("-o", "NAME,WWN").returncode == 1 and "unknown column: WWN" in lsblk("-o", "NAME,WWN").stderr
    assert lsblk("/dev/vdz").returncode == 32


# -- blkid and mkfs --------------------------------------------------------------------------

def test_blkid_finds_a_device_by_label_or_uuid(tmp_path):
    fake_bin(tmp_path / "bin", "findfs", '[ "$1" = LABEL=config-2 ] && echo /dev/sr0 || exit 1')
    blkid = script(tmp_path, "blkid.sh")
    env = {"PATH": f"{tmp_path / 'bin'}:/usr/bin:/bin"}

    def run(*args: str) -> subprocess.CompletedProcess:
        return subprocess.run(["sh", str(blkid), *args], capture_output=True, text=True, env=env)
    assert run("-L", "config-2", "-o", "device").stdout == "/dev/sr0\n"
    assert run("-U", "1234").returncode == 2
    assert run("/dev/vda").returncode == 4 and "only label and UUID" in run("/dev/vda").stderr


def test_mkfs_hands_vfat_and_ext2_to_busybox_and_refuses_the_rest(tmp_path):
    fake_bin(tmp_path / "bin", "mkdosfs", 'echo "mkdosfs $*"')
    fake_bin(tmp_path / "bin", "mke2fs", 'echo "mke2fs $*"')
    mkfs = script(tmp_path, "mkfs.sh")
    env = {"PATH": f"{tmp_path / 'bin'}:/usr/bin:/bin"}

    def run(*args: str) -> subprocess.CompletedProcess:
        return subprocess.run(["sh", str(mkfs), *args], capture_output=True, text=True, env=env)
    assert run("-t", "vfat", "/dev/vdb").stdout == "mkdosfs /dev/vdb\n"  # Tempest's create_timestamp
    assert run("/dev/vdb").stdout == "mke2fs /dev/vdb\n"
    refused = run("-t", "ext4", "/dev/vdb")
    assert refused.returncode == 1 and "vfat and ext2 only" in refused.stderr


# -- curl ------------------------------------------------------------------------------------

class Metadata(http.server.BaseHTTPRequestHandler):
    posted: list[tuple[str, str, bytes]] = []

    def do_GET(self):  # noqa: N802 (http.server's naming)
        body, status = (b"172.24.4.10", 200) if self.path.endswith("/public-ipv4") else (b"not found", 404)
        self.send_response(status)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_POST(self):  # noqa: N802
        data = self.rfile.read(int(self.headers["Content-Length"]))
        self.posted.append((self.path, self.headers["Content-Type"], data))
        self.send_response(200)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *args):
        pass


@pytest.fixture
def curl(tmp_path):
    busybox = shutil.which("busybox")
    if busybox is None:
        pytest.skip("busybox (nc, timeout) is not installed")
    for applet in ("nc", "timeout"):
        (tmp_path / "bin").mkdir(exist_ok=True)
        (tmp_path / "bin" / applet).symlink_to(busybox)
    path = script(tmp_path, "curl.sh")
    server = http.server.HTTPServer(("127.0.0.1", 0), Metadata)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    env = {"PATH": f"{tmp_path / 'bin'}:/usr/bin:/bin"}

    def run(*args: str) -> subprocess.CompletedProcess:
        return subprocess.run(["sh", str(path), *args], capture_output=True, env=env, timeout=60)
    yield run, f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def test_curl_prints_the_body_exactly_and_posts_form_data(curl):
    run, base = curl
    got = run(f"{base}/latest/meta-data/public-ipv4")
    assert (got.returncode, got.stdout) == (0, b"172.24.4.10")  # Tempest compares it to the IP as is
    Metadata.posted.clear()
    posted = run("-X", "POST", "-d", "secret-password", f"{base}/openstack/2013-10-17/password")
    assert posted.returncode == 0
    assert Metadata.posted == [("/openstack/2013-10-17/password", "application/x-www-form-urlencoded",
                                b"secret-password")]
    headers = run("-i", f"{base}/latest/meta-data/public-ipv4").stdout
    assert headers.startswith(b"HTTP/1.0 200 ") and headers.endswith(b"\r\n\r\n172.24.4.10")


def test_curl_version_answers_as_curl(curl):
    """Tempest runs `curl -V` in the guest before reading the metadata API (device tags,
    hostname): a failure makes it skip that check."""
    run, _ = curl
    for flag in ("-V", "--version"):
        got = run(flag)
        assert got.returncode == 0 and got.stdout.startswith(b"curl ") and b"Protocols: http" in got.stdout


def test_curl_exit_statuses_follow_curl(curl):
    run, base = curl
    missing = run(f"{base}/nothing")
    assert (missing.returncode, missing.stdout) == (0, b"not found")
    failed = run("-fsS", f"{base}/nothing")
    assert failed.returncode == 22 and b"returned error: 404" in failed.stderr and failed.stdout == b""
    assert run("-s", "-f", f"{base}/nothing").stderr == b""
    closed = run("http://127.0.0.1:1/")
    assert closed.returncode == 7 and b"Failed to connect to 127.0.0.1 port 1" in closed.stderr
    assert run("https://example.invalid/").returncode == 1
    assert run("--proxy", "x", base).returncode == 2


class StrictServer(threading.Thread):
    """An HTTP server that, as uvicorn does, answers nothing to a client that shut its
    sending side down after its request (it takes that for a client that left); otherwise
    it answers the request's headers as its body."""

    def __init__(self):
        super().__init__(daemon=True)
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.url = f"http://127.0.0.1:{self.listener.getsockname()[1]}"

    def run(self):
        while True:
            try:
                conn, _ = self.listener.accept()
            except OSError:
                return
            with conn:
                request = b""
                while b"\r\n\r\n" not in request:
                    request += conn.recv(65536)
                head, body = request.split(b"\r\n\r\n", 1)
                length = next((int(line.split(b":")[1]) for line in head.split(b"\r\n")
                               if line.lower().startswith(b"content-length:")), 0)
                while len(body) < length:
                    body += conn.recv(65536)
                if select.select([conn], [], [], 0.5)[0] and conn.recv(1) == b"":
                    continue  # the client half-closed: no answer
                conn.sendall(b"HTTP/1.0 200 OK\r\nContent-Length: %d\r\n\r\n%s" % (len(head), head))


def test_curl_keeps_sending_side_open_and_lets_headers_replace_its_own(curl):
    run, _ = curl
    server = StrictServer()
    server.start()
    try:
        got = run("-sS", "-X", "POST", "-H", "Content-Type: application/json", "-H", "Accept:", "-H",
                  "X-Auth-Token: t", "--data-binary", '{"status": "SUCCESS"}', f"{server.url}/signal")
    finally:
        server.listener.close()
    assert got.returncode == 0, got.stderr
    lines = got.stdout.split(b"\r\n")
    assert lines[0] == b"POST /signal HTTP/1.0"
    assert sorted(lines[1:]) == sorted([f"Host: {server.url.removeprefix('http://')}".encode(),
                                        b"User-Agent: curl/tiny", b"Connection: close", b"Content-Length: 21",
                                        b"Content-Type: application/json", b"X-Auth-Token: t"])


# -- the tree --------------------------------------------------------------------------------

def test_tree_installs_the_tools_the_helper_and_the_var_run_link():
    with tempfile.TemporaryDirectory() as name:
        unpacked = Path(name)
        static = rootexec.program()  # any static ELF stands in for busybox and dropbear here
        for path in ("bin/busybox", "usr/sbin/dropbear", "usr/bin/dropbearkey", "usr/bin/dbclient",
                     "lib/x86_64-linux-gnu/ld-linux-x86-64.so.2"):
            (unpacked / path).parent.mkdir(parents=True, exist_ok=True)
            (unpacked / path).write_bytes(static)
        tree = rootfs.build_tree(unpacked, "6.1.0-99-amd64", [], "r1")
    entries = tree.entries
    helper = entries["usr/lib/tiny/rootexec"]
    assert helper.data == rootexec.program() and (helper.mode & 0o7777, helper.uid, helper.gid) == (0o4750, 0, 27)
    for path, name in rootfs.TOOLS.items():
        assert entries[path].data == rootfs.template(name).encode() and entries[path].mode & 0o777 == 0o755
    assert set(rootfs.TOOLS) == {"usr/bin/sudo", "bin/lsblk", "sbin/blkid", "sbin/mkfs", "usr/bin/curl"}
    assert entries["var/run"].data == b"../run"
    assert "sudo:x:27:$USER_NAME" in rootfs.init_script("6.1.0-99-amd64", "r1")
