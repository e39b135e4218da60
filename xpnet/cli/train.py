"""``xpnet train``: train a network on a shipped, generated or downloaded dataset, or on
your own data (``--data``)."""

from __future__ import annotations

import argparse
import pathlib
import sys
import time
import warnings
from collections.abc import Callable
from typing import Any

from .._version import __version__
from ..activations import HIDDEN_ACTIVATIONS
from ..backend import BACKEND_NAMES, backend_name
from ..distributed import world
from ..datasets import (load_digits, load_mnist, make_blobs, make_moons, make_spirals,
                        train_test_split)
from ..errors import ConvergenceWarning, XpnetError
from ..evaluation import accuracy
from ..io import read_header, save_params
from ..model import Model
from ..outputs import classifier_output, get_output
from ..plotting import plot_format, plot_history
from ..training import fit, gather_params
from ..training.checkpoint import refuse_a_saved_model
from ..training.optimizers import OPTIMIZERS
from ..workload import resolve_for_work
from .arguments import positive_float, positive_int, seed
from .data import TASKS, TrainingData, training_data

DataSplit = tuple[Any, Any, Any, Any]


def _split(data: tuple[Any, Any], seed: int) -> DataSplit:
    return train_test_split(*data, test_fraction=0.2, seed=seed)


DATASETS: dict[str, Callable[[int], DataSplit]] = {
    "digits": lambda seed: _split(load_digits(), seed),
    "moons": lambda seed: _split(make_moons(1000, noise=0.2, seed=seed), seed),
    "spirals": lambda seed: _split(make_spirals(900, noise=0.2, seed=seed), seed),
    "blobs": lambda seed: _split(make_blobs(900, seed=seed), seed),
    "mnist": lambda seed: load_mnist(),
}


def _check_outputs(args: argparse.Namespace) -> None:
    """Refuse unusable --save/--plot/--checkpoint paths before training, not after it."""
    named = {"--save": args.save, "--plot": args.plot, "--checkpoint": args.checkpoint}
    paths = {flag: path.resolve() for flag, path in named.items() if path is not None}
    if len(set(paths.values())) < len(paths):
        raise ValueError(f"{' and '.join(paths)} name the same file; give each its own path")
    for flag, target in named.items():
        if target is None:
            continue
        if target.is_dir():
            raise IsADirectoryError(f"{flag} {target} is a directory; give a file path")
        if not target.parent.is_dir():
            raise FileNotFoundError(f"{flag} {target}: {target.parent} is not an existing "
                                    "directory; create it or choose another path")
        if flag != "--checkpoint" and target.exists() and not args.force:
            raise FileExistsError(f"{flag} {target} exists; pass --force to overwrite it")
    if args.checkpoint is not None:
        refuse_a_saved_model(args.checkpoint)  # (--force would write over it)
    if args.checkpoint is not None and args.checkpoint.exists() and not (args.resume or args.force):
        raise FileExistsError(f"--checkpoint {args.checkpoint} exists; pass --resume to "
                              "continue that run or --force to start over")
    if args.plot is not None:
        try:
            plot_format(args.plot)  # matplotlib is there and can write this kind of file
        except ValueError as exc:
            raise ValueError(f"--plot {exc}") from None


def _dataset(args: argparse.Namespace) -> TrainingData:
    """The data to train on: ``--data`` (validated on its held-out split) or a dataset."""
    if args.data is not None:
        if args.dataset is not None:
            raise ValueError("--data and --dataset both name the data; give one of them")
        return training_data(args.data, args.target, args.seed, args.task)
    if args.target is not None:
        raise ValueError("--target names a column of --data FILE; give --data too")
    if args.task == "regression":
        raise ValueError("--task regression trains on your own data: give --data FILE with a "
                         "real-valued target (the --dataset choices are all classification)")
    args.dataset = args.dataset or "digits"
    X_train, Y_train, X_test, Y_test = DATASETS[args.dataset](args.seed)
    # One row of 0/1 targets: two classes; else one-hot rows, one per class.
    n_classes = max(2, Y_train.shape[0])
    return TrainingData(args.dataset, X_train, Y_train, X_test, Y_test,
                        classifier_output(n_classes), list(range(n_classes)),
                        metadata={"dataset": args.dataset})


def run(args: argparse.Namespace) -> int:
    _check_outputs(args)
    data = _dataset(args)
    X_train, Y_train, X_test, Y_test, output = (data.X_train, data.Y_train, data.X_val,
                                                data.Y_val, data.output)
    layer_dims = [X_train.shape[0], *args.layers, Y_train.shape[0]]
    xp, choice = resolve_for_work(args.backend, layer_dims, min(args.batch_size, X_train.shape[1]))
    why = "" if choice is None else f" ({choice})"
    comm = world()  # launched by mpiexec on several processes: train on all of them
    parallel, mesh = _parallel(args, comm)
    say = print if comm is None or comm.Get_rank() == 0 else _silent
    grid = "" if mesh is None else f", mesh {mesh[0]} x {mesh[1]}"
    ranks = "" if comm is None else f" x {comm.Get_size()} processes ({args.parallel} parallel{grid})"
    say(f"xpnet {__version__}: {data.name} ({X_train.shape[1]} train / {X_test.shape[1]} test "
          f"samples) on the {backend_name(xp)} backend{why}{ranks}; layers {layer_dims}, {args.hidden} hidden, "
          f"{output} output, {args.optimizer} lr {args.lr}, batch {args.batch_size}", flush=True)
    resumed_at = None
    if args.resume and args.checkpoint.exists():
        resumed_at = _checkpoint_epoch(args.checkpoint)
        at = "" if resumed_at is None else f" at epoch {resumed_at}"
        say(f"resuming from {args.checkpoint}{at}", flush=True)
    start = time.perf_counter()
    net = {"hidden": args.hidden, "output": output}
    try:
        # The warning of a run that did not learn is reported below, as the command's outcome.
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always", ConvergenceWarning)
            params, history = fit(
                X_train, Y_train, layer_dims, epochs=args.epochs, lr=args.lr,
                batch_size=args.batch_size, optimizer=args.optimizer, seed=args.seed,
                dtype=args.dtype, backend=xp, verbose=1, checkpoint=args.checkpoint, comm=comm,
                # The checkpoint predicts as the --save file does: same classes and scaling.
                checkpoint_model=None if args.checkpoint is None else {
                    "classes": data.classes, "preprocessing": data.preprocessing,
                    "metadata": data.metadata},
                parallel=parallel, mesh=mesh,
                checkpoint_every=args.checkpoint_every, resume=args.resume, **net,
                restart=args.force and not args.resume and args.checkpoint is not None,
                # Your own data's held-out split shows beside training (bar, curves).
                validation_data=None if args.data is None else (X_test, Y_test))
    except KeyboardInterrupt:
        if args.checkpoint is not None:
            raise KeyboardInterrupt(_interrupted_checkpoint(args.checkpoint)) from None
        raise
    seconds = time.perf_counter() - start
    if args.parallel != "data":  # each rank holds a share: the whole network goes to rank 0
        params = gather_params(params, comm, mesh=mesh)
    if comm is not None and comm.Get_rank() != 0:  # rank 0 reports and writes the files
        return _finished_together(args, comm, 0)
    scores = _scores(params, net, data)
    print(f"final loss {history.loss[-1]:.4g}; {scores['text']}; "
          f"{_epochs_trained(history.epochs, resumed_at)} in {seconds:.1f} s")
    if args.save is not None:
        training = {"layers": args.layers, "epochs": args.epochs, "batch_size": args.batch_size,
                    "lr": args.lr, "optimizer": args.optimizer, "seed": args.seed,
                    "dtype": args.dtype, **net}
        save_params(args.save, params, **net, classes=data.classes,
                    preprocessing=data.preprocessing, **data.metadata,
                    **scores["saved"], training=training)
        print(f"saved the parameters to {args.save}")
    if args.plot is not None:
        plot_history(history, args.plot)
        print(f"saved the training curves to {args.plot}")
    for warning in caught:
        if issubclass(warning.category, ConvergenceWarning):
            print(f"xpnet train: {warning.message}", file=sys.stderr)
        else:
            warnings.warn_explicit(warning.message, warning.category, warning.filename,
                                   warning.lineno)
    return _finished_together(args, comm, 1 if history.learned is False else 0)


def _finished_together(args: argparse.Namespace, comm: Any, status: int) -> int:
    """``status``, once every rank is done: they meet here, so that the job ends by each
    process's exit (rank 0's status is the job's), not by an abort."""
    if comm is not None:
        comm.Barrier()
        args.ranks_finished = True
    return status


def _silent(*args: Any, **kwargs: Any) -> None:
    """``print`` for the ranks other than 0, which leave the talking to it."""


def _scores(params: Any, net: dict[str, str], data: TrainingData) -> dict[str, Any]:
    """How the trained network does: a classifier's train and test accuracy, a regressor's
    R^2 and MSE; ``text`` to print, ``saved`` for the model file's metadata."""
    if get_output(net["output"]).classifier:
        train_acc = accuracy(data.X_train, data.Y_train, params, **net)
        test_acc = accuracy(data.X_val, data.Y_val, params, **net)
        return {"text": f"train accuracy {train_acc:.1%}, test accuracy {test_acc:.1%}",
                "saved": {"test_accuracy": test_acc}}
    model = Model(params, **net)  # the data is standardised already: no preprocessing here
    train, test = (model.evaluate(X, Y) for X, Y in ((data.X_train, data.Y_train),
                                                     (data.X_val, data.Y_val)))
    return {"text": f"train R^2 {train['r2']:.4f}, test R^2 {test['r2']:.4f} "
                    f"(test MSE {test['mse']:.4g})",
            "saved": {"test_r2": test["r2"], "test_mse": test["mse"]}}


def _epochs_trained(total: int, resumed_at: int | None) -> str:
    """``30 epochs``; for a resumed run ``30 epochs (10 in this run, resumed at epoch 20)``."""
    def count(n: int) -> str:
        return f"{n} epoch" if n == 1 else f"{n} epochs"
    if resumed_at is None:
        return count(total)
    return f"{count(total)} ({total - resumed_at} in this run, resumed at epoch {resumed_at})"


def _parallel(args: argparse.Namespace, comm: Any) -> tuple[Any, tuple[int, int] | None]:
    """fit's ``parallel`` and ``mesh`` from ``--parallel`` and ``--mesh``, checked."""
    if args.parallel != "data" and comm is None:
        raise ValueError(f"--parallel {args.parallel} splits the layers across processes: "
                         f"launch it with mpiexec -n N xpnet train --parallel {args.parallel} ...")
    if (args.parallel == "grid") != (args.mesh is not None):
        raise ValueError("--parallel grid and --mesh N_DATA N_TENSOR go together (N_DATA x "
                         "N_TENSOR processes, each group of N_TENSOR holding one copy of the "
                         "network)")
    if args.parallel == "grid":
        return ("data", "tensor"), tuple(args.mesh)
    return args.parallel, None


def _checkpoint_epoch(path: pathlib.Path) -> int | None:
    """The epochs a checkpoint holds; None when it cannot be read (fit then says why)."""
    try:
        header = read_header(path)
    except (OSError, XpnetError):
        return None
    epoch = header.get("epoch")
    return epoch if isinstance(epoch, int) and not isinstance(epoch, bool) else None


def _interrupted_checkpoint(path: pathlib.Path) -> str:
    """Where an interrupted run stands, for the message that ends it."""
    if not path.exists():
        return f"no checkpoint was written yet (the first is written after epoch 1 at {path})"
    try:
        header = read_header(path)
    except (OSError, XpnetError) as exc:
        return f"the checkpoint {path} cannot be read ({exc})"
    return (f"the checkpoint {path} holds the run up to epoch {header['epoch']}; run the same "
            "command with --resume to continue")


def add_command(commands: Any) -> None:
    train_parser = commands.add_parser(
        "train", help="train a network on a dataset and report its accuracy",
        description="Train a network with mini-batches on a shipped, generated or downloaded "
                    "dataset (80% train / 20% test), show a progress bar, and report the train "
                    "and test accuracy. With no options: the 8x8 digits shipped with xpnet.")
    add = train_parser.add_argument
    add("--dataset", choices=sorted(DATASETS),
        help="digits (shipped, default), moons/spirals/blobs (generated), mnist (downloaded once)")
    add("--data", type=pathlib.Path, metavar="FILE",
        help="train on your own data: a CSV with a header row, an .npz of X and y, or an "
             ".npy of X (with --target y.npy); 20%% is held out (stratified) for validation")
    add("--target", metavar="COLUMN",
        help="the CSV column holding the labels (default: the last), or the labels' .npy")
    add("--task", choices=TASKS, default="auto",
        help="what --data's target is: class labels (classification) or real values "
             "(regression: one identity output, squared error, R^2 and MSE reported); "
             "default auto: regression when the target holds numbers that are not all whole")
    add("--layers", type=positive_int, nargs="+", default=[64], metavar="N",
        help="hidden layer sizes (default: 64)")
    add("--hidden", default="relu", choices=HIDDEN_ACTIVATIONS, help="hidden activation (default: relu)")
    add("--epochs", type=positive_int, default=30, help="default: 30")
    add("--batch-size", type=positive_int, default=32, help="default: 32")
    add("--lr", type=positive_float, default=0.01, help="learning rate (default: 0.01)")
    add("--optimizer", default="adam", choices=list(OPTIMIZERS), help="default: adam")
    add("--backend", default="auto", choices=BACKEND_NAMES, help="array backend (default: auto)")
    add("--dtype", choices=["float32", "float64"],
        help="default: float64, or the backend's default float where it has none")
    add("--seed", type=seed, default=0, help="default: 0")
    add("--save", type=pathlib.Path, metavar="PATH",
        help="save the model (.npz): xpnet predict/evaluate and xpnet.load read it")
    add("--plot", type=pathlib.Path, metavar="PATH", help="draw the training curves (needs matplotlib)")
    add("--checkpoint", type=pathlib.Path, metavar="PATH",
        help="save the run's whole state here (atomically) so it can be resumed")
    add("--checkpoint-every", type=positive_int, default=1, metavar="N",
        help="epochs between checkpoints (default: 1; the last epoch is always saved)")
    add("--resume", action="store_true",
        help="continue from --checkpoint (same options; more --epochs allowed) if it exists")
    add("--force", action="store_true",
        help="overwrite existing --save/--plot files; start over on an existing --checkpoint")
    add("--parallel", choices=["data", "tensor", "grid"], default="data",
        help="under mpiexec: each process a piece of every batch (data, default), a share of "
             "every hidden layer (tensor: layers too wide for one device), or both (grid, "
             "with --mesh)")
    add("--mesh", type=positive_int, nargs=2, metavar=("N_DATA", "N_TENSOR"),
        help="--parallel grid: N_DATA groups of N_TENSOR processes, each group one copy of "
             "the network split over its processes (N_DATA x N_TENSOR = the processes)")
    train_parser.set_defaults(run=run)


