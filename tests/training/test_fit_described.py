"""fit and model files: continuing a file's parameters (its activations and standardisation),
and the description fit gives a new network."""

import numpy as np
import pytest

import xpnet
from conftest import load_backend
from xpnet.datasets import make_moons
from xpnet.parameters import network_layout

X_MOONS, Y_MOONS = make_moons(120, noise=0.15, seed=0)
MEAN, SCALE = [0.5, 0.25], [0.9, 0.5]
OPTIONS = dict(epochs=6, lr=0.3, batch_size=32, seed=5, verbose=0)


def saved_model(tmp_path, hidden="tanh", **description):
    """A trained [2, 6, 1] network saved with ``hidden`` (None: a plain dict of its arrays,
    saved without its activations)."""
    params, _ = xpnet.fit(X_MOONS, Y_MOONS, [2, 6, 1], epochs=3, hidden=hidden or "tanh",
                          verbose=0)
    if hidden is None:
        params = dict(params)
    return xpnet.save_params(tmp_path / "model.npz", params, hidden=hidden, **description)


def assert_same_weights(got, expected):
    assert sorted(got) == sorted(expected)
    for key in expected:
        np.testing.assert_allclose(xpnet.to_numpy(got[key]), xpnet.to_numpy(expected[key]),
                                   rtol=1e-12, atol=1e-14)


def test_fit_continues_a_loaded_model_with_the_activation_its_file_records(xp, tmp_path):
    path = saved_model(tmp_path, hidden="tanh")
    loaded, _ = xpnet.load_params(path, backend=xp)
    told, _ = xpnet.load_params(path, backend=xp)
    out, _ = xpnet.fit(X_MOONS, Y_MOONS, [2, 6, 1], params=loaded, backend=xp, **OPTIONS)
    expected, _ = xpnet.fit(X_MOONS, Y_MOONS, [2, 6, 1], params=dict(told), hidden="tanh",
                            backend=xp, **OPTIONS)
    assert_same_weights(out, expected)
    assert out.description["hidden"] == "tanh"
    np.testing.assert_array_equal(xpnet.to_numpy(xpnet.predict(X_MOONS, out)),
                                  xpnet.to_numpy(xpnet.predict(X_MOONS, expected, hidden="tanh")))


@pytest.mark.parametrize("named", [dict(hidden="sigmoid"), dict(output="identity")])
def test_fit_refuses_an_activation_that_contradicts_the_model_file(tmp_path, named):
    loaded, _ = xpnet.load_params(saved_model(tmp_path, hidden="tanh", output="sigmoid"),
                                  backend="numpy")
    before = {key: value.copy() for key, value in loaded.items()}
    (name, given), = named.items()
    with pytest.raises(ValueError, match=rf"{name}='{given}' contradicts the model file.*"
                                         rf"{name}='(tanh|sigmoid)'"):
        xpnet.fit(X_MOONS, Y_MOONS, [2, 6, 1], params=loaded, **named, **OPTIONS)
    assert_same_weights(loaded, before)


def test_fit_records_the_activation_it_trained_with_where_the_file_named_none(tmp_path):
    loaded, _ = xpnet.load_params(saved_model(tmp_path, hidden=None), backend="numpy")
    assert loaded.description["hidden"] is None
    with pytest.warns(UserWarning, match="does not record the output activation"):
        out, _ = xpnet.fit(X_MOONS, Y_MOONS, [2, 6, 1], params=loaded, hidden="tanh", **OPTIONS)
    assert out.description["hidden"] == "tanh" and out.description["output"] == "sigmoid"
    np.testing.assert_array_equal(xpnet.predict(X_MOONS, out),
                                  xpnet.predict(X_MOONS, dict(out), hidden="tanh"))


@pytest.mark.parametrize("validation", ["data", "split"])
def test_fit_trains_a_standardised_model_on_its_standardisation_of_raw_x(xp, tmp_path,
                                                                         validation):
    preprocessing = {"standardize": {"mean": MEAN, "scale": SCALE}}
    path = saved_model(tmp_path, hidden="tanh", preprocessing=preprocessing)
    loaded, _ = xpnet.load_params(path, backend=xp)
    plain, _ = xpnet.load_params(path, backend=xp)
    X_std = (X_MOONS - np.reshape(MEAN, (-1, 1))) / np.reshape(SCALE, (-1, 1))
    X_val, Y_val = make_moons(40, noise=0.15, seed=1)
    X_val_std = (X_val - np.reshape(MEAN, (-1, 1))) / np.reshape(SCALE, (-1, 1))
    on_raw, on_std = ((dict(validation_data=(val, Y_val)) if validation == "data"
                       else dict(validation_split=0.25)) for val in (X_val, X_val_std))
    out, history = xpnet.fit(X_MOONS, Y_MOONS, [2, 6, 1], params=loaded, backend=xp,
                             **on_raw, **OPTIONS)
    expected, expected_history = xpnet.fit(X_std, Y_MOONS, [2, 6, 1], params=dict(plain),
                                           hidden="tanh", backend=xp, **on_std, **OPTIONS)
    assert_same_weights(out, expected)
    np.testing.assert_allclose(history.val_loss, expected_history.val_loss, rtol=1e-12)
    assert out.description["preprocessing"] == preprocessing
    np.testing.assert_array_equal(xpnet.to_numpy(xpnet.predict(X_MOONS, out)),
                                  xpnet.to_numpy(xpnet.predict(X_std, expected, hidden="tanh")))


def test_a_checkpoint_of_a_continued_model_records_the_file_s_activation(tmp_path):
    loaded, _ = xpnet.load_params(saved_model(tmp_path, hidden="tanh"), backend="numpy")
    checkpoint = tmp_path / "run.ckpt.npz"
    xpnet.fit(X_MOONS, Y_MOONS, [2, 6, 1], params=loaded, checkpoint=checkpoint, **OPTIONS)
    assert xpnet.load(checkpoint).hidden == "tanh"


def test_a_new_network_from_fit_carries_its_activations_into_its_file(tmp_path):
    params, _ = xpnet.fit(X_MOONS, Y_MOONS, [2, 6, 1], hidden="relu", **OPTIONS)
    assert (params.description["hidden"], params.description["output"]) == ("relu", "sigmoid")
    expected = xpnet.predict(X_MOONS, dict(params), hidden="relu")
    np.testing.assert_array_equal(xpnet.predict(X_MOONS, params), expected)
    path = xpnet.save_params(tmp_path / "model.npz", params)  # nothing more to say
    model = xpnet.load(path)
    assert (model.hidden, model.output) == ("relu", "sigmoid")
    np.testing.assert_array_equal(model.predict(X_MOONS), expected[0])
    np.testing.assert_array_equal(xpnet.predict(X_MOONS, xpnet.load_params(path)[0]), expected)
    trained, _ = xpnet.train(X_MOONS, Y_MOONS, [2, 6, 1], 3, 0.1, hidden="tanh")
    assert trained.description["hidden"] == "tanh"


def test_fit_hands_back_a_dict_of_the_callers_own_as_it_is():
    mine = xpnet.init_params([2, 6, 1], seed=0)
    params, _ = xpnet.fit(X_MOONS, Y_MOONS, [2, 6, 1], params=mine, hidden="relu", **OPTIONS)
    assert params is mine


def test_a_file_that_does_not_record_its_activations_warns_where_sigmoid_is_assumed(tmp_path):
    plain = dict(xpnet.fit(X_MOONS, Y_MOONS, [2, 6, 1], hidden="relu", **OPTIONS)[0])
    path = xpnet.save_params(tmp_path / "model.npz", plain)
    with pytest.warns(UserWarning, match="does not record the hidden and output activation"):
        model = xpnet.load(path)
    assert (model.hidden, model.output) == ("sigmoid", "sigmoid")
    loaded, _ = xpnet.load_params(path)  # the arrays alone: nothing assumed yet
    with pytest.warns(UserWarning, match="assuming hidden=sigmoid, output=sigmoid") as caught:
        xpnet.predict(X_MOONS, loaded)
    assert len(caught) == 1 and caught[0].filename == __file__  # once, at the caller's line
    # Named, nothing is assumed: no warning (warnings are errors in this suite).
    np.testing.assert_array_equal(xpnet.predict(X_MOONS, loaded, hidden="relu", output="sigmoid"),
                                  xpnet.predict(X_MOONS, plain, hidden="relu"))


def test_fit_s_parameters_stay_a_pytree_for_jax():
    jax = pytest.importorskip("jax")
    xp = load_backend("jax")  # (skipped where JAX cannot run)
    params, _ = xpnet.fit(X_MOONS, Y_MOONS, [2, 6, 1], hidden="relu", backend=xp,
                          dtype="float32", **OPTIONS)
    total = jax.jit(lambda p: sum(a.sum() for a in p.values()))(params)
    np.testing.assert_allclose(float(total), sum(float(a.sum()) for a in params.values()),
                               rtol=1e-5)
    doubled = jax.tree_util.tree_map(lambda a: 2 * a, params)
    assert type(doubled) is type(params) and doubled.description == params.description
    np.testing.assert_array_equal(xpnet.to_numpy(doubled["W1"]), 2 * xpnet.to_numpy(params["W1"]))


def test_the_tutorial_steps_remember_their_checks_for_fit_s_parameters():
    params, _ = xpnet.fit(X_MOONS, Y_MOONS, [2, 6, 1], hidden="relu", **OPTIONS)
    assert network_layout(params) == network_layout(dict(params)) is not None
