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
    classes: list
    preprocessing: dict[str, Any] | None = None
    metadata: dict[str, Any] = field(default_factory=dict)


def training_data(path: pathlib.Path, target: str | None, seed: int) -> TrainingData:
    """The labelled data in ``path`` (see :func:`xpnet.datasets.read_table`): labels as
    classes, a stratified validation split, features standardised with the training
    split's mean and scale."""
    table = read_table(path, target)
    y = table.y
    if y.dtype.kind == "f":
        if not np.all(y == np.round(y)):
            raise DataFileError(f"{path}: the target {table.target or 'y'} holds numbers that "
                                "are not whole, but xpnet train --data trains classifiers; "
                                "use class labels (ints or strings)")
        y = y.astype(np.int64)
    classes, indices = np.unique(y, return_inverse=True)
    counts = np.bincount(indices)
    if len(classes) < 2 or counts.min() < 2:
        raise DataFileError(f"{path}: a classifier needs at least two classes with at least two "
                            f"samples each (one for validation); the classes and their counts "
                            f"are {dict(zip(classes.tolist(), counts.tolist()))}")
    train, val = stratified_split(indices, VALIDATION_FRACTION, seed)
    mean = table.X[train].mean(axis=0)
    scale = table.X[train].std(axis=0)
    scale[scale == 0] = 1.0  # a constant feature stays at 0 rather than dividing by 0
    X = ((table.X - mean) / scale).T
    output = classifier_output(len(classes))
    Y = get_output(output).targets(indices, len(classes), np.float64)
    return TrainingData(
        pathlib.Path(path).name, X[:, train], Y[:, train], X[:, val], Y[:, val], output,
        classes.tolist(), {"standardize": {"mean": mean.tolist(), "scale": scale.tolist()}},
        {"data": str(path), "features": table.features, "target": table.target})


def model_and_inputs(model_path: pathlib.Path, data_path: pathlib.Path, target: str | None,
                     need_target: bool) -> tuple[Model, np.ndarray, Any]:
    """The model saved at ``model_path`` and the inputs ``X`` ``(n_features, m)`` (and the
    labels, or None) of ``data_path``, the columns chosen as the model was trained."""
    model = load(model_path, backend="numpy")
    if not isinstance(model, Model):
        raise ValueError(f"{model_path} holds a {type(model).__name__}; the command line "
                         "reads the files of xpnet train --save and xpnet.save_params")
    features = model.metadata.get("features")
    table = read_table(data_path, target or model.metadata.get("target"),
                       features=features if isinstance(features, list) else None,
                       need_target=need_target)
    n_features = model.params["W1"].shape[1]
    if table.X.shape[1] != n_features:
        raise DataFileError(f"{data_path}: {table.X.shape[1]} feature columns, but the model "
                            f"in {model_path} takes {n_features}")
    return model, table.X.T, table.y
