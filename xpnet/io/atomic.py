"""Atomic writes: a reader of the target sees the old file or the new one, never half of one.

A temporary file in the target's directory is written, flushed, fsynced and renamed
over the target, so a failed save leaves the old file intact. The temporary file's
name carries the writing process's id: one left behind by a process that was killed
mid-save (SIGKILL, power loss) is removed by the next save into the same directory.
"""

from __future__ import annotations

import contextlib
import errno
import os
import re
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import IO

_TMP_MARK = ".xpnet-"
_TMP_SUFFIX = ".tmp"
# A temporary file's name, as _temporary_prefix and NamedTemporaryFile make it; group 1 the id
# of the process writing it. Nothing else is ever removed.
_TMP_NAME = re.compile(r"\..*\.xpnet-([0-9]{1,10})-[A-Za-z0-9_]{1,32}\.tmp", re.DOTALL)


def write_atomically(target: Path, write: Callable[[IO[bytes]], None]) -> None:
    """Write through ``write`` to a temporary file beside ``target``, then rename it over it.

    A failure at any point leaves ``target`` as it was and no temporary file behind; an
    ``OSError`` (disk full, no permission, ...) is raised again naming ``target``. Only a
    process killed mid-write leaves its temporary file: the next save into its directory
    removes it (see :func:`_remove_stale_temporaries`).
    """
    directory = target.parent
    if directory.exists() and not directory.is_dir():
        raise NotADirectoryError(errno.ENOTDIR, f"cannot write {target}: {directory} is not a "
                                 "directory; save to another path")
    if not directory.is_dir():
        raise FileNotFoundError(errno.ENOENT, f"cannot write {target}: the directory {directory} "
                                "does not exist; create it first or save to another path")
    mode = _file_mode(target)
    _remove_stale_temporaries(target)
    try:
        tmp = tempfile.NamedTemporaryFile(dir=directory, prefix=_temporary_prefix(target)
                                          + f"{os.getpid()}-", suffix=_TMP_SUFFIX, delete=False)
    except OSError as exc:  # name the target, not the temporary file's random name
        raise _write_error(target, exc) from exc
    try:
        with tmp:
            write(tmp)
            tmp.flush()
            os.fsync(tmp.fileno())
        os.chmod(tmp.name, mode)
        os.replace(tmp.name, target)
    except BaseException as exc:
        with contextlib.suppress(OSError):
            os.unlink(tmp.name)
        if isinstance(exc, OSError):
            raise _write_error(target, exc) from exc
        raise
    _fsync_directory(directory)


def _write_error(target: Path, exc: OSError) -> OSError:
    """``exc`` told about ``target`` rather than the temporary file, with what to do.

    ``OSError(errno, ...)`` picks the subclass of the errno (``PermissionError``, ...).
    """
    message = (f"cannot write {target}: {exc.strerror or exc}; any previous file there is "
               "unchanged; free disk space, check the permissions, or save to another path")
    return OSError(exc.errno, message) if exc.errno is not None else OSError(message)


def _temporary_prefix(target: Path) -> str:
    """The start of the temporary files' names for ``target``: ``.NAME.xpnet-PID-RANDOM.tmp``.

    NAME is cut so that a target name of up to 255 characters still leaves a valid one.
    """
    return f".{target.name[:200]}{_TMP_MARK}"


def _remove_stale_temporaries(target: Path) -> None:
    """Delete the temporary files in ``target``'s directory whose writing process no longer runs.

    A save killed mid-write (SIGKILL, a crash, power loss) cannot remove its own temporary
    file, of the model's full size; its name (``.NAME.xpnet-PID-RANDOM.tmp``) carries the
    process id, so the next save into that directory, to any name, knows it is stale.
    Temporaries of running processes, this one included, are left alone (a process id
    reused by another process keeps a stale file until that one ends too). The id is
    probed with ``os.kill(pid, 0)``, so only on POSIX, and only for processes of this
    machine: a save to the same directory on another machine sharing it may see its
    temporary removed, and fails with an ``OSError`` then, its target untouched.
    """
    if os.name != "posix":
        return
    try:
        names = os.listdir(target.parent)
    except OSError:
        return
    for name in names:
        found = _TMP_NAME.fullmatch(name)
        if found and not _process_running(int(found.group(1))):
            with contextlib.suppress(OSError):
                os.unlink(target.parent / name)


def _process_running(pid: int) -> bool:
    if pid <= 0 or pid == os.getpid():
        return pid > 0
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except (OSError, OverflowError):  # PermissionError: it runs, as another user; an id too
        return True                   # large for this system: not ours to judge, keep it
    return True


def _file_mode(target: Path) -> int:
    """The permissions for ``target``: an existing file's, else what ``open`` would give.

    Temporary files are created private (0o600); this keeps saved models readable as
    ordinary files are. The umask is read from /proc where possible, because setting
    it to read it back would race with other threads.
    """
    with contextlib.suppress(OSError):
        return os.stat(target).st_mode & 0o777
    with contextlib.suppress(OSError, ValueError), open("/proc/self/status") as status:
        for line in status:
            if line.startswith("Umask:"):
                return 0o666 & ~int(line.split()[1], 8)
    return 0o644


def _fsync_directory(directory: Path) -> None:
    """Make the rename durable where the OS allows (best effort: not on Windows)."""
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)
