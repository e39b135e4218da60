"""Run under ``mpiexec -n N python -m mpi4py`` on a machine with N CUDA GPUs: fit with CuPy
on the ranks (gradients summed by NCCL) against one process on one GPU; rank 0 writes the
largest relative difference and the transport used to argv[1]."""

import json
import sys

import numpy as np
from mpi4py import MPI

import xpnet
from xpnet.distributed import transport_for

comm = MPI.COMM_WORLD
rng = np.random.RandomState(0)
X = rng.randn(8, 150)
Y = np.eye(3)[(X[0] > 0).astype(int) + (X[1] > 1).astype(int)].T
options = dict(epochs=4, batch_size=25, optimizer="adam", lr=0.01, output="softmax",
               dtype="float64", backend="cupy", seed=2, verbose=0)
params, _ = xpnet.fit(X, Y, [8, 16, 3], comm=comm, **options)
host = {k: xpnet.to_numpy(v) for k, v in params.items()}
transport = type(transport_for(comm, params["W1"])).__name__
if comm.rank == 0:
    alone, _ = xpnet.fit(X, Y, [8, 16, 3], **options)
    worst = max(float(np.max(np.abs(host[k] - xpnet.to_numpy(alone[k]))
                             / np.abs(xpnet.to_numpy(alone[k])).max())) for k in host)
    with open(sys.argv[1], "w") as f:
        json.dump({"difference": worst, "transport": transport,
                   "device": int(params["W1"].device.id)}, f)
