"""The gradient check: ``backprop``'s gradients against central differences of the cost.

:func:`gradient_check` runs the backward pass that training uses
(:func:`xpnet.network.layer_gradients`, weight decay included) in the network's own dtype,
and compares it with central differences of the cost, ``(cost(v + eps) - cost(v - eps)) /
(2 eps)`` for each entry of each parameter and of ``X``. The differences are taken in the
array namespace of the arrays given (their backend and device), in float64 whatever the
network's dtype: a float32 network is then checked against its exact gradient, to within
float32's rounding of the backward pass, rather than against float32 differences, whose
rounding leaves errors of 1e-4 to 1e-2 of a gradient and whose large step crosses relu's kink.

The error of one gradient (``dW1``, ``db1``, ..., ``dA0``) is its largest entry error
*relative to the network's largest gradient entry*::

    max_i |backprop_i - numeric_i| / max over every gradient g and entry j of |g_j|

(``g`` running over both backprop's and the numeric gradients). Finite differences resolve
every entry to the same absolute precision, that of the rounding of the one cost, so one
scale judges them all: a gradient that is nearly 0 (an early layer whose gradient vanishes,
a dead relu unit), which finite differences see only as rounding noise, cannot blow the
ratio up, while an error of 1e-7 of the network's gradient anywhere is seen.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from .activations import Activation
from .backend import array_namespace, backend_name, dtype_name
from .losses import match_labels
from .network import forward, forward_prop, layer_activations, layer_gradients
from .outputs import Output, get_output
from .parameters import check_network, gradient_keys
from .validation import check_finite, check_non_negative, check_positive

Array = Any

STEP = (2.0 ** -52) ** (1.0 / 3.0)
"""The default ``eps``, 6.1e-6: the cube root of float64's machine epsilon, which balances
the truncation error of central differences (~eps**2) against the rounding of the cost
(~machine epsilon / eps)."""
TOLERANCES = {"float64": 1e-7, "float32": 1e-5}
"""The default ``tol`` per dtype of the network. Measured over every hidden activation x
output kind on networks of 2 to 4 layers (the test suite's), the float64 errors stay
below 2e-8; a float32 backward pass rounds at ~6e-8 a step and its errors reach 1e-6."""


@dataclass(frozen=True)
class GradientError:
    """How far one of ``backprop``'s gradients (``dW1``, ``db1``, ..., ``dA0``) is from the
    central differences: its largest absolute difference (``max_abs_error``), that relative
    to the network's largest gradient entry (``relative_error``, see the module), and its
    own largest entry (``largest``)."""

    name: str
    shape: tuple[int, ...]
    relative_error: float
    max_abs_error: float
    largest: float


@dataclass(frozen=True)
class GradientCheckReport:
    """What :func:`gradient_check` found: one :class:`GradientError` per gradient.

    ``passed`` is whether every relative error is at most ``tolerance`` (a NaN fails);
    ``str(report)`` is a table of them.
    """

    errors: tuple[GradientError, ...]
    tolerance: float
    eps: float
    dtype: str
    backend: str
    hidden: str
    output: str
    weight_decay: float = 0.0

    @property
    def worst(self) -> GradientError:
        """The gradient with the largest relative error (a NaN counts as the largest)."""
        return max(self.errors, key=lambda e: math.inf if math.isnan(e.relative_error)
                   else e.relative_error)

    @property
    def max_relative_error(self) -> float:
        """The largest relative error over all gradients."""
        return self.worst.relative_error

    @property
    def passed(self) -> bool:
        """Whether every gradient's relative error is at most ``tolerance``."""
        return all(e.relative_error <= self.tolerance for e in self.errors)

    def __str__(self) -> str:
        decay = f", weight_decay {self.weight_decay:g}" if self.weight_decay else ""
        title = (f"gradient check on {self.backend}, {self.dtype}: hidden {self.hidden}, "
                 f"output {self.output}{decay}; eps {self.eps:.1e}, tolerance {self.tolerance:.0e}")
        header = (f"  {'gradient':9s}{'shape':>11s}  {'max |grad|':>10s}  {'max |error|':>11s}  "
                  f"{'relative':>9s}")
        lines = [title, header]
        for e in self.errors:
            verdict = "ok" if e.relative_error <= self.tolerance else "FAIL"
            lines.append(f"  {e.name:9s}{e.shape!s:>11s}  {e.largest:10.2e}  "
                         f"{e.max_abs_error:11.2e}  {e.relative_error:9.2e}  {verdict}")
        worst = self.worst
        lines.append(f"{'passed' if self.passed else 'FAILED'}: largest relative error "
                     f"{worst.relative_error:.1e} ({worst.name})")
        return "\n".join(lines)


def gradient_check(params: Mapping[str, Array], X: Array, Y: Array, *, hidden: str = "sigmoid",
                   output: str = "sigmoid", weight_decay: float = 0.0, eps: float | None = None,
                   tol: float | None = None) -> GradientCheckReport:
    """Compare ``backprop``'s gradients of the cost with central differences.

    ``params``, ``X`` (``(n_features, n_samples)``) and ``Y`` are arrays of one backend and
    dtype. ``backprop`` runs in that dtype; the cost (with the L2 penalty
    ``weight_decay/2 * sum(W**2)``) is differenced on the same backend in float64, so a
    float32 network is checked against its exact gradient, not against float32 rounding.
    Every entry of every ``W{l}``, ``b{l}`` and of ``X`` (``dA0``) is moved by ``+-eps``
    (default :data:`STEP`): two forward passes each, so keep the network and ``X`` small.
    ``tol=None`` is :data:`TOLERANCES`' entry for the dtype (1e-7 for float64, the
    recommended dtype). Returns a :class:`GradientCheckReport`; the errors are relative to
    the network's largest gradient entry (see the module).
    """
    L, dtype = check_network(params)
    weight_decay = check_non_negative(weight_decay, "weight_decay")
    eps = STEP if eps is None else check_positive(eps, "eps")
    tol = _tolerance(dtype, tol)
    AL, caches = forward_prop(X, params, hidden=hidden, output=output)  # checks X and the names
    kind = get_output(output)
    Y = match_labels(AL, Y)
    check_finite(X, "X")
    kind.check_targets(Y, "Y")
    xp = array_namespace(AL)
    analytic = {}
    for l, dA_prev, dW, db in layer_gradients(AL, Y, caches, kind, weight_decay=weight_decay,
                                              input_gradient=True):
        dA_key, dW_key, db_key = gradient_keys(l)
        analytic[dW_key], analytic[db_key] = dW.value(), db.value()
        if l == 1:
            analytic[dA_key] = dA_prev
    numeric = _numeric_gradients(params, X, Y, layer_activations(L, hidden, output), kind,
                                 weight_decay, eps, _float64(xp))
    order = [name for l in range(1, L + 1) for name in gradient_keys(l)[1:]] + ["dA0"]
    return GradientCheckReport(_compare(order, analytic, numeric), tol, eps, dtype_name(dtype),
                               backend_name(xp), hidden, kind.name, weight_decay)


def _compare(order: Sequence[str], analytic: Mapping[str, Array],
             numeric: Mapping[str, Array]) -> tuple[GradientError, ...]:
    """Each gradient's largest error, relative to the largest entry of any gradient."""
    xp = array_namespace(*analytic.values(), *numeric.values())
    errors = {name: float(xp.max(xp.abs(xp.astype(analytic[name], numeric[name].dtype)
                                        - numeric[name]))) for name in order}
    largest = {name: float(xp.max(xp.abs(analytic[name]))) for name in order}
    scale = max([*largest.values(), *(float(xp.max(xp.abs(numeric[name]))) for name in order)])
    # All gradients exactly 0 and no error: 0; a NaN anywhere stays NaN (and fails the check).
    return tuple(GradientError(name, tuple(int(n) for n in analytic[name].shape),
                               errors[name] / scale if scale > 0 else 0.0 * errors[name],
                               errors[name], largest[name]) for name in order)


def _tolerance(dtype: Any, tol: float | None) -> float:
    if tol is not None:
        return check_positive(tol, "tol")
    name = dtype_name(dtype)
    if name not in TOLERANCES:
        raise ValueError(f"gradient_check has no default tolerance for {name} parameters; pass "
                         f"tol=..., or use float64 (recommended) or float32 parameters")
    return TOLERANCES[name]


def _float64(xp: Any) -> Any:
    available = xp.__array_namespace_info__().dtypes(kind="real floating")
    if "float64" not in available:
        hint = " (JAX: set the environment variable JAX_ENABLE_X64=1 before importing it)" \
            if backend_name(xp) == "jax" else ""
        raise ValueError(f"gradient_check takes its finite differences in float64, which the "
                         f"{backend_name(xp)} backend does not provide here{hint}")
    return available["float64"]


def _numeric_gradients(params: Mapping[str, Array], X: Array, Y: Array,
                       activations: Sequence[Activation], kind: Output, weight_decay: float,
                       eps: float, float64: Any) -> dict[str, Array]:
    """Central differences of the cost, in float64, for each parameter (``dW1``, ...) and ``X``."""
    xp = array_namespace(X)
    params = {key: xp.astype(value, float64) for key, value in params.items()}
    X, Y = xp.astype(X, float64), xp.astype(Y, float64)
    weights = [key for key in params if key.startswith("W")]

    def cost(X: Array, params: Mapping[str, Array]) -> Array:
        AL, _ = forward(X, params, activations)
        if not weight_decay:
            return kind.cost(AL, Y)
        penalty = sum(xp.sum(params[key] * params[key]) for key in weights)
        return kind.cost(AL, Y) + (weight_decay / 2) * penalty

    numeric = {"d" + key: _central_differences(lambda v, key=key: cost(X, {**params, key: v}),
                                               value, eps)
               for key, value in params.items()}
    numeric["dA0"] = _central_differences(lambda v: cost(v, params), X, eps)
    return numeric


def _central_differences(cost_of: Callable[[Array], Array], value: Array, eps: float) -> Array:
    """``(cost(v + eps e_i) - cost(v - eps e_i)) / (2 eps)`` for each entry ``i`` of ``value``.

    Each perturbed copy is assembled from slices (no device to name, no writing into arrays,
    so it works where arrays are immutable), and the slope divides by the step the dtype
    actually took, ``(v_i + eps) - (v_i - eps)``, rather than by ``2 eps``.
    """
    xp = array_namespace(value)
    flat = xp.reshape(value, (-1,))
    slopes = []
    for i in range(flat.shape[0]):
        up, down = flat[i:i + 1] + eps, flat[i:i + 1] - eps
        before, after = flat[:i], flat[i + 1:]
        rise = (cost_of(xp.reshape(xp.concat([before, up, after]), value.shape))
                - cost_of(xp.reshape(xp.concat([before, down, after]), value.shape)))
        slopes.append(rise / (up - down))
    return xp.reshape(xp.concat(slopes), value.shape)
