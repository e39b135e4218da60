"""Hostile model files: what load_params, xpnet.load and read_model make of files that are
damaged, foreign, malicious or oversized, and what a save leaves behind when the disk, the
directory or the process fails under it.

Each row of a table is one hostile input; its expected outcome is an error type and the
words its message must hold: the file's name and a word of what to do.
"""

import errno
import functools
import io as bytes_io
import json
import os
import pathlib
import pickle
import signal
import stat
import subprocess
import sys
import tempfile
import textwrap
import warnings
import zipfile

import numpy as np
import pytest

import xpnet
from xpnet.errors import ModelFileError
from xpnet.io import container, load_params, read_model, save_params

NAME = "model.npz"
FIX = "save it again"  # what every damaged-file message says to do
LAYER_DIMS = [3, 4, 2]


def make_params(seed=0, layer_dims=LAYER_DIMS):
    rng = np.random.default_rng(seed)
    return {key: rng.standard_normal(shape)
            for l in range(1, len(layer_dims))
            for key, shape in ((f"W{l}", (layer_dims[l], layer_dims[l - 1])),
                               (f"b{l}", (layer_dims[l], 1)))}


@functools.cache
def estimator_file_bytes():
    """The bytes of a small fitted MLPClassifier's file (fitted once per test run)."""
    rng = np.random.RandomState(0)
    X = rng.randn(30, 3)
    model = xpnet.MLPClassifier(hidden_layer_sizes=(4,), max_iter=3, random_state=0,
                                backend="numpy").fit(X, (X[:, 0] > 0).astype(int))
    with tempfile.TemporaryDirectory() as directory:
        return model.save(pathlib.Path(directory) / NAME).read_bytes()


def write_params_file(path):
    return save_params(path, make_params(), note="the file before")


def write_estimator_file(path):
    path.write_bytes(estimator_file_bytes())
    return path


LOADERS = {
    "load_params": (load_params, write_params_file),
    "xpnet.load": (xpnet.load, write_estimator_file),
    "read_model": (read_model, write_params_file),
}
NETWORK_LOADERS = ["load_params", "xpnet.load"]  # read_model does not check the network


@pytest.fixture
def model_file(request, tmp_path):
    """(loader, path of a valid file of its kind): the test damages the file, then loads it."""
    load, write = LOADERS[request.param]
    return load, write(tmp_path / NAME)


# ---- building hostile files -------------------------------------------------------------------

def npy(array, version=None):
    buffer = bytes_io.BytesIO()
    np.lib.format.write_array(buffer, np.asanyarray(array), version=version, allow_pickle=True)
    return buffer.getvalue()


def members(path):
    """The archive's members as ``{name: bytes}``, in order."""
    with zipfile.ZipFile(path) as archive:
        return {info.filename: archive.read(info) for info in archive.infolist()}


def write_zip(path, entries, compression=zipfile.ZIP_STORED):
    """Write ``entries`` (``{name or ZipInfo: bytes}``) as the whole archive at ``path``."""
    with zipfile.ZipFile(path, "w", compression=compression) as archive:
        for name, data in entries.items():
            archive.writestr(name, data)


def header_of(path):
    return json.loads(np.load(bytes_io.BytesIO(members(path)["__header__.npy"])).tobytes())


def with_raw_header(raw):
    """A change that replaces the file's header with the bytes ``raw``."""
    def change(path):
        entries = members(path)
        entries["__header__.npy"] = npy(np.frombuffer(raw, dtype=np.uint8))
        write_zip(path, entries)
    return change


def with_header_text(edit):
    """A change that applies ``edit(text)`` to the JSON text of the file's header."""
    def change(path):
        text = np.load(bytes_io.BytesIO(members(path)["__header__.npy"])).tobytes().decode()
        with_raw_header(edit(text).encode())(path)
    return change


def with_header(edit):
    """A change that applies ``edit(header)`` (in place) to the file's JSON header."""
    def change(path):
        header = header_of(path)
        edit(header)
        with_raw_header(json.dumps(header).encode())(path)
    return change


def with_arrays(edit):
    """A change that applies ``edit(arrays)`` (in place) to the file's arrays, header kept."""
    def change(path):
        entries = members(path)
        arrays = {name.removesuffix(".npy"): np.load(bytes_io.BytesIO(data))
                  for name, data in entries.items() if name != "__header__.npy"}
        edit(arrays)
        write_zip(path, {"__header__.npy": entries["__header__.npy"],
                         **{f"{name}.npy": npy(a) for name, a in arrays.items()}})
    return change


def with_members(edit):
    """A change that applies ``edit(entries)`` to the ``{name: bytes}`` of the archive."""
    def change(path):
        entries = members(path)
        edit(entries)
        write_zip(path, entries)
    return change


def renamed(old, new):
    return with_members(lambda entries: entries.update({new: entries.pop(old)}))


def replaced_by(data):
    def change(path):
        path.write_bytes(data)
    return change


def truncated(keep):
    def change(path):
        raw = path.read_bytes()
        path.write_bytes(raw[:keep(len(raw))])
    return change


def bit_flipped_in_array_data(path):
    raw = bytearray(path.read_bytes())
    data = read_model(path)[0]["W1"].tobytes()
    raw[raw.find(data) + len(data) // 2] ^= 0x10
    path.write_bytes(bytes(raw))


def npy_preamble(descr, shape):
    """The start of a .npy member declaring ``shape`` of ``descr``, without its data."""
    buffer = bytes_io.BytesIO()
    np.lib.format.write_array_header_1_0(
        buffer, {"descr": descr, "fortran_order": False, "shape": shape})
    return buffer.getvalue()


def duplicate_member(path):
    entries = members(path)
    with zipfile.ZipFile(path, "w") as archive, warnings.catch_warnings():
        warnings.simplefilter("ignore")  # zipfile warns about the duplicate name it writes
        for name, data in [*entries.items(), ("W1.npy", entries["W1.npy"])]:
            archive.writestr(name, data)


def symlink_member(path):
    entries = members(path)
    info = zipfile.ZipInfo("W1.npy")
    info.external_attr = (stat.S_IFLNK | 0o777) << 16
    entries["W1.npy"] = b"/etc/passwd"
    write_zip(path, {(info if name == "W1.npy" else name): data for name, data in entries.items()})


def unknown_compression_method(path):
    raw = bytearray(path.read_bytes())
    # compression method 99 (AES) in the local header and the central directory entry of W1.npy
    for signature in (b"PK\x03\x04", b"PK\x01\x02"):
        start = 0
        while (at := raw.find(signature, start)) >= 0:
            name_at = at + (30 if signature == b"PK\x03\x04" else 46)
            if raw[name_at:name_at + 6] == b"W1.npy":
                field = at + (8 if signature == b"PK\x03\x04" else 10)
                raw[field:field + 2] = (99).to_bytes(2, "little")
            start = at + 4
    path.write_bytes(bytes(raw))


def deflate_bomb(path):
    """A 32 MiB array of zeros that deflates to 32 KiB (checked under an 8 MiB cap)."""
    entries = members(path)
    entries["bomb.npy"] = npy(np.zeros(4 << 20))
    write_zip(path, entries, compression=zipfile.ZIP_DEFLATED)


def declared_5_gib(path):
    """A member that the zip directory says expands to 5 GiB (over the real 4 GiB cap)."""
    entries = members(path)
    with zipfile.ZipFile(path, "w") as archive:
        for name, data in entries.items():
            archive.writestr(name, data)
        archive.filelist[-1].file_size = 5 << 30  # written into the central directory on close


def header_of_100_mb(path):
    entries = members(path)
    size = 100 << 20
    entries["__header__.npy"] = npy_preamble("|u1", (size,)) + b" " * size
    write_zip(path, entries, compression=zipfile.ZIP_DEFLATED)


def nested(depth):
    return "[" * depth + "]" * depth


class Trap:
    """Unpickling one of these creates the file ``marker``: the proof that code ran."""

    def __init__(self, marker):
        self.marker = pathlib.Path(marker)

    def __reduce__(self):
        return pathlib.Path.touch, (self.marker,)


# ---- loading: refused without running anything ------------------------------------------------

@pytest.mark.parametrize("model_file", list(LOADERS), indirect=True)
@pytest.mark.parametrize("as_npz_member", [False, True], ids=["pickle-file", "npz-object-array"])
def test_a_pickle_is_refused_without_running_its_code(hostile, model_file, tmp_path, as_npz_member):
    load, path = model_file
    marker = tmp_path / "code-ran"
    if as_npz_member:  # a .npy member of dtype object: its data is a pickle
        with_members(lambda e: e.update({"W1.npy": npy(np.array([Trap(marker)], dtype=object))}))(
            path)
        words = (NAME, "dtype object", FIX)
    else:
        path.write_bytes(pickle.dumps({"W1": Trap(marker)}))
        words = (NAME, "not a readable zip", FIX)
    with hostile.raises(ModelFileError, *words):
        load(path)
    assert not marker.exists(), "loading the file ran the code in its pickle"
    with np.load(path, allow_pickle=True) if as_npz_member else open(path, "rb") as source:
        pickle.loads(source.read()) if not as_npz_member else source["W1"]
    assert marker.exists(), "the trap does run code where a reader unpickles it"


def case(change, *words, fix=FIX):
    """A table row: how to damage the file, and the words the error must hold (the fix last)."""
    return change, (*words, fix)


DAMAGED = {
    "empty file": case(replaced_by(b""), "not a readable zip"),
    "random bytes": case(replaced_by(np.random.default_rng(0).bytes(4096)), "not a readable zip"),
    "cut in half": case(truncated(lambda n: n // 2), "truncated"),
    "last byte cut": case(truncated(lambda n: n - 1), "truncated"),
    "only the first 40 bytes": case(truncated(lambda n: 40), "truncated"),
    "a flipped bit in an array's data": case(bit_flipped_in_array_data, "damaged"),
    "a member compressed with an unknown method": case(unknown_compression_method, "damaged"),
    "the same array twice": case(duplicate_member, "'W1' twice"),
    "header not JSON": case(with_raw_header(b"{kind: params"), "not valid JSON"),
    "header not UTF-8": case(with_raw_header(b"\xff\xfe{}"), "not valid JSON"),
    "header a JSON list": case(with_raw_header(b"[1, 2]"), "must be a JSON object"),
    "header with a NaN literal": case(with_header_text(
        lambda text: text.replace('"metadata": {', '"metadata": {"loss": NaN, ', 1)), "NaN"),
    "header with 1e999": case(with_header_text(
        lambda text: text.replace('"metadata": {', '"metadata": {"loss": 1e999, ', 1)), "1e999"),
    "header nested 500000 deep": case(with_raw_header(nested(500_000).encode()), "not valid JSON"),
    "header nested 200 deep (valid JSON)": case(
        with_header(lambda h: h.update(deep=json.loads(nested(200)))), "nested more than 100"),
    "header of 100 MB": case(header_of_100_mb, "__header__ must be at most 1048576"),
    "header of the wrong dtype": case(
        with_members(lambda e: e.update({"__header__.npy": npy(np.arange(3))})), "uint8 JSON"),
    "header missing": case(with_members(lambda e: e.pop("__header__.npy")), "no __header__",
                           fix="numpy.load"),
    "format_version missing": case(with_header(lambda h: h.pop("format_version")),
                                   "has no 'format_version'"),
    "format_version true": case(with_header(lambda h: h.update(format_version=True)),
                                "'format_version' must be an int"),
    "format_version 0": case(with_header(lambda h: h.update(format_version=0)), "not valid"),
    "a future format version": case(with_header(lambda h: h.update(format_version=99)),
                                    "newer xpnet (format 99)", fix="upgrade xpnet"),
    "a foreign format name": case(with_header(lambda h: h.update(format="pickle")),
                                  "format is 'pickle'"),
    "a megabyte format name": case(with_header(lambda h: h.update(format="x" * 1_000_000)),
                                   "format is 'xxx"),
    "a member that is not .npy": case(renamed("W1.npy", "W1.py"), "not a .npy array"),
    "a member named ../W1.npy": case(renamed("W1.npy", "../W1.npy"), "'../W1.npy'", "not a valid"),
    "a member named a/../../W1.npy": case(renamed("W1.npy", "a/../../W1.npy"), "not a valid"),
    "a member with an absolute path": case(renamed("W1.npy", "/tmp/W1.npy"), "'/tmp/W1.npy'"),
    "a member with a drive": case(renamed("W1.npy", "C:/W1.npy"), "'C:/W1.npy'"),
    "a member named __init__.npy": case(renamed("W1.npy", "__init__.npy"), "not a valid"),
    "a member that is a symlink": case(symlink_member, "symbolic link"),
    "an array of .npy format 3": case(
        with_members(lambda e: e.update({"W1.npy": npy(np.ones((4, 3)), version=(3, 0))})),
        "format (3, 0)"),
    "an array declaring 8 TB": case(
        with_members(lambda e: e.update({"W1.npy": npy_preamble("<f8", (10**12,)) + bytes(16)})),
        "declares shape (1000000000000,)"),
    "a member declared 5 GiB in the zip directory": case(
        declared_5_gib, "declare 5368", fix="MAX_TOTAL_BYTES"),
}


@pytest.mark.parametrize("model_file", list(LOADERS), indirect=True)
@pytest.mark.parametrize("case", list(DAMAGED))
def test_a_damaged_or_foreign_file_is_refused_naming_it(hostile, model_file, case):
    load, path = model_file
    damage, words = DAMAGED[case]
    damage(path)
    with hostile.raises(ModelFileError, NAME, *words):
        load(path)


@pytest.mark.parametrize("model_file", list(LOADERS), indirect=True)
def test_a_deflate_bomb_is_refused_by_the_size_cap_before_it_expands(hostile, model_file,
                                                                     monkeypatch):
    load, path = model_file
    deflate_bomb(path)
    assert path.stat().st_size < 1 << 20
    monkeypatch.setattr(container, "MAX_TOTAL_BYTES", 8 << 20)
    monkeypatch.setattr(np.lib.format, "read_array", pytest.fail)  # no array may be read
    with hostile.raises(ModelFileError, NAME, "declare", "more than the 8388608",
                        "MAX_TOTAL_BYTES"):
        load(path)


def _set_kind(kind):
    return with_header(lambda h: h.update(kind=kind))


NETWORK_CASES = {
    "kind missing": (with_header(lambda h: h.pop("kind")), ("holds a None model",)),
    "kind os.system": (_set_kind("os.system"), ("'os.system'",)),
    "kind __import__('os').system('x')": (_set_kind("__import__('os').system('x')"), ("model",)),
    "kind a dict": (_set_kind({"module": "os", "name": "system"}), ("'module'",)),
    "kind a megabyte string": (_set_kind("k" * 1_000_000), ("'kkk",)),
    "layer_dims missing": (with_header(lambda h: h.pop("layer_dims")), ("no 'layer_dims'",)),
    "dtype missing": (with_header(lambda h: h.pop("dtype")), ("no 'dtype'",)),
    "metadata missing": (with_header(lambda h: h.pop("metadata")), ("no 'metadata'",)),
    "layer_dims of strings": (with_header(lambda h: h.update(layer_dims=["3", "4"])),
                              ("positive ints",)),
    "layer_dims a million long": (with_header(lambda h: h.update(layer_dims=[1] * 200_000)),
                                  ("but the header says [1, 1",)),
    "layer_dims that disagree with the arrays": (
        with_header(lambda h: h.update(layer_dims=[h["layer_dims"][0] + 1, *h["layer_dims"][1:]])),
        ("but the header says",)),
    "dtype float32 over float64 arrays": (with_header(lambda h: h.update(dtype="float32")),
                                          ("header says dtype float32",)),
    "dtype object": (with_header(lambda h: h.update(dtype="object")), ("dtype must be one of",)),
    "one array of another dtype": (with_arrays(lambda a: a.update(W1=a["W1"].astype(np.float32))),
                                   ("float32",)),
    "an integer array": (with_arrays(lambda a: a.update(b1=a["b1"].astype(np.int64))),
                         ("int64",)),
    "a missing array": (with_arrays(lambda a: a.pop("b2")), ("do not form a network",)),
    "an extra layer": (with_arrays(lambda a: a.update(W3=np.ones((2, len(a["b2"]))),
                                                      b3=np.ones((2, 1)))),
                       ("layer_dims", "but the header says")),
    "a transposed weight": (with_arrays(lambda a: a.update(W2=a["W2"].T.copy())),
                            ("do not form a network",)),
    "a bias of the wrong shape": (with_arrays(lambda a: a.update(b1=a["b1"].ravel())),
                                  ("do not form a network",)),
}


@pytest.mark.parametrize("model_file", NETWORK_LOADERS, indirect=True)
@pytest.mark.parametrize("case", list(NETWORK_CASES))
def test_a_header_that_disagrees_with_the_network_is_refused(hostile, model_file, case,
                                                            monkeypatch):
    load, path = model_file
    change, words = NETWORK_CASES[case]
    change(path)
    calls = []
    monkeypatch.setattr(os, "system", lambda *args: calls.append(args))
    fix = "xpnet.load_params reads" if "kind" in case else FIX
    with hostile.raises(ModelFileError, NAME, *words, fix):
        load(path)
    assert calls == [], "a header's kind was run as code"


@pytest.mark.parametrize("model_file", NETWORK_LOADERS, indirect=True)
def test_an_extra_array_beside_the_network_is_ignored(hostile, model_file):
    load, path = model_file
    with_arrays(lambda a: a.update(notes=np.arange(5)))(path)
    result = load(path)
    params = result[0] if isinstance(result, tuple) else result.params_
    assert sorted(params) == ["W1", "W2", "b1", "b2"]
    hostile.handled()


def _set_setting(**settings):
    return with_header(lambda h: h["metadata"]["settings"].update(settings))


ESTIMATOR_SETTINGS = {
    "backend os.system": (_set_setting(backend="os.system"), ("unknown backend",)),
    "hidden sizes of text": (_set_setting(hidden_layer_sizes=["abc"]), ("hidden_layer_sizes",)),
    "an unknown setting": (_set_setting(run_this="os.system('x')"), ("run_this",)),
    "settings a list": (with_header(lambda h: h["metadata"].update(settings=["a"])), ("settings",)),
    "settings missing": (with_header(lambda h: h["metadata"].pop("settings")), ("settings",)),
    "fitted state missing": (with_header(lambda h: h["metadata"].pop("fitted")), ("fitted",)),
}


@pytest.mark.parametrize("case", list(ESTIMATOR_SETTINGS))
def test_an_estimator_file_with_bad_settings_is_refused_naming_it(hostile, tmp_path, case,
                                                                monkeypatch):
    path = write_estimator_file(tmp_path / NAME)
    change, words = ESTIMATOR_SETTINGS[case]
    change(path)
    calls = []
    monkeypatch.setattr(os, "system", lambda *args: calls.append(args))
    with hostile.raises(ModelFileError, NAME, *words, "save the estimator again"):
        xpnet.load(path)
    assert calls == []


# ---- paths that are not model files ------------------------------------------------------------

def _fifo(tmp_path):
    os.mkfifo(tmp_path / NAME)  # opening it for reading would wait for a writer for ever
    return tmp_path / NAME


def _symlink_loop(tmp_path):
    os.symlink(NAME, tmp_path / NAME)
    return tmp_path / NAME


PATHS = {
    "a directory": (lambda t: (t / NAME).mkdir() or t / NAME, ModelFileError,
                    (NAME, "is a directory", "save_params")),
    "the empty path": (lambda t: "", ModelFileError, ("is a directory", "save_params")),
    "a FIFO": (_fifo, ModelFileError, (NAME, "not a regular file", "save_params")),
    "/dev/zero": (lambda t: "/dev/zero", ModelFileError, ("/dev/zero", "not a regular file")),
    "/dev/null": (lambda t: "/dev/null", ModelFileError, ("/dev/null", "not a regular file")),
    "a missing file": (lambda t: t / NAME, FileNotFoundError, (NAME, "No such file")),
    "a symlink loop": (_symlink_loop, OSError, (NAME, "symbolic links")),
    "a NUL in the path": (lambda t: f"{t}/model\0.npz", ValueError, ("path", "NUL", "remove it")),
    "bytes": (lambda t: bytes(t / NAME), TypeError, ("path must be a str or os.PathLike",)),
    "None": (lambda t: None, TypeError, ("path must be a str or os.PathLike",)),
}


@pytest.mark.parametrize("loader", list(LOADERS))
@pytest.mark.parametrize("case", list(PATHS))
def test_a_path_that_is_not_a_model_file_is_refused_naming_it(hostile, tmp_path, loader, case,
                                                              monkeypatch):
    make, error, words = PATHS[case]
    path = make(tmp_path)
    monkeypatch.chdir(tmp_path)
    with hostile.raises(error, *words):
        LOADERS[loader][0](path)


@pytest.mark.parametrize("loader", list(LOADERS))
def test_a_symlink_to_a_model_file_loads(hostile, tmp_path, loader):
    load, write = LOADERS[loader]
    write(tmp_path / "real.npz")
    os.symlink("real.npz", tmp_path / NAME)
    assert load(tmp_path / NAME) is not None
    hostile.handled()


# ---- saving: failures leave the previous file and nothing else -----------------------------------

def _fail_with(err, after_bytes=None):
    """A replacement that raises OSError(err) (after writing ``after_bytes`` of an array)."""
    def fail(*args, **kwargs):
        if after_bytes is not None:
            args[0].write(b"\x93NUMPY" + b"\0" * after_bytes)
        raise OSError(err, os.strerror(err))
    return fail


SAVE_FAILURES = {
    "full disk mid-write": ("numpy.lib.format.write_array", _fail_with(errno.ENOSPC, 4096),
                            errno.ENOSPC, "No space left"),
    "full disk on fsync": ("os.fsync", _fail_with(errno.ENOSPC), errno.ENOSPC, "No space left"),
    "read-only directory": ("tempfile.NamedTemporaryFile", _fail_with(errno.EACCES),
                            errno.EACCES, "Permission denied"),
    "read-only file system": ("tempfile.NamedTemporaryFile", _fail_with(errno.EROFS),
                              errno.EROFS, "Read-only file system"),
    "I/O error on rename": ("os.replace", _fail_with(errno.EIO), errno.EIO, "Input/output error"),
    "quota exceeded mid-write": ("numpy.lib.format.write_array", _fail_with(errno.EDQUOT, 10),
                                 errno.EDQUOT, "quota"),
}


@pytest.mark.parametrize("case", list(SAVE_FAILURES))
def test_a_failing_save_raises_naming_the_file_and_keeps_the_previous_one(hostile, tmp_path,
                                                                          monkeypatch, case):
    target, replacement, err, reason = SAVE_FAILURES[case]
    path = write_params_file(tmp_path / NAME)
    before = hostile.snapshot(path)
    monkeypatch.setattr(target, replacement)
    with hostile.raises(OSError, NAME, reason, "free disk space") as info:
        save_params(path, make_params(seed=1), note="the file after")
    monkeypatch.undo()
    assert info.value.errno == err
    hostile.intact(path, before)
    assert os.listdir(tmp_path) == [NAME], "a temporary file was left behind"
    assert load_params(path)[1] == {"note": "the file before"}


@pytest.mark.skipif(not hasattr(os, "geteuid") or os.geteuid() == 0,
                    reason="POSIX permissions, which root ignores")
def test_a_save_into_a_really_read_only_directory_raises_and_leaves_nothing(hostile, tmp_path):
    directory = tmp_path / "read-only"
    directory.mkdir()
    path = write_params_file(directory / NAME)
    before = hostile.snapshot(path)
    directory.chmod(stat.S_IRUSR | stat.S_IXUSR)
    try:
        with hostile.raises(PermissionError, NAME, "Permission denied", "another path"):
            save_params(path, make_params(seed=1))
    finally:
        directory.chmod(stat.S_IRWXU)
    hostile.intact(path, before)
    assert os.listdir(directory) == [NAME]


SAVE_PATHS = {
    "a directory": (lambda t: (t / NAME).mkdir() or t / NAME, IsADirectoryError,
                    (NAME, "Is a directory", "another path")),
    "a missing directory": (lambda t: t / "nowhere" / NAME, FileNotFoundError,
                            ("nowhere", "does not exist", "create it")),
    "a NUL in the path": (lambda t: f"{t}/model\0.npz", ValueError, ("path", "NUL", "remove it")),
    "a file as the directory": (lambda t: t.joinpath("file").touch() or t / "file" / NAME,
                                NotADirectoryError, ("file", "not a directory", "another path")),
    "a name of 256 characters": (lambda t: t / ("m" * 252 + ".npz"), OSError,
                                 ("mmmm.npz", "File name too long", "another path")),
}


@pytest.mark.parametrize("case", list(SAVE_PATHS))
def test_a_save_to_a_path_that_cannot_hold_a_file_is_refused_naming_it(hostile, tmp_path, case):
    make, error, words = SAVE_PATHS[case]
    path = make(tmp_path)
    before = sorted(p.name for p in tmp_path.rglob("*"))
    with hostile.raises(error, *words):
        save_params(path, make_params())
    assert sorted(p.name for p in tmp_path.rglob("*")) == before


def test_a_save_to_a_name_of_255_characters_works(hostile, tmp_path):
    path = tmp_path / ("m" * 251 + ".npz")  # the temporary file's longer name must still fit
    save_params(path, make_params(), note="long")
    assert load_params(path)[1] == {"note": "long"}
    assert os.listdir(tmp_path) == [path.name]
    hostile.handled()


# ---- a save killed with SIGKILL ------------------------------------------------------------------

CHILD_PREAMBLE = textwrap.dedent("""
    import sys, time
    import numpy as np
    import xpnet
    path = sys.argv[1]
    rng = np.random.default_rng(1)
""")

PAUSED_MID_WRITE = CHILD_PREAMBLE + textwrap.dedent("""
    real_write_array = np.lib.format.write_array
    def write_then_wait(file, array, **kwargs):
        real_write_array(file, array, **kwargs)
        if array.size > 1000:  # W1 is in the temporary file, b1 not yet: wait to be killed
            print("writing", flush=True)
            time.sleep(60)
    np.lib.format.write_array = write_then_wait
    xpnet.save_params(path, {"W1": rng.standard_normal((500, 400)), "b1": np.zeros((500, 1))},
                      note="never finished")
""")

SAVING_IN_A_LOOP = CHILD_PREAMBLE + textwrap.dedent("""
    params = {"W1": rng.standard_normal((700, 700)), "b1": np.zeros((700, 1))}
    for round in range(10**6):
        xpnet.save_params(path, params, round=round)
        print(round, flush=True)
""")


def run_child(script, path):
    return subprocess.Popen([sys.executable, "-c", script, str(path)], stdout=subprocess.PIPE,
                            text=True)


def kill(child):
    os.kill(child.pid, signal.SIGKILL)
    child.wait()  # reaped: its process id no longer runs
    child.stdout.close()
    assert child.returncode == -signal.SIGKILL


def temporaries(directory):
    return sorted(name for name in os.listdir(directory) if name != NAME)


@pytest.mark.skipif(sys.platform == "win32", reason="SIGKILL is POSIX")
def test_a_save_killed_mid_write_keeps_the_old_file_and_the_next_save_clears_its_temporary(
        hostile, tmp_path):
    path = write_params_file(tmp_path / NAME)
    before = hostile.snapshot(path)
    child = run_child(PAUSED_MID_WRITE, path)
    try:
        assert child.stdout.readline() == "writing\n"
    finally:
        kill(child)
    hostile.intact(path, before)
    assert load_params(path)[1] == {"note": "the file before"}
    # A killed process cannot remove its temporary file; its name says whose it was.
    [stale] = temporaries(tmp_path)
    assert stale.startswith(f".{NAME}.xpnet-{child.pid}-") and stale.endswith(".tmp")
    save_params(path, make_params(seed=2), note="the next save")
    assert temporaries(tmp_path) == []
    assert load_params(path)[1] == {"note": "the next save"}
    hostile.handled()


@pytest.mark.skipif(sys.platform == "win32", reason="SIGKILL is POSIX")
def test_a_process_killed_while_saving_in_a_loop_leaves_a_loadable_file(hostile, tmp_path):
    path = tmp_path / NAME
    child = run_child(SAVING_IN_A_LOOP, path)
    try:
        for _ in range(3):  # let it finish a few saves, then kill it during one
            child.stdout.readline()
    finally:
        kill(child)
    params, metadata = load_params(path)
    assert params["W1"].shape == (700, 700) and metadata["round"] >= 2
    save_params(path, make_params(), note="after")
    assert temporaries(tmp_path) == []
    hostile.handled()


@pytest.mark.skipif(sys.platform == "win32", reason="process ids are probed on POSIX only")
def test_the_temporary_file_of_a_save_still_running_is_left_alone(hostile, tmp_path):
    sleeper = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        running = tmp_path / f".{NAME}.xpnet-{sleeper.pid}-abcd1234.tmp"
        running.write_bytes(b"half a save")
        not_ours = tmp_path / f".{NAME}.xpnet-notapid.tmp"
        not_ours.write_bytes(b"")
        save_params(tmp_path / NAME, make_params())
        assert running.exists() and not_ours.exists()
    finally:
        sleeper.kill()
        sleeper.wait()
    save_params(tmp_path / NAME, make_params())  # now its process is gone
    assert not running.exists() and not_ours.exists()
    hostile.handled()


