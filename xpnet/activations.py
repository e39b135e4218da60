"""The activation table: each activation's forward and backward side by side.

Every derivative here is written in terms of the activation's *output* ``A``
(sigmoid' = A(1-A), tanh' = 1-A^2, relu' = [A>0], ...), so the forward pass only
has to keep ``A`` for backprop, never the pre-activation ``Z``: half the memory of
keeping both, and nothing is recomputed.

To add an activation, add one entry to :data:`ACTIVATIONS`; the names accepted
everywhere (``hidden=``, ``output=``) and listed in error messages come from it.

The arrays a function here makes (and the layer's product ``Z``, handed over to be
overwritten) are its own, so its arithmetic on them is written in place, ``Z += b``:
the array API's in-place operators write into the array where its library allows, and
where arrays are immutable (JAX, which has no ``__iadd__``) Python rebinds the name to
a new array. (:func:`xpnet.backend.in_place` is for arrays that may be read-only.)
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from .backend import array_namespace
from .kernels import bias_relu_into, relu_backward as fused_relu_backward
from .step_ops import astype, axis_max, axis_sum, float_limits, scalar, zero

Array = Any

LEAKY_RELU_SLOPE = 0.01
"""Slope of ``leaky_relu`` for negative inputs."""


@dataclass(frozen=True)
class Activation:
    """An activation: ``forward(Z) -> A`` and ``backward(dA, A) -> dZ``.

    ``biased_forward(Z, b)``, where one is given, is ``forward(Z + b)`` in fewer passes,
    overwriting ``Z`` (the layer's product, the caller's own array);
    ``forward_with_bias(Z, b)`` is ``forward(Z + b)`` for every activation, by
    ``biased_forward`` where there is one. ``backward_in_place(dA, A)``, where one is
    given, is ``backward(dA, A)`` free to write ``dZ`` into ``dA`` (an input gradient the
    caller hands over), and ``backward_spending(dA, A)`` is ``backward(dA, A)`` for such
    a ``dA`` for every activation, by ``backward_in_place`` where there is one.
    ``init_scale`` is the weight scale that suits layers feeding it (``"he"`` for the relu
    family, else ``"xavier"``; see :func:`xpnet.init_params`).
    """

    name: str
    forward: Callable[[Array], Array]
    backward: Callable[[Array, Array], Array]
    biased_forward: Callable[[Array, Array], Array] | None = None
    init_scale: str = "xavier"
    hidden_layer: bool = True  # False: an output activation only (softmax couples its units)
    backward_in_place: Callable[[Array, Array], Array] | None = None
    forward_with_bias: Callable[[Array, Array], Array] = field(init=False, repr=False,
                                                               compare=False)
    backward_spending: Callable[[Array, Array], Array] = field(init=False, repr=False,
                                                               compare=False)

    def __post_init__(self) -> None:
        # forward_with_bias(Z, b) = forward(Z + b), ``Z`` a temporary of the caller's, which
        # may be overwritten: biased_forward itself where there is one (the forward pass
        # calls it on every layer: no method call in between), else the bias added in place.
        object.__setattr__(self, "forward_with_bias", self.biased_forward
                           or functools.partial(_add_bias_then, self.forward))
        object.__setattr__(self, "backward_spending", self.backward_in_place or self.backward)


def _add_bias_then(forward: Callable[[Array], Array], Z: Array, b: Array) -> Array:
    Z += b
    return forward(Z)


def sigmoid(Z: Array) -> Array:
    """Logistic sigmoid, without overflow for any finite ``Z``."""
    xp = array_namespace(Z)
    # exp(-|Z|) lies in (0, 1], so it never overflows; each branch keeps full
    # relative precision on its own tail (1/(1+e) for Z >= 0, e/(1+e) for Z < 0).
    E = xp.exp(-xp.abs(Z))
    R = 1 / (1 + E)
    return xp.where(Z >= 0, R, E * R)


def _sigmoid_backward(dA: Array, A: Array) -> Array:
    return dA * A * (1 - A)


def relu(Z: Array) -> Array:
    """max(Z, 0)."""
    return array_namespace(Z).maximum(Z, 0.0)


def _biased_relu(Z: Array, b: Array) -> Array:
    # One pass, in place, where the backend has a kernel (CuPy).
    if bias_relu_into(Z, b):
        return Z
    Z += b
    return array_namespace(Z).maximum(Z, zero(Z))  # relu(Z + b)


def _relu_backward(dA: Array, A: Array) -> Array:
    fused = fused_relu_backward(dA, A)  # one pass where the backend has a kernel (CuPy)
    if fused is not None:
        return fused
    # Multiplying by the 0/1 mask is several times faster than where(A > 0, dA, 0); the
    # mask is this function's own array, so the product can be written into it.
    dZ = astype(A > zero(A), dA.dtype)
    dZ *= dA
    return dZ


def _relu_backward_in_place(dA: Array, A: Array) -> Array:
    # dZ written into dA: in one pass where the backend has a kernel (CuPy), so that the
    # backward pass holds no second array of the layer's size while it makes dZ; else
    # through the generic code's mask (an array of that size, but only for the product).
    if fused_relu_backward(dA, A, out=dA) is None:
        dA *= astype(A > zero(A), dA.dtype)
    return dA


def leaky_relu(Z: Array) -> Array:
    """Z for Z > 0, ``LEAKY_RELU_SLOPE * Z`` otherwise."""
    return array_namespace(Z).maximum(Z, LEAKY_RELU_SLOPE * Z)  # the slope is below 1


def _leaky_relu_backward(dA: Array, A: Array) -> Array:
    # A > 0 exactly where Z > 0, because the negative branch keeps the sign.
    mask = array_namespace(dA, A).astype(A > 0, dA.dtype)
    return dA * (LEAKY_RELU_SLOPE + (1 - LEAKY_RELU_SLOPE) * mask)


def tanh(Z: Array) -> Array:
    """Hyperbolic tangent."""
    return array_namespace(Z).tanh(Z)


def _tanh_backward(dA: Array, A: Array) -> Array:
    return dA * (1 - A * A)


def identity(Z: Array) -> Array:
    """Z unchanged (the output of a regression network)."""
    return Z


def _identity_backward(dA: Array, A: Array) -> Array:
    return dA


def softmax(Z: Array) -> Array:
    """Column-wise softmax (each column is one sample); stable for any finite ``Z``."""
    xp = array_namespace(Z)
    M = axis_max(Z, 0)
    # exp(Z - M): the largest exponent is 0, so exp cannot overflow. Z - M itself can, for
    # logits spanning more than the dtype's range; Z is first raised to max(M, 0) - (the
    # largest float), which leaves every Z whose exp is not 0 unchanged.
    floor = xp.maximum(M, zero(M)) - scalar(M, float_limits(xp, Z.dtype)[1])
    shifted = xp.maximum(Z, floor)
    shifted -= M
    E = xp.exp(shifted)
    E /= axis_sum(E, 0)
    return E


def _softmax_backward(dA: Array, A: Array) -> Array:
    # The Jacobian diag(A) - A A^T applied to dA, one column per sample.
    return A * (dA - axis_sum(dA * A, 0))


ACTIVATIONS: dict[str, Activation] = {
    a.name: a
    for a in (
        Activation("sigmoid", sigmoid, _sigmoid_backward),
        Activation("relu", relu, _relu_backward, _biased_relu, init_scale="he",
                   backward_in_place=_relu_backward_in_place),
        Activation("leaky_relu", leaky_relu, _leaky_relu_backward, init_scale="he"),
        Activation("tanh", tanh, _tanh_backward),
        Activation("identity", identity, _identity_backward),
        Activation("softmax", softmax, _softmax_backward, hidden_layer=False),
    )
}


HIDDEN_ACTIVATIONS: list[str] = sorted(name for name, kind in ACTIVATIONS.items()
                                       if kind.hidden_layer)
"""The names a hidden layer can use (every activation but the output-only ones)."""


def get_activation(name: str, argument: str = "activation") -> Activation:
    """The activation called ``name``; ``argument`` names the caller's parameter in errors."""
    if not isinstance(name, str):
        raise TypeError(f"{argument} must be an activation name (str), not {type(name).__name__}")
    try:
        return ACTIVATIONS[name]
    except KeyError:
        what = argument if argument == "activation" else f"{argument} activation"
        raise ValueError(f"unknown {what} {name!r}; "
                         f"valid names are: {', '.join(sorted(ACTIVATIONS))}") from None
