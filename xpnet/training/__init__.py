"""Training: the loop (``fit``, ``train``), its options, the training step, optimizers,
schedules, the history and early stopping, the weights' host snapshots and checkpoints.

    loop.py        fit, train: epochs, divergence, early stopping, checkpoints
    options.py     fit's options, checked once (FitOptions)
    run.py         a run made ready: data on its backend, network, batches' layout
    epoch.py       one epoch over the mini-batches, its metrics in one transfer
    step.py        the training step: backward, each layer updated as soon as it can be
    parallel.py    data parallel: each rank's share of a batch, one sum of the gradients
    ranks.py       a run on several processes made ready and agreed by every rank
                   (a grid of both kinds: its tensor and data groups)
    tensor.py      tensor parallel: each rank a share of every hidden layer
    optimizers.py  SGD (momentum, Nesterov), Adam, RMSprop: one rule each
    schedules.py   learning-rate schedules
    history.py     History, EarlyStopping
    snapshots.py   host copies of the weights to fall back on
    divergence.py  how a run whose loss stopped being finite is reported
    progress.py    the progress bar
"""

from .history import EarlyStopping, History
from .loop import fit, train
from .optimizers import SGD, Adam, Optimizer, RMSprop
from .schedules import Constant, ExponentialDecay, InverseScaling, Schedule, StepDecay
from .tensor import gather_params, shard_params, sharded_forward_prop

__all__ = ["SGD", "Adam", "Constant", "EarlyStopping", "ExponentialDecay", "History",
           "InverseScaling", "Optimizer", "RMSprop", "Schedule", "StepDecay", "fit",
           "gather_params", "shard_params", "sharded_forward_prop", "train"]
