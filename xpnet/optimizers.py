"""Optimizers: small objects that turn gradients into parameter updates.

Their state (velocities, Adam's moments) is created lazily next to the
parameters, on the parameters' backend, so a training step never leaves the
device. Scalars that change per step (learning rate, Adam's bias correction) are
Python floats computed on the host: they cost no transfer and never change an
array's dtype.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, MutableMapping
from typing import Any

from .backend import array_namespace, is_writeable
from .parameters import apply_scaled_update, apply_update, gradient_key, parameter_keys
from .validation import check_fraction, check_positive, make_named

Array = Any


class Optimizer:
    """Base class: ``step(params, grads, learning_rate)`` updates ``params`` from ``grads``.

    ``fit`` calls ``step`` with every gradient of a mini-batch at once. An optimizer
    that also defines ``step_layer(params, gradient, learning_rate)`` (a
    :class:`~xpnet.training_step.LayerGradient` per layer, the output layer first) is
    given one layer's gradients at a time instead, after a ``start_step()`` call per
    mini-batch (nothing by default), so no more than one layer's ``dW`` exists at
    once; the built-in optimizers do, with the numbers of their ``step``.
    """

    name = "optimizer"

    def step(self, params: MutableMapping[str, Array], grads: Mapping[str, Array],
             learning_rate: float) -> None:
        raise NotImplementedError

    def start_step(self) -> None:
        """Called once per mini-batch before its ``step_layer`` calls (nothing by default)."""

    def reset(self) -> None:
        """Forget the state gathered from earlier steps (a new network starts afresh)."""

    def get_state(self) -> tuple[dict[str, Array], dict[str, Any]]:
        """The state gathered so far: ``(arrays, values)``, named arrays on the parameters'
        backend and plain Python values; :meth:`set_state` restores it (checkpoints).

        An optimizer of your own must define both to be checkpointed (a stateless one
        returns ``({}, {})``): a resumed run would silently lose a state left out. The
        arrays are the optimizer's own, which later steps update in place: copy them to
        keep a snapshot.
        """
        raise NotImplementedError(f"{type(self).__name__} does not define get_state/set_state, "
                                  "so its state cannot be checkpointed; define them (a stateless "
                                  "optimizer returns ({}, {}) and accepts that back)")

    def set_state(self, arrays: Mapping[str, Array], values: Mapping[str, Any]) -> None:
        """Continue from a state returned by :meth:`get_state` (arrays already on the backend)."""
        self.get_state()  # raises the same advice for an optimizer that defines neither

    def __repr__(self) -> str:
        settings = ", ".join(f"{k}={v!r}" for k, v in vars(self).items() if not k.startswith("_"))
        return f"{type(self).__name__}({settings})"


class SGD(Optimizer):
    """Stochastic gradient descent, optionally with (Nesterov) momentum.

    With momentum ``mu``: ``v = mu * v - lr * g``; the step is ``v``, or
    ``mu * v - lr * g`` with ``nesterov=True``.
    """

    name = "sgd"

    def __init__(self, momentum: float = 0.0, nesterov: bool = False) -> None:
        self.momentum = check_fraction(momentum, "momentum")
        if nesterov and self.momentum == 0:
            raise ValueError("nesterov=True needs momentum > 0, e.g. SGD(momentum=0.9, nesterov=True)")
        self.nesterov = bool(nesterov)
        self.reset()

    def reset(self):
        self._velocity: dict[str, Array] = {}

    def step(self, params, grads, learning_rate):
        for key in parameter_keys(params):
            self._update(params, key, grads[gradient_key(key)], learning_rate)

    def _update(self, params, key, g, learning_rate):
        if self.momentum == 0:
            apply_scaled_update(params, key, -learning_rate, g)
            return
        v = self._velocity.get(key)
        v = -learning_rate * g if v is None else self.momentum * v - learning_rate * g
        self._velocity[key] = v
        apply_update(params, key, self.momentum * v - learning_rate * g if self.nesterov else v)

    def step_layer(self, params, gradient, learning_rate):
        W_key, b_key = gradient.keys
        v = self._velocity.get(W_key)
        if self.momentum == 0:
            # Plain SGD: W -= lr * dW in one GEMM where the backend has one (no dW array).
            if not gradient.add_to_weights(-learning_rate):
                self._update_owned(params, W_key, gradient.dW(), learning_rate)
        elif self.nesterov or v is None or not gradient.accumulate(v, -learning_rate, self.momentum):
            self._update_owned(params, W_key, gradient.dW(), learning_rate)
        else:  # v = mu * v - lr * dW was one GEMM, and v is the step
            apply_update(params, W_key, v)
        self._update_owned(params, b_key, gradient.db(), learning_rate)

    def _update_owned(self, params, key, g, learning_rate):
        """:meth:`step`'s update of one parameter, allowed to overwrite ``g``: the very
        operations of :meth:`_update`, in place, so the numbers are the same."""
        # Nesterov's step mu*v - lr*g needs a temporary anyway; immutable arrays (JAX) cannot.
        if self.nesterov or not is_writeable(g):
            return self._update(params, key, g, learning_rate)
        v = self._velocity.get(key)
        if v is None:  # plain SGD, or momentum's first step: the step is -lr * g
            g *= -learning_rate
            if self.momentum:
                self._velocity[key] = g
            apply_update(params, key, g)
        else:  # v <- mu * v - lr * g, and that is the step
            v *= self.momentum
            g *= learning_rate
            v -= g
            apply_update(params, key, v)

    def get_state(self):
        return {f"velocity/{key}": v for key, v in self._velocity.items()}, {}

    def set_state(self, arrays, values):
        self._velocity = _unprefixed(arrays, "velocity", values, ())


class Adam(Optimizer):
    """Adam (Kingma & Ba, 2015) with bias-corrected moment estimates."""

    name = "adam"

    def __init__(self, beta1: float = 0.9, beta2: float = 0.999, epsilon: float = 1e-8) -> None:
        self.beta1 = check_fraction(beta1, "beta1")
        self.beta2 = check_fraction(beta2, "beta2")
        self.epsilon = check_positive(epsilon, "epsilon")
        self.reset()

    def reset(self):
        self._t = 0
        self._m: dict[str, Array] = {}
        self._v: dict[str, Array] = {}

    def get_state(self):
        return ({**{f"m/{key}": m for key, m in self._m.items()},
                 **{f"v/{key}": v for key, v in self._v.items()}}, {"t": self._t})

    def set_state(self, arrays, values):
        t = values.get("t")
        if isinstance(t, bool) or not isinstance(t, int) or not 0 <= t < 2**53:
            raise ValueError(f"Adam's saved step count t must be an int in [0, 2**53), got {t!r:.80}")
        m = _unprefixed(arrays, "m", values, ("t",), also=("v",))
        v = _unprefixed(arrays, "v", values, ("t",), also=("m",))
        if sorted(m) != sorted(v):
            raise ValueError(f"Adam's saved moments disagree: m has {sorted(m)}, v has {sorted(v)}")
        self._t, self._m, self._v = t, m, v

    def start_step(self) -> None:
        """Count the step: the bias correction of every layer's update depends on it."""
        self._t += 1

    def step(self, params, grads, learning_rate):
        self.start_step()
        for key in parameter_keys(params):
            self._update(params, key, grads[gradient_key(key)], learning_rate)

    def step_layer(self, params, gradient, learning_rate):
        W_key, b_key = gradient.keys
        self._update_owned(params, W_key, gradient.dW(), learning_rate)
        self._update_owned(params, b_key, gradient.db(), learning_rate)

    def _step_size(self, learning_rate: float) -> float:
        b1, b2 = self.beta1, self.beta2
        return learning_rate * math.sqrt(1 - b2 ** self._t) / (1 - b1 ** self._t)

    def _update(self, params, key, g, learning_rate):
        b1, b2 = self.beta1, self.beta2
        step_size = self._step_size(learning_rate)
        xp = array_namespace(g)
        m = self._m.get(key)
        v = self._v.get(key)
        m = (1 - b1) * g if m is None else b1 * m + (1 - b1) * g
        v = (1 - b2) * (g * g) if v is None else b2 * v + (1 - b2) * (g * g)
        self._m[key], self._v[key] = m, v
        apply_update(params, key, -step_size * m / (xp.sqrt(v) + self.epsilon))

    def _update_owned(self, params, key, g, learning_rate):
        """:meth:`_update`'s arithmetic in place, overwriting ``g`` and the moments: the same
        numbers, with at most two weight-sized temporaries at once instead of four."""
        m, v = self._m.get(key), self._v.get(key)
        if not all(is_writeable(a) for a in (g, m, v) if a is not None):
            return self._update(params, key, g, learning_rate)
        b1, b2 = self.beta1, self.beta2
        squared = g * g
        squared *= 1 - b2
        if v is None:
            v = self._v[key] = squared  # v = (1 - b2) * (g * g)
        else:
            v *= b2
            v += squared  # v = b2 * v + (1 - b2) * (g * g)
        del squared
        g *= 1 - b1
        if m is None:
            m = self._m[key] = g  # m = (1 - b1) * g
            step = -self._step_size(learning_rate) * m
        else:
            m *= b1
            m += g  # m = b1 * m + (1 - b1) * g
            step = g  # g is spent: its memory takes the step
            step[...] = m
            step *= -self._step_size(learning_rate)
        denominator = array_namespace(v).sqrt(v)
        denominator += self.epsilon
        step /= denominator  # -step_size * m / (sqrt(v) + epsilon)
        apply_update(params, key, step)


def _unprefixed(arrays: Mapping[str, Array], prefix: str, values: Mapping[str, Any],
                allowed_values: tuple[str, ...], also: tuple[str, ...] = ()) -> dict[str, Array]:
    """The arrays named ``prefix/KEY`` as ``{KEY: array}``, refusing names no state has."""
    groups = (prefix, *also)
    strays = [name for name in arrays if name.split("/", 1)[0] not in groups or "/" not in name]
    strays += [name for name in values if name not in allowed_values]
    if strays:
        raise ValueError(f"the saved optimizer state has entries this optimizer does not keep: "
                         f"{sorted(strays)}")
    return {name.split("/", 1)[1]: a for name, a in arrays.items() if name.split("/", 1)[0] == prefix}


OPTIMIZERS = {
    "sgd": lambda: SGD(),
    "momentum": lambda: SGD(momentum=0.9),
    "nesterov": lambda: SGD(momentum=0.9, nesterov=True),
    "adam": lambda: Adam(),
}


def get_optimizer(optimizer: str | Optimizer) -> Optimizer:
    """An optimizer from a name (``"sgd"``, ``"momentum"``, ``"nesterov"``, ``"adam"``) or an instance."""
    return make_named(optimizer, OPTIMIZERS, Optimizer, "optimizer", "xpnet.SGD(momentum=0.8)")
