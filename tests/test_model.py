"""Models that describe themselves: a saved network predicts what it did before saving."""

import pathlib
import warnings

import numpy as np
import pytest

import xpnet
from xpnet.activations import ACTIVATIONS
from xpnet.io import container, write_network

HIDDEN = sorted(name for name, kind in ACTIVATIONS.items() if kind.hidden_layer)
OUTPUT_UNITS = {"sigmoid": 1, "softmax": 3}


def network(output, dtype, seed=0):
    n_out = OUTPUT_UNITS.get(output, 2)
    params = xpnet.init_params([4, 5, 3, n_out], seed=seed, dtype=dtype, backend="numpy",
                               scale=1.0)
    X = np.random.default_rng(seed).standard_normal((4, 40)).astype(dtype)
    return params, X


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("output", sorted(xpnet.OUTPUTS))
@pytest.mark.parametrize("hidden", HIDDEN)
def test_predictions_after_save_and_load_equal_those_before(tmp_path, hidden, output, dtype):
    params, X = network(output, dtype)
    before = xpnet.predict(X, params, hidden=hidden, output=output)
    path = xpnet.save_params(tmp_path / "m.npz", params, hidden=hidden, output=output)
    loaded, _ = xpnet.load_params(path, backend="numpy")
    after = xpnet.predict(X, loaded)  # no activations named: the file's are used
    assert after.shape == before.shape and after.dtype == before.dtype
    np.testing.assert_array_equal(after, before)
    model = xpnet.load(path, backend="numpy")
    assert (model.hidden, model.output) == (hidden, output)
    np.testing.assert_array_equal(model.output_values(X),
                                  xpnet.forward_prop(X, params, hidden=hidden, output=output)[0])


def test_a_softmax_model_predicts_class_indices_and_its_labels(tmp_path):
    params, X = network("softmax", "float64")
    path = xpnet.save_params(tmp_path / "m.npz", params, hidden="tanh", output="softmax",
                             classes=["cat", "dog", "eel"])
    loaded, _ = xpnet.load_params(path)
    assert xpnet.predict(X, loaded).shape == (1, 40)  # not a (3, 40) matrix of 0/1
    model = xpnet.load(path)
    indices = xpnet.predict(X, params, hidden="tanh", output="softmax")[0]
    np.testing.assert_array_equal(model.predict(X), np.array(["cat", "dog", "eel"])[indices])
    assert model.predict_proba(X).shape == (40, 3)
    Y = xpnet.datasets.one_hot(indices, 3)
    assert model.accuracy(X, Y) == xpnet.accuracy(X, Y, loaded) == 1.0


@pytest.mark.parametrize("given", [{"hidden": "relu"}, {"output": "sigmoid"}])
def test_activations_that_contradict_the_file_are_refused_naming_both(tmp_path, given):
    params, X = network("softmax", "float64")
    path = xpnet.save_params(tmp_path / "m.npz", params, hidden="tanh", output="softmax")
    loaded, _ = xpnet.load_params(path)
    name, value = next(iter(given.items()))
    stored = {"hidden": "tanh", "output": "softmax"}[name]
    with pytest.raises(ValueError, match=f"{name}='{value}' contradicts.*{name}='{stored}'"):
        xpnet.predict(X, loaded, **given)
    with pytest.raises(ValueError, match="contradicts"):
        xpnet.accuracy(X, np.eye(3)[:, [0] * 40], loaded, **given)
    assert xpnet.predict(X, loaded, hidden="tanh", output="softmax").shape == (1, 40)


def write_format_1(path, params, **metadata):
    """A params file as the previous xpnet wrote it: format 1, activations as metadata."""
    original = container.FORMAT_VERSION
    container.FORMAT_VERSION = 1
    try:
        return write_network(path, params, "params", metadata)
    finally:
        container.FORMAT_VERSION = original


def test_a_format_1_file_loads_with_a_warning_and_its_recorded_activations(tmp_path):
    params, X = network("softmax", "float64")
    path = write_format_1(tmp_path / "old.npz", params, dataset="blobs", hidden="tanh",
                          output="softmax")
    with pytest.warns(UserWarning, match="older xpnet.*does not record.*hidden='tanh'"):
        loaded, metadata = xpnet.load_params(path)
    assert metadata == {"dataset": "blobs", "hidden": "tanh", "output": "softmax"}
    np.testing.assert_array_equal(xpnet.predict(X, loaded),
                                  xpnet.predict(X, params, hidden="tanh", output="softmax"))


def test_a_format_1_file_without_activations_warns_that_sigmoid_is_assumed(tmp_path):
    params, X = network("sigmoid", "float32")
    path = write_format_1(tmp_path / "old.npz", params)
    with pytest.warns(UserWarning, match="assume hidden='sigmoid'"):
        model = xpnet.load(path)
    assert (model.hidden, model.output) == ("sigmoid", "sigmoid")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        loaded, _ = xpnet.load_params(path)
    with pytest.warns(UserWarning, match="does not record the output activation.*output=sigmoid"):
        found = xpnet.predict(X, loaded, hidden="relu")
    np.testing.assert_array_equal(found, xpnet.predict(X, params, hidden="relu"))


def test_a_models_standardisation_is_applied_before_the_network(tmp_path):
    params, X = network("identity", "float64")
    mean, scale = [1.0, -2.0, 0.5, 3.0], [2.0, 0.5, 1.0, 4.0]
    model = xpnet.Model(params, hidden="relu", output="identity",
                        preprocessing={"standardize": {"mean": mean, "scale": scale}})
    expected = xpnet.predict((X - np.array(mean)[:, None]) / np.array(scale)[:, None], params,
                             hidden="relu", output="identity")
    np.testing.assert_array_equal(model.predict(X), expected)
    loaded = xpnet.load(model.save(tmp_path / "m.npz"))
    np.testing.assert_array_equal(loaded.predict(X), expected)
    np.testing.assert_array_equal(xpnet.predict(X, xpnet.load_params(tmp_path / "m.npz")[0]),
                                  expected)


@pytest.mark.parametrize("shape, message", [
    ((4,), "X must be 2-D"),  # one sample, as a vector
    ((1, 7), "X has 1 rows"),  # one feature row of a four-feature network
    ((7, 4), "X has 7 rows"),  # samples as rows
])
def test_a_standardised_model_checks_x_before_its_standardisation_broadcasts_it(tmp_path,
                                                                                 shape, message):
    params, _ = network("identity", "float64")
    model = xpnet.Model(params, hidden="relu", output="identity",
                        preprocessing={"standardize": {"mean": [0.0] * 4, "scale": [1.0] * 4}})
    path = model.save(tmp_path / "m.npz")
    X = np.ones(shape)
    for predict in (model.predict, xpnet.load(path).predict,
                    lambda X: xpnet.predict(X, xpnet.load_params(path)[0])):
        with pytest.raises(ValueError, match=message):
            predict(X)


@pytest.mark.parametrize("description, message", [
    ({"classes": ["a", "b"]}, "one per output unit"),
    ({"classes": ["a", "a", "b"]}, "distinct"),
    ({"hidden": "softmax"}, "hidden='softmax' is not an activation a hidden layer can use"),
    ({"preprocessing": {"standardize": {"mean": [0.0] * 4, "scale": [1.0, 0.0, 1.0, 1.0]}}},
     "scale must be 4 finite numbers > 0"),
    ({"preprocessing": {"center": [0.0] * 4}}, "preprocessing must be"),
])
def test_a_description_that_does_not_fit_the_network_is_refused(tmp_path, description, message):
    params, _ = network("softmax", "float64")
    with pytest.raises(ValueError, match=message):
        xpnet.save_params(tmp_path / "m.npz", params, **description)
    assert not (tmp_path / "m.npz").exists()


def test_a_checkpoint_loads_as_the_model_of_its_run(tmp_path):
    X, Y = xpnet.datasets.make_blobs(90, seed=0)
    path = tmp_path / "run.ckpt"
    params, _ = xpnet.fit(X, Y, [2, 6, 3], epochs=2, hidden="tanh", output="softmax",
                          checkpoint=path, verbose=0, backend="numpy")
    model = xpnet.load(path, backend="numpy")
    assert (model.hidden, model.output) == ("tanh", "softmax") and model.metadata["epoch"] == 2
    np.testing.assert_array_equal(model.predict(X)[None, :],
                                  xpnet.predict(X, params, hidden="tanh", output="softmax"))


def test_a_checkpoint_loads_with_the_classes_and_preprocessing_its_run_recorded(tmp_path):
    X, Y = xpnet.datasets.make_blobs(90, seed=0)
    described = {"classes": ["a", "b", "c"], "metadata": {"features": ["x0", "x1"]},
                 "preprocessing": {"standardize": {"mean": [1.0, -1.0], "scale": [2.0, 0.5]}}}
    path = tmp_path / "run.ckpt"
    params, _ = xpnet.fit(X, Y, [2, 6, 3], epochs=2, output="softmax", checkpoint=path,
                          checkpoint_model=described, verbose=0, backend="numpy")
    model = xpnet.load(path, backend="numpy")
    assert model.classes == ["a", "b", "c"] and model.metadata["features"] == ["x0", "x1"]
    assert model.preprocessing == described["preprocessing"] and model.metadata["epoch"] == 2
    saved = xpnet.Model(params, output="softmax", classes=described["classes"],
                        preprocessing=described["preprocessing"])
    np.testing.assert_array_equal(model.predict(X), saved.predict(X))


def test_a_resumed_run_keeps_the_model_its_checkpoint_recorded(tmp_path):
    X, Y = xpnet.datasets.make_blobs(90, seed=0)
    described = {"classes": ["a", "b", "c"],
                 "preprocessing": {"standardize": {"mean": [1.0, -1.0], "scale": [2.0, 0.5]}}}
    path = tmp_path / "run.ckpt"
    xpnet.fit(X, Y, [2, 6, 3], epochs=2, output="softmax", checkpoint=path,
              checkpoint_model=described, verbose=0, backend="numpy")
    xpnet.fit(X, Y, [2, 6, 3], epochs=4, output="softmax", checkpoint=path, resume=True,
              verbose=0, backend="numpy")  # names no model: the file's stays
    model = xpnet.load(path, backend="numpy")
    assert model.metadata["epoch"] == 4 and model.classes == ["a", "b", "c"]
    assert model.preprocessing == described["preprocessing"]


@pytest.mark.parametrize("described, message", [
    ({"classes": ["a", "b"]}, "classes must be distinct str or number labels, one per output"),
    ({"classes": ["a", "b", "c"], "regression": True}, "names classes, but output='identity'"),
    ({"labels": ["a", "b", "c"]}, "checkpoint_model must be a dict of classes, preprocessing"),
    ({"metadata": {"bad": float("nan")}}, "cannot hold NaN"),
])
def test_a_checkpoint_model_that_does_not_fit_is_refused_before_training(tmp_path, described,
                                                                          message):
    X, Y = xpnet.datasets.make_blobs(30, seed=0)
    described = dict(described)  # (the parameters are shared between runs)
    output = "identity" if described.pop("regression", False) else "softmax"
    with pytest.raises((TypeError, ValueError), match=message):
        xpnet.fit(X, Y, [2, 4, 3], epochs=1, output=output, checkpoint=tmp_path / "c.npz",
                  checkpoint_model=described, verbose=0)
    assert not list(tmp_path.iterdir())
    with pytest.raises(ValueError, match="checkpoint_model describes .* needs checkpoint=PATH"):
        xpnet.fit(X, Y, [2, 4, 3], epochs=1, output="softmax", checkpoint_model={}, verbose=0)


@pytest.mark.parametrize("kind", ["checkpoint", "params", "estimator"])
def test_load_reads_the_file_once(tmp_path, monkeypatch, kind):
    X, Y = xpnet.datasets.make_blobs(60, seed=0)
    path = tmp_path / "model.npz"
    if kind == "checkpoint":
        xpnet.fit(X, Y, [2, 4, 3], epochs=1, output="softmax", checkpoint=path, verbose=0)
    elif kind == "params":
        xpnet.save_params(path, xpnet.init_params([2, 4, 3]), output="softmax")
    else:
        xpnet.MLPRegressor(hidden_layer_sizes=(3,), max_iter=1).fit(X.T, X[0]).save(path)
    opened = []

    def counting_open(file, *args, **kwargs):
        opened.append(pathlib.Path(file))
        return open(file, *args, **kwargs)

    monkeypatch.setattr(container, "open", counting_open, raising=False)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        xpnet.load(path, backend="numpy")
    assert opened == [path]


def test_a_regressors_r2_is_the_mean_over_its_outputs_as_scikit_learn_computes_it():
    metrics = pytest.importorskip("sklearn.metrics")
    rng = np.random.RandomState(0)
    params = xpnet.init_params([3, 4, 2], seed=0, scale="xavier")
    model = xpnet.Model(params, hidden="tanh", output="identity")
    X = rng.randn(3, 30)
    # Two outputs of very different spread: pooled sums would weight the wide one.
    y = np.vstack([rng.randn(30) * 10, rng.randn(30) * 0.1])
    predicted = xpnet.to_numpy(model.output_values(X))
    report = model.evaluate(X, y)
    assert report["r2"] == pytest.approx(metrics.r2_score(y.T, predicted.T), rel=1e-12)
    assert report["mse"] == pytest.approx(metrics.mean_squared_error(y.T, predicted.T), rel=1e-12)


def test_a_multi_output_regressor_takes_y_as_outputs_by_samples_or_the_transpose():
    rng = np.random.RandomState(1)
    model = xpnet.Model(xpnet.init_params([3, 4, 2], seed=0), hidden="tanh", output="identity")
    X, y = rng.randn(3, 30), rng.randn(2, 30)
    assert model.evaluate(X, y.T) == model.evaluate(X, y)
    for shape in [(30,), (3, 30), (60,), (2, 15)]:  # reshaping these would pair wrong values
        with pytest.raises(ValueError, match=r"y has shape .*the model has 2 output\(s\) and X "
                                             r"30 samples: shape y \(2, 30\) or \(30, 2\)"):
            model.evaluate(X, np.zeros(shape))


def two_class_model_without_classes():
    X = np.random.RandomState(2).randn(2, 40)
    return xpnet.Model(xpnet.init_params([2, 3, 1], seed=0)), X, (X[0] > 0).astype(int)


@pytest.mark.parametrize("change", [lambda y: y - 1, lambda y: y * 0.9, lambda y: y + 4,
                                    lambda y: np.where(y == 1, "yes", "no")],
                         ids=["minus one", "not whole", "past the classes", "strings"])
def test_the_labels_of_a_model_without_classes_must_be_its_class_indices(change):
    model, X, y = two_class_model_without_classes()
    assert model.evaluate(X, y.astype(float))["accuracy"] == model.evaluate(X, y)["accuracy"]
    with pytest.raises(ValueError, match=r"y holds .* but this model has no classes .* y must "
                                         r"hold class indices, whole numbers 0 to 1; pass those"):
        model.evaluate(X, change(y))


def test_labels_not_one_per_sample_are_refused_naming_the_counts():
    model, X, y = two_class_model_without_classes()
    with pytest.raises(ValueError, match=r"y holds 10 labels, but X has 40 samples; give one "
                                         r"label per sample"):
        model.evaluate(X, y[:10])
    with pytest.raises(ValueError, match=r"y must be 1-D, one label per sample, got shape \(2, 40\)"):
        model.evaluate(X, np.vstack([y, y]))


def test_a_model_of_several_sigmoid_outputs_is_not_read_as_one_label_each():
    # Multi-label: three yes/no answers per sample. predict must not answer the first alone.
    params = xpnet.init_params([2, 4, 3], seed=1, scale=1.0)
    model = xpnet.Model(params, hidden="tanh", output="sigmoid")
    X = np.random.RandomState(0).randn(2, 5)
    for call in (lambda: model.predict(X), lambda: model.predict_proba(X),
                 lambda: model.evaluate(X, np.array([0, 1, 0, 1, 1]))):
        with pytest.raises(ValueError, match=r"3 sigmoid outputs are 3 yes/no labels per sample "
                                             r"\(multi-label\), not one label; read them with "
                                             r"xpnet.predict"):
            call()
    assert xpnet.predict(X, params, hidden="tanh").shape == (3, 5)


def test_a_description_no_model_can_have_is_refused_where_it_is_written_or_read(tmp_path):
    one_unit = xpnet.init_params([4, 3, 1], seed=0)
    with pytest.raises(ValueError, match="output='softmax' needs at least two output units"):
        xpnet.save_params(tmp_path / "one.npz", one_unit, output="softmax", classes=["a", "b"])
    with pytest.raises(ValueError, match="valid names are: identity, leaky_relu, relu, "
                                         "sigmoid, tanh$"):
        xpnet.save_params(tmp_path / "one.npz", one_unit, hidden="softmax")
    assert not (tmp_path / "one.npz").exists()
    # A regressor's output with class labels: the file loads as parameters, not as a model.
    path = xpnet.save_params(tmp_path / "mixed.npz", one_unit, hidden="relu", output="relu",
                             classes=["a", "b"])
    with pytest.raises(xpnet.ModelFileError, match=r"mixed\.npz: its model description does "
                                                   r"not make a model.*does not classify"):
        xpnet.load(path)


def test_a_model_with_a_hidden_softmax_lists_the_hidden_activations():
    with pytest.raises(ValueError, match="valid names are: identity, leaky_relu, relu, sigmoid, "
                                         "tanh$"):
        xpnet.Model(xpnet.init_params([4, 3, 2]), hidden="softmax", output="softmax")
