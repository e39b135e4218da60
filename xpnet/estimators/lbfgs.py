"""``solver="lbfgs"``: SciPy's L-BFGS-B over the network's parameters as one flat vector.

As scikit-learn's ``_fit_lbfgs``: the loss and its gradient come from xpnet's own
forward pass and backward pass (:func:`~xpnet.network.layer_gradients`) over the
whole training set, with the L2 term ``alpha/2 * sum(W**2)`` divided by the sample
count (the weight sum with ``sample_weight``); ``max_iter``, ``max_fun`` and ``tol``
(``gtol``) bound the search. SciPy works on host float64 vectors, so this solver runs
on the NumPy backend only.
"""

from __future__ import annotations

import functools
import types
import warnings
from typing import Any

import numpy as np

from ..activations import ACTIVATIONS
from ..backend import backend_name
from ..network import forward, init_params, layer_activations, layer_gradients
from ..outputs import get_output
from ..parameters import layer_keys
from ..training import History
from ..validation import check_count, check_non_negative
from .sklearn_base import ConvergenceWarning

Array = Any


def check_backend(xp: Any, comm: Any = None) -> None:
    """Raise unless ``xp`` is NumPy (SciPy's optimizer takes host arrays) and the model
    trains in one process."""
    if comm is not None:
        raise ValueError("solver='lbfgs' trains in one process (SciPy's optimizer), so comm "
                         "does not apply to it; use solver='adam' or 'sgd' with comm, or leave "
                         "comm out")
    if backend_name(xp) != "numpy":
        raise ValueError(f"solver='lbfgs' runs on the NumPy backend (scipy.optimize works on host "
                         f"arrays), but this model's data is on {backend_name(xp)}; pass "
                         "backend='numpy' and host data, or use solver='adam' or 'sgd'")


def fit_lbfgs(est: Any, Xt: Array, Y: Array, weights: np.ndarray | None,
              layer_dims: list[int], seed: int) -> None:
    """Train ``est`` by L-BFGS-B on ``Xt`` ``(n_features, n)``, ``Y`` ``(n_outputs, n)``:
    sets ``params_``, ``n_iter_``, ``loss_``, ``loss_curve_`` (each iteration's loss),
    ``history_``, and warns with ``ConvergenceWarning`` where SciPy stopped at a limit."""
    try:
        from scipy.optimize import minimize  # only this solver needs SciPy
    except ImportError as exc:
        raise ImportError("solver='lbfgs' needs SciPy: pip install scipy (or use solver='adam' "
                          "or 'sgd', which do not)") from exc

    max_fun = check_count(est.max_fun, "max_fun", minimum=1)
    max_iter = check_count(est.max_iter, "max_iter", minimum=1)
    tol = check_non_negative(est.tol, "tol")
    hidden = est._hidden_activation()
    params = est.params_ if est.params_ is not None else init_params(
        layer_dims, seed=seed, scale=ACTIVATIONS[hidden].init_scale, dtype=Xt.dtype)
    objective = _Objective(Xt, Y, weights, params, hidden, est._output,
                           check_non_negative(est.alpha, "alpha"))
    curve: list[float] = []

    def record(intermediate_result: Any) -> None:
        curve.append(float(intermediate_result.fun))
        if est.verbose:
            print("Iteration %d, loss = %.8f" % (len(curve), curve[-1]))

    result = minimize(objective, objective.pack(params), method="L-BFGS-B", jac=True,
                      callback=record,
                      options={"maxfun": max_fun, "maxiter": max_iter, "gtol": tol})
    objective.unpack(result.x)
    if not all(np.isfinite(value).all() for value in objective.params.values()):
        raise ValueError("Solver produced non-finite parameter weights. The input data may contain "
                         "large values and need to be preprocessed.")
    est.params_ = objective.params
    est.n_iter_ = min(int(result.nit), max_iter)
    est.loss_ = float(result.fun)
    est.loss_curve_, est.best_loss_ = curve, float(result.fun)
    est.validation_scores_ = est.best_validation_score_ = None  # no validation split here
    est.history_ = History(loss=list(curve))
    if result.status != 0:
        warnings.warn(f"lbfgs failed to converge after {est.n_iter_} iteration(s) (status="
                      f"{result.status}):\n{result.message}\n\nIncrease the number of iterations "
                      f"(max_iter={max_iter}) or of loss evaluations (max_fun={max_fun}), or "
                      "scale the data.", ConvergenceWarning, stacklevel=5)


class _Objective:
    """The loss and its gradient at a flat parameter vector, as SciPy's ``fun(x) -> (f, g)``.

    ``params`` are the network's arrays in the data's dtype; each call writes the vector
    into them and packs their gradients, ``W1, b1, W2, ...`` in that order.
    """

    def __init__(self, Xt: Array, Y: Array, weights: np.ndarray | None,
                 params: dict[str, Array], hidden: str, output: str, alpha: float) -> None:
        self.X, self.Y, self.params = Xt, Y, dict(params)
        self.output = get_output(output)
        self.keys = [key for l in range(1, len(params) // 2 + 1) for key in layer_keys(l)]
        self.activations = layer_activations(len(self.keys) // 2, hidden, output)
        total = Xt.shape[1] if weights is None else float(weights.sum())
        self.weights = None if weights is None else (weights / total).astype(Xt.dtype)[None, :]
        self.decay = alpha / total  # scikit-learn: alpha/2 * sum(W**2) over the weight sum
        self.alpha = alpha

    def pack(self, arrays: dict[str, Array]) -> np.ndarray:
        """The arrays as one float64 vector, in ``self.keys`` order."""
        return np.concatenate([np.ravel(arrays[key]).astype(np.float64) for key in self.keys])

    def unpack(self, theta: np.ndarray) -> None:
        """Write the vector ``theta`` into ``self.params`` (new arrays, the data's dtype)."""
        start = 0
        for key in self.keys:
            shape = self.params[key].shape
            size = int(np.prod(shape))
            self.params[key] = theta[start:start + size].reshape(shape).astype(self.X.dtype)
            start += size

    def __call__(self, theta: np.ndarray) -> tuple[float, np.ndarray]:
        self.unpack(theta)
        AL, caches = forward(self.X, self.params, self.activations)
        loss = float(self.output.cost(AL, self.Y, self.weights))
        squares = sum(float(np.sum(self.params[key] ** 2)) for key in self.keys[::2])
        loss += 0.5 * self.decay * squares
        grads = {}
        for l, _, dW, db in layer_gradients(AL, self.Y, caches, self.output,
                                            weight_decay=self.decay, weights=self.weights):
            W_key, b_key = layer_keys(l)
            grads[W_key], grads[b_key] = dW.value(), db.value()
        return loss, self.pack(grads)


class stochastic_only:
    """A method the stochastic solvers have and ``solver="lbfgs"`` has not (``hasattr`` is
    False there), as scikit-learn's ``partial_fit``."""

    def __init__(self, method: Any) -> None:
        self.method = method
        functools.update_wrapper(self, method)

    def __get__(self, obj: Any, owner: Any = None) -> Any:
        if obj is None:
            return self
        if obj.solver == "lbfgs":
            raise AttributeError(f"{self.method.__name__} is only available for stochastic "
                                 "optimizers (solver='adam' or 'sgd'); lbfgs is not stochastic.")
        return types.MethodType(self.method, obj)
