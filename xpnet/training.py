"""``train``: the tutorial's full-batch gradient-descent loop."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from .backend import Backend, namespace_of, to_numpy
from .losses import cost_function
from .network import backprop, forward_prop, init_params, update_parameters
from .activations import get_activation
from .validation import check_layer_dims, check_learning_rate, check_positive_int, prepare_data

Array = Any


def train(X: Any, Y: Any, layer_dims: Sequence[int], epochs: int, lr: float, *,
          hidden: str = "sigmoid", output: str = "sigmoid", seed: int | None = 3,
          scale: float | str = 0.01, dtype: Any = None,
          backend: Backend | None = None) -> tuple[dict[str, Array], list[float]]:
    """Train a network by full-batch gradient descent; returns ``(params, cost_history)``.

    ``X`` is ``(n_features, n_samples)`` and ``Y`` ``(n_outputs, n_samples)`` (a 1-D
    ``Y`` is fine for one output). With ``backend`` given, ``X`` and ``Y`` are moved
    there; otherwise they stay where they are (lists go to the selected backend).
    ``dtype`` defaults to ``X``'s floating dtype, else float64. ``hidden``/``output``
    go to :func:`forward_prop`, ``seed``/``scale`` to :func:`init_params`.
    ``cost_history`` holds one Python float per epoch.
    """
    layer_dims = check_layer_dims(layer_dims)
    epochs = check_positive_int(epochs, "epochs")
    lr = check_learning_rate(lr, "lr")
    get_activation(hidden, "hidden")
    X, Y = prepare_data(X, Y, layer_dims, get_activation(output, "output").name, backend, dtype)
    xp = namespace_of(X=X)
    params = init_params(layer_dims, seed=seed, scale=scale, dtype=X.dtype, backend=xp)
    costs = []
    for _ in range(epochs):
        AL, caches = forward_prop(X, params, hidden=hidden, output=output)
        costs.append(cost_function(AL, Y, output=output))
        grads = backprop(AL, Y, caches)
        params = update_parameters(params, grads, lr)
    # The costs stay on the device until training ends: one transfer, not one per epoch.
    return params, to_numpy(xp.stack(costs)).tolist() if costs else []
