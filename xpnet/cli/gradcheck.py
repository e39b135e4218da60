"""``xpnet gradcheck``: the gradient check on a small random network, for every hidden
activation x output kind on every backend that can run here."""

from __future__ import annotations

import argparse
from typing import Any

import numpy as np

from ..activations import HIDDEN_ACTIVATIONS
from ..backend import BACKEND_NAMES, asarray, resolve_backend
from ..errors import BackendUnavailableError
from ..gradcheck import TOLERANCES, GradientCheckReport, gradient_check
from ..outputs import OUTPUTS
from ..parameters import layer_keys
from ..seeding import host_rng
from .arguments import non_negative_float, positive_int, seed

LAYER_DIMS = [3, 5, 4, 3]
CHECKED_BACKENDS = [name for name in BACKEND_NAMES if name != "auto"]


def random_problem(layer_dims: list[int], output: str, m: int, seed: int, xp: Any,
                   dtype: str) -> tuple[dict[str, Any], Any, Any]:
    """``(params, X, Y)`` on ``xp``, drawn on the host from ``seed`` (the same numbers on
    every backend): weights and biases ~ N(0, 0.8^2) and N(0, 0.5^2), ``X`` ~ N(0, 1), and
    ``Y`` one-hot columns for a classifier output (valid for sigmoid and softmax alike),
    else ~ N(0, 1)."""
    rng = host_rng(seed)
    params = {}
    for l in range(1, len(layer_dims)):
        W, b = layer_keys(l)
        params[W] = rng.randn(layer_dims[l], layer_dims[l - 1]) * 0.8
        params[b] = rng.randn(layer_dims[l], 1) * 0.5
    X = rng.randn(layer_dims[0], m)
    n_out = layer_dims[-1]
    Y = np.eye(n_out)[:, rng.randint(n_out, size=m)] if OUTPUTS[output].classifier \
        else rng.randn(n_out, m)
    return ({key: asarray(value, xp, dtype) for key, value in params.items()},
            asarray(X, xp, dtype), asarray(Y, xp, dtype))


def _grid(name: str, reports: dict[tuple[str, str], GradientCheckReport]) -> list[str]:
    """One backend's checks as a table: a row per hidden activation, a column per output."""
    outputs = sorted({output for _, output in reports})
    lines = [f"{name}:", ("  " + "hidden/output".ljust(14) + "".join(f"{o:>11s} " for o in outputs)).rstrip()]
    for hidden in sorted({hidden for hidden, _ in reports}):
        cells = "".join(f"{reports[hidden, output].max_relative_error:11.1e}"
                        + (" " if reports[hidden, output].passed else "!") for output in outputs)
        lines.append(f"  {hidden:14s}{cells}".rstrip())
    return lines


def run(args: argparse.Namespace) -> int:
    names = args.backend or CHECKED_BACKENDS
    tolerance = TOLERANCES[args.dtype]
    print(f"gradient check, layers {LAYER_DIMS}, {args.samples} samples, {args.dtype}, seed "
          f"{args.seed}" + (f", weight_decay {args.weight_decay:g}" if args.weight_decay else "")
          + f"\neach check's largest error, relative to the network's largest gradient entry "
          f"(tolerance {tolerance:.0e}; ! marks a failure)")
    failures, checked, skipped = [], 0, []
    for name in names:
        try:
            xp = resolve_backend(name)
            problems = {output: random_problem(LAYER_DIMS, output, args.samples, args.seed, xp,
                                               args.dtype) for output in sorted(OUTPUTS)}
        except (BackendUnavailableError, ValueError) as exc:  # not installed; no float64 (JAX)
            print(f"{name}: skipped: {exc}")
            skipped.append(name)
            continue
        reports = {(hidden, output): gradient_check(params, X, Y, hidden=hidden, output=output,
                                                    weight_decay=args.weight_decay)
                   for hidden in HIDDEN_ACTIVATIONS for output, (params, X, Y) in problems.items()}
        print("\n".join(_grid(name, reports)), flush=True)
        checked += len(reports)
        failures += [report for report in reports.values() if not report.passed]
    for report in failures:
        print("\n" + str(report))
    summary = f"{checked - len(failures)} of {checked} checks passed on {len(names) - len(skipped)} backend(s)"
    print(summary + (f"; skipped: {', '.join(skipped)}" if skipped else ""))
    if checked == 0:
        print("no backend could run the check")
    return 1 if failures or checked == 0 else 0


def add_command(commands: Any) -> None:
    gradcheck = commands.add_parser(
        "gradcheck", help="check backprop against central differences on every backend",
        description="Check backprop's gradients against central differences of the cost "
                    "(xpnet.gradient_check) on a small random network, for every hidden "
                    "activation and output kind on every backend that can run here; exits 1 "
                    "if any check fails.")
    gradcheck.add_argument("--backend", nargs="+", choices=CHECKED_BACKENDS, metavar="NAME",
                           help=f"backends to check (default: all of {', '.join(CHECKED_BACKENDS)} "
                                "that can run here; the others are listed as skipped)")
    gradcheck.add_argument("--dtype", choices=["float64", "float32"], default="float64",
                           help="the network's dtype (default: float64, tolerance "
                                f"{TOLERANCES['float64']:.0e}; float32 is checked against a "
                                f"looser one, {TOLERANCES['float32']:.0e})")
    gradcheck.add_argument("--samples", type=positive_int, default=6, metavar="N", help="default: 6")
    gradcheck.add_argument("--weight-decay", type=non_negative_float, default=0.0, metavar="D",
                           help="L2 penalty in the checked cost (default: 0)")
    gradcheck.add_argument("--seed", type=seed, default=0, metavar="S", help="default: 0")
    gradcheck.set_defaults(run=run)
