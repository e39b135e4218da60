"""Run under ``mpiexec -n N python -m mpi4py``: a run on the ranks (argv[3]: ``data`` or
``tensor`` parallel) paused by a callback, then resumed from its checkpoint, against the
same run in one process uninterrupted; rank 0 also resumes a copy of the paused run's
checkpoint alone. Rank 0 writes the largest relative differences of the weights to argv[2]."""

import json
import shutil
import sys
from pathlib import Path

import numpy as np
from mpi4py import MPI

import xpnet

comm = MPI.COMM_WORLD
parallel = sys.argv[3]
checkpoint = Path(sys.argv[1]) / "run.ckpt.npz"
copy = Path(sys.argv[1]) / "copy.ckpt.npz"
rng = np.random.RandomState(3)
X = rng.randn(6, 70)
Y = (X[:1] * X[1:2] > 0).astype(float)
DIMS = [6, 5, 1] if parallel == "data" else [6, 7, 5, 1]  # 3 divides neither width
# Data parallel: each rank validates on its piece, the checkpoint is whole.
options = dict(epochs=6, batch_size=16, optimizer="adam", lr=0.01, seed=4, verbose=0,
               validation_split=0.2, early_stopping=10)


def pause_after_epoch_2(epoch, logs, params):
    return epoch == 2


xpnet.fit(X, Y, DIMS, checkpoint=checkpoint, callbacks=[pause_after_epoch_2], comm=comm,
          parallel=parallel, **options)
if comm.rank == 0:
    shutil.copy(checkpoint, copy)
comm.Barrier()
params, history = xpnet.fit(X, Y, DIMS, checkpoint=checkpoint, resume=True, comm=comm,
                            parallel=parallel, **options)
if parallel == "tensor":
    params = xpnet.gather_params(params, comm)
if comm.rank == 0:
    alone, history_alone = xpnet.fit(X, Y, DIMS, **options)
    resumed_alone, _ = xpnet.fit(X, Y, DIMS, checkpoint=copy, resume=True, **options)

    def difference(params):
        return max(float(np.max(np.abs(params[k] - alone[k]) / np.abs(alone[k]).max()))
                   for k in alone)

    Path(sys.argv[2]).write_text(json.dumps({
        "difference": difference(params), "difference_resumed_alone": difference(resumed_alone),
        "epochs": history.epochs, "epochs_alone": history_alone.epochs}))
