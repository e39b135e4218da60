"""The training step: one mini-batch forward, backward, and every layer updated.

The backward pass is the one :func:`~xpnet.network.backprop` runs
(:func:`~xpnet.network.layer_errors`, through :func:`~xpnet.network.layer_gradients`),
but each layer's gradients go to the
optimizer as soon as they exist, the output layer first (after the layer's input
gradient, which needs the weights before they change): at most one layer's ``dW`` is
alive at a time, and none where the update folds into the gradient's matrix product
(:mod:`xpnet.gradients`). The numbers are those of ``backprop`` + ``optimizer.step``.
"""

from __future__ import annotations

from collections.abc import Iterator, MutableMapping
from typing import Any

from ..gradients import Gradient
from ..network import LayerCache, layer_gradients
from ..outputs import Output
from ..parameters import layer_keys
from .optimizers import Optimizer

Array = Any


def backward_and_update(AL: Array, Y: Array, caches: list[LayerCache],
                        params: MutableMapping[str, Array], output: Output | str,
                        optimizer: Optimizer, learning_rate: float,
                        weight_decay: float = 0.0, weights: Array | None = None) -> None:
    """The step's backward pass, each layer updated by ``optimizer`` as soon as its
    gradients exist. ``caches`` (a list) come from the forward pass over ``params`` and
    are spent here: each layer's output goes once the pass is done with it
    (:func:`~xpnet.network.layer_errors` with ``spend=True``); ``weights`` are the batch's
    sample weights (a ``(1, m)`` row summing to 1), or None."""
    optimizer.step_each(params, _parameter_gradients(AL, Y, caches, output, weight_decay, weights),
                        learning_rate)


def _parameter_gradients(AL: Array, Y: Array, caches: list[LayerCache], output: Output | str,
                         weight_decay: float, weights: Array | None
                         ) -> Iterator[tuple[str, Gradient]]:
    # A generator: the next layer's gradients are computed only after this one's update.
    for l, dA_prev, dW, db in layer_gradients(AL, Y, caches, output, weight_decay=weight_decay,
                                              weights=weights, spend=True):
        del dA_prev  # the backward pass's own: released before it makes the next layer's
        W_key, b_key = layer_keys(l)
        yield W_key, dW
        yield b_key, db
        del dW, db  # spent: the layer's dZ goes with them before the next one is made
