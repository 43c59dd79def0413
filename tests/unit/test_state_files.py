"""State files (pocketstack.testing): data files by extents and extended attributes,
tagged values, and the tar format round trip."""

from __future__ import annotations

import datetime as dt
import decimal
import io
import os

import pytest
import sqlalchemy as sa

from pocketstack.testing import files
from pocketstack.testing.snapshot import State, StateFileError
from pocketstack.testing.tables import TableRows, _decode, _encode


def test_sparse_files_and_xattrs_survive_capture_file_and_restore(tmp_path):
    volume = tmp_path / "volumes" / "volume-1"
    volume.parent.mkdir()
    with open(volume, "wb") as f:
        f.truncate(1 << 30)             # a 1 GiB sparse volume
        f.seek(512 << 20)
        f.write(b"written in the middle")
    obj = tmp_path / "object" / "devices" / "d1" / "objects" / "1.data"
    obj.parent.mkdir(parents=True)
    obj.write_bytes(b"object body")
    os.setxattr(obj, "user.swift.metadata", b'{"ETag": "x"}')
    (tmp_path / "images").mkdir()
    (tmp_path / "fernet-keys").mkdir()
    (tmp_path / "fernet-keys" / "0").write_text("not state")

    state = State(["rev"], {}, files.capture(tmp_path))
    assert sum(len(data) for e in state.files for _, data in e.extents) < 64 * 1024  # holes are not read
    out = io.BytesIO()
    state.write(out)
    assert len(out.getvalue()) < 64 * 1024
    again = State.read(io.BytesIO(out.getvalue()))

    (tmp_path / "volumes" / "stray").write_text("made after the snapshot")
    files.restore(tmp_path, again.files)
    assert sorted(p.name for p in (tmp_path / "volumes").iterdir()) == ["volume-1"]
    assert volume.stat().st_size == 1 << 30
    with open(volume, "rb") as f:
        f.seek(512 << 20)
        assert f.read(21) == b"written in the middle"
    assert os.getxattr(obj, "user.swift.metadata") == b'{"ETag": "x"}'
    assert (tmp_path / "images").is_dir()
    assert (tmp_path / "fernet-keys" / "0").read_text() == "not state"  # configuration is not touched


def test_values_round_trip_through_json_tags():
    values = [dt.datetime(2026, 12, 6, 19, 0, 1, 5), dt.date(2026, 1, 2), dt.time(3, 4), b"\x00\xff",
              decimal.Decimal("1.50"), None, True, 7, "text", {"$not": "a tag"}]
    column = sa.Column("c", sa.String())
    decoded = [_decode(_encode(v), column) if not isinstance(v, dict) else v for v in values]
    assert decoded == values
    assert _decode(1, sa.Column("flag", sa.Boolean())) is True  # a MariaDB dump's TINYINT


def test_a_file_that_is_not_a_state_is_refused():
    with pytest.raises(StateFileError, match="tar"):
        State.read(io.BytesIO(b"garbage"))
    out = io.BytesIO()
    State(["rev"], {"t": TableRows(["a"], [[1]])}).write(out)
    data = out.getvalue().replace(b'"pocketstack-state"', b'"pocketstack-other"')
    with pytest.raises(StateFileError, match="unsupported"):
        State.read(io.BytesIO(data))


def test_restore_refuses_paths_outside_the_data_areas(tmp_path):
    with pytest.raises(ValueError, match="outside"):
        files.restore(tmp_path, [files.FileEntry("volumes/../../escape", 1, ((0, b"x"),))])
    assert not (tmp_path.parent / "escape").exists()


def test_further_regions_states_travel_inside_the_file():
    region = State(["r-rev"], {"network_network": TableRows(["id"], [["n-2"]])},
                   [files.FileEntry("volumes"), files.FileEntry("volumes/v", 3, ((0, b"abc"),))])
    state = State(["rev"], {"network_network": TableRows(["id"], [["n-1"]])}, regions={"RegionTwo": region})
    out = io.BytesIO()
    state.write(out)
    again = State.read(io.BytesIO(out.getvalue()))
    assert list(again.regions) == ["RegionTwo"] and again.regions["RegionTwo"].regions == {}
    assert again.tables["network_network"].rows == [["n-1"]]
    two = again.regions["RegionTwo"]
    assert (two.schema, two.tables["network_network"].rows) == (["r-rev"], [["n-2"]])
    assert [(e.path, e.extents) for e in two.files] == [("volumes", ()), ("volumes/v", ((0, b"abc"),))]
    # A region's name from a file is a path part: nothing else is read.
    bad = io.BytesIO()
    State(["rev"], {}, regions={"../up": region}).write(bad)
    with pytest.raises(StateFileError, match="region name"):
        State.read(io.BytesIO(bad.getvalue()))
