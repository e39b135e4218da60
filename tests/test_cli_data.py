"""The command line on your own data: train --data, predict and evaluate, through a subprocess."""

import csv
import os
import subprocess
import sys

import numpy as np
import pytest

import xpnet
from xpnet.cli import main

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def run(*args, cwd=None):
    env = {**os.environ, "PYTHONPATH": ROOT}
    return subprocess.run([sys.executable, "-m", "xpnet", *map(str, args)], capture_output=True,
                          text=True, env=env, cwd=cwd, timeout=300)


def labelled(n=240, seed=0):
    """Three well-separated classes with string labels, features on very different scales."""
    rng = np.random.default_rng(seed)
    labels = np.array(["setosa", "versicolor", "virginica"])[np.arange(n) % 3]
    centres = np.array([[0, 0], [4, 0], [0, 4]])[np.arange(n) % 3]
    X = (centres + 0.5 * rng.standard_normal((n, 2))) * [1.0, 1000.0] + [0.0, 5000.0]
    return X, labels


@pytest.fixture
def flowers(tmp_path):
    X, labels = labelled()
    path = tmp_path / "flowers.csv"
    with open(path, "w", newline="") as file:
        writer = csv.writer(file)
        writer.writerow(["species", "petal", "sepal"])  # the target is not the last column
        writer.writerows([label, *row] for label, row in zip(labels, X.tolist()))
    return path, X, labels


def test_train_on_a_csv_then_predict_and_evaluate(tmp_path, flowers):
    path, X, labels = flowers
    model_path = tmp_path / "model.npz"
    result = run("train", "--data", path, "--target", "species", "--epochs", "15",
                 "--layers", "8", "--save", model_path)
    assert result.returncode == 0, result.stderr
    assert "flowers.csv (192 train / 48 test samples)" in result.stdout  # stratified 20%
    model = xpnet.load(model_path)
    assert model.classes == ["setosa", "versicolor", "virginica"]
    assert model.metadata["features"] == ["petal", "sepal"] and model.output == "softmax"
    mean = model.preprocessing["standardize"]["mean"]
    assert 4000 < mean[1] < 7000  # the training split's statistics were recorded

    out = tmp_path / "predictions.csv"
    result = run("predict", model_path, path, "--out", out)
    assert result.returncode == 0, result.stderr
    predicted = [row[0] for row in csv.reader(out.read_text().splitlines())]
    assert predicted[0] == "prediction" and len(predicted) == 241
    np.testing.assert_array_equal(predicted[1:], model.predict(X.T))  # raw rows in, labels out
    assert np.mean(np.array(predicted[1:]) == labels) > 0.95

    proba = run("predict", model_path, path, "--proba").stdout.splitlines()
    assert proba[0] == "P(setosa),P(versicolor),P(virginica)" and len(proba) == 241
    assert abs(sum(map(float, proba[1].split(","))) - 1) < 1e-9

    result = run("evaluate", model_path, path)
    assert result.returncode == 0, result.stderr
    assert "accuracy" in result.stdout and "loss" in result.stdout
    matrix = result.stdout.split("predicted):\n")[1].splitlines()
    assert matrix[0].split() == ["setosa", "versicolor", "virginica"]
    assert sum(int(n) for line in matrix[1:] for n in line.split()[1:]) == 240


def test_train_on_an_npz_and_a_npy_pair(tmp_path):
    X, labels = labelled(90)
    y = np.searchsorted(["setosa", "versicolor", "virginica"], labels) + 3  # ints 3, 4, 5
    np.savez(tmp_path / "d.npz", X=X, y=y)
    np.save(tmp_path / "X.npy", X)
    np.save(tmp_path / "y.npy", y)
    for data in (["--data", tmp_path / "d.npz"],
                 ["--data", tmp_path / "X.npy", "--target", tmp_path / "y.npy"]):
        result = run("train", *data, "--epochs", "2", "--save", tmp_path / "m.npz", "--force")
        assert result.returncode == 0, result.stderr
        assert xpnet.load(tmp_path / "m.npz").classes == [3, 4, 5]
    result = run("evaluate", tmp_path / "m.npz", tmp_path / "X.npy", "--target", tmp_path / "y.npy")
    assert result.returncode == 0 and "confusion matrix" in result.stdout, result.stderr


def test_a_python_model_file_works_on_the_command_line_and_back(tmp_path):
    X, labels = labelled(60)
    params = xpnet.init_params([2, 3, 3], seed=1)
    model = xpnet.Model(params, hidden="tanh", output="softmax",
                        classes=["setosa", "versicolor", "virginica"])
    model.save(tmp_path / "m.npz")
    np.save(tmp_path / "X.npy", X)
    result = run("predict", tmp_path / "m.npz", tmp_path / "X.npy")
    assert result.returncode == 0, result.stderr
    np.testing.assert_array_equal(result.stdout.split()[1:], model.predict(X.T))


@pytest.mark.parametrize("content, message", [
    ("petal,sepal,species\n1,2,setosa\n1,2\n", "line 3: 2 fields, but the header row has 3"),
    ("petal,sepal,species\n1,2,setosa\n1,oops,setosa\n", "line 3: column 'sepal' holds 'oops'"),
    ("petal,sepal,species\n", "needs a header row and at least one row"),
    ("x,sepal,x,species\n1,2,3,setosa\n", "names the columns ['x'] more than once"),
    ("petal,sepal,species\n1,2,setosa\n1,2,\n", "line 3: the target column 'species' is blank"),
])
def test_a_bad_csv_is_named_with_its_line(tmp_path, content, message):
    path = tmp_path / "bad.csv"
    path.write_text(content)
    result = run("train", "--data", path, "--epochs", "1")
    assert result.returncode == 1 and "Traceback" not in result.stderr
    assert f"{path}" in result.stderr and message in result.stderr


def test_train_refuses_data_and_dataset_together(tmp_path, flowers):
    result = run("train", "--data", flowers[0], "--dataset", "moons")
    assert result.returncode == 1 and "--data and --dataset" in result.stderr


def test_a_file_saved_by_train_opens_in_python_with_its_activations(tmp_path):
    result = run("train", "--dataset", "blobs", "--hidden", "tanh", "--epochs", "3",
                 "--save", tmp_path / "m.npz")
    assert result.returncode == 0, result.stderr
    X, Y = xpnet.datasets.make_blobs(90, seed=5)
    params, _ = xpnet.load_params(tmp_path / "m.npz")
    model = xpnet.load(tmp_path / "m.npz")
    assert (model.hidden, model.output) == ("tanh", "softmax")
    np.testing.assert_array_equal(xpnet.predict(X, params),
                                  xpnet.predict(X, params, hidden="tanh", output="softmax"))
    assert xpnet.predict(X, params).shape == (1, 90)


def prices(n=200, seed=0):
    """A real-valued target of three features."""
    rng = np.random.RandomState(seed)
    X = rng.randn(n, 3)
    return X, X @ [1.5, -2.0, 0.5] + 0.1 * rng.randn(n)


def write_csv(path, header, rows):
    with open(path, "w", newline="") as file:
        writer = csv.writer(file)
        writer.writerow(header)
        writer.writerows(rows)
    return path


def test_train_infers_a_regression_from_a_real_target_and_evaluate_prints_r2(tmp_path):
    X, y = prices()
    data = write_csv(tmp_path / "houses.csv", ["a", "b", "c", "price"],
                     [[*row, target] for row, target in zip(X.tolist(), y.tolist())])
    result = run("train", "--data", data, "--epochs", "30", "--layers", "16",
                 "--save", tmp_path / "m.npz")
    assert result.returncode == 0, result.stderr
    assert "identity output" in result.stdout and "test R^2" in result.stdout
    model = xpnet.load(tmp_path / "m.npz")
    assert model.output == "identity" and model.classes is None
    assert model.metadata["target"] == "price" and model.metadata["test_r2"] > 0.9

    result = run("evaluate", tmp_path / "m.npz", data)
    assert result.returncode == 0, result.stderr
    r2 = float(result.stdout.split("R^2 ")[1].split(";")[0])
    assert r2 > 0.9 and "MSE" in result.stdout and "confusion" not in result.stdout
    predicted = run("predict", tmp_path / "m.npz", data).stdout.split()
    assert predicted[0] == "prediction"
    np.testing.assert_allclose(np.array(predicted[1:], dtype=float), model.predict(X.T)[0],
                               rtol=1e-12)


def test_task_names_what_the_target_is(tmp_path):
    X, y = prices(60)
    data = write_csv(tmp_path / "d.csv", ["a", "b", "c", "y"],
                     [[*row, target] for row, target in zip(X.tolist(), y.tolist())])
    result = run("train", "--data", data, "--task", "classification", "--epochs", "1")
    assert result.returncode == 1 and "use --task regression" in result.stderr
    whole = write_csv(tmp_path / "whole.csv", ["a", "b", "c", "y"],
                      [[*row, round(target)] for row, target in zip(X.tolist(), y.tolist())])
    result = run("train", "--data", whole, "--task", "regression", "--epochs", "2",
                 "--save", tmp_path / "m.npz")
    assert result.returncode == 0, result.stderr  # whole numbers as a real target
    assert xpnet.load(tmp_path / "m.npz").output == "identity"
    X_labels, labels = labelled(30)
    named = write_csv(tmp_path / "named.csv", ["p", "s", "species"],
                      [[*row, label] for row, label in zip(X_labels.tolist(), labels)])
    result = run("train", "--data", named, "--task", "regression", "--epochs", "1")
    assert result.returncode == 1 and "use --task classification" in result.stderr
    result = run("train", "--dataset", "moons", "--task", "regression", "--epochs", "1")
    assert result.returncode == 1 and "give --data FILE" in result.stderr


def test_predict_and_evaluate_read_estimator_files(tmp_path):
    X, y = prices(120)
    labels = np.where(y > 0, "high", "low")
    data = write_csv(tmp_path / "d.csv", ["a", "b", "c", "price"],
                     [[*row, target] for row, target in zip(X.tolist(), y.tolist())])
    inputs = write_csv(tmp_path / "inputs.csv", ["a", "b", "c"], X.tolist())
    options = dict(hidden_layer_sizes=(6,), max_iter=30, random_state=0)
    with pytest.warns(Warning):
        regressor = xpnet.MLPRegressor(**options).fit(X, y)
        classifier = xpnet.MLPClassifier(**options).fit(X, labels)
    regressor.save(tmp_path / "reg.npz")
    classifier.save(tmp_path / "clf.npz")

    for source in (data, inputs):  # the target column is left out, or absent
        result = run("predict", tmp_path / "reg.npz", source)
        assert result.returncode == 0, result.stderr
        np.testing.assert_allclose(np.array(result.stdout.split()[1:], dtype=float),
                                   regressor.predict(X), rtol=1e-12)
        result = run("predict", tmp_path / "clf.npz", source)
        assert result.returncode == 0, result.stderr
        np.testing.assert_array_equal(result.stdout.split()[1:], classifier.predict(X))
    proba = run("predict", tmp_path / "clf.npz", inputs, "--proba").stdout.splitlines()
    assert proba[0] == "P(high),P(low)"
    np.testing.assert_allclose([float(v) for v in proba[1].split(",")],
                               classifier.predict_proba(X[:1])[0], rtol=1e-12)

    result = run("evaluate", tmp_path / "reg.npz", data)
    assert result.returncode == 0, result.stderr
    r2 = float(result.stdout.split("R^2 ")[1].split(";")[0])
    assert r2 == pytest.approx(regressor.score(X, y), abs=1e-4)
    np.save(tmp_path / "X.npy", X)
    np.save(tmp_path / "labels.npy", labels)
    result = run("evaluate", tmp_path / "clf.npz", tmp_path / "X.npy", "--target",
                 tmp_path / "labels.npy")
    assert result.returncode == 0, result.stderr
    accuracy = float(result.stdout.split("accuracy ")[1].split("%")[0]) / 100
    assert accuracy == pytest.approx(classifier.score(X, labels), abs=1e-3)


def test_a_multilabel_estimator_file_is_refused_with_what_to_use(tmp_path):
    X, y = prices(40)
    with pytest.warns(Warning):
        model = xpnet.MLPClassifier(hidden_layer_sizes=(3,), max_iter=2).fit(
            X, np.stack([y > 0, y > 1], axis=1).astype(int))
    model.save(tmp_path / "m.npz")
    np.save(tmp_path / "X.npy", X)
    result = run("predict", tmp_path / "m.npz", tmp_path / "X.npy")
    assert result.returncode == 1 and "multilabel" in result.stderr and "xpnet.load" in result.stderr


def test_a_checkpoint_of_train_predicts_and_evaluates_as_its_saved_model(tmp_path, flowers):
    path, X, labels = flowers
    saved, checkpoint = tmp_path / "m.npz", tmp_path / "run.ckpt.npz"
    result = run("train", "--data", path, "--target", "species", "--epochs", "5", "--layers", "8",
                 "--save", saved, "--checkpoint", checkpoint)
    assert result.returncode == 0, result.stderr
    model, resumable = xpnet.load(saved), xpnet.load(checkpoint)
    assert resumable.classes == model.classes == ["setosa", "versicolor", "virginica"]
    assert resumable.preprocessing == model.preprocessing and resumable.preprocessing
    assert resumable.metadata["features"] == ["petal", "sepal"]
    for command in (["predict"], ["predict", "--proba"], ["evaluate"]):
        results = [run(command[0], file, path, *command[1:]) for file in (saved, checkpoint)]
        assert [r.returncode for r in results] == [0, 0], results[1].stderr
        assert results[1].stdout == results[0].stdout  # labels out, raw rows standardised


def test_evaluate_refuses_a_model_without_what_its_data_needs(tmp_path, flowers):
    path, X, labels = flowers
    # A checkpoint that records no classes (fit's own, or of an older xpnet train).
    indices = np.searchsorted(["setosa", "versicolor", "virginica"], labels)
    xpnet.fit(X.T, xpnet.datasets.one_hot(indices, 3), [2, 4, 3], epochs=1, output="softmax",
              checkpoint=tmp_path / "old.ckpt.npz", verbose=0)
    xpnet.save_params(tmp_path / "two.npz", xpnet.init_params([2, 3, 1]), hidden="sigmoid",
                      output="sigmoid")
    np.save(tmp_path / "X.npy", X)
    np.save(tmp_path / "five.npy", np.r_[np.zeros(len(X) - 1, int), 5])
    with pytest.warns(Warning):
        xpnet.MLPRegressor(hidden_layer_sizes=(3,), max_iter=2).fit(X, X).save(tmp_path / "r.npz")
    np.save(tmp_path / "y.npy", X[:, 0])
    cases = [
        (["old.ckpt.npz", path, "--target", "species"],
         "records no class labels, so it cannot match the labels of"),
        (["two.npz", "X.npy", "--target", "five.npy"], "whole numbers 0 to 1"),
        (["r.npz", "X.npy", "--target", "y.npy"], "has 2 outputs, but xpnet evaluate reads one"),
    ]
    xpnet.save_params(tmp_path / "multi.npz", xpnet.init_params([2, 3, 3]), hidden="sigmoid",
                      output="sigmoid")
    cases.append((["multi.npz", "X.npy", "--target", "labels.npy"],
                  "has 3 sigmoid outputs, as many yes/no labels per sample (multi-label)"))
    # X's own errors are X's, not the labels': a feature beyond float32 for a float32 model.
    xpnet.save_params(tmp_path / "f32.npz", xpnet.init_params([2, 3, 1], dtype="float32"),
                      hidden="sigmoid", output="sigmoid")
    np.save(tmp_path / "big.npy", np.r_[X[:-1], [[1e39, 0.0]]])
    np.save(tmp_path / "labels.npy", np.zeros(len(X), int))
    cases.append((["f32.npz", "big.npy", "--target", "labels.npy"],
                  "error: X holds values beyond the range of float32"))
    for args, message in cases:
        result = run("evaluate", *args, cwd=tmp_path)
        assert result.returncode == 1 and result.stderr.count("\n") == 1, result.stderr
        assert message in result.stderr and "Traceback" not in result.stderr
        assert ("labels do not fit" in result.stderr) == (message == "whole numbers 0 to 1")


def test_predict_never_writes_over_its_model_or_data_nor_another_file_without_force(
        tmp_path, flowers, capsys):
    path, X, _ = flowers
    params = xpnet.init_params([2, 3, 3], seed=0, dtype="float64")
    model_path = xpnet.Model(params, hidden="relu", output="softmax",
                             classes=["setosa", "versicolor", "virginica"]).save(
                                 tmp_path / "model.npz")
    kept = {p: p.read_bytes() for p in (path, model_path)}
    for target, message in ((path, "is the DATA file"), (model_path, "is the MODEL file")):
        for force in ([], ["--force"]):
            assert main(["predict", str(model_path), str(path), "--target", "species",
                         "--out", str(target), *force]) == 1
            assert message in capsys.readouterr().err
    assert {p: p.read_bytes() for p in kept} == kept
    out = tmp_path / "predictions.csv"
    out.write_text("my notes\n")
    predict = ["predict", str(model_path), str(path), "--target", "species", "--out", str(out)]
    assert main(predict) == 1
    assert "exists; pass --force" in capsys.readouterr().err and out.read_text() == "my notes\n"
    assert main([*predict, "--force"]) == 0, capsys.readouterr().err
    assert out.read_text().splitlines()[0] == "prediction" and len(out.read_text().split()) == 241


@pytest.mark.parametrize("names", [[False, True], [b"d\xf6wn", b"up"]], ids=["bool", "bytes"])
def test_an_estimator_of_boolean_or_bytes_labels_predicts_and_evaluates_from_the_command_line(
        tmp_path, capsys, names):
    X, y = prices(60)
    labels = np.array(names)[(y > 0).astype(int)]
    with pytest.warns(Warning):
        classifier = xpnet.MLPClassifier(hidden_layer_sizes=(4,), max_iter=5,
                                         random_state=0).fit(X, labels)
    classifier.save(tmp_path / "clf.npz")

    def text(label):  # as a CSV holds it (bytes: one character per byte)
        return label.decode("latin-1") if isinstance(label, bytes) else str(label)

    data = write_csv(tmp_path / "d.csv", ["a", "b", "c", "up"],
                     [[*row, text(label)] for row, label in zip(X.tolist(), labels.tolist())])
    assert main(["predict", str(tmp_path / "clf.npz"), str(data), "--target", "up"]) == 0
    predicted = capsys.readouterr().out.split()[1:]
    assert predicted == [text(label) for label in classifier.predict(X).tolist()]
    assert main(["evaluate", str(tmp_path / "clf.npz"), str(data), "--target", "up"]) == 0
    assert "accuracy" in capsys.readouterr().out


def test_an_npy_of_inputs_is_predicted_by_a_model_trained_on_a_csv(tmp_path, flowers, capsys):
    path, X, _ = flowers
    model_path = tmp_path / "model.npz"
    assert main(["train", "--data", str(path), "--target", "species", "--epochs", "2",
                 "--layers", "4", "--save", str(model_path)]) == 0
    np.save(tmp_path / "X.npy", X)
    capsys.readouterr()
    # (the recorded target, a CSV column's name, is no file of labels to read)
    assert main(["predict", str(model_path), str(tmp_path / "X.npy")]) == 0, \
        capsys.readouterr().err
    assert len(capsys.readouterr().out.split()) == 241
    assert main(["predict", str(model_path), str(tmp_path)]) == 1
    assert "is a directory; give a data file" in capsys.readouterr().err


def test_a_whole_number_quantity_as_target_is_refused_with_the_task_to_use(tmp_path, capsys):
    X, y = prices(80)
    whole = np.round(y * 10000).astype(int)  # prices in cents: whole, nearly all distinct
    data = write_csv(tmp_path / "prices.csv", ["a", "b", "c", "cents"],
                     [[*row, target] for row, target in zip(X.tolist(), whole.tolist())])
    assert main(["train", "--data", str(data), "--epochs", "1"]) == 1
    error = capsys.readouterr().err
    assert "looks like a quantity rather than class labels: use --task regression" in error
    assert "more;" in error and len(error) < 600  # ten classes shown, not eighty
    labels = write_csv(tmp_path / "one.csv", ["a", "b", "c", "kind"],
                       [[*row, k] for row, k in zip(X.tolist(), [0] * 79 + [1])])
    assert main(["train", "--data", str(labels), "--epochs", "1"]) == 1
    assert "use --task regression" not in capsys.readouterr().err  # a rare class, not a quantity
