"""Tensor parallelism: every hidden layer's units split across the ranks, so that layers
too wide for one device fit on several.

Rank ``r`` of ``p`` holds its piece ``U_l`` of the units of each hidden layer ``l``
(sizes differ by at most one) and the weights that touch them: the rows ``U_1`` of
``W1`` (the first layer reads the whole input), and the columns ``U_{l-1}`` of every
later ``W_l`` (all its rows), with the biases of its own units (the output layer's
bias, like the output, is whole on every rank). Every rank sees the whole batch.

Forward, a layer past the first multiplies its columns by its piece of the previous
layer's output: one sum over the ranks (an Allreduce of ``n_l x batch``) gives the whole
product, of which each rank keeps its own units' rows (the output layer keeps all of
it). Backward, the output layer's gradient is whole everywhere; each rank's ``dA`` of
the layer below needs only its own columns, and a hidden layer's ``dZ`` is made whole
by one more sum (its rows from each rank) for the weight gradient of its columns. So a
hidden pair costs two Allreduces of ``batch x width`` per step, as in Megatron-LM.
The sums run in rank order, so the numbers are those of one process to rounding.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, MutableMapping, Sequence
from dataclasses import dataclass
from typing import Any

from ..activations import Activation
from ..backend import (array_namespace, dtype_name, is_writeable, namespace_of,
                       to_device_of, to_numpy, writes_in_place)
from ..distributed import Transport
from ..gradients import Gradient, WeightGradient
from ..network import (LayerCache, bias_gradient, init_scale, layer_activations, random_weights,
                       spent_layer_error)
from ..outputs import Output
from ..parameters import ModelParams, check_dtypes, check_network, layer_dims_of, layer_keys
from ..seeding import host_rng
from ..validation import check_input
from .optimizers import Optimizer
from .parallel import piece

Array = Any
Span = tuple[int, int]


@dataclass(frozen=True)
class TensorLayout:
    """Which part of each layer of the network ``layer_dims`` rank ``rank`` of ``size`` holds."""

    layer_dims: tuple[int, ...]
    rank: int
    size: int

    @property
    def L(self) -> int:
        return len(self.layer_dims) - 1

    def units(self, l: int) -> Span:
        """This rank's units ``[lo, hi)`` of layer ``l`` (all of the input's and the output's)."""
        n = self.layer_dims[l]
        return piece(0, n, self.rank, self.size) if 0 < l < self.L else (0, n)

    def weight_span(self, l: int) -> tuple[Span, Span]:
        """``(rows, columns)`` of ``W_l`` held here."""
        if l == 1:
            return self.units(1), (0, self.layer_dims[0])
        return (0, self.layer_dims[l]), self.units(l - 1)

    def shapes(self) -> dict[str, tuple[int, int]]:
        """The shape of every array of this rank's share of the parameters."""
        shapes = {}
        for l in range(1, self.L + 1):
            (r0, r1), (c0, c1) = self.weight_span(l)
            lo, hi = self.units(l)
            W_key, b_key = layer_keys(l)
            shapes[W_key], shapes[b_key] = (r1 - r0, c1 - c0), (hi - lo, 1)
        return shapes


def sharded_axis(key: str, L: int) -> int | None:
    """The axis along which ``key``'s array (of a network of ``L`` layers) is split across
    the ranks, or None where every rank holds all of it (the output layer's bias)."""
    l = int(key[1:])
    if key[0] == "W":
        return 0 if l == 1 else 1
    return 0 if l < L else None


def tensor_layout(layer_dims: Sequence[int], rank: int, size: int) -> TensorLayout:
    """The layout, or a ``ValueError`` when the network cannot be split ``size`` ways."""
    dims = tuple(int(n) for n in layer_dims)
    if len(dims) < 3:
        raise ValueError(f"parallel='tensor' splits hidden layers, and layer_dims {list(dims)} "
                         "has none; use parallel='data'")
    narrow = [n for n in dims[1:-1] if n < size]
    if narrow:
        raise ValueError(f"parallel='tensor' on {size} ranks needs at least {size} units in "
                         f"every hidden layer, and layer_dims {list(dims)} has {narrow[0]}; use "
                         "fewer ranks or wider layers")
    return TensorLayout(dims, rank, size)


def init_shard(layout: TensorLayout, *, seed: int | None, scale: float | str, dtype: Any,
               xp: Any) -> dict[str, Array]:
    """This rank's share of ``init_params(layer_dims, seed=seed, scale=scale)``: the same
    numbers, drawn from the same stream a block of rows at a time, keeping only its part."""
    rng = host_rng(seed)
    dims, params = layout.layer_dims, {}
    for l in range(1, layout.L + 1):
        (r0, r1), (c0, c1) = layout.weight_span(l)
        scale_l = init_scale(scale, dims[l - 1], dims[l])
        W_key, b_key = layer_keys(l)
        params[W_key] = random_weights(rng, dims[l], dims[l - 1], scale_l, xp, dtype,
                                       rows=(r0, r1), columns=(c0, c1))
        lo, hi = layout.units(l)
        params[b_key] = xp.zeros((hi - lo, 1), dtype=dtype)
    return params


def check_shard(params: Mapping[str, Array], layout: TensorLayout) -> None:
    """A ``ValueError`` unless ``params`` are this rank's share of the layout's network."""
    expected = layout.shapes()
    found = {key: tuple(value.shape) for key, value in params.items()}
    if found != expected:
        raise ValueError(f"params given to continue a tensor-parallel run must be this rank's "
                         f"share (rank {layout.rank} of {layout.size}: {expected}), not {found}; "
                         "pass the params that fit returned on this rank, or "
                         "xpnet.shard_params(whole, comm) of a whole network")


class TensorParallel:
    """The forward pass and the training step of one rank of a tensor-parallel network."""

    def __init__(self, layout: TensorLayout, transport: Transport) -> None:
        self.layout, self.transport = layout, transport

    def _summed(self, partial: Array) -> Array:
        """The sum over the ranks of ``partial`` (a matrix)."""
        xp = namespace_of(partial=partial)
        total = self.transport.allreduce_sum(xp.reshape(partial, (-1,)))
        return xp.reshape(total, tuple(partial.shape))

    def _whole_rows(self, part: Array, l: int) -> Array:
        """Layer ``l``'s rows from every rank, stacked: ``part`` is this rank's."""
        xp = namespace_of(part=part)
        lo, hi = self.layout.units(l)
        n, m = self.layout.layer_dims[l], part.shape[1]
        padded = xp.concat([xp.zeros((lo, m), dtype=part.dtype), part,
                            xp.zeros((n - hi, m), dtype=part.dtype)], axis=0)
        return self._summed(padded)

    def forward(self, X: Array, params: Mapping[str, Array],
                activations: Sequence[Activation]) -> tuple[Array, list[LayerCache]]:
        """The whole network's output (on every rank) and this rank's caches."""
        A, caches = X, []
        for l, activation in enumerate(activations, start=1):
            W, b = (params[key] for key in layer_keys(l))
            Z = W @ A
            if l > 1:  # the product over this rank's inputs only: summed over the ranks
                lo, hi = self.layout.units(l)
                Z = _writeable(self._summed(Z)[lo:hi, :])  # the activation writes into Z
            A_prev, A = A, activation.forward_with_bias(Z, b)
            caches.append(LayerCache(A_prev, W, b, A, activation.name))
        return A, caches

    def gradients(self, AL: Array, Y: Array, caches: list[LayerCache], output: Output,
                  weight_decay: float, weights: Array | None = None
                  ) -> Iterator[tuple[str, Gradient]]:
        """``(key, gradient)`` of this rank's parameters, the output layer first; each
        layer's ``dA`` below is computed before its gradients are handed over. ``weights``:
        the batch's sample weights (a ``(1, m)`` row summing to 1), or None. ``caches``
        (a list, from :meth:`forward`) are spent (see :func:`~xpnet.network.layer_errors`)."""
        L = self.layout.L
        dZ = output.gradient(AL, Y, weights)  # whole on every rank, as AL is
        for l in reversed(range(1, L + 1)):
            cache = caches[l - 1]
            whole_dZ = self._whole_rows(dZ, l) if 1 < l < L else dZ
            dA_prev = cache.W.T @ whole_dZ if l > 1 else None
            W_key, b_key = layer_keys(l)
            yield W_key, WeightGradient(whole_dZ, cache.A_prev, cache.W, weight_decay)
            yield b_key, Gradient(bias_gradient(dZ), owned=True)
            if l > 1:
                dZ = whole_dZ = cache = None  # spent before the next layer's are made
                # The caches are the training step's: each layer's output goes once spent.
                dZ = spent_layer_error(caches, l - 1, dA_prev)
                dA_prev = None  # spent too: not alive in the next layer's product

    def backward_and_update(self, AL: Array, Y: Array, caches: list[LayerCache],
                            params: MutableMapping[str, Array], output: Output,
                            optimizer: Optimizer, learning_rate: float,
                            weight_decay: float = 0.0, weights: Array | None = None) -> None:
        """The training step's backward pass, each layer updated as its gradients come."""
        optimizer.step_each(params, self.gradients(AL, Y, caches, output, weight_decay, weights),
                            learning_rate)

    def joined_on_root(self, arrays: Mapping[str, Array]) -> dict[str, Any] | None:
        """:func:`joined_on_root` of this rank's ``arrays`` (every rank must call it)."""
        return joined_on_root(self.transport, arrays, self.layout.L)

    def share_of(self, arrays: Mapping[str, Any], like: Array) -> dict[str, Array]:
        """:func:`share_of` whole host ``arrays`` for this rank."""
        return share_of(self.layout, arrays, like)

    def all_ranks(self, flag: bool) -> bool:
        """Whether ``flag`` holds on every rank (each checks its own weights)."""
        return all(self.transport.gather_values(bool(flag)))


def gather_params(params: Mapping[str, Array], comm: Any,
                  mesh: tuple[int, int] | None = None) -> dict[str, Array] | None:
    """The whole network on rank 0 from every rank's share (``params`` as a tensor-parallel
    ``fit`` returned them on each rank); None on the other ranks. Every rank must call it.
    The whole network is the one a single process trains: save it, or predict with it.
    ``mesh``: the ``(n_data, n_tensor)`` of a grid (``parallel=("data", "tensor")``),
    whose first tensor group's shares are joined."""
    whole = gather_to_host(params, comm, mesh)
    if whole is None:
        return None
    like = params[layer_keys(1)[0]]
    joined = {key: to_device_of(host, like) for key, host in whole.items()}
    # The shares' description (fit's: their activations) is the whole network's.
    description = getattr(params, "description", None)
    return joined if description is None else ModelParams(joined, description)


def gather_to_host(params: Mapping[str, Array], comm: Any,
                   mesh: tuple[int, int] | None = None) -> dict[str, Any] | None:
    """:func:`gather_params` in host memory (NumPy arrays): the whole network need not fit
    rank 0's device. A failure of one rank while the shares travel ends the job."""
    from ..distributed import as_transport, failures_end_the_job, on_every_rank

    transport = as_transport(comm)
    if mesh is not None:  # the first tensor group holds one copy: its ranks join it
        group = on_every_rank(transport, lambda: _tensor_group(mesh, transport), "checking mesh")
        transport = transport.split(*group)
        if group[0] != 0:
            return None
    keys = on_every_rank(transport, lambda: _share_keys(params), "checking the shares")
    with failures_end_the_job(transport):
        whole = joined_on_root(transport, {key: params[key] for key in keys}, len(keys) // 2)
    on_every_rank(transport, lambda: whole is None or _check_joined(whole), "joining the shares")
    return whole


def _tensor_group(mesh: Any, transport: Transport) -> tuple[int, int]:
    """``(group, rank in it)`` of this rank in a grid ``mesh=(n_data, n_tensor)``."""
    if not (isinstance(mesh, (tuple, list)) and len(mesh) == 2
            and all(isinstance(n, int) and not isinstance(n, bool) and n > 0 for n in mesh)
            and mesh[0] * mesh[1] == transport.size):
        raise ValueError(f"mesh must be the grid's (n_data, n_tensor), two positive ints whose "
                         f"product is the number of ranks ({transport.size}), got {mesh!r}")
    return divmod(transport.rank, mesh[1])


def _check_joined(whole: Mapping[str, Any]) -> None:
    try:
        check_network(whole)
    except ValueError as exc:
        raise ValueError(f"params are not this rank's share of a tensor-parallel network (the "
                         f"shares do not join into one: {exc}); pass what fit(..., "
                         "parallel='tensor') returned on each rank") from exc


def sharded_forward_prop(X: Array, params: Mapping[str, Array], comm: Any, *,
                         hidden: str = "sigmoid", output: str = "sigmoid") -> Array:
    """The whole network's output for ``X`` ``(n_features, n_samples)`` on every rank, from
    each rank's share ``params`` (as a tensor-parallel ``fit`` returned them): what
    ``forward_prop(X, gather_params(...))[0]`` gives, without the whole network on any
    rank. Every rank must call it, with the same ``X``; a rank that fails in the middle
    (out of memory, say) ends the job rather than leave the others waiting."""
    from ..distributed import as_transport, failures_end_the_job, on_every_rank

    transport = as_transport(comm)
    # Each rank's facts, then all of them checked alike: no collective inside a check.
    facts = on_every_rank(transport, lambda: _share_facts(params, X), "checking the shares and X")
    seen = transport.gather_values(facts)
    layout = on_every_rank(transport, lambda: _checked_layout(params, X, seen, transport),
                           "checking the shares and X")
    activations = layer_activations(layout.L, hidden, output)
    with failures_end_the_job(transport):
        return TensorParallel(layout, transport).forward(X, params, activations)[0]


def _share_facts(params: Mapping[str, Array], X: Array) -> tuple[list[int], tuple[int, ...]]:
    """This rank's units of each hidden layer and the shape of its ``X``."""
    keys = _share_keys(params)
    units = [int(params[layer_keys(l)[1]].shape[0]) for l in range(1, len(keys) // 2)]
    return units, tuple(int(n) for n in getattr(X, "shape", ()))


def _checked_layout(params: Mapping[str, Array], X: Array, seen: list[Any],
                    transport: Transport) -> TensorLayout:
    """The layout of which ``params`` are this rank's share (the hidden widths are the sums
    of every rank's units, ``seen``), with ``X`` checked to fit it and to be every rank's."""
    if any(other != seen[0][1] for _, other in seen):
        raise ValueError(f"every rank must pass the same X: shapes {[s for _, s in seen]}")
    L = len(seen[0][0]) + 1
    if any(len(units) != L - 1 for units, _ in seen):
        raise ValueError(f"the ranks' shares have different numbers of layers: "
                         f"{[len(units) + 1 for units, _ in seen]}")
    dims = [int(params["W1"].shape[1]), *(sum(u[i] for u, _ in seen) for i in range(L - 1)),
            int(params[layer_keys(L)[0]].shape[0])]
    layout = tensor_layout(dims, transport.rank, transport.size)
    check_shard(params, layout)
    dtype = check_dtypes(params)
    xp = namespace_of(X=X, **params)
    check_input(X, dims[0], xp)
    if X.dtype != dtype:
        raise TypeError(f"X has dtype {X.dtype} but the network's parameters are {dtype}; "
                        f"convert X, e.g. xpnet.asarray(X, dtype='{dtype_name(dtype)}')")
    return layout


def joined_on_root(transport: Transport, arrays: Mapping[str, Array], L: int
                   ) -> dict[str, Any] | None:
    """Every rank's share of ``arrays`` joined into whole host arrays on rank 0 (None on the
    others). A name is a parameter key (``W2``) or ends in one (``velocity/W2``): the array
    is split as that parameter is. One array at a time, so that rank 0 holds the joined
    arrays and the shares of one array at most."""
    whole = {}
    for name, a in arrays.items():
        shares = transport.gather_to_root(to_numpy(a))
        if shares is not None:
            axis = sharded_axis(_parameter_key(name), L)
            whole[name] = shares[0] if axis is None else _concat_host(shares, axis)
        del shares
    return whole if transport.rank == 0 else None


def share_of(layout: TensorLayout, arrays: Mapping[str, Any], like: Array) -> dict[str, Array]:
    """This rank's share of whole ``arrays`` (on the host, or of ``like``'s library) named as
    in :func:`joined_on_root`, as arrays of ``like``'s library and device."""
    share = {}
    for name, whole in arrays.items():
        key = _parameter_key(name)
        l = int(key[1:])
        if key[0] == "W":
            (r0, r1), (c0, c1) = layout.weight_span(l)
            part = whole[r0:r1, c0:c1]
        else:
            lo, hi = layout.units(l)
            part = whole[lo:hi, :]
        share[name] = _own_copy(part, like)
    return share


def _own_copy(part: Any, like: Array) -> Array:
    """``part`` of a whole array, copied (a view would keep the whole alive) as an array of
    ``like``'s library and device: where it lies, or from the host."""
    xp = namespace_of(like=like)
    if namespace_of(part=part) is xp:
        return xp.asarray(part, copy=True)
    return to_device_of(part.copy(), like)  # a host array's part: its own memory first


def _parameter_key(name: str) -> str:
    return name.rsplit("/", 1)[-1]


def shard_params(params: Mapping[str, Array], comm: Any) -> dict[str, Array]:
    """This rank's share of the whole network ``params`` (say, loaded from a file), to
    continue training it with ``fit(..., params=share, comm=comm, parallel="tensor")``."""
    from ..distributed import as_transport

    transport = as_transport(comm)
    layout = tensor_layout(layer_dims_of(params), transport.rank, transport.size)
    return share_of(layout, params, params[layer_keys(1)[0]])


def _share_keys(params: Mapping[str, Array]) -> list[str]:
    """``W1, b1, ..., WL, bL`` of a rank's share (whose shapes, unlike a whole network's,
    do not chain from layer to layer), or a ``ValueError``."""
    L = sum(1 for key in params if isinstance(key, str) and key.startswith("W"))
    keys = [key for l in range(1, L + 1) for key in layer_keys(l)]
    if L == 0 or sorted(params) != sorted(keys):
        raise ValueError(f"params must hold exactly W1, b1, ..., WL, bL (a rank's share of a "
                         f"tensor-parallel network); got keys {sorted(params)}")
    return keys


def _concat_host(parts: list[Any], axis: int) -> Any:
    """Host arrays joined along ``axis`` (through the array API of NumPy's namespace)."""
    xp = namespace_of(first=parts[0])
    return xp.concat(parts, axis=axis)


def _writeable(Z: Array) -> Array:
    """``Z``, or a copy of it where it is read-only (a transport may hand back its sums so)
    but its library writes arrays in place (not JAX's, where ``+=`` makes a new array)."""
    if is_writeable(Z):
        return Z
    xp = array_namespace(Z)
    return xp.asarray(Z, copy=True) if writes_in_place(xp) else Z
