"""fit's training step: backward and update one layer at a time, the output layer first.

:func:`~xpnet.network.backprop` returns every gradient at once, as the tutorial's
step does, and :func:`~xpnet.network.update_parameters` applies them; that is the
readable reference. Inside ``fit`` nobody needs the gradients together, so each
layer's go to the optimizer as soon as they exist (after the layer's input
gradient ``dA``, which needs the weights before they change). At most one layer's
``dW`` is alive at a time, and none at all where the optimizer folds the update
into the gradient's matrix product (:mod:`xpnet.kernels`). The numbers are those
of ``backprop`` + ``optimizer.step`` (tested).
"""

from __future__ import annotations

from collections.abc import MutableMapping, Sequence
from typing import Any

from .backend import array_namespace, machine_epsilon
from .kernels import add_product_into
from .losses import output_gradient
from .network import LayerCache
from .activations import get_activation
from .parameters import layer_keys

Array = Any


class LayerGradient:
    """One layer's gradients, kept as the factors they are made of.

    ``dW = dZ @ A_prev.T + weight_decay * W`` and ``db = sum(dZ, axis=1)``, computed
    when asked, so an optimizer that can fold ``dW`` into its update never forms it.
    ``keys`` are the layer's parameter keys (``("W2", "b2")``).
    """

    __slots__ = ("keys", "dZ", "A_prev", "W", "weight_decay")

    def __init__(self, keys: tuple[str, str], dZ: Array, A_prev: Array, W: Array,
                 weight_decay: float) -> None:
        self.keys, self.dZ, self.A_prev, self.W = keys, dZ, A_prev, W
        self.weight_decay = weight_decay

    def dW(self) -> Array:
        """The weight gradient, L2 penalty included: a new array, the caller's to overwrite."""
        dW = self.dZ @ self.A_prev.T
        return dW + self.weight_decay * self.W if self.weight_decay else dW

    def db(self) -> Array:
        """The bias gradient: a new array, the caller's to overwrite."""
        return array_namespace(self.dZ).sum(self.dZ, axis=1, keepdims=True)

    def add_to_weights(self, alpha: float) -> bool:
        """``W += alpha * dW`` in one matrix product where the backend has one, without
        forming ``dW``; False, with nothing done, elsewhere.

        The penalty folds into the product's scale of ``W``: ``(1 + alpha * weight_decay) * W``,
        but only where the dtype resolves that scale to within 0.1% of the penalty: in
        float32, ``1 - 1e-8`` rounds to 1 and the penalty would silently vanish.
        """
        decay = alpha * self.weight_decay
        xp = array_namespace(self.W)
        if decay and machine_epsilon(xp, self.W.dtype) > 1e-3 * abs(decay):
            return False
        return add_product_into(self.W, alpha, self.dZ, self.A_prev, 1.0 + decay)

    def accumulate(self, target: Array, alpha: float, beta: float) -> bool:
        """``target = beta * target + alpha * dW`` in one matrix product where the backend
        has one (and there is no penalty to add); False, with nothing done, elsewhere."""
        return not self.weight_decay and add_product_into(target, alpha, self.dZ, self.A_prev, beta)


def backward_and_update(AL: Array, Y: Array, caches: Sequence[LayerCache],
                        params: MutableMapping[str, Array], optimizer: Any,
                        learning_rate: float, weight_decay: float) -> None:
    """One training step's backward pass, each layer updated as soon as its gradients exist.

    ``optimizer`` must define ``start_step()`` and ``step_layer(params, gradient,
    learning_rate)`` (the built-in ones do; see :func:`updates_each_layer`). ``caches``
    come from the forward pass over ``params``; ``dA0`` is never computed.
    """
    optimizer.start_step()
    dZ = output_gradient(AL, Y, caches[-1].activation)
    for l in reversed(range(1, len(caches) + 1)):
        cache = caches[l - 1]
        # The input gradient first: it needs this layer's weights before they change.
        dA_prev = cache.W.T @ dZ if l > 1 else None
        optimizer.step_layer(params, LayerGradient(layer_keys(l), dZ, cache.A_prev, cache.W,
                                                   weight_decay), learning_rate)
        if dA_prev is not None:
            previous = caches[l - 2]
            dZ = get_activation(previous.activation).backward(dA_prev, previous.A)


def updates_each_layer(optimizer: Any) -> bool:
    """Whether ``fit`` may hand ``optimizer`` one layer's gradients at a time.

    True when its class defines ``step_layer`` and no subclass below that definition
    overrides ``step`` (a subclass that overrides only ``step`` gets whole gradients, as
    it expects; one that overrides ``step_layer`` keeps getting layers).
    """
    def owner(name: str) -> type | None:
        return next((cls for cls in type(optimizer).__mro__ if name in vars(cls)), None)

    layer_owner, step_owner = owner("step_layer"), owner("step")
    # step_layer must be at least as specific as step: a subclass that overrides step
    # alone has changed what a step does, and step_layer would bypass that.
    return layer_owner is not None and step_owner is not None and issubclass(layer_owner, step_owner)
