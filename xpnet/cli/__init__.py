"""The command line: ``xpnet train``, ``predict``, ``evaluate``, ``demo``, ``gradcheck`` and
``info`` (also ``python -m xpnet``).

One module per command, each with ``add_command(subparsers)`` and the ``run(args)`` it sets.
"""

from __future__ import annotations

import argparse
import os
import sys
import warnings
from collections.abc import Callable, Sequence
from typing import Any

from .._version import __version__
from ..distributed import MpiTransport, world
from ..errors import XpnetError
from . import demo, evaluate, gradcheck, info, predict, train
from .train import DATASETS  # noqa: F401  (the datasets the train command offers)

COMMANDS = (train, predict, evaluate, demo, gradcheck, info)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="xpnet", description=(
        "xpnet: a small neural-network library running the same code on NumPy and CuPy."))
    parser.add_argument("--version", action="version", version=f"xpnet {__version__}")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for command in COMMANDS:
        command.add_command(commands)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit status (1 for errors, 2 for bad usage).

    Launched by ``mpiexec`` on several processes, the commands train on all of them
    together; a rank that ends with an error then ends the whole job (the others would
    wait for it forever), with its status; one whose ranks all finished exits normally.
    """
    try:
        comm = world()
    except XpnetError as exc:  # launched by mpiexec without mpi4py: say how to get it
        print(f"xpnet: error: {exc}", file=sys.stderr)
        return 1
    if comm is None:
        return _run(argv)[0]
    transport = MpiTransport(comm)
    finished = False
    try:
        status, finished = _run(argv, comm)
    except SystemExit as exc:  # argparse's usage errors
        status = exc.code if isinstance(exc.code, int) else 2
    except BaseException as exc:
        print(f"xpnet: rank {transport.rank} of {transport.size} failed: "
              f"{type(exc).__name__}: {exc}", file=sys.stderr)
        status = 1
    if status and not finished:  # the others may be waiting for this rank: end them all
        sys.stdout.flush()
        transport.abort(status)
    return status


def _run(argv: Sequence[str] | None, comm: Any = None) -> tuple[int, bool]:
    """The command's exit status, and whether every rank finished it (met at its end)."""
    parser = build_parser()
    args = parser.parse_args(argv)
    if comm is not None and args.command != "train" and comm.Get_rank() != 0:
        return 0, False  # the other commands run once, on rank 0: one output, one file written
    if getattr(args, "resume", False) and args.checkpoint is None:
        parser.error("--resume needs --checkpoint PATH: the checkpoint to continue from")
    formatwarning, warnings.formatwarning = warnings.formatwarning, _warning_line(args.command)
    try:
        return args.run(args), getattr(args, "ranks_finished", False)
    except BrokenPipeError:  # the reader of the output stopped (`| head`): nothing to say
        _drop_stdout()
        return 1, False
    except (XpnetError, ValueError, TypeError, OSError, ImportError) as exc:
        print(f"xpnet {args.command}: error: {exc}", file=sys.stderr)
        return 1, False
    except KeyboardInterrupt as exc:
        detail = f"; {exc}" if str(exc) else ""
        print(f"xpnet {args.command}: interrupted{detail}", file=sys.stderr)
        return 130, False
    finally:
        warnings.formatwarning = formatwarning


def _drop_stdout() -> None:
    """Send what is left for standard output nowhere: the reader has gone, and flushing
    it at exit would fail again (Python's advice for SIGPIPE)."""
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, sys.stdout.fileno())


def _warning_line(command: str) -> Callable[..., str]:
    """Warnings as one line each, as the command's errors are (not Python's source lines)."""
    def format_warning(message: Any, *_: Any, **__: Any) -> str:
        return f"xpnet {command}: warning: {message}\n"
    return format_warning
