"""Run under ``mpiexec -n N python -m mpi4py``: tensor-parallel fit on the N ranks against
the unsplit network in one process, and the bytes each rank holds; rank 0 writes what it
found as JSON to argv[1]."""

import json
import sys

import numpy as np
from mpi4py import MPI

import xpnet
from xpnet.network import forward, layer_activations
from xpnet.training.tensor import TensorParallel, tensor_layout

comm = MPI.COMM_WORLD
rng = np.random.RandomState(5)
X = rng.randn(16, 120)
Y = np.eye(4)[(X[0] > 0).astype(int) + 2 * (X[1] > 0).astype(int)].T
DIMS = [16, 31, 23, 4]  # hidden widths 3 does not divide: uneven shares
results = {}
for optimizer, lr in (("sgd", 0.1), ("momentum", 0.1), ("adam", 0.01)):
    options = dict(epochs=4, batch_size=24, optimizer=optimizer, lr=lr, hidden="tanh",
                   output="softmax", seed=9, weight_decay=1e-4, verbose=0)
    share, history = xpnet.fit(X, Y, DIMS, comm=comm, parallel="tensor", **options)
    whole = xpnet.gather_params(share, comm)
    if comm.rank == 0:
        alone, history_alone = xpnet.fit(X, Y, DIMS, **options)
        results[optimizer] = {
            "difference": max(float(np.max(np.abs(whole[k] - alone[k]) / np.abs(alone[k]).max()))
                              for k in alone),
            "loss_difference": max(abs(a - b) / b for a, b in zip(history.loss, history_alone.loss)),
            "steps": history.epochs * 5}


def held_bytes(params, caches):
    """The bytes of the parameters and of the activations the forward pass keeps."""
    return sum(a.nbytes for a in params.values()) + sum(c.A.nbytes for c in caches)


wide = [16, 600, 600, 4]
batch = X[:, :64]
activations = layer_activations(3, "relu", "softmax")
whole = xpnet.init_params(wide, seed=1)
share = xpnet.shard_params(whole, comm)
tensor = TensorParallel(tensor_layout(wide, comm.rank, comm.size), xpnet.distributed.as_transport(comm))
_, caches = tensor.forward(batch, share, activations)
ratios = comm.gather(held_bytes(share, caches), root=0)
if comm.rank == 0:
    _, whole_caches = forward(batch, whole, activations)
    results["memory_ratios"] = [r / held_bytes(whole, whole_caches) for r in ratios]
    with open(sys.argv[1], "w") as f:
        json.dump(results, f)
