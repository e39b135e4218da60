"""The parameter and gradient dictionaries: their keys, in one place.

Parameters are ``{"W1": ..., "b1": ..., "WL": ..., "bL": ...}`` as in the tutorial,
``W{l}`` shaped ``(n_l, n_{l-1})`` and ``b{l}`` shaped ``(n_l, 1)``. Gradients use
``dW{l}``, ``db{l}`` and ``dA{l-1}`` (the gradient of the cost with respect to the
input of layer ``l``).
"""

from __future__ import annotations

import functools
import json
import sys
from collections.abc import Mapping, MutableMapping
from typing import Any

from array_api_compat import is_array_api_obj

from .backend import array_namespace, host_copy, to_device_of, to_numpy
from .memo import Answers, remembered


DESCRIPTION_KEYS = ("hidden", "output", "classes", "preprocessing")
"""What described parameters say about their model (all may be None)."""


class ModelParams(dict):
    """Parameters ``W1, b1, ...`` with a ``description`` of their model: a dict of
    :data:`DESCRIPTION_KEYS` (None where nothing is known), which :func:`xpnet.predict`,
    :func:`xpnet.accuracy` and :func:`xpnet.save_params` follow. ``fit`` returns a new
    network's parameters so, and :func:`xpnet.load_params` a model file's."""

    def __init__(self, params: Mapping[str, Any], description: Mapping[str, Any]) -> None:
        super().__init__(params)
        self.description = {key: description.get(key) for key in DESCRIPTION_KEYS}
        if not _PYTREE_REGISTERED and "jax" in sys.modules:
            _register_with_jax(sys.modules["jax"])


PLAIN_DICTS = (dict, ModelParams)
"""The dict types whose ``items()`` are dict's own: the checks may remember their layouts."""

_PYTREE_REGISTERED: list[bool] = []  # (a flag that the registration below sets)


def _register_with_jax(jax: Any) -> None:
    """Let JAX see through :class:`ModelParams` as through a dict (``jit``, ``tree_map``):
    JAX takes an unregistered dict subclass for one opaque leaf."""
    def flatten(params: ModelParams) -> tuple[list, tuple]:
        return list(params.values()), (tuple(params), json.dumps(params.description))

    def unflatten(aux: tuple, children: list) -> ModelParams:
        return ModelParams(dict(zip(aux[0], children)), json.loads(aux[1]))

    _PYTREE_REGISTERED.append(True)
    jax.tree_util.register_pytree_node(ModelParams, flatten, unflatten)


# The key helpers are asked several times per layer and step: their strings are made once.
@functools.lru_cache(maxsize=1024)
def layer_keys(l: int) -> tuple[str, str]:
    """The parameter keys of layer ``l`` (1-based): ``("W{l}", "b{l}")``."""
    return f"W{l}", f"b{l}"


@functools.lru_cache(maxsize=1024)
def gradient_key(key: str) -> str:
    """The gradient key of a parameter key: ``"W1"`` -> ``"dW1"``."""
    return f"d{key}"


@functools.lru_cache(maxsize=1024)
def gradient_keys(l: int) -> tuple[str, str, str]:
    """The gradient keys produced by layer ``l``: ``("dA{l-1}", "dW{l}", "db{l}")``."""
    return f"dA{l - 1}", f"dW{l}", f"db{l}"


def n_layers(params: Mapping[str, Any]) -> int:
    """The number of layers ``L`` in ``params``, checking it holds exactly W1, b1 ... WL, bL."""
    if not isinstance(params, Mapping):
        raise TypeError(f"params must be a dict of arrays (W1, b1, ...), not {type(params).__name__}")
    return _check_layers(params)


def _check_layers(params: Mapping[str, Any]) -> int:
    if not all(isinstance(key, str) for key in params):
        raise TypeError(f"params keys must be the strings W1, b1, ..., WL, bL; got {list(params)}")
    L = sum(1 for key in params if key.startswith("W"))
    expected = [key for l in range(1, L + 1) for key in layer_keys(l)]
    if L == 0 or sorted(params) != sorted(expected):
        raise ValueError(f"params must hold exactly W1, b1, ..., WL, bL; got keys {sorted(params)}")
    _check_arrays(params)
    for l in range(1, L + 1):
        W, b = (params[key] for key in layer_keys(l))
        if len(W.shape) != 2 or tuple(b.shape) != (W.shape[0], 1):
            raise ValueError(f"params: W{l} must be 2-D and b{l} shaped (W{l}.shape[0], 1); "
                             f"got W{l} {tuple(W.shape)} and b{l} {tuple(b.shape)}")
        if l > 1 and W.shape[1] != params[f"W{l - 1}"].shape[0]:
            previous = params[layer_keys(l - 1)[0]]
            raise ValueError(f"params: W{l} has {W.shape[1]} columns but W{l - 1} has "
                             f"{previous.shape[0]} rows; consecutive layers must match")
    return L


def _check_arrays(params: Mapping[str, Any]) -> None:
    for key, value in params.items():
        if not is_array_api_obj(value):
            raise TypeError(f"params[{key!r}] must be an array, not {type(value).__name__}; "
                            f"convert it with xpnet.asarray(params[{key!r}], dtype='float64')")


def check_network(params: Mapping[str, Any]) -> tuple[int, Any]:
    """``(L, dtype)`` of a network's ``params``: checked as :func:`n_layers` does, and to
    share one real floating dtype (what computing with them needs)."""
    # The checks read only the keys and each value's type, shape and dtype: a network that
    # passed them with the same ones passes again (the public step asks on every call).
    return remembered(_CHECKED, network_layout(params), _layers_and_dtype, params)


def _layers_and_dtype(params: Mapping[str, Any]) -> tuple[int, Any]:
    return n_layers(params), check_dtypes(params)


_CHECKED: Answers = Answers()  # layout -> (L, dtype)


def network_layout(params: Any) -> tuple | None:
    """What the network checks read of ``params``, as a key of :func:`~xpnet.memo.remembered`;
    None where it cannot be had (not a dict, or not of arrays)."""
    if type(params) not in PLAIN_DICTS:
        return None
    layout: list = []
    try:
        # Four fields per array (xpnet.memo: one flat key): this runs on every public step.
        for key, v in params.items():
            layout += (key, type(v), v.shape, v.dtype)
    except AttributeError:  # not an array: checked in full
        return None
    return tuple(layout)


def check_dtypes(params: Mapping[str, Any]) -> Any:
    """The one real floating dtype of every array in ``params``, or a ``TypeError``."""
    # Dtypes only: metadata, so nothing waits for the device.
    dtype = None
    for key, value in params.items():
        if dtype is None:
            dtype, first = value.dtype, key
            if not array_namespace(value).isdtype(dtype, "real floating"):
                raise TypeError(f"params[{key!r}] has dtype {dtype}; parameters must have a real "
                                "floating dtype: create them with xpnet.init_params(..., dtype=...)")
        elif value.dtype != dtype:
            raise TypeError(f"params[{key!r}] has dtype {value.dtype} but params[{first!r}] has "
                            f"{dtype}; all parameters must share one dtype: convert them with "
                            "xpnet.asarray(..., dtype=...)")
    return dtype


def layer_dims_of(params: Mapping[str, Any]) -> list[int]:
    """The ``layer_dims`` that ``params`` was built for: ``[n_0, n_1, ..., n_L]``."""
    L = n_layers(params)
    weights = [params[layer_keys(l)[0]] for l in range(1, L + 1)]
    return [int(weights[0].shape[1])] + [int(W.shape[0]) for W in weights]


def parameter_keys(params: Mapping[str, Any]) -> list[str]:
    """``["W1", "b1", ..., "WL", "bL"]`` for a checked ``params``."""
    return [key for l in range(1, n_layers(params) + 1) for key in layer_keys(l)]


def host_copy_params(params: Mapping[str, Any]) -> dict[str, Any]:
    """A copy of every array in ``params`` in host memory (NumPy arrays).

    Kept off the device on purpose: weights saved to fall back on (the last good ones,
    early stopping's best) would otherwise take device memory the training needs.
    """
    return {key: host_copy(value) for key, value in params.items()}


def restore_params(params: MutableMapping[str, Any], saved: Mapping[str, Any]) -> None:
    """Put the arrays of ``saved`` (from :func:`host_copy_params`, or already on the
    backend) into ``params``, on the backend and device of the arrays they replace."""
    for key, value in saved.items():
        params[key] = to_device_of(to_numpy(value), params[key]) \
            if type(value) is not type(params[key]) else value
