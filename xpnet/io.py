"""Saving and loading parameters: one ``.npz`` file, arrays plus a JSON header, no pickle.

The file is a NumPy ``.npz`` archive (an uncompressed zip of ``.npy`` members). It
holds one member per named array and, under the reserved name ``__header__``, a
JSON object encoded as a 1-D ``uint8`` array. The header is plain data only (it
never names code to import); xpnet adds its keys ``format`` (``"xpnet"``),
``format_version`` (:data:`FORMAT_VERSION`) and ``xpnet_version``. Files are read
with ``allow_pickle=False`` and only numeric arrays are accepted.

The file is written exactly at the path given: no ``.npz`` suffix is added (use one
by convention), so ``save_params(p, ...)`` and ``load_params(p)`` name the same file.
Writes are atomic: a temporary file in the target's directory is written, flushed,
fsynced and renamed over the target, so a failed save leaves the old file intact.
The temporary file's name carries the writing process's id: one left behind by a
process that was killed mid-save (SIGKILL, power loss) is removed by the next save
to the same path.
"""

from __future__ import annotations

import contextlib
import errno
import json
import math
import os
import re
import stat
import struct
import tempfile
import zipfile
import zlib
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import IO, Any

import array_api_compat
import numpy as np

from ._version import __version__
from .backend import (Backend, asarray, dtype_name, get_backend, namespace_of, resolve_backend,
                      to_numpy)
from .errors import ModelFileError
from .parameters import layer_dims_of, parameter_keys

FORMAT_NAME = "xpnet"
FORMAT_VERSION = 1
"""The newest file format this xpnet reads and the one it writes."""
HEADER_KEY = "__header__"
MAX_HEADER_BYTES = 1 << 20
"""A header larger than this (1 MiB of JSON) is refused, on writing and on reading."""
MAX_TOTAL_BYTES = 4 << 30
"""A file whose arrays declare more than this (4 GiB uncompressed) is refused before loading."""
PARAMS_KIND = "params"
PARAM_DTYPES = ("float32", "float64")

_FORMAT_KEYS = ("format", "format_version", "xpnet_version")
_NAME = re.compile(r"[A-Za-z0-9_.\-]+(?:/[A-Za-z0-9_.\-]+)*")
_PARAM_KEY = re.compile(r"[Wb][0-9]+")
_MAX_DEPTH = 100
# What a damaged archive raises from zipfile, zlib, json or numpy's .npy reader
# (RuntimeError: a flag bit claiming encryption; NotImplementedError: an unknown
# compression method).
_DAMAGE = (zipfile.BadZipFile, zlib.error, EOFError, ValueError, KeyError, RuntimeError,
           NotImplementedError, OverflowError, struct.error)

_TYPE_NAMES = {int: "an int", str: "a str", list: "a list", dict: "a dict"}
DAMAGED_FILE_FIX = "save it again with xpnet (save_params or est.save), or restore a backup"
_FIX = DAMAGED_FILE_FIX
_TMP_MARK = ".xpnet-"
_TMP_SUFFIX = ".tmp"

Array = Any


def save_params(path: str | os.PathLike, params: Mapping[str, Array], /, **metadata: Any) -> Path:
    """Save ``params`` (``W1, b1, ..., WL, bL`` on any backend) and ``metadata`` to one file.

    ``metadata`` values must be JSON plain data: None, bool, int, finite float, str,
    and lists/tuples/dicts (str keys) of those; tuples come back as lists.
    Returns the path written.
    """
    return write_network(path, params, PARAMS_KIND, metadata)


def write_network(path: str | os.PathLike, params: Mapping[str, Array], kind: str,
                  metadata: Mapping[str, Any]) -> Path:
    """Save a network's ``params`` as a model of ``kind`` (``"params"``, an estimator's class
    name) with plain-data ``metadata``; what :func:`save_params` and ``est.save`` write."""
    if not isinstance(params, Mapping):
        raise TypeError(f"params must be a dict of arrays (W1, b1, ...), not {type(params).__name__}")
    namespace_of(**{str(key): a for key, a in params.items()})
    layer_dims = layer_dims_of(params)
    dtypes = {key: dtype_name(params[key].dtype) for key in parameter_keys(params)}
    if len(set(dtypes.values())) != 1 or dtypes["W1"] not in PARAM_DTYPES:
        raise ValueError(f"params must all be float32 or all float64; got {dtypes}; "
                         "convert them with xpnet.asarray(a, dtype=...)")
    _check_plain(dict(metadata), "metadata")
    header = {"kind": kind, "layer_dims": layer_dims, "dtype": dtypes["W1"],
              "metadata": dict(metadata)}
    return write_model(path, dict(params), header)


def load_params(path: str | os.PathLike,
                backend: Backend | None = None) -> tuple[dict[str, Array], dict[str, Any]]:
    """The ``(params, metadata)`` saved by :func:`save_params`.

    The arrays are put on ``backend`` (``None``: the selected backend,
    :func:`xpnet.get_backend`) with the dtype they were saved in. Raises
    ``FileNotFoundError`` for a missing file and :class:`ModelFileError` for one
    that is damaged, foreign, too new or does not hold a valid network.
    """
    xp = get_backend() if backend is None else resolve_backend(backend)
    params, _, metadata = read_network(path, (PARAMS_KIND,))
    return {key: asarray(value, backend=xp) for key, value in params.items()}, metadata


def read_network(path: str | os.PathLike,
                 kinds: tuple[str, ...]) -> tuple[dict[str, np.ndarray], str, dict[str, Any]]:
    """The NumPy ``params``, kind and metadata of a file written by :func:`write_network`,
    checked to hold a valid network of one of ``kinds``."""
    arrays, header = read_model(path)
    params = _checked_params(arrays, header, Path(path), kinds)
    return {key: params[key] for key in parameter_keys(params)}, header["kind"], header["metadata"]


def write_model(path: str | os.PathLike, arrays: Mapping[str, Array],
                header: Mapping[str, Any]) -> Path:
    """Write named arrays (any backend, copied to the host) and a JSON header, atomically.

    Array names are letters, digits, ``_ . -``, optionally grouped with ``/``
    (``"optimizer/m/W1"``); names starting with ``__`` are xpnet's. ``header`` is
    JSON plain data (see :func:`save_params`) and may not set xpnet's own keys
    ``format``, ``format_version``, ``xpnet_version``. Returns the path written.
    """
    target = _as_path(path)
    host = _host_arrays(arrays)
    text = _encode_header(header)
    host = {HEADER_KEY: np.frombuffer(text, dtype=np.uint8), **host}
    write_atomically(target, lambda file: _write_npz(file, host))
    return target


def read_model(path: str | os.PathLike) -> tuple[dict[str, np.ndarray], dict[str, Any]]:
    """The ``(arrays, header)`` of a file written by :func:`write_model`, arrays as NumPy.

    The header includes xpnet's keys (``format``, ``format_version``,
    ``xpnet_version``). Raises ``FileNotFoundError`` for a missing file and
    :class:`ModelFileError` for one that is damaged, foreign or too new.
    """
    where = _as_path(path)
    if where.is_dir():
        raise _bad_file(f"{where} is a directory, not an xpnet model file",
                        "give the path of a file written by save_params or est.save")
    if where.exists() and not where.is_file():  # opening a pipe would wait for a writer
        raise _bad_file(f"{where} is not a regular file (a pipe, socket or device), "
                        "so not an xpnet model file",
                        "give the path of a file written by save_params or est.save")
    with open(where, "rb") as file, _damage_reported(where):
        try:
            archive = zipfile.ZipFile(file)
        except zipfile.BadZipFile as exc:
            raise _bad_file(f"{where} is not an xpnet model file, or is truncated: it is "
                            f"not a readable zip (.npz) archive ({exc})") from exc
        with archive:
            members = _checked_members(archive, where)
        file.seek(0)
        with np.load(file, allow_pickle=False) as npz:
            header = _decode_header(npz[HEADER_KEY], where)
            arrays = {name: npz[name] for name in members if name != HEADER_KEY}
    return arrays, header


def _as_path(path: Any) -> Path:
    if not isinstance(path, (str, os.PathLike)):
        raise TypeError(f"path must be a str or os.PathLike, not {type(path).__name__}")
    if "\0" in os.fspath(path):
        raise ValueError(f"path {os.fspath(path)!r:.200} contains a NUL character, which no "
                         "file name can hold; remove it")
    return Path(path)


def _bad_file(message: str, fix: str = _FIX) -> ModelFileError:
    """The error for a model file that cannot be used: ``message`` names the file and the
    problem, ``fix`` says what to do."""
    return ModelFileError(f"{message}; {fix}")


def _short(value: Any) -> str:
    """``repr(value)``, cut to one readable line (header values come from the file)."""
    text = repr(value)
    return text if len(text) <= 80 else text[:77] + "..."


def _check_plain(value: Any, where: str, depth: int = 0) -> None:
    """Raise naming ``where`` unless ``value`` is JSON plain data with finite floats."""
    if depth > _MAX_DEPTH:
        raise ValueError(f"{where} is nested more than {_MAX_DEPTH} levels deep "
                         "(or contains itself)")
    if value is None or isinstance(value, (bool, int, str)):
        return
    if isinstance(value, float):
        if not math.isfinite(value):
            raise ValueError(f"{where} is {value!r}; a model file's JSON header cannot hold "
                             "NaN or infinity (store None or a string instead)")
        return
    if isinstance(value, (list, tuple)):
        for i, item in enumerate(value):
            _check_plain(item, f"{where}[{i}]", depth + 1)
        return
    if isinstance(value, dict):
        for key, item in value.items():
            if not isinstance(key, str):
                raise TypeError(f"{where} has the key {key!r}; JSON object keys must be str")
            _check_plain(item, f"{where}[{key!r}]", depth + 1)
        return
    kind = type(value)
    raise TypeError(f"{where} is a {kind.__module__}.{kind.__qualname__}, not JSON plain data "
                    "(None, bool, int, float, str, list, dict); convert it first, "
                    "e.g. with float(...), int(...) or .tolist()")


def _encode_header(header: Mapping[str, Any]) -> bytes:
    if not isinstance(header, Mapping):
        raise TypeError(f"header must be a dict, not {type(header).__name__}")
    taken = [key for key in _FORMAT_KEYS if key in header]
    if taken:
        raise ValueError(f"header keys {taken} are set by xpnet; choose other names")
    _check_plain(dict(header), "header")
    full = {"format": FORMAT_NAME, "format_version": FORMAT_VERSION,
            "xpnet_version": __version__, **header}
    text = json.dumps(full, allow_nan=False).encode("ascii")
    if len(text) > MAX_HEADER_BYTES:
        raise ValueError(f"the header is {len(text)} bytes of JSON, more than the "
                         f"{MAX_HEADER_BYTES} a model file allows; store large data as arrays")
    return text


def _host_arrays(arrays: Mapping[str, Array]) -> dict[str, np.ndarray]:
    if not isinstance(arrays, Mapping):
        raise TypeError(f"arrays must be a dict of named arrays, not {type(arrays).__name__}")
    host = {}
    for name, value in arrays.items():
        if not isinstance(name, str) or not _valid_name(name):
            raise ValueError(f"array name {name!r} is not allowed: use letters, digits, '_', "
                             "'.', '-' and '/' between groups (not '.' or '..'), not starting "
                             "with '__'")
        array = to_numpy(value) if array_api_compat.is_array_api_obj(value) else np.asarray(value)
        if array.dtype.kind not in "biufc":
            raise TypeError(f"arrays[{name!r}] has dtype {array.dtype}; model files hold "
                            "numbers only (bool, int, float, complex)")
        host[name] = array
    return host


def _valid_name(name: str) -> bool:
    """Whether ``name`` is an array name a model file may hold (never a path to escape by)."""
    return (_NAME.fullmatch(name) is not None and not name.startswith("__")
            and not any(part in (".", "..") for part in name.split("/")))


def _write_npz(file: IO[bytes], arrays: Mapping[str, np.ndarray]) -> None:
    # np.savez's own loop, without its parameter names (file, allow_pickle) shadowing
    # arrays of those names, and with pickling refused on writing too.
    with zipfile.ZipFile(file, mode="w", compression=zipfile.ZIP_STORED) as archive:
        for name, array in arrays.items():
            with archive.open(f"{name}.npy", mode="w", force_zip64=True) as member:
                np.lib.format.write_array(member, array, allow_pickle=False)


def write_atomically(target: Path, write: Callable[[IO[bytes]], None]) -> None:
    """Write through ``write`` to a temporary file beside ``target``, then rename it over it.

    A failure at any point leaves ``target`` as it was and no temporary file behind; an
    ``OSError`` (disk full, no permission, ...) is raised again naming ``target``. Only a
    process killed mid-write leaves its temporary file: the next save to ``target``
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
    """Delete the temporary files beside ``target`` whose writing process no longer runs.

    A save killed mid-write (SIGKILL, a crash, power loss) cannot remove its own temporary
    file; its name carries the process id, so the next save to ``target`` knows it is
    stale. Temporaries of running processes, this one included, are left alone. The id
    is probed with ``os.kill(pid, 0)``, so only on POSIX, and only for processes of this
    machine: a save to the same path on another machine sharing the directory may see its
    temporary removed, and fails with an ``OSError`` then, its target untouched.
    """
    if os.name != "posix":
        return
    prefix = _temporary_prefix(target)
    try:
        names = os.listdir(target.parent)
    except OSError:
        return
    for name in names:
        if not (name.startswith(prefix) and name.endswith(_TMP_SUFFIX)):
            continue
        pid = name[len(prefix):].split("-", 1)[0]
        if pid.isdigit() and not _process_running(int(pid)):
            with contextlib.suppress(OSError):
                os.unlink(target.parent / name)


def _process_running(pid: int) -> bool:
    if pid <= 0 or pid == os.getpid():
        return pid > 0
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:  # PermissionError: it runs, as another user
        return True
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


@contextlib.contextmanager
def _damage_reported(where: Path) -> Iterator[None]:
    try:
        yield
    except ModelFileError:
        raise
    except (*_DAMAGE, OSError) as exc:
        if isinstance(exc, OSError) and exc.errno != errno.EINVAL:
            raise  # a failing disk, not a damaged file; EINVAL is a seek to a corrupt offset
        raise _bad_file(f"{where} is damaged or not an xpnet model file "
                        f"({type(exc).__name__}: {str(exc)[:200]})") from exc


def _checked_members(archive: zipfile.ZipFile, where: Path) -> dict[str, zipfile.ZipInfo]:
    """The archive's members by array name, checked before any array is loaded.

    Member names must be array names xpnet writes (so none holds ``..``, an absolute
    path or a drive, and none is a symbolic link), although nothing is ever extracted
    to disk. Sizes come from the zip directory and each ``.npy`` preamble, so an
    archive that would expand to more than :data:`MAX_TOTAL_BYTES`, or an array whose
    declared shape exceeds the bytes it holds, is refused without being read.
    """
    members: dict[str, zipfile.ZipInfo] = {}
    for info in archive.infolist():
        name = info.filename.removesuffix(".npy")
        if name == info.filename:
            raise _bad_file(f"{where} is not an xpnet model file: its member "
                            f"{_short(info.filename)} is not a .npy array")
        if name != HEADER_KEY and not _valid_name(name):
            raise _bad_file(f"{where} is not an xpnet model file: its member "
                            f"{_short(info.filename)} is not a valid array name (a path?)")
        if stat.S_ISLNK(info.external_attr >> 16):
            raise _bad_file(f"{where} is not an xpnet model file: its member "
                            f"{_short(info.filename)} is a symbolic link")
        if name in members:
            raise _bad_file(f"{where} is damaged: it holds the array {name!r} twice")
        members[name] = info
    total = sum(info.file_size for info in members.values())
    if total > MAX_TOTAL_BYTES:
        raise _bad_file(f"{where}: its arrays declare {total} bytes, more than the "
                        f"{MAX_TOTAL_BYTES} a model file may hold",
                        "if you trust the file, raise xpnet.io.MAX_TOTAL_BYTES")
    if HEADER_KEY not in members:
        raise _bad_file(f"{where} is not an xpnet model file: it has no {HEADER_KEY} "
                        "(a plain .npz archive?)", "read plain .npz archives with numpy.load")
    for name, info in members.items():
        shape, dtype = _npy_preamble(archive, info, where)
        if dtype.hasobject or dtype.kind not in "biufc":
            raise _bad_file(f"{where}: the array {name!r} has dtype {dtype}; model files "
                            "hold numbers only (refused without unpickling anything)")
        if math.prod(shape) * dtype.itemsize > info.file_size:
            raise _bad_file(f"{where} is damaged: the array {name!r} declares shape "
                            f"{_short(shape)} but its member holds only {info.file_size} bytes")
        if name == HEADER_KEY and (dtype != np.uint8 or len(shape) != 1
                                   or shape[0] > MAX_HEADER_BYTES):
            raise _bad_file(f"{where}: its {HEADER_KEY} must be at most {MAX_HEADER_BYTES} "
                            f"bytes of uint8 JSON, got {dtype} of shape {_short(shape)}")
    return members


def _npy_preamble(archive: zipfile.ZipFile, info: zipfile.ZipInfo,
                  where: Path) -> tuple[tuple[int, ...], np.dtype]:
    """The shape and dtype declared by one ``.npy`` member, read without its data."""
    with archive.open(info) as member:
        version = np.lib.format.read_magic(member)
        if version == (1, 0):
            shape, _, dtype = np.lib.format.read_array_header_1_0(member)
        elif version == (2, 0):
            shape, _, dtype = np.lib.format.read_array_header_2_0(member)
        else:
            raise _bad_file(f"{where}: the array {info.filename!r} uses .npy format "
                            f"{version}, which model files do not use")
    return shape, dtype


def _decode_header(raw: np.ndarray, where: Path) -> dict[str, Any]:
    """The header's JSON, checked for xpnet's keys and a format version this xpnet reads.

    Like a header being written, it must be plain data with finite numbers, nested at
    most ``_MAX_DEPTH`` levels.
    """
    def refuse_constant(text: str) -> None:
        raise _bad_file(f"{where}: its header holds {text}; a header's numbers must be finite")

    def finite_float(text: str) -> float:
        value = float(text)
        return value if math.isfinite(value) else refuse_constant(text[:80])

    try:
        header = json.loads(raw.tobytes().decode("utf-8"), parse_constant=refuse_constant,
                            parse_float=finite_float)
    except ModelFileError:
        raise
    except (ValueError, RecursionError) as exc:
        raise _bad_file(f"{where}: its header is not valid JSON ({str(exc)[:200]})") from exc
    try:
        _check_plain(header, "its header")
    except ValueError as exc:  # JSON holds nothing but plain data: only the depth is in doubt
        raise _bad_file(f"{where}: {exc}") from exc
    if not isinstance(header, dict):
        raise _bad_file(f"{where}: its header must be a JSON object, "
                        f"not {type(header).__name__}")
    if header.get("format") != FORMAT_NAME:
        raise _bad_file(f"{where} is not an xpnet model file: its header's format is "
                        f"{_short(header.get('format'))}, not {FORMAT_NAME!r}")
    version = _field(header, "format_version", int, where)
    _field(header, "xpnet_version", str, where)
    if version < 1:
        raise _bad_file(f"{where}: its format_version {version} is not valid")
    if version > FORMAT_VERSION:
        raise ModelFileError(f"{where} was written by a newer xpnet (format {_short(version)}); "
                             f"this xpnet {__version__} reads format {FORMAT_VERSION} or older: "
                             "upgrade xpnet")
    return header


def _checked_params(arrays: Mapping[str, np.ndarray], header: Mapping[str, Any],
                    where: Path, kinds: tuple[str, ...]) -> dict[str, np.ndarray]:
    """The ``W1, b1, ...`` arrays, checked against the header written by write_network.

    Arrays under other names (written with :func:`write_model`) are ignored.
    """
    kind = header.get("kind")
    if kind not in kinds:
        raise _bad_file(f"{where} holds a {_short(kind)} model, not "
                        f"{' or '.join(map(repr, kinds))}",
                        "xpnet.load_params reads the files of save_params ('params'), "
                        "xpnet.load those of an estimator's save, read_model any xpnet file")
    layer_dims = _field(header, "layer_dims", list, where)
    dtype = _field(header, "dtype", str, where)
    _field(header, "metadata", dict, where)
    if len(layer_dims) < 2 or not all(type(n) is int and n >= 1 for n in layer_dims):
        raise _bad_file(f"{where}: the header's layer_dims must be at least 2 positive "
                        f"ints, got {_short(layer_dims)}")
    if dtype not in PARAM_DTYPES:
        raise _bad_file(f"{where}: the header's dtype must be one of {PARAM_DTYPES}, "
                        f"got {_short(dtype)}")
    params = {key: a for key, a in arrays.items() if _PARAM_KEY.fullmatch(key)}
    try:
        found = layer_dims_of(params)
    except (ValueError, TypeError) as exc:
        raise _bad_file(f"{where}: its arrays do not form a network: {str(exc)[:300]}") from exc
    if found != layer_dims:
        raise _bad_file(f"{where}: its arrays have layer_dims {_short(found)} but the header "
                        f"says {_short(layer_dims)}")
    wrong = {key: str(a.dtype) for key, a in params.items() if a.dtype != np.dtype(dtype)}
    if wrong:
        raise _bad_file(f"{where}: the header says dtype {dtype} but the arrays are "
                        f"{_short(wrong)}")
    return params


def _field(header: Mapping[str, Any], key: str, kind: type, where: Path) -> Any:
    """``header[key]``, which must be a ``kind`` (never a bool standing for an int)."""
    if key not in header:
        raise _bad_file(f"{where}: its header has no {key!r}")
    value = header[key]
    if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
        raise _bad_file(f"{where}: its header's {key!r} must be {_TYPE_NAMES[kind]}, "
                        f"not {type(value).__name__} {_short(value)}")
    return value
