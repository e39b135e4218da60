"""``xpnet predict``: a saved model's prediction for each row of a data file."""

from __future__ import annotations

import argparse
import csv
import io
import pathlib
import sys
from typing import Any

from ..backend import to_numpy
from ..io import write_atomically
from .data import model_and_inputs


def run(args: argparse.Namespace) -> int:
    _check_out(args)
    model, X, _ = model_and_inputs(args.model, args.data, args.target, need_target=False)
    text = io.StringIO()
    writer = csv.writer(text, lineterminator="\n")
    if args.proba:
        probabilities = to_numpy(model.predict_proba(X))
        labels = model.classes or list(range(probabilities.shape[1]))
        writer.writerow([f"P({label})" for label in labels])
        writer.writerows(probabilities.tolist())
    elif model.kind.classifier:
        writer.writerow(["prediction"])
        writer.writerows([label] for label in to_numpy(model.predict(X)).tolist())
    else:
        values = to_numpy(model.predict(X)).T
        writer.writerow(["prediction"] if values.shape[1] == 1 else
                        [f"prediction{i}" for i in range(values.shape[1])])
        writer.writerows(values.tolist())
    if args.out is None:
        sys.stdout.write(text.getvalue())
    else:
        write_atomically(args.out, lambda file: file.write(text.getvalue().encode()))
        print(f"wrote {X.shape[1]} predictions to {args.out}", file=sys.stderr)
    return 0


def _check_out(args: argparse.Namespace) -> None:
    """Refuse an --out that would write over the model or the data it reads, or over any
    other file without --force: before the work, so nothing is lost."""
    out = args.out
    if out is None:
        return
    if out.is_dir():
        raise IsADirectoryError(f"--out {out} is a directory; give a file path")
    for name, path in (("MODEL", args.model), ("DATA", args.data)):
        if out.resolve() == path.resolve():
            raise ValueError(f"--out {out} is the {name} file this command reads; write the "
                             "predictions to another file")
    if out.exists() and not args.force:
        raise FileExistsError(f"--out {out} exists; pass --force to overwrite it")


def add_command(commands: Any) -> None:
    parser = commands.add_parser(
        "predict", help="predict each row of a data file with a saved model",
        description="Write one prediction per row of DATA (CSV with a header row, .npz of X, "
                    "or .npy of X) as CSV: the class labels the model was trained on, or with "
                    "--proba each class's probability.")
    parser.add_argument("model", type=pathlib.Path, metavar="MODEL",
                        help="a model file of xpnet train --save, xpnet.save_params or "
                             "MLPClassifier/MLPRegressor.save")
    parser.add_argument("data", type=pathlib.Path, metavar="DATA", help="the data to predict")
    parser.add_argument("--proba", action="store_true", help="write class probabilities")
    parser.add_argument("--out", type=pathlib.Path, metavar="FILE",
                        help="write the CSV here (default: standard output)")
    parser.add_argument("--force", action="store_true", help="overwrite an existing --out file")
    parser.add_argument("--target", metavar="COLUMN",
                        help="the label column to leave out (default: the model's)")
    parser.set_defaults(run=run)
