"""An estimator trained with ``parallel="tensor"``: its ``params_`` are this rank's share
of the network (:mod:`xpnet.training.tensor`). Predicting takes every rank's share
together; saving joins them into the whole network, which rank 0 writes as one process
would; a whole network (a loaded model) becomes shares to continue training."""

from __future__ import annotations

import os
import pathlib
from typing import Any

from ..distributed import as_transport, on_every_rank
from ..parameters import layer_dims_of
from ..training.tensor import gather_to_host, share_of, tensor_layout
from . import files


def comm_of(est: Any) -> Any:
    """The communicator of the ranks holding the other shares, or why there is none."""
    if est.comm is None:
        raise ValueError("this model's params_ are one rank's share of a network trained "
                         "with parallel='tensor': predict on every rank with comm set, or "
                         "save() the whole network and load it for one process")
    return est.comm


def hold_shares(est: Any, tensor: bool) -> None:
    """Before training: whether ``est.params_`` are to be shares; a whole network to continue
    becomes this rank's share for ``parallel="tensor"`` (say, a loaded model), with the
    optimizer's state."""
    if est.params_ is None or tensor == est._holds_shares:
        est._shares = tensor
        return
    if not tensor:
        raise ValueError("this model's params_ are one rank's share of a network trained "
                         "with parallel='tensor': continue with parallel='tensor' on the "
                         "same ranks, or save() it and continue from the loaded model")
    transport = as_transport(est.comm)
    layout = tensor_layout(layer_dims_of(est.params_), transport.rank, transport.size)
    like = est.params_["W1"]
    est.params_ = share_of(layout, est.params_, like)  # cut where they lie
    if est.optimizer_ is not None:
        arrays, values = est.optimizer_.get_state()
        est.optimizer_.set_state(share_of(layout, arrays, like), values)
    est._shares = True


def save(est: Any, path: str | os.PathLike) -> pathlib.Path:
    """Every rank sends its share; rank 0 writes the whole network, the file one process
    writes. Every rank must call it; each returns the path."""
    transport = as_transport(comm_of(est))
    whole = gather_to_host(est.params_, transport)  # the whole need not fit rank 0's device
    return on_every_rank(transport, lambda: pathlib.Path(path) if whole is None
                         else files.save(est, path, whole), "saving the model")
