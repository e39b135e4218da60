"""Zip archives built byte by byte, for the io tests: entries whose sizes lie, deflate streams
that expand a thousandfold, members holding arbitrary bytes; ``zipfile`` writes none of these."""

import io
import struct
import zipfile
import zlib

import numpy as np

DEFLATED = zipfile.ZIP_DEFLATED
STORED = zipfile.ZIP_STORED


class Entry:
    """One zip entry: ``data`` as it lies in the file, and the sizes and CRC its headers claim
    (by default the true ones of stored data)."""

    def __init__(self, name, data, method=STORED, file_size=None, crc=None, compress_size=None):
        self.name, self.data, self.method = name.encode(), data, method
        self.file_size = len(data) if file_size is None else file_size
        self.compress_size = len(data) if compress_size is None else compress_size
        self.crc = zlib.crc32(data) if crc is None else crc


def zip_bytes(entries):
    """The bytes of a zip archive holding ``entries`` (a list of :class:`Entry`), in order."""
    out, directory = io.BytesIO(), []
    for entry in entries:
        offset = out.tell()
        out.write(struct.pack("<4s5H3L2H", b"PK\x03\x04", 20, 0, entry.method, 0, 33, entry.crc,
                              entry.compress_size, entry.file_size, len(entry.name), 0))
        out.write(entry.name + entry.data)
        directory.append(struct.pack("<4s6H3L5H2L", b"PK\x01\x02", 20, 20, 0, entry.method, 0,
                                     33, entry.crc, entry.compress_size, entry.file_size,
                                     len(entry.name), 0, 0, 0, 0, 0o644 << 16, offset)
                         + entry.name)
    start = out.tell()
    out.write(b"".join(directory))
    out.write(struct.pack("<4s4H2LH", b"PK\x05\x06", 0, 0, len(entries), len(entries),
                          out.tell() - start, start, 0))
    return out.getvalue()


def members(path):
    """The ``.npy`` members of the zip at ``path`` as ``{name: bytes}``, in order."""
    with zipfile.ZipFile(path) as archive:
        return {info.filename: archive.read(info) for info in archive.infolist()}


def npy_preamble(shape, descr="<f8"):
    """The start of a ``.npy`` member declaring ``shape`` of ``descr``, without its data."""
    buffer = io.BytesIO()
    np.lib.format.write_array_header_1_0(buffer, {"descr": descr, "fortran_order": False,
                                                  "shape": shape})
    return buffer.getvalue()


def deflated(data):
    """``data`` as a raw deflate stream, as a zip entry holds it."""
    compressor = zlib.compressobj(9, zlib.DEFLATED, -15)
    return compressor.compress(data) + compressor.flush()


def zeros_bomb(name, shape, chunk=4 << 20):
    """A deflated entry of a float64 array of ``shape`` holding zeros, built from one
    compressed chunk repeated (a full flush makes each chunk's block stand alone), so that a
    2 GiB array takes about 2 MiB and a fraction of a second to build. Its CRC is not
    computed (it would take seconds): a reader that checks sizes first never gets to it."""
    preamble = npy_preamble(shape)
    nbytes = int(np.prod(shape)) * 8
    assert nbytes % chunk == 0
    compressor = zlib.compressobj(9, zlib.DEFLATED, -15)
    head = compressor.compress(preamble) + compressor.flush(zlib.Z_FULL_FLUSH)
    block = compressor.compress(bytes(chunk)) + compressor.flush(zlib.Z_FULL_FLUSH)
    again = compressor.compress(bytes(chunk)) + compressor.flush(zlib.Z_FULL_FLUSH)
    assert block == again  # each chunk compresses alone: the stream may repeat it
    data = head + block * (nbytes // chunk) + compressor.flush()
    return Entry(name, data, DEFLATED, file_size=len(preamble) + nbytes, crc=0)
