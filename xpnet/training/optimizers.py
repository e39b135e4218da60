"""Optimizers: each states its update rule once, as ``update(param, gradient, state, lr)``.

The rule is given a :class:`~xpnet.gradients.Gradient` and writes with its two
operations (``add_into``, ``value``) and in-place arithmetic, so the same rule runs
in ``fit``'s layer-by-layer step (where a CuPy GEMM may fold it: no ``dW`` array) and
in :meth:`Optimizer.step` on the gradients ``backprop`` returns. Its per-parameter
state (velocities, moments) is created next to the parameter, on its backend; scalars
that change per step (learning rate, Adam's bias correction) are Python floats, which
cost no transfer and never change an array's dtype.

To add an optimizer, subclass :class:`Optimizer`, list the state arrays it keeps in
``slots`` and write ``update`` (and ``begin_step`` if it counts steps).
"""

from __future__ import annotations

import functools
import math
import operator
from collections.abc import Iterable, Mapping, MutableMapping
from typing import Any

from ..backend import array_namespace, in_place
from ..gradients import Gradient, add_scaled
from ..parameters import gradient_key, parameter_keys
from ..validation import check_fraction, check_positive, make_named

Array = Any


class Optimizer:
    """Base class: ``update(param, gradient, state, learning_rate)`` is the rule.

    ``state`` is this parameter's dict of arrays (named in ``slots``), empty at first;
    ``update`` returns the new parameter (the same array, updated in place, where the
    backend allows). ``begin_step()`` runs once per training step, before its updates.
    Checkpoints save and restore the ``slots`` of every parameter by themselves.

    An optimizer of the older kind, which defines ``step(params, grads, learning_rate)``
    (below its rule, if it inherits one), is given every gradient of a step at once, as
    it expects; one without a rule of its own must define ``get_state``/``set_state`` to
    be checkpointed.
    """

    name = "optimizer"
    slots: tuple[str, ...] = ()

    def __init__(self) -> None:
        self.reset()

    def reset(self) -> None:
        """Forget the state gathered from earlier steps (a new network starts afresh)."""
        self._state: dict[str, dict[str, Array]] = {}

    def begin_step(self) -> None:
        """Called once per training step, before its updates (nothing by default)."""

    def update(self, param: Array, gradient: Gradient, state: dict[str, Array],
               learning_rate: float) -> Array:
        """The rule: the parameter after one step (see the class docstring)."""
        raise NotImplementedError(f"{type(self).__name__} must define update(param, gradient, "
                                  "state, learning_rate), the optimizer's rule")

    def step(self, params: MutableMapping[str, Array], grads: Mapping[str, Array],
             learning_rate: float) -> None:
        """One step over every parameter, from the gradients ``backprop`` returns."""
        self._apply_rule(params, ((key, Gradient(grads[gradient_key(key)]))
                                  for key in parameter_keys(params)), learning_rate)

    def step_each(self, params: MutableMapping[str, Array],
                  gradients: Iterable[tuple[str, Gradient]], learning_rate: float) -> None:
        """One step from ``(key, gradient)`` pairs, each parameter updated as its pair
        arrives (``fit``'s step hands them over layer by layer as the backward pass goes)."""
        if self._takes_whole_steps():
            self.step(params, {gradient_key(key): g.value() for key, g in gradients},
                      learning_rate)
        else:
            self._apply_rule(params, gradients, learning_rate)

    def _apply_rule(self, params: MutableMapping[str, Array],
                    gradients: Iterable[tuple[str, Gradient]], learning_rate: float) -> None:
        self.begin_step()
        states = self.__dict__.setdefault("_state", {})  # a subclass may skip our __init__
        for key, gradient in gradients:
            params[key] = self.update(params[key], gradient, states.setdefault(key, {}),
                                      learning_rate)

    def _takes_whole_steps(self) -> bool:
        """Whether ``step`` is defined below the rule: an optimizer of the older kind, or a
        subclass that changed what a step does (``fit`` must then go through ``step``)."""
        return _takes_whole_steps(type(self))

    def get_state(self) -> tuple[dict[str, Array], dict[str, Any]]:
        """The state gathered so far: ``(arrays, values)``, arrays named ``SLOT/KEY``
        (``"velocity/W1"``) on the parameters' backend, and plain Python values.

        The arrays are the optimizer's own, which later steps update in place: copy them
        to keep a snapshot.
        """
        if _defined_by(type(self), "update") is Optimizer:
            raise NotImplementedError(
                f"{type(self).__name__} does not define get_state/set_state, so its state "
                "cannot be checkpointed; define them (a stateless optimizer returns ({}, {}) "
                "and accepts that back), or write it as update(...), whose state is saved "
                "by itself")
        return {f"{slot}/{key}": a for key, state in self.__dict__.get("_state", {}).items()
                for slot, a in state.items()}, {}

    def set_state(self, arrays: Mapping[str, Array], values: Mapping[str, Any]) -> None:
        """Continue from a state returned by :meth:`get_state` (arrays already on the backend)."""
        self.get_state()  # the advice for an optimizer that cannot be checkpointed
        strays = [name for name in arrays if name.partition("/")[0] not in self.slots
                  or not name.partition("/")[2]] + list(values)
        if strays:
            raise ValueError(f"the saved optimizer state has entries this optimizer does not "
                             f"keep: {sorted(strays)}")
        state: dict[str, dict[str, Array]] = {}
        for name, a in arrays.items():
            slot, _, key = name.partition("/")
            state.setdefault(key, {})[slot] = a
        incomplete = sorted(key for key, slots in state.items() if len(slots) != len(self.slots))
        if incomplete:
            raise ValueError(f"the saved optimizer state of {incomplete} lacks some of "
                             f"{list(self.slots)}; every parameter needs all of them")
        self._state = state

    def __repr__(self) -> str:
        settings = ", ".join(f"{k}={v!r}" for k, v in vars(self).items() if not k.startswith("_"))
        return f"{type(self).__name__}({settings})"


@functools.cache
def _takes_whole_steps(cls: type) -> bool:
    # Asked every training step: a class's methods are looked up once.
    rule, step = _defined_by(cls, "update"), _defined_by(cls, "step")
    return step is not rule and issubclass(step, rule)


def _defined_by(cls: type, name: str) -> type:
    """The class in ``cls``'s method order that defines the attribute ``name``."""
    return next(c for c in cls.__mro__ if name in vars(c))


def _zeros_like(state: dict[str, Array], slot: str, param: Array) -> Array:
    """``state[slot]``, created as zeros shaped like ``param`` on its first use."""
    if slot not in state:
        state[slot] = array_namespace(param).zeros_like(param)
    return state[slot]


class SGD(Optimizer):
    """Stochastic gradient descent, optionally with (Nesterov) momentum.

    With momentum ``mu``: ``v = mu * v - lr * g``; the step is ``v``, or
    ``mu * v - lr * g`` with ``nesterov=True``.
    """

    name = "sgd"
    slots = ("velocity",)

    def __init__(self, momentum: float = 0.0, nesterov: bool = False) -> None:
        self.momentum = check_fraction(momentum, "momentum")
        if nesterov and self.momentum == 0:
            raise ValueError("nesterov=True needs momentum > 0, e.g. SGD(momentum=0.9, nesterov=True)")
        self.nesterov = bool(nesterov)
        super().__init__()

    def update(self, param, gradient, state, learning_rate):
        if not self.momentum:
            return gradient.add_into(param, -learning_rate)  # one GEMM on CuPy: no dW array
        v = _zeros_like(state, "velocity", param)
        if not self.nesterov:
            v = state["velocity"] = gradient.add_into(v, -learning_rate, beta=self.momentum)
            return in_place(param, operator.add, v)
        g = gradient.value()
        v = state["velocity"] = add_scaled(v, -learning_rate, g, beta=self.momentum)
        step = in_place(in_place(g, operator.mul, -learning_rate), operator.add, self.momentum * v)
        return in_place(param, operator.add, step)


class Adam(Optimizer):
    """Adam (Kingma & Ba, 2015) with bias-corrected moment estimates.

    Its moments are updated in place: at most two weight-sized temporaries at once.
    """

    name = "adam"
    slots = ("m", "v")

    def __init__(self, beta1: float = 0.9, beta2: float = 0.999, epsilon: float = 1e-8) -> None:
        self.beta1 = check_fraction(beta1, "beta1")
        self.beta2 = check_fraction(beta2, "beta2")
        self.epsilon = check_positive(epsilon, "epsilon")
        super().__init__()

    def reset(self):
        super().reset()
        self._t = 0

    def begin_step(self):
        self._t += 1  # the bias correction of every parameter's update depends on it

    def update(self, param, gradient, state, learning_rate):
        b1, b2 = self.beta1, self.beta2
        g = gradient.value()
        m, v = _zeros_like(state, "m", param), _zeros_like(state, "v", param)
        squared = in_place(g * g, operator.mul, 1 - b2)
        v = state["v"] = in_place(in_place(v, operator.mul, b2), operator.add, squared)
        del squared
        g = in_place(g, operator.mul, 1 - b1)
        m = state["m"] = in_place(in_place(m, operator.mul, b1), operator.add, g)
        del g
        step_size = learning_rate * math.sqrt(1 - b2 ** self._t) / (1 - b1 ** self._t)
        denominator = in_place(array_namespace(v).sqrt(v), operator.add, self.epsilon)
        step = in_place(m * -step_size, operator.truediv, denominator)
        return in_place(param, operator.add, step)  # -step_size * m / (sqrt(v) + epsilon)

    def get_state(self):
        arrays, _ = super().get_state()
        return arrays, {"t": self._t}

    def set_state(self, arrays, values):
        values = dict(values)
        t = values.pop("t", None)
        if isinstance(t, bool) or not isinstance(t, int) or not 0 <= t < 2**53:
            raise ValueError(f"Adam's saved step count t must be an int in [0, 2**53), got {t!r:.80}")
        super().set_state(arrays, values)
        self._t = t


class RMSprop(Optimizer):
    """RMSprop (Hinton, 2012): ``s = rho * s + (1 - rho) * g**2``, ``W -= lr * g / (sqrt(s) + epsilon)``."""

    name = "rmsprop"
    slots = ("square_average",)

    def __init__(self, rho: float = 0.9, epsilon: float = 1e-8) -> None:
        self.rho = check_fraction(rho, "rho")
        self.epsilon = check_positive(epsilon, "epsilon")
        super().__init__()

    def update(self, param, gradient, state, learning_rate):
        g = gradient.value()
        s = _zeros_like(state, "square_average", param)
        squared = in_place(g * g, operator.mul, 1 - self.rho)
        s = state["square_average"] = in_place(in_place(s, operator.mul, self.rho), operator.add,
                                               squared)
        del squared
        denominator = in_place(array_namespace(s).sqrt(s), operator.add, self.epsilon)
        step = in_place(in_place(g, operator.mul, -learning_rate), operator.truediv, denominator)
        return in_place(param, operator.add, step)


OPTIMIZERS = {
    "sgd": lambda: SGD(),
    "momentum": lambda: SGD(momentum=0.9),
    "nesterov": lambda: SGD(momentum=0.9, nesterov=True),
    "adam": lambda: Adam(),
    "rmsprop": lambda: RMSprop(),
}


def get_optimizer(optimizer: str | Optimizer) -> Optimizer:
    """An optimizer from a name (``"sgd"``, ``"momentum"``, ``"nesterov"``, ``"adam"``,
    ``"rmsprop"``) or an instance."""
    return make_named(optimizer, OPTIMIZERS, Optimizer, "optimizer", "xpnet.SGD(momentum=0.8)")
