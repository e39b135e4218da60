"""The command line: ``python -m xpnet demo`` and ``python -m xpnet info``."""

from __future__ import annotations

import argparse
import importlib.metadata
import sys
import time
from collections.abc import Sequence

from . import __version__
from .activations import ACTIVATIONS
from .backend import BACKEND_NAMES, backend_name, resolve_backend
from .datasets import make_moons
from .errors import BackendUnavailableError
from .evaluation import accuracy
from .training import train


def _demo(args: argparse.Namespace) -> int:
    X, Y = make_moons(args.samples, noise=0.2, seed=args.seed)
    n_train = int(0.8 * X.shape[1])
    layer_dims = [2, *args.hidden_sizes, 1]
    xp = resolve_backend(args.backend)
    print(f"xpnet {__version__}: two-moons demo on the {backend_name(xp)} backend, "
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


def _info(args: argparse.Namespace) -> int:
    print(f"xpnet {__version__}, Python {sys.version.split()[0]}")
    for package in ("numpy", "array-api-compat", "array-api-strict", "cupy", "torch", "jax"):
        try:
            print(f"  {package:17s} {importlib.metadata.version(package)}")
        except importlib.metadata.PackageNotFoundError:
            pass
    print("backends:")
    for name in BACKEND_NAMES:
        try:
            xp = resolve_backend(name)
            print(f"  {name:17s} usable ({backend_name(xp)})")
        except BackendUnavailableError as exc:
            print(f"  {name:17s} unavailable: {exc}")
    return 0


def _positive_int(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be >= 1, got {value}")
    return value


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="xpnet", description=(
        "xpnet: a small neural-network library running the same code on NumPy and CuPy."))
    parser.add_argument("--version", action="version", version=f"xpnet {__version__}")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    demo = commands.add_parser("demo", help="train a small network on generated two-moons data",
                               description="Train a network on generated two-moons data with "
                                           "full-batch gradient descent and report its accuracy.")
    demo.add_argument("--backend", default="numpy",
                      help=f"array backend: {', '.join(BACKEND_NAMES)} (default: numpy)")
    demo.add_argument("--epochs", type=_positive_int, default=3000, help="default: 3000")
    demo.add_argument("--lr", type=float, default=0.5, help="learning rate (default: 0.5)")
    demo.add_argument("--hidden", default="tanh", choices=sorted(ACTIVATIONS),
                      help="hidden activation (default: tanh)")
    demo.add_argument("--hidden-sizes", type=_positive_int, nargs="+", default=[16, 16],
                      metavar="N", help="hidden layer sizes (default: 16 16)")
    demo.add_argument("--samples", type=_positive_int, default=500, help="default: 500")
    demo.add_argument("--dtype", choices=["float32", "float64"],
                      help="default: float64, or the backend's default float where it has none")
    demo.add_argument("--seed", type=int, default=0, help="default: 0")
    demo.set_defaults(run=_demo)
    info = commands.add_parser("info", help="show versions and which backends can run here")
    info.set_defaults(run=_info)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit status."""
    args = build_parser().parse_args(argv)
    try:
        return args.run(args)
    except (BackendUnavailableError, ValueError, TypeError) as exc:
        print(f"xpnet {args.command}: error: {exc}", file=sys.stderr)
        return 1
