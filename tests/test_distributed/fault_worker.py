"""Run under ``mpiexec -n N python -m mpi4py``: one way for rank 1 to fail (argv[1])."""

import os
import sys

import numpy as np
from mpi4py import MPI

import xpnet

comm = MPI.COMM_WORLD
mode = sys.argv[1]
rng = np.random.RandomState(0)
X = rng.randn(4, 60)
Y = (X[:1] > 0).astype(float)
print(f"rank {comm.rank} is process {os.getpid()}", flush=True)
options = dict(epochs=50, batch_size=10, verbose=0, comm=comm)


def fail_on_rank_1(epoch, logs, params):
    """A callback that fails on rank 1 only, in the middle of training."""
    if comm.rank == 1 and epoch == 2:
        if mode == "raise in training":
            raise RuntimeError("the callback of rank 1 failed")
        if mode == "exit in training":
            sys.exit(3)
        if mode == "killed in training":
            os.kill(os.getpid(), 9)


if mode == "raise before fit" and comm.rank == 1:
    raise RuntimeError("rank 1 failed before fit")
if mode == "exit before fit" and comm.rank == 1:
    sys.exit(4)
if mode == "different options":
    options["lr"] = 0.5 if comm.rank == 0 else 0.1
if mode == "different epochs":
    options["epochs"] = 3 + comm.rank
if mode == "a logger on rank 0 alone":
    options["callbacks"] = [print] if comm.rank == 0 else []
if mode == "warnings are errors, and it does not learn":
    import warnings

    warnings.simplefilter("error", xpnet.ConvergenceWarning)
    options.update(lr=1e-9, epochs=6)
if mode == "different data" and comm.rank == 1:
    X = X + 1.0
if mode == "bad data on one rank" and comm.rank == 1:
    X = X.copy()
    X[0, 0] = np.nan
try:
    xpnet.fit(X, Y, [4, 3, 1], **{"callbacks": [fail_on_rank_1], **options})
except (ValueError, xpnet.errors.RankFailedError, xpnet.ConvergenceWarning) as exc:
    # Raised on every rank: each says so, and the job ends normally.
    print(f"rank {comm.rank} caught {type(exc).__name__}: {exc}", flush=True)
    sys.exit(0)
print(f"rank {comm.rank} finished", flush=True)
