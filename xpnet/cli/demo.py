"""``xpnet demo``: the tutorial's full-batch loop on generated two-moons data."""

from __future__ import annotations

import argparse
import time
from typing import Any

from .._version import __version__
from ..activations import HIDDEN_ACTIVATIONS
from ..backend import BACKEND_NAMES, backend_name
from ..datasets import make_moons
from ..evaluation import accuracy
from ..training import train
from ..workload import resolve_for_work
from .arguments import positive_float, positive_int, seed



def run(args: argparse.Namespace) -> int:
    X, Y = make_moons(args.samples, noise=0.2, seed=args.seed)
    n_train = int(0.8 * X.shape[1])
    layer_dims = [2, *args.hidden_sizes, 1]
    xp, choice = resolve_for_work(args.backend, layer_dims, n_train)  # full batch
    why = "" if choice is None else f" ({choice})"
    print(f"xpnet {__version__}: two-moons demo on the {backend_name(xp)} backend{why}, "
          f"layers {layer_dims}, {args.hidden} hidden units, {args.epochs} epochs, lr {args.lr}")
    start = time.perf_counter()
    params, costs = train(X[:, :n_train], Y[:, :n_train], layer_dims, args.epochs, args.lr,
                          hidden=args.hidden, scale="xavier", seed=args.seed,
                          dtype=args.dtype, backend=xp)
    seconds = time.perf_counter() - start
    for epoch in range(0, args.epochs, max(1, args.epochs // 10)):
        print(f"  epoch {epoch:5d}  cost {costs[epoch]:.4f}")
    options = {"hidden": args.hidden}
    train_acc = accuracy(X[:, :n_train], Y[:, :n_train], params, **options)
    test_acc = accuracy(X[:, n_train:], Y[:, n_train:], params, **options)
    print(f"final cost {costs[-1]:.4f}; train accuracy {train_acc:.1%}, "
          f"test accuracy {test_acc:.1%}; trained in {seconds:.2f} s")
    return 0


def add_command(commands: Any) -> None:
    demo = commands.add_parser("demo", help="the tutorial's full-batch loop on generated two-moons data",
                               description="Train a network on generated two-moons data with "
                                           "full-batch gradient descent and report its accuracy.")
    demo.add_argument("--backend", default="numpy", choices=BACKEND_NAMES,
                      help="array backend (default: numpy)")
    demo.add_argument("--epochs", type=positive_int, default=3000, help="default: 3000")
    demo.add_argument("--lr", type=positive_float, default=0.5, help="learning rate (default: 0.5)")
    demo.add_argument("--hidden", default="tanh", choices=HIDDEN_ACTIVATIONS,
                      help="hidden activation (default: tanh)")
    demo.add_argument("--hidden-sizes", type=positive_int, nargs="+", default=[16, 16],
                      metavar="N", help="hidden layer sizes (default: 16 16)")
    demo.add_argument("--samples", type=positive_int, default=500, help="default: 500")
    demo.add_argument("--dtype", choices=["float32", "float64"],
                      help="default: float64, or the backend's default float where it has none")
    demo.add_argument("--seed", type=seed, default=0, help="default: 0")
    demo.set_defaults(run=run)
