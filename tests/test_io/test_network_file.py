"""The network format: parameters and metadata round trip across backends; invalid networks and
headers that do not describe the arrays are refused."""

import os
import tempfile
import warnings

import array_api_compat
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import xpnet
from xpnet.backend import backend_name, dtype_name
from xpnet.io import load_params, save_params

from conftest import ALL_BACKENDS, load_backend, run_without_jax_64_bit_types

from .conftest import DROP, assert_refused, make_params, params_header, write_npz


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


def test_a_float64_file_is_not_silently_narrowed_on_jax_without_64_bit_types(tmp_path):
    # JAX's default mode has no float64: loading must refuse, naming the file and the fix,
    # not hand back float32 weights that predict different numbers.
    pytest.importorskip("jax")
    path, estimator = tmp_path / "model.npz", tmp_path / "estimator.npz"
    save_params(path, xpnet.init_params([2, 3, 1]))
    X = np.random.RandomState(0).rand(20, 2)
    with warnings.catch_warnings():  # a short fit: whether it converged is beside the point
        warnings.simplefilter("ignore")
        xpnet.MLPRegressor(hidden_layer_sizes=(3,), max_iter=5).fit(X, X[:, 0]).save(estimator)
    checkpoint = tmp_path / "run.ckpt.npz"
    xpnet.fit(X.T, X[:, :1].T > 0.5, [2, 3, 1], epochs=1, checkpoint=checkpoint, verbose=0,
              backend="numpy")
    code = ("import xpnet\n"
            f"for load in (lambda: xpnet.load_params({str(path)!r}, backend='jax'),\n"
            f"             lambda: xpnet.load({str(estimator)!r}, backend='jax'),\n"
            f"             lambda: xpnet.load({str(checkpoint)!r}, backend='jax')):\n"
            "    try:\n        load()\n"
            "    except ValueError as error:\n        print(error)\n")
    said = run_without_jax_64_bit_types(code)
    for file in (path, estimator):
        assert f"cannot load {file} as saved (W1 is float64)" in said
    assert f"cannot load {checkpoint} as saved" in said
    assert said.count("JAX_ENABLE_X64=1") == 3 and "backend='numpy'" in said


def test_load_params_uses_the_selected_backend_by_default(tmp_path):
    strict = load_backend("array_api_strict")
    path = save_params(tmp_path / "model.npz", make_params())
    with xpnet.use_backend(strict):
        loaded, _ = load_params(path)
    assert array_api_compat.array_namespace(loaded["W1"]) is strict


def test_loaded_params_are_usable_for_prediction(tmp_path):
    params = make_params()
    X = np.random.default_rng(1).standard_normal((3, 7))
    path = save_params(tmp_path / "model.npz", params, hidden="tanh", output="sigmoid")
    loaded, _ = load_params(path)
    np.testing.assert_array_equal(xpnet.predict(X, loaded),
                                  xpnet.predict(X, params, hidden="tanh"))


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


# Refused on loading: ModelFileError naming the file

@pytest.mark.parametrize("header, match", [
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
def test_a_bad_network_header_is_refused(tmp_path, header, match):
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


@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
def test_weights_that_are_not_finite_are_neither_saved_nor_loaded(tmp_path, bad):
    params = make_params()
    params["W2"][1, 0] = bad  # a diverged training's weights: they would predict class 0
    with pytest.raises(ValueError, match="params W2 hold NaN or infinity"):
        save_params(tmp_path / "model.npz", params)
    assert not (tmp_path / "model.npz").exists()
    path = write_npz(tmp_path / "hand_made.npz", params_header(), **params)
    assert_refused(path, "its array 'W2' holds NaN or infinity")
    with pytest.raises(xpnet.ModelFileError, match="holds NaN or infinity"):
        xpnet.load(path)


def test_predict_makes_no_prediction_from_weights_that_are_not_finite():
    params = make_params()
    params["b1"][0, 0] = np.nan
    X = np.ones((params["W1"].shape[1], 3))
    for call in (lambda: xpnet.predict(X, params, hidden="relu"),
                 lambda: xpnet.accuracy(X, np.zeros((params["W2"].shape[0], 3)), params)):
        with pytest.raises(ValueError, match="output holds NaN or infinity"):
            call()
