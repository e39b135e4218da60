"""Helpers for the tests that run real MPI jobs (``mpiexec``), each as a subprocess with a
time limit: never pytest itself under mpiexec."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

HERE = Path(__file__).parent


def mpiexec() -> str | None:
    """The ``mpiexec`` next to this Python (the mpich wheel's) or on PATH."""
    beside = Path(sys.executable).parent / "mpiexec"
    return str(beside) if beside.exists() else shutil.which("mpiexec")


def mpi_missing() -> str | None:
    try:
        import mpi4py  # noqa: F401
    except ImportError:
        return 'mpi4py is not installed (pip install "xpnet[mpi]")'
    if mpiexec() is None:
        return "no mpiexec found (pip install mpich)"
    return None


needs_mpi = pytest.mark.skipif(mpi_missing() is not None, reason=str(mpi_missing()))


def run_ranks(n: int, script: str, *args: str, timeout: float = 60,
              module: bool = True) -> tuple[subprocess.CompletedProcess, float]:
    """``mpiexec -n n python -m mpi4py script args`` (``module=False``: ``python script
    args``, where ``script`` may also be ``-m``); returns the finished process and its
    wall time in seconds."""
    env = dict(os.environ, OMP_NUM_THREADS="1", PYTHONPATH=str(HERE.parent.parent))
    launch = [sys.executable, "-m", "mpi4py"] if module else [sys.executable]
    where = str(HERE / script) if script.endswith(".py") else script
    command = [mpiexec(), "-n", str(n), *launch, where, *args]
    start = time.monotonic()
    done = subprocess.run(command, capture_output=True, text=True, timeout=timeout, env=env)
    return done, time.monotonic() - start


def worker_results(n: int, script: str, tmp_path: Path, timeout: float = 150) -> dict:
    """Run a worker that writes JSON to the path it is given on ``n`` ranks; its results."""
    out = tmp_path / "results.json"
    done, _ = run_ranks(n, script, str(out), timeout=timeout)
    assert done.returncode == 0, done.stdout + done.stderr
    return json.loads(out.read_text())
