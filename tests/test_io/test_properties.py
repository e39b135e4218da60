"""Properties of the model files: saving then loading is the identity, and no bytes make the
loader raise anything but its documented errors."""

import os
import tempfile

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from xpnet.errors import ModelFileError
from xpnet.io import load_params, save_params
from xpnet.parameters import layer_dims_of


@st.composite
def networks(draw):
    """Parameters of any small network, float32 or float64, with any finite values (signed
    zeros, subnormals and the extremes included; a model file holds no NaN or infinity)."""
    dims = draw(st.lists(st.integers(1, 5), min_size=2, max_size=4))
    dtype = draw(st.sampled_from([np.float32, np.float64]))
    floats = st.floats(width=np.finfo(dtype).bits, allow_nan=False, allow_infinity=False)
    params = {}
    for l in range(1, len(dims)):
        params[f"W{l}"] = draw(arrays(dtype, (dims[l], dims[l - 1]), elements=floats))
        params[f"b{l}"] = draw(arrays(dtype, (dims[l], 1), elements=floats))
    return params


def write_and_load(raw):
    """Load the bytes ``raw`` as a model file: ``(params, metadata)`` or the error raised."""
    with tempfile.TemporaryDirectory() as directory:
        path = os.path.join(directory, "model.npz")
        with open(path, "wb") as file:
            file.write(raw)
        try:
            return load_params(path, backend="numpy")
        except (ModelFileError, FileNotFoundError, OSError) as exc:
            return exc


@settings(max_examples=60, deadline=None)
@given(params=networks())
def test_saving_then_loading_gives_back_the_same_bits_shapes_and_dtypes(params):
    with tempfile.TemporaryDirectory() as directory:
        path = save_params(os.path.join(directory, "model.npz"), params, n=len(params))
        loaded, metadata = load_params(path, backend="numpy")
    assert metadata == {"n": len(params)} and list(loaded) == list(params)
    for key, value in params.items():
        assert loaded[key].dtype == value.dtype and loaded[key].shape == value.shape
        assert loaded[key].tobytes() == value.tobytes()  # bit for bit: NaNs and -0.0 too


@settings(max_examples=100, deadline=None)
@given(raw=st.binary(max_size=2048))
def test_arbitrary_bytes_are_refused_with_a_model_file_error(raw):
    assert isinstance(write_and_load(raw), ModelFileError)


def _valid_file():
    rng = np.random.default_rng(0)
    params = {"W1": rng.standard_normal((3, 2)), "b1": np.zeros((3, 1)),
              "W2": rng.standard_normal((1, 3)), "b2": np.zeros((1, 1))}
    with tempfile.TemporaryDirectory() as directory:
        path = save_params(os.path.join(directory, "model.npz"), params, note="valid")
        with open(path, "rb") as file:
            return file.read()


VALID = _valid_file()


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(changes=st.lists(st.tuples(st.integers(0, len(VALID) - 1), st.integers(0, 255)),
                        min_size=1, max_size=6),
       cut=st.none() | st.integers(0, len(VALID)))
def test_a_mutated_valid_file_loads_as_a_network_or_is_refused(changes, cut):
    raw = bytearray(VALID)
    for position, value in changes:
        raw[position] = value
    result = write_and_load(bytes(raw[:cut]))
    if isinstance(result, BaseException):
        assert isinstance(result, ModelFileError), repr(result)
    else:  # the change was harmless (padding, whitespace): what loads is still a network
        params, metadata = result
        assert len(layer_dims_of(params)) >= 2 and isinstance(metadata, dict)
