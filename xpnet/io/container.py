"""The container: one ``.npz`` file of named arrays plus a JSON header, no pickle.

The file is a NumPy ``.npz`` archive (an uncompressed zip of ``.npy`` members). It
holds one member per named array and, under the reserved name ``__header__``, a
JSON object encoded as a 1-D ``uint8`` array. The header is plain data only (it
never names code to import); xpnet adds its keys ``format`` (``"xpnet"``),
``format_version`` (:data:`FORMAT_VERSION`) and ``xpnet_version``. Files are read
with ``allow_pickle=False`` and only numeric arrays are accepted; the size limits
:data:`MAX_HEADER_BYTES` and :data:`MAX_TOTAL_BYTES` are read from this module.
"""

from __future__ import annotations

import contextlib
import errno
import json
import math
import os
import struct
import tokenize
import zipfile
import zlib
from collections.abc import Callable, Collection, Iterator, Mapping
from pathlib import Path
from typing import IO, Any

import array_api_compat
import numpy as np

from .._version import __version__
from ..backend import asarray, dtype_name, resolve_dtype, to_numpy
from ..errors import ModelFileError
from .archive import DAMAGED_FILE_FIX  # noqa: F401 - xpnet.io and the formats import it here
from .archive import (Member, bad_file, check_stored_size, declared, entries, read_member, short,
                      valid_name)
from .atomic import write_atomically

FORMAT_NAME = "xpnet"
FORMAT_VERSION = 2
"""The newest file format this xpnet reads and the one it writes (2: a params file
describes its model; files of format 1 still load)."""
HEADER_KEY = "__header__"
MAX_HEADER_BYTES = 1 << 20
"""A header larger than this (1 MiB of JSON) is refused, on writing and on reading."""
MAX_TOTAL_BYTES = 4 << 30
"""A file whose arrays declare more than this (4 GiB uncompressed) is refused before loading;
for a larger file you trust, raise it here (``xpnet.io.container.MAX_TOTAL_BYTES``)."""
MAX_EXPANSION = 64
"""A file whose arrays declare more than this many times its own size is refused before
loading: xpnet writes arrays uncompressed, so only a compressed member (a zip bomb)
comes near it. For a compressed file you trust, raise it here or save it again."""

_FORMAT_KEYS = ("format", "format_version", "xpnet_version")
_MAX_DEPTH = 100
# What a damaged archive raises from zipfile, zlib, json or numpy's .npy reader
# (RuntimeError: a flag bit claiming encryption; NotImplementedError: an unknown
# compression method; TokenError and SyntaxError: a .npy preamble numpy cannot parse).
_DAMAGE = (zipfile.BadZipFile, zlib.error, EOFError, ValueError, KeyError, RuntimeError,
           NotImplementedError, OverflowError, struct.error, tokenize.TokenError, SyntaxError)

_TYPE_NAMES = {int: "an int", str: "a str", list: "a list", dict: "a dict", type(None): "None"}

Array = Any
Expect = Callable[[dict[str, Any], dict[str, np.ndarray]], Collection[str]]
"""What a format expects of a file, given its header and its arrays as declared
(zero-memory stand-ins of their shapes and dtypes): it raises :class:`ModelFileError`
for arrays the header does not allow and returns the names of those to read."""


def write_model(path: str | os.PathLike, arrays: Mapping[str, Array],
                header: Mapping[str, Any]) -> Path:
    """Write named arrays (any backend, copied to the host) and a JSON header, atomically.

    Array names are letters, digits, ``_ . -``, optionally grouped with ``/``
    (``"optimizer/m/W1"``); names starting with ``__`` are xpnet's. ``header`` is
    JSON plain data (see :func:`check_plain`) and may not set xpnet's own keys
    ``format``, ``format_version``, ``xpnet_version``. The file is written exactly at
    ``path``: no ``.npz`` suffix is added (use one by convention), so
    ``save_params(p, ...)`` and ``load_params(p)`` name the same file. Returns the path
    written.
    """
    target = _as_path(path)
    host = _host_arrays(arrays)
    text = _encode_header(header)
    host = {HEADER_KEY: np.frombuffer(text, dtype=np.uint8), **host}
    write_atomically(target, lambda file: _write_npz(file, host))
    return target


def read_model(path: str | os.PathLike, expect: Expect | None = None
               ) -> tuple[dict[str, np.ndarray], dict[str, Any]]:
    """The ``(arrays, header)`` of a file written by :func:`write_model`, arrays as NumPy.

    Every member's zip entry and ``.npy`` preamble are checked before any array is read
    (see :mod:`xpnet.io.archive`), then the header is read and checked, then
    ``expect(header, declared)`` (a format's check of the declared arrays against its
    header, see :data:`Expect`) chooses the arrays to read: so a file costs no more
    memory than the arrays its format allows (``None``: all of them, at most
    :data:`MAX_TOTAL_BYTES`). The header includes xpnet's keys (``format``,
    ``format_version``, ``xpnet_version``). Raises ``FileNotFoundError`` for a missing
    file and :class:`ModelFileError` for one that is damaged, foreign or too new.
    """
    where = _as_path(path)
    if where.is_dir():
        raise bad_file(f"{where} is a directory, not an xpnet model file",
                       "give the path of a file written by save_params or est.save")
    if where.exists() and not where.is_file():  # opening a pipe would wait for a writer
        raise bad_file(f"{where} is not a regular file (a pipe, socket or device), "
                       "so not an xpnet model file",
                       "give the path of a file written by save_params or est.save")
    with open(where, "rb") as file, _damage_reported(where):
        try:
            archive = zipfile.ZipFile(file)
        except zipfile.BadZipFile as exc:
            raise bad_file(f"{where} is not an xpnet model file, or is truncated: it is "
                           f"not a readable zip (.npz) archive ({exc})") from exc
        with archive:
            members = _checked_members(archive, where, os.fstat(file.fileno()).st_size)
            header = _decode_header(read_member(archive, members.pop(HEADER_KEY), where),
                                    where)
            names = list(members) if expect is None else expect(
                header, {name: member.stand_in() for name, member in members.items()})
            arrays = {name: read_member(archive, members[name], where) for name in names}
    return arrays, header


def read_header(path: str | os.PathLike) -> dict[str, Any]:
    """The header of a model file, checked as :func:`read_model` checks it; no array is read."""
    return read_model(path, lambda header, declared: ())[1]


def _as_path(path: Any) -> Path:
    if not isinstance(path, (str, os.PathLike)):
        raise TypeError(f"path must be a str or os.PathLike, not {type(path).__name__}")
    if "\0" in os.fspath(path):
        raise ValueError(f"path {os.fspath(path)!r:.200} contains a NUL character, which no "
                         "file name can hold; remove it")
    return Path(path)


def check_plain(value: Any, where: str, depth: int = 0) -> None:
    """Raise naming ``where`` unless ``value`` is JSON plain data with finite floats.

    Plain data: None, bool, int, finite float, str, and lists/tuples/dicts (str keys)
    of those; tuples come back from a file as lists.
    """
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
            check_plain(item, f"{where}[{i}]", depth + 1)
        return
    if isinstance(value, dict):
        for key, item in value.items():
            if not isinstance(key, str):
                raise TypeError(f"{where} has the key {key!r}; JSON object keys must be str")
            check_plain(item, f"{where}[{key!r}]", depth + 1)
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
    check_plain(dict(header), "header")
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
        if not isinstance(name, str) or not valid_name(name):
            raise ValueError(f"array name {name!r} is not allowed: use letters, digits, '_', "
                             "'.', '-' and '/' between groups (not '.' or '..'), not starting "
                             "with '__'")
        array = to_numpy(value) if array_api_compat.is_array_api_obj(value) else np.asarray(value)
        if array.dtype.kind not in "biufc":
            raise TypeError(f"arrays[{name!r}] has dtype {array.dtype}; model files hold "
                            "numbers only (bool, int, float, complex)")
        host[name] = array
    return host


def _write_npz(file: IO[bytes], arrays: Mapping[str, np.ndarray]) -> None:
    # np.savez's own loop, without its parameter names (file, allow_pickle) shadowing
    # arrays of those names, and with pickling refused on writing too.
    with zipfile.ZipFile(file, mode="w", compression=zipfile.ZIP_STORED) as archive:
        for name, array in arrays.items():
            with archive.open(f"{name}.npy", mode="w", force_zip64=True) as member:
                np.lib.format.write_array(member, array, allow_pickle=False)


@contextlib.contextmanager
def _damage_reported(where: Path) -> Iterator[None]:
    try:
        yield
    except ModelFileError:
        raise
    except (*_DAMAGE, OSError) as exc:
        if isinstance(exc, OSError) and exc.errno != errno.EINVAL:
            raise  # a failing disk, not a damaged file; EINVAL is a seek to a corrupt offset
        raise bad_file(f"{where} is damaged or not an xpnet model file "
                       f"({type(exc).__name__}: {str(exc)[:200]})") from exc


def _checked_members(archive: zipfile.ZipFile, where: Path,
                     file_length: int) -> dict[str, Member]:
    """The archive's members by array name, checked before any array is read.

    Names, sizes and dtypes come from the zip directory and each ``.npy`` preamble
    (:mod:`xpnet.io.archive`): an archive that would expand to more than
    :data:`MAX_TOTAL_BYTES`, an array whose declared shape is not exactly the bytes its
    entry holds, or an entry that lies about its sizes, is refused without being read.
    """
    infos = entries(archive, where, HEADER_KEY)
    total = sum(info.file_size for info in infos.values())
    if total > MAX_TOTAL_BYTES:
        raise bad_file(f"{where}: its arrays declare {total} bytes, more than the "
                       f"{MAX_TOTAL_BYTES} a model file may hold",
                       "if you trust the file, raise xpnet.io.container.MAX_TOTAL_BYTES")
    if HEADER_KEY not in infos:
        raise bad_file(f"{where} is not an xpnet model file: it has no {HEADER_KEY} "
                       "(a plain .npz archive?)", "read plain .npz archives with numpy.load")
    members = {}
    for name, info in infos.items():
        members[name] = member = declared(archive, name, info, where)
        if name == HEADER_KEY and (member.dtype != np.uint8 or len(member.shape) != 1
                                   or member.shape[0] > MAX_HEADER_BYTES):
            raise bad_file(f"{where}: its {HEADER_KEY} must be at most {MAX_HEADER_BYTES} "
                           f"bytes of uint8 JSON, got {member.dtype} of shape "
                           f"{short(member.shape)}")
        check_stored_size(member, where, file_length)
    if total > MAX_EXPANSION * max(file_length, 1 << 16):
        largest = max(members.values(), key=lambda member: member.info.file_size)
        raise bad_file(f"{where}: its arrays declare {total} bytes (the largest, "
                       f"{largest.name!r}, {largest.info.file_size}), more than "
                       f"{MAX_EXPANSION} times the file's {file_length} bytes (a zip bomb?)",
                       "if you trust the file, save it again with xpnet, which stores arrays "
                       "uncompressed, or raise xpnet.io.container.MAX_EXPANSION")
    return members

def _decode_header(raw: np.ndarray, where: Path) -> dict[str, Any]:
    """The header's JSON, checked for xpnet's keys and a format version this xpnet reads.

    Like a header being written, it must be plain data with finite numbers, nested at
    most ``_MAX_DEPTH`` levels.
    """
    def refuse_constant(text: str) -> None:
        raise bad_file(f"{where}: its header holds {text}; a header's numbers must be finite")

    def finite_float(text: str) -> float:
        value = float(text)
        return value if math.isfinite(value) else refuse_constant(text[:80])

    try:
        header = json.loads(raw.tobytes().decode("utf-8"), parse_constant=refuse_constant,
                            parse_float=finite_float)
    except ModelFileError:
        raise
    except (ValueError, RecursionError) as exc:
        raise bad_file(f"{where}: its header is not valid JSON ({str(exc)[:200]})") from exc
    try:
        check_plain(header, "its header")
    except ValueError as exc:  # JSON holds nothing but plain data: only the depth is in doubt
        raise bad_file(f"{where}: {exc}") from exc
    if not isinstance(header, dict):
        raise bad_file(f"{where}: its header must be a JSON object, "
                       f"not {type(header).__name__}")
    if header.get("format") != FORMAT_NAME:
        raise bad_file(f"{where} is not an xpnet model file: its header's format is "
                       f"{short(header.get('format'))}, not {FORMAT_NAME!r}")
    version = header_field(header, "format_version", int, where)
    header_field(header, "xpnet_version", str, where)
    if version < 1:
        raise bad_file(f"{where}: its format_version {version} is not valid")
    if version > FORMAT_VERSION:
        raise ModelFileError(f"{where} was written by a newer xpnet (format {short(version)}); "
                             f"this xpnet {__version__} reads format {FORMAT_VERSION} or older: "
                             "upgrade xpnet")
    return header


def header_field(header: Mapping[str, Any], key: str, kind: type | tuple[type, ...], where: Path,
                 refuse: Callable[[str], ModelFileError] | None = None) -> Any:
    """``header[key]``, which must be a ``kind`` (never a bool standing for an int).

    A missing or mistyped value raises ``refuse(problem)``, by default :func:`bad_file`
    with ``where`` and the problem; each format on the container checks its header
    entries through this one function.
    """
    if key not in header:
        problem = f"its header has no {key!r}"
    else:
        value = header[key]
        # bool is an int in Python; an epoch of True is a damaged file, not epoch 1.
        if isinstance(value, kind) and not (kind is int and isinstance(value, bool)):
            return value
        names = " or ".join(_TYPE_NAMES[k] for k in (kind if isinstance(kind, tuple) else (kind,)))
        problem = f"its header's {key!r} must be {names}, not {type(value).__name__} {short(value)}"
    raise refuse(problem) if refuse else bad_file(f"{where}: {problem}")


def saved_arrays_on(xp: Any, arrays: Mapping[str, Any], where: Path) -> dict[str, Array]:
    """A file's host ``arrays`` on backend ``xp``, each in the dtype it was saved in.

    A backend without that dtype (JAX without 64-bit types) is refused, naming the file:
    converting would change the model's numbers without a word.
    """
    on_backend = {}
    for key, value in arrays.items():
        try:
            dtype = resolve_dtype(xp, value.dtype)
        except ValueError as error:
            raise ValueError(f"cannot load {where} as saved ({key} is {dtype_name(value.dtype)}): "
                             f"{error}; or load it on another backend, e.g. backend='numpy'"
                             ) from None
        on_backend[key] = asarray(value, backend=xp, dtype=dtype)
    return on_backend
