"""The container: named arrays and a JSON header round trip; damaged, foreign, oversized and
pickled files are refused before any array is read."""

import importlib
import json
import os
import pickle
import re
import zipfile

import numpy as np
import pytest

import xpnet
from xpnet.errors import ModelFileError, XpnetError
from xpnet.io import container, load_params, read_model, save_params, write_model

from .conftest import DROP, LAYER_DIMS, assert_refused, make_params, params_header, write_npz

# Round trips

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
    assert read_header == {"format": "xpnet", "format_version": container.FORMAT_VERSION,
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
    ({}, {"big": "x" * container.MAX_HEADER_BYTES}, ValueError, "more than the 1048576"),
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
    (params_header(format_version=3), r"written by a newer xpnet \(format 3\).*upgrade xpnet"),
    (params_header(xpnet_version=DROP), "has no 'xpnet_version'"),
    (params_header(xpnet_version=1), "'xpnet_version' must be a str"),
])
def test_a_bad_header_is_refused(tmp_path, header, match):
    path = write_npz(tmp_path / "model.npz", header, **make_params())
    assert_refused(path, match)


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
    path = write_npz(tmp_path / "model.npz", b" " * (container.MAX_HEADER_BYTES + 1), **make_params())
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


# The header-entry check every format uses

def test_a_header_entry_may_be_one_of_several_types(tmp_path):
    where = tmp_path / "m.npz"
    assert container.header_field({"s": None}, "s", (dict, type(None)), where) is None
    with pytest.raises(ModelFileError, match=r"m.npz: its header's 's' must be a dict or None, "
                                             r"not list \[1\]; save it again"):
        container.header_field({"s": [1]}, "s", (dict, type(None)), where)


def test_a_format_may_refuse_a_header_entry_with_its_own_error(tmp_path):
    problems = []

    def refuse(problem):
        problems.append(problem)
        return ModelFileError("the format's own words")

    with pytest.raises(ModelFileError, match="^the format's own words$"):
        container.header_field({"epoch": True}, "epoch", int, tmp_path, refuse)
    with pytest.raises(ModelFileError, match="^the format's own words$"):
        container.header_field({}, "epoch", int, tmp_path, refuse)
    assert problems == ["its header's 'epoch' must be an int, not bool True",
                        "its header has no 'epoch'"]
