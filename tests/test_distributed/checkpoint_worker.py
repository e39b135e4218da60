"""Run under ``mpiexec -n N python -m mpi4py``: a run on the ranks paused by a callback,
then resumed from its checkpoint, against the same run in one process uninterrupted;
rank 0 writes the largest relative difference of the weights to argv[2]."""

import json
import sys
from pathlib import Path

import numpy as np
from mpi4py import MPI

import xpnet

comm = MPI.COMM_WORLD
checkpoint = Path(sys.argv[1]) / "run.ckpt.npz"
rng = np.random.RandomState(3)
X = rng.randn(6, 70)
Y = (X[:1] * X[1:2] > 0).astype(float)
options = dict(epochs=6, batch_size=16, optimizer="adam", lr=0.01, seed=4, verbose=0,
               validation_split=0.2)  # each rank validates on its piece: the checkpoint is whole


def pause_after_epoch_2(epoch, logs, params):
    return epoch == 2


xpnet.fit(X, Y, [6, 5, 1], checkpoint=checkpoint, callbacks=[pause_after_epoch_2], comm=comm,
          **options)
params, history = xpnet.fit(X, Y, [6, 5, 1], checkpoint=checkpoint, resume=True, comm=comm,
                            **options)
if comm.rank == 0:
    alone, history_alone = xpnet.fit(X, Y, [6, 5, 1], **options)
    worst = max(float(np.max(np.abs(params[k] - alone[k]) / np.abs(alone[k]).max()))
                for k in alone)
    Path(sys.argv[2]).write_text(json.dumps({"difference": worst, "epochs": history.epochs,
                                             "epochs_alone": history_alone.epochs}))
