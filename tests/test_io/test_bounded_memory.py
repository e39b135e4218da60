"""Reading a model file costs no more memory than the network it declares: every member's
zip entry and .npy preamble are checked against the file and its header before any array is
read, and a member that disagrees is refused naming it, without allocating its array."""

import json
import tracemalloc

import numpy as np
import pytest

import xpnet
from xpnet.errors import ModelFileError
from xpnet.io import (TrainingState, load_params, read_checkpoint, read_header,
                      read_model, save_params, write_checkpoint)

from .conftest import make_params
from .zips import DEFLATED, Entry, deflated, members, npy_preamble, zeros_bomb, zip_bytes

GIB = 1 << 30
SMALL = 8 << 20  # what any refusal or any read of these small networks may take at its peak


def checkpoint_state(params):
    return TrainingState(epoch=1, run={"hidden": "relu", "output": "sigmoid"}, params=params,
                         optimizer_arrays={f"m/{k}": a / 2 for k, a in params.items()},
                         optimizer_values={}, rng_state=np.random.RandomState(0).get_state(),
                         history={"loss": [0.5]})


LOADERS = {
    "load_params": lambda path: load_params(path, backend="numpy"),
    "xpnet.load": lambda path: xpnet.load(path, backend="numpy"),
    "read_checkpoint": lambda path: read_checkpoint(path, np),
    "read_model": read_model,
    "read_header": read_header,
}
WRITERS = {  # the kind of valid file each loader reads
    "load_params": lambda path: save_params(path, make_params()),
    "xpnet.load": lambda path: save_params(path, make_params(), hidden="relu", output="identity"),
    "read_checkpoint": lambda path: write_checkpoint(path, checkpoint_state(make_params())),
    "read_model": lambda path: save_params(path, make_params()),
    "read_header": lambda path: save_params(path, make_params()),
}


def peak_while(call):
    """``(result or the exception raised, peak bytes traced while it ran)``."""
    tracemalloc.start()
    tracemalloc.reset_peak()
    try:
        try:
            result = call()
        except Exception as exc:  # the caller checks which
            result = exc
        return result, tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def rebuilt(path, replace, name="W1.npy"):
    """The valid file at ``path`` rebuilt byte by byte, member ``name`` replaced by the
    :class:`Entry` ``replace``."""
    entries = [replace if member == name else Entry(member, data)
               for member, data in members(path).items()]
    path.write_bytes(zip_bytes(entries))
    return path


def first_array(path):
    """The first member that is a network parameter (checkpoints group theirs)."""
    return next(name for name in members(path) if name.endswith("W1.npy"))


@pytest.mark.parametrize("loader", list(LOADERS))
def test_a_two_mib_file_whose_member_expands_to_two_gib_is_refused_without_allocating(
        tmp_path, loader):
    path = WRITERS[loader](tmp_path / "model.npz")
    name = first_array(path)
    rebuilt(path, zeros_bomb(name, (GIB // 4,)), name)  # 2 GiB of float64 zeros, deflated
    assert path.stat().st_size < 3 << 20
    error, peak = peak_while(lambda: LOADERS[loader](path))
    assert isinstance(error, ModelFileError), repr(error)
    assert "model.npz" in str(error) and repr(name.removesuffix(".npy")) in str(error)
    assert "zip bomb" in str(error) and "MAX_EXPANSION" in str(error)
    assert peak < SMALL, f"{peak} bytes allocated to refuse it"


@pytest.mark.parametrize("loader", list(LOADERS))
@pytest.mark.parametrize("lie", ["stored past the end", "deflated beyond deflate"])
def test_a_zip_entry_claiming_two_gib_it_does_not_hold_is_refused_naming_the_member(
        tmp_path, loader, lie):
    path = WRITERS[loader](tmp_path / "model.npz")
    name = first_array(path)
    preamble = npy_preamble((GIB // 4,))  # 2 GiB of float64
    claimed = len(preamble) + 2 * GIB
    if lie == "stored past the end":  # its headers claim 2 GiB stored; the file holds 1 MiB
        entry = Entry(name, preamble + bytes(1 << 20), file_size=claimed, compress_size=claimed)
        words = "past the end of the file"
    else:  # the 1 KiB that deflate makes of 1 MiB of zeros cannot expand to 2 GiB
        entry = Entry(name, deflated(preamble + bytes(1 << 20)), DEFLATED, file_size=claimed,
                      crc=0)
        words = "more than deflate can"
    rebuilt(path, entry, name)
    assert path.stat().st_size < 2 << 20
    error, peak = peak_while(lambda: LOADERS[loader](path))
    assert isinstance(error, ModelFileError), repr(error)
    assert words in str(error) and repr(name.removesuffix(".npy")) in str(error), str(error)
    assert peak < SMALL


def large_w1(path, shape=(1024, 4096)):
    """Replace the network's W1 by 32 MiB of float64 (stored, honest sizes and CRC)."""
    name = first_array(path)
    data = npy_preamble(shape) + bytes(int(np.prod(shape)) * 8)
    return rebuilt(path, Entry(name, data), name)


@pytest.mark.parametrize("loader", ["load_params", "xpnet.load", "read_checkpoint"])
def test_an_array_of_another_shape_than_the_header_declares_is_refused_before_it_is_read(
        tmp_path, loader):
    path = large_w1(WRITERS[loader](tmp_path / "model.npz"))
    error, peak = peak_while(lambda: LOADERS[loader](path))
    assert isinstance(error, ModelFileError), repr(error)
    assert "model.npz" in str(error) and "W1" in str(error) and "(1024, 4096)" in str(error)
    assert peak < SMALL, f"{peak} bytes allocated to refuse a 32 MiB array"


def test_an_optimizer_array_larger_than_its_parameter_is_refused_before_it_is_read(tmp_path):
    path = write_checkpoint(tmp_path / "run.npz", checkpoint_state(make_params()))
    data = npy_preamble((1024, 4096)) + bytes(32 << 20)
    rebuilt(path, Entry("optimizer/m/W1.npy", data), "optimizer/m/W1.npy")
    error, peak = peak_while(lambda: read_checkpoint(path, np))
    assert isinstance(error, ModelFileError) and "optimizer arrays ['m/W1']" in str(error)
    assert peak < SMALL


def test_a_layer_size_the_header_disagrees_with_names_the_array(tmp_path):
    params = make_params()
    params["W2"] = np.ones((2, 5))
    path = save_params(tmp_path / "model.npz", params)
    header = read_header(path)
    header["layer_dims"] = [3, 5, 4]
    text = np.frombuffer(json.dumps(header).encode(), np.uint8)
    with open(tmp_path / "header.npy", "wb") as file:
        np.lib.format.write_array(file, text)
    rebuilt(path, Entry("__header__.npy", (tmp_path / "header.npy").read_bytes()),
            "__header__.npy")
    with pytest.raises(ModelFileError, match=r"but the header says \[3, 5, 4\] \(its array 'W2' "
                                             r"has shape \(2, 5\), not \(4, 5\)\)"):
        load_params(path)


@pytest.mark.parametrize("loader", ["load_params", "xpnet.load"])
def test_arrays_beside_the_network_are_not_read(tmp_path, loader):
    path = WRITERS[loader](tmp_path / "model.npz")
    entries = [Entry(m, data) for m, data in members(path).items()]
    entries.append(Entry("notes.npy", npy_preamble((4 << 20,)) + bytes(32 << 20)))
    path.write_bytes(zip_bytes(entries))
    result, peak = peak_while(lambda: LOADERS[loader](path))
    assert not isinstance(result, Exception), repr(result)
    assert peak < SMALL, f"{peak} bytes: the array beside the network was read"
    assert read_model(path)[0]["notes"].shape == (4 << 20,)  # read_model reads every array


def test_reading_a_valid_file_costs_about_the_network_it_declares(tmp_path):
    params = make_params([256, 1024, 10])  # 2.1 MB of float64
    path = save_params(tmp_path / "model.npz", params, hidden="relu", output="softmax")
    size = sum(a.nbytes for a in params.values())
    for load in (lambda: load_params(path, backend="numpy"), lambda: xpnet.load(path)):
        result, peak = peak_while(load)
        assert not isinstance(result, Exception), repr(result)
        assert size <= peak < size + (1 << 20), (size, peak)


def test_a_member_holding_more_bytes_than_its_shape_is_refused(tmp_path):
    path = save_params(tmp_path / "model.npz", make_params())
    rebuilt(path, Entry("W1.npy", members(path)["W1.npy"] + b"\0" * 8))
    with pytest.raises(ModelFileError, match=r"'W1' declares shape \(5, 3\) but its member "
                                             r"holds 128 bytes, not the 120"):
        load_params(path)
