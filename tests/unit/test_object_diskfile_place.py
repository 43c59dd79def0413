"""A new object file renamed into place: its directory is fsynced, and so is every
directory the rename had to make, each in its parent (Swift's ``renamer``), so that a
crash after the PUT was acknowledged cannot lose the path to the file."""

from __future__ import annotations

from pocketstack.object import diskfile


def _placed(tmp_path, monkeypatch, directory):
    synced = []
    real = diskfile._fsync_dir
    monkeypatch.setattr(diskfile, "_fsync_dir", lambda path: (synced.append(path), real(path)))
    tmp = tmp_path / "tmp" / "new.data"
    tmp.parent.mkdir(exist_ok=True)
    tmp.write_bytes(b"body")
    diskfile._place(tmp, directory, "1700000000.00000.data")
    assert (directory / "1700000000.00000.data").read_bytes() == b"body" and not tmp.exists()
    return synced


def test_new_directories_are_fsynced_up_to_the_one_that_existed(tmp_path, monkeypatch):
    objects = tmp_path / "objects"
    objects.mkdir()
    leaf = objects / "1023" / "abc" / "d41d8cd98f00b204e9800998ecf8abc"
    assert _placed(tmp_path, monkeypatch, leaf) == [leaf, leaf.parent, leaf.parent.parent, objects]


def test_an_existing_directory_is_the_only_one_fsynced(tmp_path, monkeypatch):
    leaf = tmp_path / "objects" / "7" / "abc" / "hash"
    leaf.mkdir(parents=True)
    assert _placed(tmp_path, monkeypatch, leaf) == [leaf]
