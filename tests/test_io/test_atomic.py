"""Atomic writes: a failed or interrupted save leaves the previous file byte-identical and no
temporary file behind."""

import os
import stat
import subprocess
import sys

import numpy as np
import pytest

from xpnet.io import load_params, save_params

from .conftest import make_params


def _fail_midway(file, array, **kwargs):
    file.write(b"half an array")
    raise OSError("disk full (simulated)")


def _fail(*args, **kwargs):
    raise OSError("disk full (simulated)")


@pytest.mark.parametrize("target, replacement", [
    ("numpy.lib.format.write_array", _fail_midway),
    ("os.fsync", _fail),
    ("os.chmod", _fail),
    ("os.replace", _fail),
])
def test_a_failed_save_leaves_the_previous_file_byte_identical(tmp_path, monkeypatch, target,
                                                               replacement):
    path = save_params(tmp_path / "model.npz", make_params(), version=1)
    before = path.read_bytes()
    monkeypatch.setattr(target, replacement)
    with pytest.raises(OSError, match="simulated"):
        save_params(path, make_params(seed=1), version=2)
    monkeypatch.undo()
    assert path.read_bytes() == before
    assert os.listdir(tmp_path) == ["model.npz"]
    assert load_params(path)[1] == {"version": 1}


def test_an_interrupted_first_save_leaves_no_file_at_all(tmp_path, monkeypatch):
    def interrupt(file, array, **kwargs):
        file.write(b"partial")
        raise KeyboardInterrupt

    monkeypatch.setattr(np.lib.format, "write_array", interrupt)
    with pytest.raises(KeyboardInterrupt):
        save_params(tmp_path / "model.npz", make_params())
    assert os.listdir(tmp_path) == []


def test_a_save_over_a_directory_fails_and_leaves_no_temporary_file(tmp_path):
    (tmp_path / "model.npz").mkdir()
    with pytest.raises(OSError):
        save_params(tmp_path / "model.npz", make_params())
    assert os.listdir(tmp_path) == ["model.npz"] and (tmp_path / "model.npz").is_dir()


def test_saving_into_a_read_only_directory_raises_and_leaves_nothing(tmp_path):
    directory = tmp_path / "read-only"
    directory.mkdir()
    directory.chmod(stat.S_IRUSR | stat.S_IXUSR)
    try:
        if os.access(directory, os.W_OK):
            pytest.skip("the read-only directory is writable anyway (running as root?)")
        with pytest.raises(OSError):
            save_params(directory / "model.npz", make_params())
        assert os.listdir(directory) == []
    finally:
        directory.chmod(stat.S_IRWXU)


def test_saving_into_a_missing_directory_names_it(tmp_path):
    with pytest.raises(FileNotFoundError, match="the directory .*nowhere does not exist"):
        save_params(tmp_path / "nowhere" / "model.npz", make_params())
    assert os.listdir(tmp_path) == []


def test_saving_again_replaces_the_file(tmp_path):
    path = save_params(tmp_path / "model.npz", make_params(), version=1)
    save_params(path, make_params(seed=1), version=2)
    loaded, metadata = load_params(path)
    np.testing.assert_array_equal(loaded["W1"], make_params(seed=1)["W1"])
    assert metadata == {"version": 2} and os.listdir(tmp_path) == ["model.npz"]


@pytest.mark.skipif(sys.platform == "win32", reason="POSIX permissions and directory fsync")
def test_a_saved_file_gets_ordinary_permissions_and_keeps_an_existing_files(tmp_path):
    umask = os.umask(0o022)
    os.umask(umask)
    path = save_params(tmp_path / "model.npz", make_params())
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o666 & ~umask  # not the temporary file's 0o600
    path.chmod(0o640)
    save_params(path, make_params())
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o640


@pytest.mark.skipif(sys.platform == "win32", reason="POSIX permissions and directory fsync")
def test_a_save_fsyncs_the_file_then_its_directory(tmp_path, monkeypatch):
    synced = []
    real_fsync = os.fsync

    def spy(fd):
        synced.append("directory" if stat.S_ISDIR(os.fstat(fd).st_mode) else "file")
        real_fsync(fd)

    monkeypatch.setattr(os, "fsync", spy)
    save_params(tmp_path / "model.npz", make_params())
    assert synced == ["file", "directory"]


# ---- temporaries left by killed saves -----------------------------------------------------------

def _dead_pid():
    """The id of a process that has run and been reaped: no process of it runs now."""
    child = subprocess.Popen([sys.executable, "-c", ""])
    child.wait()
    return child.pid


@pytest.mark.skipif(sys.platform == "win32", reason="process ids are probed on POSIX only")
def test_a_save_removes_the_temporaries_of_dead_writers_in_its_folder_and_nothing_else(tmp_path):
    dead = _dead_pid()
    sleeper = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        stale = [f".model.npz.xpnet-{dead}-k2j4h8x1.tmp",  # the target's own, of a dead writer
                 f".other.npz.xpnet-{dead}-a1b2c3d4.tmp"]  # another file's in the same folder
        kept = [f".other.npz.xpnet-{sleeper.pid}-abcd1234.tmp",  # a writer still running
                f".model.npz.xpnet-{os.getpid()}-zzzz9999.tmp",  # this process's own
                ".model.npz.xpnet-notapid.tmp", "model.npz.tmp", f"xpnet-{dead}-a.tmp",
                f".model.npz.xpnet-{dead}-abcd1234.txt", ".model.npz.xpnet-99999999999-ab.tmp"]
        for name in stale + kept:
            (tmp_path / name).write_bytes(b"half a save")
        save_params(tmp_path / "model.npz", make_params())
        assert sorted(os.listdir(tmp_path)) == sorted(kept + ["model.npz"])
    finally:
        sleeper.kill()
        sleeper.wait()
    save_params(tmp_path / "another.npz", make_params())  # now the sleeper is gone too
    assert f".other.npz.xpnet-{sleeper.pid}-abcd1234.tmp" not in os.listdir(tmp_path)
