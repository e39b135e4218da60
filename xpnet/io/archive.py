"""The zip archive under a model file: each member checked before any is read, then read
within the bounds it declared.

A model file is untrusted input. Before any array's data is read, every member's zip
entry (name, compression method, compressed and uncompressed sizes) and its ``.npy``
preamble (shape and dtype) are checked, so that the memory a read can take is known
in advance: a member is read only if its declared data is exactly what its entry
holds, that entry lies inside the file, and a compressed entry claims no more than
deflate can expand to. Reading a member checks its CRC-32, so a file spliced from two
saves or damaged on disk is refused rather than read as a mix.
"""

from __future__ import annotations

import math
import re
import stat
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from ..errors import ModelFileError

DAMAGED_FILE_FIX = "save it again with xpnet (save_params or est.save), or restore a backup"
MAX_DEFLATE_RATIO = 1032
"""Deflate cannot expand data by more than this (one 258-byte match per two bits); a
member whose zip entry claims more lies about its size and is refused unread."""

_NAME = re.compile(r"[A-Za-z0-9_.\-]+(?:/[A-Za-z0-9_.\-]+)*")
_METHODS = (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED)
_MAX_NPY_HEADER = 10_000  # numpy's own cap on a .npy preamble's dictionary
_CHUNK = 1 << 18  # bytes read at a time, as numpy reads a .npy member


def bad_file(message: str, fix: str = DAMAGED_FILE_FIX) -> ModelFileError:
    """The error for a model file that cannot be used: ``message`` names the file and the
    problem, ``fix`` says what to do."""
    return ModelFileError(f"{message}; {fix}")


def short(value: Any) -> str:
    """``repr(value)``, cut to one readable line (header values come from the file)."""
    text = repr(value)
    return text if len(text) <= 80 else text[:77] + "..."


def valid_name(name: str) -> bool:
    """Whether ``name`` is an array name a model file may hold (never a path to escape by)."""
    return (_NAME.fullmatch(name) is not None and not name.startswith("__")
            and not any(part in (".", "..") for part in name.split("/")))


@dataclass(frozen=True)
class Member:
    """One ``.npy`` member of a model file as its entry and preamble declare it."""

    name: str
    info: zipfile.ZipInfo
    shape: tuple[int, ...]
    dtype: np.dtype
    fortran_order: bool
    preamble: int  # the bytes before its data

    @property
    def nbytes(self) -> int:
        """The bytes its array takes in memory once read."""
        return math.prod(self.shape) * self.dtype.itemsize

    def stand_in(self) -> np.ndarray:
        """A read-only array of the declared shape and dtype that takes no memory (all its
        elements are one zero): for checking shapes against a header before reading."""
        return np.broadcast_to(np.zeros((), dtype=self.dtype), self.shape)


def entries(archive: zipfile.ZipFile, where: Path, reserved: str) -> dict[str, zipfile.ZipInfo]:
    """The archive's zip entries by array name, their names checked.

    Names must be array names xpnet writes, or ``reserved`` (so none holds ``..``, an
    absolute path or a drive), none a symbolic link, none twice, although nothing is
    ever extracted to disk.
    """
    found: dict[str, zipfile.ZipInfo] = {}
    for info in archive.infolist():
        name = info.filename.removesuffix(".npy")
        if name == info.filename:
            raise bad_file(f"{where} is not an xpnet model file: its member "
                           f"{short(info.filename)} is not a .npy array")
        if name != reserved and not valid_name(name):
            raise bad_file(f"{where} is not an xpnet model file: its member "
                           f"{short(info.filename)} is not a valid array name (a path?)")
        if stat.S_ISLNK(info.external_attr >> 16):
            raise bad_file(f"{where} is not an xpnet model file: its member "
                           f"{short(info.filename)} is a symbolic link")
        if name in found:
            raise bad_file(f"{where} is damaged: it holds the array {name!r} twice")
        found[name] = info
    return found


def declared(archive: zipfile.ZipFile, name: str, info: zipfile.ZipInfo,
             where: Path) -> Member:
    """The member ``name`` as its ``.npy`` preamble declares it, read without its data, with
    the dtype checked to be numeric (nothing is ever unpickled)."""
    if info.compress_type not in _METHODS:  # before opening: zipfile would raise for some
        raise bad_file(f"{where} is damaged or not an xpnet model file: its member "
                       f"{short(info.filename)} uses zip compression method "
                       f"{info.compress_type}, not stored or deflated")
    with archive.open(info) as member:
        version = np.lib.format.read_magic(member)
        if version not in ((1, 0), (2, 0)):
            raise bad_file(f"{where}: the array {info.filename!r} uses .npy format "
                           f"{version}, which model files do not use")
        read_header = (np.lib.format.read_array_header_1_0 if version == (1, 0)
                       else np.lib.format.read_array_header_2_0)
        shape, fortran_order, dtype = read_header(member, max_header_size=_MAX_NPY_HEADER)
        preamble = member.tell()
    if dtype.hasobject or dtype.kind not in "biufc":
        raise bad_file(f"{where}: the array {name!r} has dtype {dtype}; model files "
                       "hold numbers only (refused without unpickling anything)")
    found = Member(name, info, tuple(shape), dtype, fortran_order, preamble)
    data = info.file_size - preamble
    if found.nbytes != data:
        holds = f"only {data}" if found.nbytes > data else f"{data}"
        raise bad_file(f"{where} is damaged: the array {name!r} declares shape "
                       f"{short(found.shape)} but its member holds {holds} bytes, not the "
                       f"{found.nbytes} of that shape of {dtype}")
    return found


def check_stored_size(member: Member, where: Path, file_length: int) -> None:
    """Refuse a member whose zip entry lies about its sizes: its compressed bytes must lie
    inside the file, a stored member's sizes agree, and a deflated one claim no more than
    :data:`MAX_DEFLATE_RATIO` times its compressed size."""
    info = member.info
    if info.header_offset + info.compress_size > file_length:
        problem = (f"claims {info.compress_size} bytes from offset {info.header_offset}, "
                   f"past the end of the file ({file_length} bytes; truncated?)")
    elif info.compress_type == zipfile.ZIP_STORED and info.compress_size != info.file_size:
        problem = (f"is stored (not compressed) but claims {info.compress_size} bytes in "
                   f"the file and {info.file_size} once read")
    elif info.file_size > MAX_DEFLATE_RATIO * info.compress_size + 1024:
        problem = (f"claims to expand from {info.compress_size} to {info.file_size} bytes, "
                   f"more than deflate can ({MAX_DEFLATE_RATIO} times)")
    else:
        return
    raise bad_file(f"{where} is damaged: the zip entry of the array {member.name!r} {problem}")


def read_member(archive: zipfile.ZipFile, member: Member, where: Path) -> np.ndarray:
    """The array of ``member`` (checked by :func:`declared`), of exactly the shape and dtype
    checked then: its preamble is skipped, not parsed again, so a file changed in place
    meanwhile cannot make the read allocate more. The whole entry is read, so that zipfile
    checks its CRC-32 at the end."""
    data = bytearray(member.nbytes)
    with archive.open(member.info) as source:
        source.seek(member.preamble)
        view, done = memoryview(data), 0
        while done < len(data):
            chunk = source.read(min(len(data) - done, _CHUNK))
            if not chunk:
                raise bad_file(f"{where} is damaged or truncated: the array {member.name!r} "
                               f"ends after {done} of its {len(data)} bytes")
            view[done:done + len(chunk)] = chunk
            done += len(chunk)
        if source.read(1):
            raise bad_file(f"{where} is damaged: the array {member.name!r} is followed by "
                           "data it does not declare")
    array = np.frombuffer(data, dtype=member.dtype)
    if member.fortran_order:
        return array.reshape(member.shape[::-1]).transpose()
    return array.reshape(member.shape)
