"""What the io tests share: small networks' parameters, hand-made model files and the check
that a file is refused naming it."""

import json

import numpy as np
import pytest

import xpnet
from xpnet.errors import ModelFileError
from xpnet.io import load_params


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
    header = {"format": "xpnet", "format_version": 2, "xpnet_version": xpnet.__version__,
              "kind": "params", "layer_dims": LAYER_DIMS, "dtype": "float64", "metadata": {},
              "model": dict.fromkeys(("hidden", "output", "classes", "preprocessing"))}
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
