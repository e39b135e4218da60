"""Run under ``mpiexec -n 4 python -m mpi4py``: a grid ``mesh=(2, 2)`` against one process.
A grid run with validation is paused by a callback after epoch 1 and resumed from its
checkpoint on the grid; rank 0 also resumes a copy of the paused run's file alone. Every
rank's share is compared with its part of the unsplit network trained uninterrupted, and
so is the whole network its tensor group's shares join into; the largest relative
differences go to argv[2] as JSON (argv[1]: a directory for files)."""

import json
import shutil
import sys
from pathlib import Path

import numpy as np
from mpi4py import MPI

import xpnet
from xpnet.training.tensor import share_of, tensor_layout

comm = MPI.COMM_WORLD
MESH = (2, 2)
checkpoint, copy = (Path(sys.argv[1]) / name for name in ("run.ckpt.npz", "copy.ckpt.npz"))
rng = np.random.RandomState(3)
X = rng.randn(6, 70)
Y = np.eye(3)[(X[0] > 0).astype(int) + (X[1] > 0.5).astype(int)].T
DIMS = [6, 7, 5, 3]  # 2 divides neither hidden width
# 56 training samples in batches of 15: the last batch (11) splits unevenly too.
options = dict(epochs=5, batch_size=15, optimizer="adam", lr=0.01, seed=4, verbose=0,
               hidden="tanh", output="softmax", weight_decay=1e-3, validation_split=0.2)


def pause_after_epoch_1(epoch, logs, params):
    return epoch == 1


xpnet.fit(X, Y, DIMS, checkpoint=checkpoint, callbacks=[pause_after_epoch_1], comm=comm,
          parallel=("data", "tensor"), mesh=MESH, **options)
if comm.rank == 0:
    shutil.copy(checkpoint, copy)
comm.Barrier()
share, history = xpnet.fit(X, Y, DIMS, checkpoint=checkpoint, resume=True, comm=comm,
                           parallel=("data", "tensor"), mesh=MESH, **options)
alone, history_alone = xpnet.fit(X, Y, DIMS, **options)  # on every rank: small
expected = share_of(tensor_layout(DIMS, comm.rank % MESH[1], MESH[1]), alone, alone["W1"])


def difference(params, expected):
    return max(float(np.max(np.abs(params[k] - expected[k]) / np.abs(expected[k]).max()))
               for k in expected)


differences = comm.gather(difference(share, expected), root=0)
# The first tensor group's shares joined on rank 0.
whole = xpnet.gather_params(share, comm, mesh=MESH)
joined = comm.gather(None if whole is None else difference(whole, alone), root=0)
if comm.rank == 0:
    resumed_alone, _ = xpnet.fit(X, Y, DIMS, checkpoint=copy, resume=True, **options)
    Path(sys.argv[2]).write_text(json.dumps({
        "differences": differences, "joined": joined, "difference_resumed_alone": difference(resumed_alone, alone),
        "loss_difference": max(abs(a - b) / b for a, b in zip(history.loss, history_alone.loss)),
        "epochs": [history.epochs, history_alone.epochs]}))
