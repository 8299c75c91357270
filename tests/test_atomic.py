"""atomic_path: the target is replaced whole or not at all, with ordinary permissions."""

import os
import stat

import pytest

from mdf_neel._atomic import atomic_path


def test_success_replaces_and_leaves_no_temp(tmp_path):
    target = tmp_path / "a.mdf"
    target.write_bytes(b"old")
    with atomic_path(target) as tmp:
        with open(tmp, "wb") as fh:
            fh.write(b"new")
        assert target.read_bytes() == b"old"  # not visible before the end
    assert target.read_bytes() == b"new"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.mdf"]


def test_failure_keeps_old_file_and_removes_temp(tmp_path):
    target = tmp_path / "a.mdf"
    target.write_bytes(b"old")
    with pytest.raises(RuntimeError):
        with atomic_path(target) as tmp:
            with open(tmp, "wb") as fh:
                fh.write(b"half")
            raise RuntimeError("boom")
    assert target.read_bytes() == b"old"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.mdf"]


def test_new_file_gets_umask_permissions_and_replaced_file_keeps_its_mode(tmp_path):
    old = os.umask(0o022)
    try:
        target = tmp_path / "new.mdf"
        with atomic_path(target) as tmp:
            open(tmp, "wb").close()
        assert stat.S_IMODE(target.stat().st_mode) == 0o644
        os.chmod(target, 0o640)
        with atomic_path(target) as tmp:
            open(tmp, "wb").close()
        assert stat.S_IMODE(target.stat().st_mode) == 0o640
    finally:
        os.umask(old)
