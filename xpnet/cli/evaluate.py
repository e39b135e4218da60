"""``xpnet evaluate``: a saved model's loss, accuracy and confusion matrix on labelled data."""

from __future__ import annotations

import argparse
import pathlib
from typing import Any

from .data import model_and_inputs


def run(args: argparse.Namespace) -> int:
    model, X, y = model_and_inputs(args.model, args.data, args.target, need_target=True)
    scores = model.evaluate(X, y)
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
