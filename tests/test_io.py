"""Saving and loading: round trips across backends, refused files, atomic writes."""

import importlib
import json
import os
import pickle
import re
import stat
import sys
import tempfile
import zipfile

import array_api_compat
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import xpnet
from xpnet import io
from xpnet.backend import backend_name, dtype_name
from xpnet.errors import ModelFileError, XpnetError
from xpnet.io import container, load_params, read_model, save_params, write_model

from conftest import ALL_BACKENDS, load_backend

LAYER_DIMS = [3, 5, 2]
DROP = object()  # a header value that means "leave this key out"


def make_params(layer_dims=LAYER_DIMS, dtype="float64", seed=0):
    """NumPy parameters with distinct random values (a mix-up of keys would show)."""
    rng = np.random.default_rng(seed)
    params = {}
    for l in range(1, len(layer_dims)):
        params[f"W{l}"] = rng.standard_normal((layer_dims[l], layer_dims[l - 1])).astype(dtype)
        params[f"b{l}"] = rng.standard_normal((layer_dims[l], 1)).astype(dtype)
    return params


def params_header(**changes):
    """The header save_params writes for make_params(), with ``changes`` (DROP removes a key)."""
    header = {"format": "xpnet", "format_version": 1, "xpnet_version": xpnet.__version__,
              "kind": "params", "layer_dims": LAYER_DIMS, "dtype": "float64", "metadata": {}}
    header.update(changes)
    return {key: value for key, value in header.items() if value is not DROP}


def write_npz(path, header, **arrays):
    """A hand-made .npz: ``header`` as a dict (JSON), raw bytes, or None for no header."""
    if header is not None:
        raw = header if isinstance(header, bytes) else json.dumps(header).encode()
        arrays["__header__"] = np.frombuffer(raw, dtype=np.uint8)
    with open(path, "wb") as file:  # a file object: np.savez adds no suffix
        np.savez(file, **arrays)
    return path


def assert_refused(path, match):
    with pytest.raises(ModelFileError, match=match) as info:
        load_params(path)
    assert str(path) in str(info.value)


# Round trips

@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_params_and_metadata_round_trip_exactly(tmp_path, dtype):
    params = make_params(dtype=dtype)
    metadata = {"note": "ünïcode ✓", "epochs": 3, "big": 10**30, "lr": 0.1, "tiny": 5e-324,
                "nested": {"a": [1, -2.5, None, True, False], "b": {}, "c": [[], [{}]]},
                "none": None, "flag": False}
    path = save_params(tmp_path / "model.npz", params, **metadata)
    assert path == tmp_path / "model.npz"
    loaded, loaded_metadata = load_params(path, backend="numpy")
    assert list(loaded) == ["W1", "b1", "W2", "b2"]
    for key, value in params.items():
        assert loaded[key].dtype == np.dtype(dtype)
        np.testing.assert_array_equal(loaded[key], value)
    assert loaded_metadata == metadata


@pytest.mark.parametrize("target", ALL_BACKENDS)
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_params_saved_on_one_backend_load_identically_on_another(xp, target, dtype, tmp_path):
    target_xp = load_backend(target)
    host = make_params(dtype=dtype)
    path = save_params(tmp_path / "model.npz", {k: xpnet.asarray(v, xp) for k, v in host.items()})
    loaded, _ = load_params(path, backend=target_xp)
    for key, value in host.items():
        assert backend_name(array_api_compat.array_namespace(loaded[key])) == backend_name(target_xp)
        assert dtype_name(loaded[key].dtype) == dtype
        np.testing.assert_array_equal(xpnet.to_numpy(loaded[key]), value)


def test_load_params_uses_the_selected_backend_by_default(tmp_path):
    strict = load_backend("array_api_strict")
    path = save_params(tmp_path / "model.npz", make_params())
    with xpnet.use_backend(strict):
        loaded, _ = load_params(path)
    assert array_api_compat.array_namespace(loaded["W1"]) is strict


def test_loaded_params_are_usable_for_prediction(tmp_path):
    params = make_params()
    X = np.random.default_rng(1).standard_normal((3, 7))
    path = save_params(tmp_path / "model.npz", params)
    loaded, _ = load_params(path)
    np.testing.assert_array_equal(xpnet.predict(X, loaded), xpnet.predict(X, params))


def test_metadata_may_use_the_names_path_and_params_and_tuples_come_back_as_lists(tmp_path):
    path = save_params(tmp_path / "model.npz", make_params(), path="p", params=(1, (2, 3)))
    assert load_params(path)[1] == {"path": "p", "params": [1, [2, 3]]}


plain_json = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text()
    | st.floats(allow_nan=False, allow_infinity=False),
    lambda children: st.lists(children, max_size=4)
    | st.dictionaries(st.text(max_size=8), children, max_size=4),
    max_leaves=20)


@settings(max_examples=40, deadline=None)
@given(value=plain_json)
def test_any_json_plain_metadata_round_trips(value):
    with tempfile.TemporaryDirectory() as directory:
        path = save_params(os.path.join(directory, "model.npz"), make_params(), value=value)
        assert load_params(path)[1] == {"value": value}


def test_write_model_stores_extra_array_groups_and_a_caller_header(tmp_path):
    arrays = {"W1": np.ones((2, 3), np.float32), "optimizer/m/W1": np.zeros((2, 3)),
              "optimizer/step": np.array(7, np.int64), "mask": np.array([True, False]),
              "classes": [0, 1, 2]}
    header = {"kind": "MLPClassifier", "params": {"hidden": "relu", "sizes": [4]},
              "classes": [0, 1, 2]}
    path = write_model(tmp_path / "clf.npz", arrays, header)
    read_arrays, read_header = read_model(path)
    assert set(read_arrays) == set(arrays)
    for name, value in arrays.items():
        expected = np.asarray(value)
        assert read_arrays[name].dtype == expected.dtype
        np.testing.assert_array_equal(read_arrays[name], expected)
    assert read_header == {"format": "xpnet", "format_version": io.FORMAT_VERSION,
                           "xpnet_version": xpnet.__version__, **header}


def test_write_model_takes_arrays_from_any_backend(xp, tmp_path):
    path = write_model(tmp_path / "m.npz", {"a": xpnet.asarray([[1.5, 2.0]], xp)}, {})
    np.testing.assert_array_equal(read_model(path)[0]["a"], [[1.5, 2.0]])


def test_the_file_is_written_at_exactly_the_path_given(tmp_path):
    path = save_params(str(tmp_path / "model"), make_params())
    assert path == tmp_path / "model" and os.listdir(tmp_path) == ["model"]
    assert zipfile.is_zipfile(path)
    np.testing.assert_array_equal(load_params(str(path))[0]["W1"], make_params()["W1"])


def test_a_plain_numpy_npz_reader_can_read_the_arrays(tmp_path):
    path = save_params(tmp_path / "model.npz", make_params())
    with np.load(path, allow_pickle=False) as npz:
        np.testing.assert_array_equal(npz["b2"], make_params()["b2"])
        assert json.loads(npz["__header__"].tobytes())["layer_dims"] == LAYER_DIMS


# Refused on saving: nothing is written

@pytest.mark.parametrize("value, match", [
    (np.int64(3), r"metadata\['bad'\]\[1\] is a numpy.int64"),
    ({1, 2}, r"metadata\['bad'\]\[1\] is a builtins.set"),
    (b"bytes", r"metadata\['bad'\]\[1\] is a builtins.bytes"),
    (np.zeros(2), r"metadata\['bad'\]\[1\] is a numpy.ndarray"),
    (object(), r"metadata\['bad'\]\[1\] is a builtins.object"),
    ({1: "one"}, r"metadata\['bad'\]\[1\] has the key 1"),
])
def test_metadata_that_is_not_json_plain_data_is_refused(tmp_path, value, match):
    with pytest.raises(TypeError, match=match):
        save_params(tmp_path / "model.npz", make_params(), bad=[0, value])
    assert os.listdir(tmp_path) == []


@pytest.mark.parametrize("value", [float("nan"), float("inf"), -float("inf")])
def test_non_finite_metadata_is_refused(tmp_path, value):
    with pytest.raises(ValueError, match=r"metadata\['loss'\] is .*NaN or infinity"):
        save_params(tmp_path / "model.npz", make_params(), loss=value)
    assert os.listdir(tmp_path) == []


def test_metadata_that_contains_itself_is_refused(tmp_path):
    loop = []
    loop.append(loop)
    with pytest.raises(ValueError, match="nested more than"):
        save_params(tmp_path / "model.npz", make_params(), loop=loop)


@pytest.mark.parametrize("params, error, match", [
    ([1, 2], TypeError, "params must be a dict"),
    ({"W1": [[1.0]], "b1": [[0.0]]}, TypeError, "W1 must be an array"),
    ({"W1": np.ones((2, 3))}, ValueError, "exactly W1, b1"),
    ({"W1": np.ones((2, 3), np.float32), "b1": np.ones((2, 1))}, ValueError,
     "must all be float32 or all float64"),
    ({"W1": np.ones((2, 3), np.int64), "b1": np.ones((2, 1), np.int64)}, ValueError,
     "must all be float32"),
])
def test_invalid_params_are_refused_before_writing(tmp_path, params, error, match):
    with pytest.raises(error, match=match):
        save_params(tmp_path / "model.npz", params)
    assert os.listdir(tmp_path) == []


@pytest.mark.parametrize("arrays, header, error, match", [
    ({"": np.ones(1)}, {}, ValueError, "array name '' is not allowed"),
    ({"__header__": np.ones(1)}, {}, ValueError, "not starting with '__'"),
    ({"a//b": np.ones(1)}, {}, ValueError, "array name 'a//b'"),
    ({"a b": np.ones(1)}, {}, ValueError, "array name 'a b'"),
    ({3: np.ones(1)}, {}, ValueError, "array name 3"),
    ({"o": np.array([None, 1], dtype=object)}, {}, TypeError, r"arrays\['o'\] has dtype object"),
    ({"s": np.array(["a"])}, {}, TypeError, "numbers only"),
    ([np.ones(1)], {}, TypeError, "arrays must be a dict"),
    ({}, {"format": "mine"}, ValueError, r"\['format'\] are set by xpnet"),
    ({}, {"format_version": 9}, ValueError, "set by xpnet"),
    ({}, ["kind"], TypeError, "header must be a dict"),
    ({}, {"loss": float("nan")}, ValueError, r"header\['loss'\] is nan"),
    ({}, {"big": "x" * io.MAX_HEADER_BYTES}, ValueError, "more than the 1048576"),
])
def test_write_model_refuses_bad_names_arrays_and_headers(tmp_path, arrays, header, error, match):
    with pytest.raises(error, match=match):
        write_model(tmp_path / "m.npz", arrays, header)
    assert os.listdir(tmp_path) == []


def test_a_path_of_the_wrong_type_is_refused(tmp_path):
    with pytest.raises(TypeError, match="path must be a str or os.PathLike, not int"):
        save_params(3, make_params())
    with pytest.raises(TypeError, match="path must be a str or os.PathLike"):
        load_params(None)


# Refused on loading: ModelFileError naming the file

def test_a_missing_file_raises_file_not_found_naming_it(tmp_path):
    with pytest.raises(FileNotFoundError, match="missing.npz"):
        load_params(tmp_path / "missing.npz")


def test_model_file_error_is_an_xpnet_error_and_a_value_error():
    assert issubclass(ModelFileError, XpnetError) and issubclass(ModelFileError, ValueError)


def test_a_directory_is_refused(tmp_path):
    assert_refused(tmp_path, "is a directory")


@pytest.mark.parametrize("content", [b"", b"random bytes \x00\x01\x02" * 50, b"PK\x03\x04broken"])
def test_bytes_that_are_not_a_zip_archive_are_refused(tmp_path, content):
    path = tmp_path / "model.npz"
    path.write_bytes(content)
    assert_refused(path, "not a readable zip")


def test_a_numpy_npy_file_is_refused(tmp_path):
    path = tmp_path / "model.npz"
    with open(path, "wb") as file:
        np.save(file, np.ones(3))
    assert_refused(path, "not a readable zip")


@pytest.mark.parametrize("keep", [0.5, 0.9, -1])
def test_a_truncated_file_is_refused(tmp_path, keep):
    path = save_params(tmp_path / "model.npz", make_params())
    data = path.read_bytes()
    path.write_bytes(data[:int(len(data) * keep)] if keep > 0 else data[:keep])
    assert_refused(path, "truncated")


def test_a_corrupted_array_is_refused(tmp_path):
    path = save_params(tmp_path / "model.npz", make_params())
    data = bytearray(path.read_bytes())
    position = data.index(make_params()["W2"].tobytes())  # inside W2's values
    data[position + 3] ^= 0xFF
    path.write_bytes(bytes(data))
    assert_refused(path, "damaged.*Bad CRC-32 for file 'W2.npy'")


def test_every_single_byte_corruption_is_refused_or_harmless(tmp_path):
    path = save_params(tmp_path / "model.npz", make_params([2, 2]))
    data = path.read_bytes()
    damaged = tmp_path / "damaged.npz"
    for i in range(len(data)):
        damaged.write_bytes(data[:i] + bytes([data[i] ^ 0x55]) + data[i + 1:])
        try:
            params, metadata = load_params(damaged)
        except ModelFileError:
            continue
        # Bytes that no reader checks (zip timestamps, flags): the values must be intact.
        for key, value in make_params([2, 2]).items():
            np.testing.assert_array_equal(params[key], value)


def test_a_plain_npz_without_the_xpnet_header_is_refused(tmp_path):
    path = write_npz(tmp_path / "model.npz", None, **make_params())
    assert_refused(path, "not an xpnet model file: it has no __header__")


def test_a_zip_with_other_members_is_refused(tmp_path):
    path = save_params(tmp_path / "model.npz", make_params())
    with zipfile.ZipFile(path, "a") as archive:
        archive.writestr("notes.txt", "hello")
    assert_refused(path, "member 'notes.txt' is not a .npy array")


def test_a_zip_holding_an_array_twice_is_refused(tmp_path):
    path = save_params(tmp_path / "model.npz", make_params())
    with zipfile.ZipFile(path, "a") as archive, pytest.warns(UserWarning, match="Duplicate"):
        with archive.open("W1.npy", "w") as member:
            np.lib.format.write_array(member, np.ones((5, 3)))
    assert_refused(path, "holds the array 'W1' twice")


@pytest.mark.parametrize("header, match", [
    (b"{not json", "header is not valid JSON"),
    (b"\xff\xfe{}", "header is not valid JSON"),
    (b"[" * 100_000 + b"]" * 100_000, "header is not valid JSON"),
    (b"[1, 2]", "header must be a JSON object, not list"),
    (params_header(metadata={"loss": float("nan")}), "holds NaN"),
    (json.dumps(params_header()).replace('"metadata": {}', '"metadata": {"x": 1e400}').encode(),
     "holds 1e400"),
    (params_header(format=DROP), "not an xpnet model file: its header's format is None"),
    (params_header(format="keras"), "format is 'keras', not 'xpnet'"),
    (params_header(format_version="1"), "'format_version' must be an int, not str"),
    (params_header(format_version=True), "'format_version' must be an int, not bool"),
    (params_header(format_version=DROP), "has no 'format_version'"),
    (params_header(format_version=0), "format_version 0 is not valid"),
    (params_header(format_version=2), r"written by a newer xpnet \(format 2\).*upgrade xpnet"),
    (params_header(xpnet_version=DROP), "has no 'xpnet_version'"),
    (params_header(xpnet_version=1), "'xpnet_version' must be a str"),
    (params_header(kind="MLPClassifier"), "holds a 'MLPClassifier' model, not 'params'; .*xpnet.load those of an estimator"),
    (params_header(kind=DROP), "holds a None model"),
    (params_header(layer_dims=DROP), "has no 'layer_dims'"),
    (params_header(layer_dims="352"), "'layer_dims' must be a list, not str"),
    (params_header(layer_dims=[3]), "layer_dims must be at least 2 positive ints"),
    (params_header(layer_dims=[3, 5.0, 2]), "at least 2 positive ints"),
    (params_header(layer_dims=[3, 0, 2]), "at least 2 positive ints"),
    (params_header(dtype="float16"), "dtype must be one of"),
    (params_header(dtype=64), "'dtype' must be a str, not int"),
    (params_header(metadata=[1]), "'metadata' must be a dict, not list"),
    (params_header(layer_dims=[3, 6, 2]),
     r"arrays have layer_dims \[3, 5, 2\] but the header says \[3, 6, 2\]"),
    (params_header(dtype="float32"), "header says dtype float32 but the arrays are"),
])
def test_a_bad_header_is_refused(tmp_path, header, match):
    path = write_npz(tmp_path / "model.npz", header, **make_params())
    assert_refused(path, match)


@pytest.mark.parametrize("change, match", [
    (lambda p: p.pop("b2"), "do not form a network: params must hold exactly W1, b1"),
    (lambda p: p.update(W3=np.ones((1, 2)), b3=np.ones((1, 1))), "layer_dims .* but the header says"),
    (lambda p: p.update(W2=np.ones((2, 4))), "do not form a network: params: W2 has 4 columns"),
    (lambda p: p.update(b1=np.ones((5, 2))), r"b1 shaped \(W1.shape\[0\], 1\)"),
    (lambda p: p.update(W1=p["W1"].astype(np.float32)), r"the arrays are \{'W1': 'float32'\}"),
    (lambda p: p.update(W1=np.array(["a"])), "'W1' has dtype <U1; model files hold numbers only"),
])
def test_arrays_that_do_not_match_the_header_are_refused(tmp_path, change, match):
    params = make_params()
    change(params)
    assert_refused(write_npz(tmp_path / "model.npz", params_header(), **params), match)


def test_extra_arrays_beside_the_params_are_ignored_by_load_params(tmp_path):
    path = write_npz(tmp_path / "model.npz", params_header(), **make_params(),
                     step=np.array(3))
    assert set(load_params(path)[0]) == {"W1", "b1", "W2", "b2"}


UNPICKLED = []


def _record_unpickling(tag):
    UNPICKLED.append(tag)
    return tag


class PickleTrap:
    """Unpickling one of these appends to UNPICKLED: the proof that code ran on loading."""

    def __reduce__(self):
        return _record_unpickling, ("unpickled",)


def test_object_arrays_are_refused_without_unpickling(tmp_path):
    params = make_params()
    params["W1"] = np.array([PickleTrap()], dtype=object)
    path = write_npz(tmp_path / "model.npz", params_header(), **params)
    UNPICKLED.clear()
    assert_refused(path, "'W1' has dtype object.*without unpickling")
    with pytest.raises(ModelFileError, match="dtype object"):
        read_model(path)
    assert UNPICKLED == []
    with np.load(path, allow_pickle=True) as npz:  # the trap works: a pickle-allowing reader runs it
        npz["W1"]
    assert UNPICKLED == ["unpickled"]


def test_a_pickle_file_is_refused_without_unpickling(tmp_path):
    path = tmp_path / "model.npz"
    path.write_bytes(pickle.dumps({"W1": PickleTrap()}))
    UNPICKLED.clear()
    assert_refused(path, "not a readable zip")
    assert UNPICKLED == []


def test_a_header_larger_than_the_cap_is_refused_before_reading(tmp_path):
    path = write_npz(tmp_path / "model.npz", b" " * (io.MAX_HEADER_BYTES + 1), **make_params())
    assert_refused(path, "__header__ must be at most 1048576 bytes of uint8 JSON")


def test_a_header_of_the_wrong_dtype_is_refused(tmp_path):
    path = write_npz(tmp_path / "model.npz", None, __header__=np.arange(3), **make_params())
    assert_refused(path, "__header__ must be at most .* bytes of uint8 JSON, got int64")


def test_a_file_declaring_more_than_the_size_cap_is_refused_before_loading(tmp_path, monkeypatch):
    path = save_params(tmp_path / "model.npz", make_params())
    monkeypatch.setattr(container, "MAX_TOTAL_BYTES", 500)
    monkeypatch.setattr(np, "load", pytest.fail)  # nothing may be loaded
    assert_refused(path, r"declare \d+ bytes, more than the 500 a model file may hold")


def test_raising_the_size_cap_the_refusal_names_lets_the_file_through(tmp_path, monkeypatch):
    path = save_params(tmp_path / "model.npz", make_params())
    monkeypatch.setattr(container, "MAX_TOTAL_BYTES", 500)
    with pytest.raises(ModelFileError) as info:
        load_params(path)
    module, name = re.search(r"raise (xpnet[\w.]*)\.(\w+)", str(info.value)).groups()
    monkeypatch.setattr(importlib.import_module(module), name, 1 << 20)
    np.testing.assert_array_equal(load_params(path)[0]["W1"], make_params()["W1"])


def test_an_array_declaring_more_data_than_it_holds_is_refused_before_allocating(tmp_path):
    path = tmp_path / "model.npz"
    with zipfile.ZipFile(path, "w") as archive:
        with archive.open("__header__.npy", "w") as member:
            np.lib.format.write_array(member, np.frombuffer(json.dumps(params_header()).encode(),
                                                           dtype=np.uint8))
        with archive.open("W1.npy", "w") as member:  # claims 8 TB of float64, holds 16 bytes
            np.lib.format.write_array_header_1_0(
                member, {"descr": "<f8", "fortran_order": False, "shape": (10**12,)})
            member.write(b"\x00" * 16)
    assert_refused(path, r"'W1' declares shape \(1000000000000,\) but its member holds only")


# Atomic writes

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
