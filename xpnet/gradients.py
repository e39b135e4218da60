"""A parameter's gradient, and the one operation that every update rule applies it with.

Update rules (``update_parameters``, each optimizer's ``update``) are written once in
terms of :class:`Gradient`: ``add_into(target, alpha, beta)`` computes
``beta * target + alpha * gradient`` into ``target``, and ``value()`` gives the gradient
as an array of the rule's own. A weight gradient ``dW = dZ @ A_prev.T + decay * W`` is
kept as those factors (:class:`WeightGradient`): where the backend has a matrix product
into an existing array (CuPy's cuBLAS GEMM, :mod:`xpnet.kernels`), ``add_into`` folds
the whole update into that product and ``dW`` is never formed; elsewhere it forms
``dW`` and runs the generic arithmetic. So the plain path and the fused path apply the
same rule, and weight decay is added in one place (:class:`WeightGradient`).
"""

from __future__ import annotations

import operator
from typing import Any

from .backend import array_namespace, in_place
from .kernels import add_product_into, add_scaled_into
from .step_ops import float_limits

Array = Any


def add_scaled(target: Array, alpha: float, x: Array, beta: float = 1.0,
               x_owned: bool = False) -> Array:
    """``beta * target + alpha * x``, written into ``target`` where its library allows.

    Returns the result (``target`` itself, or a new array where arrays are immutable).
    Each product is rounded before the sum, so every backend gives the same numbers.
    ``x_owned``: ``x`` is the caller's to overwrite, so ``alpha * x`` takes its memory
    instead of a new array of its size.
    """
    if beta != 1.0:
        target = in_place(target, operator.mul, beta)
    elif add_scaled_into(target, alpha, x):  # one pass, no temporary, where there is a kernel
        return target
    scaled = in_place(x, operator.mul, alpha) if x_owned else alpha * x
    return in_place(target, operator.add, scaled)


class Gradient:
    """A gradient held as an array (``owned``: the update may overwrite it)."""

    __slots__ = ("_array", "_owned")

    def __init__(self, array: Array, owned: bool = False) -> None:
        self._array, self._owned = array, owned

    def value(self) -> Array:
        """The gradient as an array the caller may overwrite (a copy unless owned)."""
        if self._owned:
            return self._array
        return array_namespace(self._array).asarray(self._array, copy=True)

    def add_into(self, target: Array, alpha: float, beta: float = 1.0) -> Array:
        """``beta * target + alpha * gradient`` into ``target``; returns the result. An owned
        gradient is spent by it (its memory holds ``alpha * gradient``)."""
        return add_scaled(target, alpha, self._array, beta, x_owned=self._owned)


class WeightGradient(Gradient):
    """``dW = dZ @ A_prev.T + weight_decay * W``, kept as its factors until needed.

    The L2 penalty ``weight_decay/2 * sum(W**2)`` enters the training here and nowhere else.
    """

    __slots__ = ("dZ", "A_prev", "W", "weight_decay")

    def __init__(self, dZ: Array, A_prev: Array, W: Array, weight_decay: float = 0.0) -> None:
        # (Gradient's fields set here directly: one call less per layer and step.)
        self._array, self._owned = None, True
        self.dZ, self.A_prev, self.W, self.weight_decay = dZ, A_prev, W, weight_decay

    def value(self) -> Array:
        dW = self.dZ @ self.A_prev.T
        return in_place(dW, operator.add, self.weight_decay * self.W) if self.weight_decay else dW

    def add_into(self, target: Array, alpha: float, beta: float = 1.0) -> Array:
        if self._folded(target, alpha, beta):
            return target
        return add_scaled(target, alpha, self.value(), beta, x_owned=True)

    def _folded(self, target: Array, alpha: float, beta: float) -> bool:
        """Whether the update was done as one GEMM into ``target`` (only where the backend
        has one); nothing is touched otherwise."""
        if target is not self.W:
            # The penalty's W is not in the product: only a decay-free gradient folds.
            return not self.weight_decay and add_product_into(target, alpha, self.dZ,
                                                              self.A_prev, beta)
        # Into W itself the penalty folds into the product's scale of W, but only where the
        # dtype resolves that scale to within 0.1% of the penalty: in float32, 1 - 1e-8
        # rounds to 1 and the penalty would silently vanish.
        decay = alpha * self.weight_decay
        if decay and float_limits(array_namespace(target), target.dtype)[0] > 1e-3 * abs(decay):
            return False
        return add_product_into(target, alpha, self.dZ, self.A_prev, beta + decay)
