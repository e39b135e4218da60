"""Your own data for the commands: a table read, split and standardised for training,
or read as a saved model's inputs."""

from __future__ import annotations

import pathlib
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ..datasets import read_table, stratified_split
from ..errors import DataFileError
from ..estimators import load
from ..model import Model
from ..outputs import classifier_output, get_output

VALIDATION_FRACTION = 0.2


@dataclass
class TrainingData:
    """A training and a validation split (``X`` ``(n_features, m)``), the output kind, and
    what the model file records: ``classes``, ``preprocessing`` and ``metadata``."""

    name: str
    X_train: np.ndarray
    Y_train: np.ndarray
    X_val: np.ndarray
    Y_val: np.ndarray
    output: str
    classes: list | None  # None: a regressor
    preprocessing: dict[str, Any] | None = None
    metadata: dict[str, Any] = field(default_factory=dict)


TASKS = ("auto", "classification", "regression")


def training_data(path: pathlib.Path, target: str | None, seed: int,
                  task: str = "auto") -> TrainingData:
    """The labelled data in ``path`` (see :func:`xpnet.datasets.read_table`), features
    standardised with the training split's mean and scale. ``task``: ``"classification"``
    (labels as classes, a stratified validation split), ``"regression"`` (real targets, one
    identity output, a random split) or ``"auto"``: regression when the target holds
    numbers that are not all whole, else classification."""
    table = read_table(path, target)
    y = table.y
    whole = y.dtype.kind != "f" or bool(np.all(y == np.round(y)))
    if task == "regression" or (task == "auto" and not whole):
        if y.dtype.kind not in "biuf":
            raise DataFileError(f"{path}: --task regression needs numbers in the target "
                                f"{table.target or 'y'}, but it holds labels such as "
                                f"{y[0]!r}; use --task classification")
        return _regression_data(path, table, seed)
    if not whole:
        raise DataFileError(f"{path}: the target {table.target or 'y'} holds numbers that are "
                            "not whole, but --task classification needs class labels (ints or "
                            "strings); use --task regression for a real-valued target")
    if y.dtype.kind == "f":
        y = y.astype(np.int64)
    classes, indices = np.unique(y, return_inverse=True)
    counts = np.bincount(indices)
    if len(classes) < 2 or counts.min() < 2:
        shown = dict(list(zip(classes.tolist(), counts.tolist()))[:10])
        more = f" and {len(classes) - 10} more" if len(classes) > 10 else ""
        # Whole numbers, most of them seen once: more likely a quantity than class labels.
        hint = ("; the target looks like a quantity rather than class labels: use --task "
                "regression" if task == "auto" and y.dtype.kind in "iuf" and len(classes) > 20
                and np.mean(counts == 1) > 0.5 else "")
        raise DataFileError(f"{path}: a classifier needs at least two classes with at least two "
                            f"samples each (one for validation); the classes and their counts "
                            f"are {shown}{more}{hint}")
    train, val = stratified_split(indices, VALIDATION_FRACTION, seed)
    output = classifier_output(len(classes))
    Y = get_output(output).targets(indices, len(classes), np.float64)
    return _standardized(path, table, Y, train, val, output, classes.tolist())


def _regression_data(path: pathlib.Path, table: Any, seed: int) -> TrainingData:
    """A real target: one identity output, a random validation split."""
    if table.X.shape[0] < 2:
        raise DataFileError(f"{path}: regression needs at least two samples (one for "
                            "validation)")
    train, val = stratified_split(np.zeros(table.X.shape[0], dtype=np.int64),
                                  VALIDATION_FRACTION, seed)  # one stratum: a random split
    Y = table.y.astype(np.float64).reshape(1, -1)
    return _standardized(path, table, Y, train, val, "identity", None)


def _standardized(path: pathlib.Path, table: Any, Y: np.ndarray, train: np.ndarray,
                  val: np.ndarray, output: str, classes: list | None) -> TrainingData:
    """The split, features standardised with the training split's mean and scale."""
    mean = table.X[train].mean(axis=0)
    scale = table.X[train].std(axis=0)
    scale[scale == 0] = 1.0  # a constant feature stays at 0 rather than dividing by 0
    X = ((table.X - mean) / scale).T
    return TrainingData(
        pathlib.Path(path).name, X[:, train], Y[:, train], X[:, val], Y[:, val], output,
        classes, {"standardize": {"mean": mean.tolist(), "scale": scale.tolist()}},
        {"data": str(path), "features": table.features, "target": table.target})


def model_and_inputs(model_path: pathlib.Path, data_path: pathlib.Path, target: str | None,
                     need_target: bool) -> tuple[Model, np.ndarray, Any]:
    """The model saved at ``model_path`` (a file of ``xpnet train --save``, ``save_params``
    or an estimator's ``save``) and the inputs ``X`` ``(n_features, m)`` (and the labels,
    or None) of ``data_path``, the columns chosen as the model was trained."""
    model = load(model_path, backend="numpy")
    if not isinstance(model, Model):
        model = estimator_model(model, model_path)
    features = model.metadata.get("features")
    features = features if isinstance(features, list) else None
    # The recorded target is the name of a CSV's label column: an .npy's labels are a file.
    arrays = data_path.suffix.lower() in (".npy", ".npz")
    recorded = None if arrays else model.metadata.get("target")
    table = read_table(data_path, target or recorded, features=features,
                       need_target=need_target)
    n_features = model.params["W1"].shape[1]
    if (features is None and not need_target and table.target is not None and target is None
            and table.X.shape[1] + 1 == n_features):
        # Without recorded columns the last one was taken as the target; the model takes
        # them all, so none is (read again with every column as a feature).
        table = read_table(data_path, None, features=[*table.features, table.target],
                           need_target=False)
    if table.X.shape[1] != n_features:
        raise DataFileError(f"{data_path}: {table.X.shape[1]} feature columns, but the model "
                            f"in {model_path} takes {n_features}")
    return model, table.X.T, table.y


def estimator_model(estimator: Any, path: pathlib.Path) -> Model:
    """The :class:`~xpnet.Model` of a fitted ``MLPClassifier``/``MLPRegressor`` (from ``path``):
    the same network, activations and class labels, its column names as the features."""
    if getattr(estimator, "_multilabel", False):
        raise ValueError(f"{path} holds a multilabel MLPClassifier; the command line reads one "
                         "label per row, so use it from Python (xpnet.load)")
    names = getattr(estimator, "feature_names_in_", None)
    classes = getattr(estimator, "classes_", None)
    if classes is not None and classes.dtype.kind == "b":  # as text, as the CSVs hold them
        classes = classes.astype(str)
    elif classes is not None and classes.dtype.kind == "S":  # (each byte a character, as
        classes = np.char.decode(classes, "latin-1")  # the model file keeps them)
    return Model({key: np.asarray(value) for key, value in estimator.params_.items()},
                 hidden=estimator._hidden_activation(), output=estimator.out_activation_,
                 classes=None if classes is None else classes.tolist(),
                 metadata={"estimator": type(estimator).__name__,
                           **({} if names is None else {"features": names.tolist()})})
