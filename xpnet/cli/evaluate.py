"""``xpnet evaluate``: a saved model's loss, accuracy and confusion matrix on labelled data."""

from __future__ import annotations

import argparse
import pathlib
from typing import Any

import numpy as np

from ..errors import DataFileError
from ..model import Model
from ..parameters import layer_dims_of
from .data import model_and_inputs


def run(args: argparse.Namespace) -> int:
    model, X, y = model_and_inputs(args.model, args.data, args.target, need_target=True)
    _check_model_reads(model, y, args)
    AL = model.output_values(X)  # X's own errors (NaN, too large) are said as they are
    try:
        scores = model.evaluate_outputs(AL, y)
    except ValueError as exc:  # labels that do not fit the model: said as the data's problem
        raise DataFileError(f"{args.data}: its labels do not fit the model in {args.model}: "
                            f"{exc}") from None
    print(f"{args.data}: {X.shape[1]} samples")
    if "r2" in scores:
        print(f"R^2 {scores['r2']:.4f}; MSE {scores['mse']:.6g}")
        return 0
    print(f"loss {scores['loss']:.4f}; accuracy {scores['accuracy']:.1%}")
    labels = [str(label) for label in (model.classes or range(len(scores["confusion"])))]
    width = max(len(text) for text in labels + [str(scores["confusion"].max())])
    print("confusion matrix (rows: true class, columns: predicted):")
    print(" " * (width + 1) + " ".join(label.rjust(width) for label in labels))
    for label, row in zip(labels, scores["confusion"].tolist()):
        print(label.rjust(width) + " " + " ".join(str(n).rjust(width) for n in row))
    return 0


def _check_model_reads(model: Model, y: np.ndarray, args: argparse.Namespace) -> None:
    """Refuse a model that cannot be scored on one label column: a regressor of several
    outputs, or a classifier without the class labels that ``y`` holds."""
    n_outputs = layer_dims_of(model.params)[-1]
    if not model.kind.classifier and n_outputs > 1:
        raise ValueError(f"the model in {args.model} has {n_outputs} outputs, but xpnet "
                         f"evaluate reads one target column from {args.data}; evaluate it in "
                         f"Python: xpnet.load(path).evaluate(X, Y), Y shaped ({n_outputs}, m)")
    if model.multi_label:
        raise ValueError(f"the model in {args.model} has {n_outputs} sigmoid outputs, as many "
                         "yes/no labels per sample (multi-label), but xpnet evaluate scores one "
                         "label per sample; evaluate it in Python with xpnet.accuracy")
    if model.kind.classifier and model.classes is None and y.dtype.kind not in "biuf":
        raise ValueError(f"the model in {args.model} records no class labels, so it cannot "
                         f"match the labels of {args.data} (such as {str(y[0])[:40]!r}) with "
                         "its outputs; evaluate the model file of xpnet train --save, or a "
                         "checkpoint written by this version of xpnet train")


def add_command(commands: Any) -> None:
    parser = commands.add_parser(
        "evaluate", help="a saved model's loss, accuracy and confusion matrix on labelled data",
        description="Print the loss, accuracy and confusion matrix of a saved classifier on "
                    "DATA (R^2 and MSE for a regressor).")
    parser.add_argument("model", type=pathlib.Path, metavar="MODEL",
                        help="a model file of xpnet train --save, xpnet.save_params or "
                             "MLPClassifier/MLPRegressor.save")
    parser.add_argument("data", type=pathlib.Path, metavar="DATA",
                        help="labelled data: CSV, .npz of X and y, or .npy of X with --target")
    parser.add_argument("--target", metavar="COLUMN",
                        help="the label column (default: the model's), or the labels' .npy")
    parser.set_defaults(run=run)
