"""The command line on your own data: train --data, predict and evaluate, through a subprocess."""

import csv
import os
import subprocess
import sys

import numpy as np
import pytest

import xpnet

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
