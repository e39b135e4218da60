"""The network math, written once against the array API standard.

The tutorial's steps, each in one function: ``init_params``, ``forward_prop``,
``cost_function``, ``one_layer_backward``, ``backprop`` and ``update_parameters``
(``train`` lives in :mod:`xpnet.training`). Every function takes its array namespace from
the arrays it receives, so the same code runs on NumPy, CuPy, PyTorch, JAX and
array-api-strict. The backward pass is written once, as :func:`layer_errors` (each
layer's ``dZ`` and input gradient): ``backprop`` forms ``dW`` and ``db`` from it, and
:func:`layer_gradients` hands them to the update rules, with which ``fit``'s training
step updates each layer as soon as they exist.
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Mapping, MutableMapping, Sequence
from typing import Any, NamedTuple

from .activations import Activation, get_activation
from .backend import (Backend, array_namespace, asarray, default_float_dtype, get_backend,
                      namespace_of, resolve_backend, writes_in_place)
from .gradients import Gradient, WeightGradient, add_scaled
from .losses import match_labels
from .outputs import Output, get_output
from .memo import Answers, remembered
from .parameters import (PLAIN_DICTS, check_network, gradient_key, gradient_keys, layer_keys,
                         network_layout)
from .step_ops import axis_sum, scalar
from .seeding import host_rng
from .validation import check_input, check_layer_dims, check_positive, float_dtype

Array = Any
INIT_SCALES = ("he", "xavier")


class LayerCache(NamedTuple):
    """What one layer's forward pass keeps for its backward pass.

    ``A_prev`` is the layer's input (the previous layer's ``A``: the same array,
    not a copy), ``A`` its output; ``Z`` is not kept because every activation's
    derivative is computed from ``A``. A backward pass that spends its caches
    (:func:`layer_errors` with ``spend=True``) leaves ``A`` None once it is used.
    """

    A_prev: Array
    W: Array
    b: Array
    A: Array
    activation: str


def init_scale(scale: float | str, fan_in: int, fan_out: int) -> float:
    if scale == "he":
        return math.sqrt(2.0 / fan_in)
    if scale == "xavier":
        return math.sqrt(2.0 / (fan_in + fan_out))
    if isinstance(scale, str) or isinstance(scale, bool) or not isinstance(scale, (int, float)):
        raise ValueError(f"scale must be a positive number or one of {INIT_SCALES}, got {scale!r}")
    if not (math.isfinite(scale) and scale > 0):
        raise ValueError(f"scale must be a finite number > 0 or one of {INIT_SCALES}, got {scale!r}")
    return float(scale)


def init_params(layer_dims: Sequence[int], *, seed: int | None = 3, scale: float | str = 0.01,
                dtype: Any = None, backend: Backend | None = None) -> dict[str, Array]:
    """Initial parameters ``{"W1", "b1", ...}`` for layer sizes ``[n_0, ..., n_L]``.

    ``W{l} = randn(n_l, n_{l-1}) * scale`` from ``numpy.random.RandomState(seed)``
    (drawn on the host, so the same on every backend) and ``b{l}`` zeros of shape
    ``(n_l, 1)``. ``scale`` is a number, ``"he"`` (sqrt(2/n_{l-1}), for relu) or
    ``"xavier"`` (sqrt(2/(n_{l-1}+n_l)), for sigmoid/tanh). The defaults reproduce
    the tutorial's numbers exactly. ``dtype=None`` means float64 (or, on a backend
    without it such as JAX in its default mode, the backend's default float).
    ``backend=None`` uses the selected backend.
    """
    dims = check_layer_dims(layer_dims)
    xp = get_backend() if backend is None else resolve_backend(backend)
    dtype = default_float_dtype(xp) if dtype is None else float_dtype(xp, dtype)
    rng = host_rng(seed)
    params = {}
    for l in range(1, len(dims)):
        W_key, b_key = layer_keys(l)
        params[W_key] = random_weights(rng, dims[l], dims[l - 1],
                                       init_scale(scale, dims[l - 1], dims[l]), xp, dtype)
        params[b_key] = xp.zeros((dims[l], 1), dtype=dtype)
    return params


# Rows of W drawn per block: ~32 MB of float64 on the host at a time.
_DRAW_BLOCK = 1 << 22


def random_weights(rng: Any, n_out: int, n_in: int, scale: float, xp: Any, dtype: Any,
                   rows: tuple[int, int] | None = None,
                   columns: tuple[int, int] | None = None) -> Array:
    """``rng.randn(n_out, n_in) * scale`` on ``xp`` in ``dtype`` (only its part ``rows x
    columns``, ``[lo, hi)`` ranges, where given: a rank's share), drawn in blocks of rows.

    The blocks continue one stream, so the numbers are those of a single draw, but the
    host never holds more than one block and the device no more than the part: a layer too
    big for host memory in float64 (a wide one meant for a GPU, in float32) can still be
    created. Every block is drawn, kept or not: the next layer's numbers follow in the stream.
    """
    (r0, r1), (c0, c1) = rows or (0, n_out), columns or (0, n_in)
    writeable = writes_in_place(xp)
    W, kept = None, []
    for start, block in _weight_rows(rng, n_out, n_in, scale):
        part = block[max(r0 - start, 0):max(r1 - start, 0), c0:c1]
        if part.shape[0] == 0:
            continue
        part = asarray(part, xp, dtype)
        if W is None and part.shape[0] == r1 - r0:
            W = part  # the whole part in one block
        elif writeable:
            if W is None:
                W = xp.empty((r1 - r0, c1 - c0), dtype=dtype)
            at = max(start - r0, 0)
            W[at:at + part.shape[0], :] = part
        else:  # immutable arrays (JAX): the parts are joined at the end
            kept.append(part)
    return W if W is not None else xp.concat(kept, axis=0)


def _weight_rows(rng: Any, n_out: int, n_in: int, scale: float) -> Iterator[tuple[int, Any]]:
    """``(first_row, rows)``: the host blocks of ``rng.randn(n_out, n_in) * scale``, in order."""
    rows = max(1, _DRAW_BLOCK // max(n_in, 1))
    for start in range(0, n_out, rows):
        yield start, rng.randn(min(rows, n_out - start), n_in) * scale


def forward_prop(X: Array, params: Mapping[str, Array], *, hidden: str = "sigmoid",
                 output: str = "sigmoid") -> tuple[Array, list[LayerCache]]:
    """Run ``X`` (shaped ``(n_features, n_samples)``) through the network.

    Hidden layers use the ``hidden`` activation, the last layer ``output``. Returns
    the output ``AL`` and one :class:`LayerCache` per layer for :func:`backprop`.
    """
    try:
        layout = network_layout(params)
        # Names remembered only as str (or Output): memo compares keys before hashing them,
        # and a NumPy string array equals its str without being one.
        named = type(hidden) is str and (type(output) is str or isinstance(output, Output))
        layout = (hidden, output, type(X), X.shape, X.dtype) + layout if layout and named else None
    except AttributeError:  # X is not an array: the checks say so
        layout = None
    activations = remembered(_FORWARD_CHECKED, layout, _check_forward, X, params, hidden, output)
    return forward(X, params, activations)


# The checks of forward_prop read the network's and X's metadata and the activations' names.
_FORWARD_CHECKED: Answers = Answers()  # layout -> the layers' activations


def _check_forward(X: Array, params: Mapping[str, Array], hidden: str,
                   output: str | Output) -> list[Activation]:
    """The layers' activations, once ``params`` are checked and ``X`` fits them."""
    L, dtype = check_network(params)
    activations = layer_activations(L, hidden, output)
    xp = namespace_of(X=X, **params)
    W1 = params[layer_keys(1)[0]]
    check_input(X, W1.shape[1], xp)
    if X.dtype != dtype:
        raise TypeError(f"X has dtype {X.dtype} but the parameters have {dtype}; convert X "
                        f"with xpnet.asarray(X, dtype=...) to the parameters' dtype")
    return activations


def layer_activations(L: int, hidden: str, output: str | Output) -> list[Activation]:
    """The activation of each of the ``L`` layers: ``hidden`` ones, then ``output``'s."""
    return [get_activation(hidden, "hidden")] * (L - 1) + [get_output(output).activation]


def forward(X: Array, params: Mapping[str, Array],
            activations: Sequence[Activation]) -> tuple[Array, list[LayerCache]]:
    """:func:`forward_prop` without its checks, for loops that made them once."""
    A, caches = X, []
    for l, activation in enumerate(activations, start=1):
        W_key, b_key = layer_keys(l)
        W, b = params[W_key], params[b_key]
        A_prev, A = A, activation.forward_with_bias(W @ A, b)
        caches.append(LayerCache(A_prev, W, b, A, activation.name))
    return A, caches


def cost_function(AL: Array, Y: Array, *, output: str = "sigmoid") -> Array:
    """Mean cost over the samples (columns) of ``AL``, as a 0-d array on ``AL``'s backend.

    ``output`` names the output activation that produced ``AL`` and picks the loss:
    binary cross-entropy for ``"sigmoid"``, categorical cross-entropy for
    ``"softmax"`` (``Y`` one-hot), and half the squared error, ``sum((AL - Y)**2) / (2m)``,
    for the others. Probabilities are clipped to ``[eps, 1 - eps]`` of their dtype,
    so saturated outputs give a large but finite cost.
    """
    kind = get_output(output)
    return kind.cost(AL, match_labels(AL, Y))


def one_layer_backward(dA: Array, cache: LayerCache, activation: str | None = None, *,
                       input_gradient: bool = True) -> tuple[Array | None, Array, Array]:
    """Gradients ``(dA_prev, dW, db)`` of one layer, given ``dA`` = dCost/dA of its output.

    ``activation`` defaults to the one recorded in ``cache`` by :func:`forward_prop`.
    With ``input_gradient=False``, ``dA_prev`` is not computed (returned as None).
    """
    name = cache.activation if activation is None else activation
    dZ = get_activation(name).backward(dA, cache.A)
    dA_prev = cache.W.T @ dZ if input_gradient else None
    return dA_prev, dZ @ cache.A_prev.T, bias_gradient(dZ)  # as backward forms them


def bias_gradient(dZ: Array) -> Array:
    """``db = sum(dZ, axis=1)``, one column per layer unit."""
    return axis_sum(dZ, 1)


def layer_gradients(AL: Array, Y: Array, caches: Sequence[LayerCache], output: str | Output, *,
                    weight_decay: float = 0.0, input_gradient: bool = False,
                    weights: Array | None = None, spend: bool = False
                    ) -> Iterator[tuple[int, Array | None, WeightGradient, Gradient]]:
    """The backward pass, one layer at a time, the output layer first.

    Yields ``(l, dA_prev, dW, db)``: ``dW`` a :class:`~xpnet.gradients.WeightGradient`
    (with the L2 penalty ``weight_decay``) and ``db`` a :class:`~xpnet.gradients.Gradient`
    of the layer's own, ``dA_prev`` computed before the yield, so the
    caller may update layer ``l`` at once. ``dA0`` (the gradient of the input) only with
    ``input_gradient``: training never uses it, and it costs as much as ``dW1``.
    ``weights``: per-sample weights, a ``(1, m)`` row summing to 1, for the weighted mean cost.
    ``spend``: the caller hands ``caches`` over (see :func:`layer_errors`).
    """
    for l, dZ, dA_prev in layer_errors(AL, Y, caches, output, input_gradient, weights,
                                       spend=spend):
        cache = caches[l - 1]
        yield (l, dA_prev, WeightGradient(dZ, cache.A_prev, cache.W, weight_decay),
               Gradient(bias_gradient(dZ), owned=True))
        del dZ, dA_prev, cache  # this layer's are spent: let them go before the next ones are made


def layer_errors(AL: Array, Y: Array, caches: Sequence[LayerCache], output: str | Output,
                 input_gradient: bool = False, weights: Array | None = None, *,
                 spend: bool = False) -> Iterator[tuple[int, Array, Array | None]]:
    """The backward pass's own part, the output layer first: ``(l, dZ, dA_prev)``, the
    error of layer ``l`` (dCost/dZ) and the gradient of its input (see
    :func:`layer_gradients`). A caller holds each ``dZ`` only until the next is asked for.

    ``spend=True``: the caller hands over ``caches`` (a list) and keeps none of the
    ``dA_prev`` it is given. Each layer's output then goes as soon as it is spent (its
    cache is dropped from the list, or kept without ``A``: :func:`spent_layer_error`),
    and an activation that can write the next ``dZ`` into ``dA_prev`` does: the pass
    holds one or two arrays of a layer's size fewer (a training step's peak memory).
    """
    dZ = get_output(output).gradient(AL, Y, weights)
    for l in range(len(caches), 0, -1):
        cache = caches[l - 1]
        dA_prev = cache.W.T @ dZ if l > 1 or input_gradient else None
        yield l, dZ, dA_prev
        if l > 1:
            dZ = cache = None  # this layer's are spent: let them go before the next are made
            if spend:
                dZ = spent_layer_error(caches, l - 1, dA_prev)
            else:
                previous = caches[l - 2]
                dZ = get_activation(previous.activation).backward(dA_prev, previous.A)
                previous = None
            dA_prev = None  # spent too (unless the caller keeps it): not alive in the next product


def spent_layer_error(caches: list[LayerCache | None], l: int, dA: Array) -> Array:
    """``dZ`` of layer ``l`` from ``dA``, the gradient of its output (the caller's own, which
    may be overwritten), once layer ``l + 1`` is done with: its cache, ``caches[l]``, is
    dropped (None), and layer ``l``'s is kept without ``A``, which goes once ``dZ`` is made
    from it (the layer's own ``dW`` needs its input and weights only)."""
    cache = caches[l - 1]
    caches[l] = None
    caches[l - 1] = LayerCache(cache.A_prev, cache.W, cache.b, None, cache.activation)
    return get_activation(cache.activation).backward_spending(dA, cache.A)


def backprop(AL: Array, Y: Array, caches: Sequence[LayerCache], *,
             input_gradient: bool = True) -> dict[str, Array]:
    """Gradients of the cost with respect to every parameter and layer input.

    Returns ``{"dW{l}", "db{l}", "dA{l-1}"}`` for ``l = 1..L``. The output layer
    uses ``dZ = (AL - Y) / m`` when its activation and the loss are a canonical pair
    (sigmoid with binary cross-entropy, softmax with categorical cross-entropy,
    identity with squared error). ``input_gradient=False`` leaves out ``dA0``, the
    gradient with respect to ``X``: training never uses it, and in the first layer
    it costs as much as ``dW1``.
    """
    if type(caches) is not list and (isinstance(caches, (str, bytes))  # (a list, asked first)
                                     or not isinstance(caches, Sequence)):
        raise TypeError(f"caches must be the list returned by forward_prop (one LayerCache per "
                        f"layer), not {type(caches).__name__}")
    for i, cache in enumerate(caches):
        if not isinstance(cache, LayerCache):
            raise TypeError(f"caches[{i}] is a {type(cache).__name__}, not a LayerCache; pass the "
                            "caches returned by forward_prop")
    if not caches:
        raise ValueError("caches is empty; pass the caches returned by forward_prop")
    shape = getattr(AL, "shape", None)  # (not an array: match_labels says so)
    if shape is not None and shape != caches[-1].A.shape:  # metadata only: nothing waits
        raise ValueError(f"AL is shaped {tuple(shape)} but the caches' output layer "
                         f"{tuple(caches[-1].A.shape)}; pass the AL and the caches returned by "
                         "one forward_prop call")
    return backward(AL, match_labels(AL, Y), caches, input_gradient)


def backward(AL: Array, Y: Array, caches: Sequence[LayerCache],
             input_gradient: bool = True) -> dict[str, Array]:
    """:func:`backprop` without its checks, for loops that made them once."""
    grads = {}
    for l, dZ, dA_prev in layer_errors(AL, Y, caches, caches[-1].activation, input_gradient):
        dA_key, dW_key, db_key = gradient_keys(l)
        grads[dW_key], grads[db_key] = dZ @ caches[l - 1].A_prev.T, bias_gradient(dZ)
        if dA_prev is not None:
            grads[dA_key] = dA_prev
        del dZ  # spent: let it go before the next layer's is made
    return grads


def update_parameters(params: MutableMapping[str, Array], grads: Mapping[str, Array],
                      learning_rate: float) -> MutableMapping[str, Array]:
    """One gradient-descent step: ``W{l} -= learning_rate * dW{l}``, same for ``b{l}``.

    Arrays are updated in place where the backend allows it (NumPy, CuPy, PyTorch,
    array-api-strict) and replaced where arrays are immutable (JAX). Returns ``params``.
    """
    learning_rate = check_positive(learning_rate, "learning_rate")
    pairs = _checked_keys(params, grads, learning_rate)
    step = scalar(params[pairs[0][0]], -learning_rate)  # made once for every layer
    for key, g_key in pairs:
        params[key] = add_scaled(params[key], step, grads[g_key])
    return params


def _checked_keys(params: Mapping[str, Array], grads: Mapping[str, Array],
                  learning_rate: float) -> tuple[tuple[str, str], ...]:
    """The ``(parameter key, gradient key)`` pairs, once ``grads`` are checked to fit
    ``params`` (shapes, dtypes and libraries: metadata, so nothing waits for the device)
    and ``learning_rate`` their dtype."""
    if type(grads) is not dict and not isinstance(grads, Mapping):  # (a dict, asked first)
        raise TypeError(f"grads must be the dict returned by backprop (dW1, db1, ...), "
                        f"not {type(grads).__name__}")
    pairs, dtype, largest = remembered(_GRADIENTS_CHECKED, _gradients_layout(params, grads),
                                       _check_gradients, params, grads)
    if learning_rate > largest:
        # It would become inf in the parameters' dtype, and inf * 0 is NaN.
        raise ValueError(f"learning_rate={learning_rate} is beyond the range of the parameters' "
                         f"dtype {dtype}; use a smaller learning rate")
    return pairs


# The checks of the network and of its gradients read the metadata of both, nothing else.
_GRADIENTS_CHECKED: Answers = Answers()  # layout -> (key pairs, dtype, its largest number)


def _gradients_layout(params: Mapping[str, Array], grads: Mapping[str, Array]) -> tuple | None:
    """What :func:`_check_gradients` reads, as a key: each parameter's key, type, shape and
    dtype beside its gradient's (nothing else of ``grads``), seven fields per parameter in
    one flat tuple; None where it cannot be had."""
    if type(params) not in PLAIN_DICTS or type(grads) is not dict:
        return None
    layout: list = []
    try:
        for key, p in params.items():
            g = grads[gradient_key(key)]
            layout += (key, type(p), p.shape, p.dtype, type(g), g.shape, g.dtype)
    except (KeyError, TypeError, AttributeError):  # checked in full, which says why
        return None
    return tuple(layout)


def _check_gradients(params: Mapping[str, Array], grads: Mapping[str, Array]
                     ) -> tuple[tuple[tuple[str, str], ...], Any, float]:
    """The ``(parameter key, gradient key)`` pairs, the parameters' dtype and its largest
    number, once ``params`` are checked and ``grads`` fit them."""
    L, dtype = check_network(params)
    keys = tuple(key for l in range(1, L + 1) for key in layer_keys(l))
    missing = [gradient_key(key) for key in keys if gradient_key(key) not in grads]
    if missing:
        raise ValueError(f"grads has no {', '.join(missing)}; pass the dict returned by backprop")
    namespace_of(**params, **{gradient_key(key): grads[gradient_key(key)] for key in keys})
    for key in keys:
        g, p = grads[gradient_key(key)], params[key]
        if tuple(g.shape) != tuple(p.shape) or g.dtype != p.dtype:
            raise ValueError(f"grads[{gradient_key(key)!r}] is {tuple(g.shape)} {g.dtype} but "
                             f"params[{key!r}] is {tuple(p.shape)} {p.dtype}; they must match")
    pairs = tuple((key, gradient_key(key)) for key in keys)
    return pairs, dtype, float(array_namespace(params[keys[0]]).finfo(dtype).max)
