"""Using a trained network: ``predict`` and ``accuracy``.

Parameters loaded from a model file (:func:`xpnet.load_params`) carry a ``description``:
its activations and input standardisation are used unless the caller names them, and
a named activation that contradicts the file is an error.
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping
from typing import Any

from .backend import is_host_data, namespace_of
from .losses import match_labels
from .network import forward_prop
from .outputs import OUTPUTS, get_output
from .parameters import check_network
from .validation import check_finite_cast, check_input, to_backend

Array = Any


def _like_params(data: Any, params: Mapping[str, Array], name: str) -> Array:
    # Host data (lists, NumPy) moves to the parameters' backend and dtype; another
    # library's array is left alone so the math can name the mismatch.
    W1 = params["W1"]
    return to_backend(data, namespace_of(W1=W1), W1.dtype, name) if is_host_data(data) else data


def activations_of(params: Mapping[str, Array], hidden: str | None,
                   output: str | None) -> tuple[str, str]:
    """The ``(hidden, output)`` to run ``params`` with: those given, else those their model
    file recorded (``params.description``), else sigmoid. Naming one that contradicts the
    file raises ``ValueError`` naming both."""
    described = getattr(params, "description", None)
    stored = described or {}
    chosen, assumed = [], []
    for name, given in (("hidden", hidden), ("output", output)):
        saved = stored.get(name)
        if given is None and saved is None and described is not None:
            assumed.append(name)
        if given is not None and saved is not None and given != saved:
            raise ValueError(f"{name}={given!r} contradicts the model file (or fit) that "
                             f"described these parameters: their network was trained with "
                             f"{name}={saved!r}; leave {name} out to use theirs")
        chosen.append(given if given is not None else saved or "sigmoid")
    warn_unrecorded(assumed)
    return chosen[0], chosen[1]


def warn_unrecorded(names: list[str], stacklevel: int = 4) -> None:
    """Warn that a model file does not record the activations ``names`` (``"hidden"``,
    ``"output"``), so sigmoid is assumed: a network trained with another would predict
    wrongly without a word (a file saved from a dict that did not carry them)."""
    if names:
        warnings.warn(f"the model file does not record the {' and '.join(names)} "
                      f"activation(s) its network was trained with: assuming "
                      f"{', '.join(f'{name}=sigmoid' for name in names)}; name "
                      f"{' and '.join(f'{name}=' for name in names)} to say otherwise, and "
                      "save the file again with them to record them", UserWarning,
                      stacklevel=stacklevel)


def standardized(X: Array, params: Mapping[str, Array]) -> Array:
    """``X`` with the standardisation that ``params``' model file records (the means and
    scales of the training features) applied, in the parameters' dtype; else ``X``."""
    preprocessing = (getattr(params, "description", None) or {}).get("preprocessing")
    if not preprocessing:
        return X
    xp, W1 = namespace_of(X=X), params["W1"]
    dtype = W1.dtype
    # Checked before the (n_features, 1) mean and scale meet X: broadcasting would turn a
    # 1-D X or a single row into a whole matrix of "samples" and run them without a word.
    check_input(X, W1.shape[1], xp)
    mean, scale = (xp.reshape(to_backend(preprocessing["standardize"][name], xp, dtype, name),
                              (-1, 1)) for name in ("mean", "scale"))
    return (X - mean) / scale


def network_output(X: Any, params: Mapping[str, Array], hidden: str | None = None,
                   output: str | None = None) -> Array:
    """The output layer's activations ``AL`` for ``X`` (after a model file's
    standardisation), with the activations :func:`activations_of` picks."""
    hidden, output = activations_of(params, hidden, output)
    check_network(params)
    with warnings.catch_warnings():  # a cast beyond the dtype's range is said below, by name
        warnings.simplefilter("ignore", RuntimeWarning)
        converted = _like_params(X, params, "X")
    check_finite_cast(converted, X, "X")
    AL = forward_prop(standardized(converted, params), params, hidden=hidden, output=output)[0]
    xp = namespace_of(AL=AL)
    if not bool(xp.all(xp.isfinite(AL))):  # NaN compares false: it would read as class 0
        raise ValueError("the network's output holds NaN or infinity: its weights are not "
                         "finite (a training that diverged?) or X's values overflow it; no "
                         "prediction is made from it")
    return AL


def predict(X: Any, params: Mapping[str, Array], *, hidden: str | None = None,
            output: str | None = None, threshold: float = 0.5) -> Array:
    """Predictions for ``X`` (``(n_features, n_samples)``), on the parameters' backend.

    A sigmoid output gives 0/1 labels (``AL > threshold``, the default integer
    dtype) shaped like ``AL``; a softmax output the class index of each sample,
    shaped ``(1, n_samples)``; any other output its values ``AL`` (regression).
    ``hidden``/``output``: those the network was trained with (default: what its model
    file recorded, else sigmoid).
    """
    if isinstance(threshold, bool) or not isinstance(threshold, (int, float)) \
            or not 0 <= threshold <= 1:
        raise ValueError(f"threshold must be a number in [0, 1], got {threshold!r}")
    hidden, output = activations_of(params, hidden, output)  # (warns once where it assumes)
    return get_output(output).predict(network_output(X, params, hidden, output), threshold)


def accuracy(X: Any, Y: Any, params: Mapping[str, Array], *, hidden: str | None = None,
             output: str | None = None) -> float:
    """Fraction of correct predictions; ``Y`` as in training (0/1 rows, or one-hot columns).
    ``hidden``/``output`` as in :func:`predict`."""
    hidden, output = activations_of(params, hidden, output)  # (warns once where it assumes)
    kind = get_output(output)
    if not kind.classifier:
        classifiers = " or ".join(name for name, entry in OUTPUTS.items() if entry.classifier)
        raise ValueError(f"accuracy needs a {classifiers} output, got output={output!r}; "
                         "for regression compare predict(...) with Y")
    AL = network_output(X, params, hidden, output)
    if AL.shape[1] == 0:
        raise ValueError("X has 0 samples (columns); accuracy needs at least one")
    Y = match_labels(AL, _like_params(Y, params, "Y"))
    kind.check_targets(Y, "Y")
    return float(kind.correct_count(AL, Y)) / AL.shape[1]
