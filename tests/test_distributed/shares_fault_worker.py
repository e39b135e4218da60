"""Run under ``mpiexec -n 2 python -m mpi4py``: one way for the ranks holding shares of a
tensor-parallel network to go wrong (argv[1]); no way may leave a rank waiting."""

import sys

import numpy as np
from mpi4py import MPI

import xpnet
from xpnet.training.tensor import TensorParallel

comm = MPI.COMM_WORLD
mode = sys.argv[1]
rng = np.random.RandomState(0)
X = rng.randn(4, 60)
Y = (X[:1] > 0).astype(float)
share, _ = xpnet.fit(X, Y, [4, 6, 1], epochs=2, verbose=0, comm=comm, parallel="tensor")
try:
    if mode == "the whole network on rank 0, None on rank 1":  # a likely slip
        xpnet.sharded_forward_prop(X, xpnet.gather_params(share, comm), comm)
    elif mode == "a rank fails in the middle of the forward pass":
        summed = TensorParallel._summed

        def fails_on_rank_1(self, partial):
            if comm.rank == 1:
                raise MemoryError("rank 1 ran out of memory")
            return summed(self, partial)

        TensorParallel._summed = fails_on_rank_1
        xpnet.sharded_forward_prop(X, share, comm)
    elif mode == "an estimator saves where rank 0 cannot write":
        est = xpnet.MLPClassifier((6,), comm=comm, parallel="tensor", max_iter=2)
        est.fit(X.T, Y.ravel()).save("/no such directory/model.npz")
except (ValueError, TypeError, OSError, xpnet.errors.RankFailedError) as exc:
    print(f"rank {comm.rank} caught {type(exc).__name__}: {exc}", flush=True)
    sys.exit(0)
print(f"rank {comm.rank} finished", flush=True)
