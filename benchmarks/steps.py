"""One training step of the same network, implemented by each contender.

The network: ``dims[0]`` inputs, relu hidden layers, a softmax output over
``dims[-1]`` classes, categorical cross-entropy, plain SGD. Every factory takes
``(dims, batch, dtype, device)`` and returns ``step()``, which runs one
forward + backward + update on one fixed mini-batch, plus ``sync()``, which waits
for the device (a no-op on the CPU).
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

import xpnet
from xpnet.training import fit
from xpnet.training.optimizers import get_optimizer

LR = 1e-3
Step = tuple[Callable[[], None], Callable[[], None]]


def batch_data(dims: list[int], batch: int, dtype: str, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """A random mini-batch in the network layout: X ``(n_in, batch)``, one-hot Y ``(n_out, batch)``."""
    rng = np.random.RandomState(seed)
    X = rng.standard_normal((dims[0], batch)).astype(dtype)
    Y = np.eye(dims[-1], dtype=dtype)[:, rng.randint(dims[-1], size=batch)]
    return X, Y


def _sync_for(xp) -> Callable[[], None]:
    if xpnet.backend.backend_name(xp) == "cupy":
        import cupy

        return cupy.cuda.Device().synchronize
    return lambda: None


def initial_params(dims, dtype, xp) -> dict:
    """He-scaled random weights and zero biases, as ``xpnet.init_params(..., scale="he")``.

    On CuPy they are drawn on the device: the widest networks hold tens of GB of weights,
    which the host's generator would take minutes to draw for every try of the sweep.
    """
    if xpnet.backend.backend_name(xp) != "cupy":
        return xpnet.init_params(dims, scale="he", dtype=dtype, backend=xp)
    import cupy

    rng = cupy.random.default_rng(3)
    params = {}
    for l, (n_in, n_out) in enumerate(zip(dims[:-1], dims[1:]), start=1):
        params[f"W{l}"] = rng.standard_normal((n_out, n_in), dtype=dtype)
        params[f"W{l}"] *= np.sqrt(2.0 / n_in).astype(dtype)
        params[f"b{l}"] = cupy.zeros((n_out, 1), dtype=dtype)
    return params


def xpnet_public_step(dims, batch, dtype, backend) -> Step:
    """xpnet through its public step functions: forward_prop, backprop, update_parameters.

    ``backprop(..., input_gradient=False)``: a training step has no use for ``dA0``.
    """
    xp = xpnet.backend.resolve_backend(backend)
    X, Y = (xpnet.asarray(a, xp) for a in batch_data(dims, batch, dtype))
    params = initial_params(dims, dtype, xp)

    def step():
        AL, caches = xpnet.forward_prop(X, params, hidden="relu", output="softmax")
        grads = xpnet.backprop(AL, Y, caches, input_gradient=False)
        xpnet.update_parameters(params, grads, LR)

    return step, _sync_for(xp)


def xpnet_fit_step(dims, batch, dtype, backend, batches_per_epoch: int = 8, epochs: int = 1,
                   optimizer: str = "sgd", restore_on_nan: bool = True) -> Step:
    """xpnet's training loop: one ``fit`` call of ``epochs`` epochs of ``batches_per_epoch``
    shuffled mini-batches (its set-up, paid once per call, is spread over the steps).

    ``restore_on_nan=False`` leaves out the host copies of the weights kept to fall back on
    after a divergence (for the widest networks, whose weights would not fit the host twice).
    """
    xp = xpnet.backend.resolve_backend(backend)
    # The samples as rows, as the NumPy loop keeps them (made before the timing, as its
    # are), handed over as the (n_features, n_samples) view that the estimators pass: fit
    # gathers its batches from the rows as they are. A C-ordered X would cost fit one
    # transpose per call (README, "Performance").
    X, Y = (xpnet.asarray(np.ascontiguousarray(np.concatenate([a] * batches_per_epoch, axis=1).T),
                          xp).T for a in batch_data(dims, batch, dtype))
    params = initial_params(dims, dtype, xp)
    # One instance for every call: its state (velocities, moments) persists, as in a long run.
    optimizer = get_optimizer(optimizer)

    def run():
        fit(X, Y, dims, epochs=epochs, lr=LR, batch_size=batch, hidden="relu",
            output="softmax", params=params, optimizer=optimizer, restore_on_nan=restore_on_nan,
            verbose=0)

    return run, _sync_for(xp)


def _numpy_network(dims, dtype):
    rng = np.random.RandomState(3)
    Ws = [(rng.standard_normal((n_out, n_in)) * np.sqrt(2 / n_in)).astype(dtype)
          for n_in, n_out in zip(dims[:-1], dims[1:])]
    return Ws, [np.zeros((n_out, 1), dtype=dtype) for n_out in dims[1:]]


def _numpy_sgd_step(Ws, bs, X, Y, lr, record=None):
    """Forward, backward and update, written by hand; the input layer's gradient is skipped.

    ``record``: a list that gets the batch's ``(loss, correct)`` as NumPy scalars, what
    ``fit`` records for every mini-batch (the loss with probabilities clipped to
    ``[eps, 1]``, and the count of arg-max hits).
    """
    activations = [X]
    for l, (W, b) in enumerate(zip(Ws, bs)):
        Z = W @ activations[-1] + b
        if l < len(Ws) - 1:
            np.maximum(Z, 0, out=Z)
        else:
            Z -= Z.max(axis=0, keepdims=True)
            np.exp(Z, out=Z)
            Z /= Z.sum(axis=0, keepdims=True)
        activations.append(Z)
    AL = activations[-1]
    if record is not None:
        clipped = np.minimum(np.maximum(AL, np.finfo(AL.dtype).eps), 1.0)
        record.append((-np.sum(Y * np.log(clipped)) / X.shape[1],
                       np.sum(AL.argmax(axis=0) == Y.argmax(axis=0))))
    dZ = (AL - Y) / X.shape[1]
    for l in reversed(range(len(Ws))):
        A_prev = activations[l]
        dW = dZ @ A_prev.T
        db = dZ.sum(axis=1, keepdims=True)
        if l > 0:
            dZ_prev = Ws[l].T @ dZ
            dZ_prev *= A_prev > 0
        Ws[l] -= lr * dW
        bs[l] -= lr * db
        if l > 0:
            dZ = dZ_prev


def numpy_step(dims, batch, dtype, backend=None) -> Step:
    """A plain hand-written NumPy step of the same math on one fixed mini-batch."""
    X, Y = batch_data(dims, batch, dtype)
    Ws, bs = _numpy_network(dims, dtype)
    lr = np.asarray(LR, dtype=dtype)
    return (lambda: _numpy_sgd_step(Ws, bs, X, Y, lr)), (lambda: None)


def numpy_loop(dims, batch, dtype, batches_per_epoch: int = 8, epochs: int = 1) -> Step:
    """A plain hand-written NumPy training loop: shuffle each epoch, gather each batch, step,
    and record each batch's loss and correct count, averaged once per epoch (as fit does).

    The data is kept with samples as rows, so a batch is a row gather (as in xpnet.fit).
    """
    X, Y = (np.ascontiguousarray(np.concatenate([a] * batches_per_epoch, axis=1).T)
            for a in batch_data(dims, batch, dtype))
    Ws, bs = _numpy_network(dims, dtype)
    lr = np.asarray(LR, dtype=dtype)
    rng = np.random.RandomState(0)
    latest = {}

    def run():
        for _ in range(epochs):
            order = rng.permutation(X.shape[0])
            record = []
            for start in range(0, X.shape[0], batch):
                rows = order[start:start + batch]
                _numpy_sgd_step(Ws, bs, X[rows].T, Y[rows].T, lr, record)
            losses, correct = np.array(record).T
            latest.update(loss=float(np.mean(losses)), accuracy=float(np.sum(correct)) / X.shape[0])

    return run, lambda: None


TORCH_OPTIMIZERS = {"sgd": lambda torch, ps: torch.optim.SGD(ps, lr=LR),
                    "momentum": lambda torch, ps: torch.optim.SGD(ps, lr=LR, momentum=0.9),
                    "adam": lambda torch, ps: torch.optim.Adam(ps, lr=LR)}


def torch_step(dims, batch, dtype, device="cpu", optimizer: str = "sgd") -> Step:
    """PyTorch eager: nn.Sequential, cross-entropy, optim.SGD (the usual way to write it);
    ``optimizer`` ``"momentum"`` or ``"adam"`` for optim.SGD(momentum=0.9) or optim.Adam."""
    import torch

    torch_dtype = getattr(torch, dtype)
    layers = []
    for l, (n_in, n_out) in enumerate(zip(dims[:-1], dims[1:])):
        layers.append(torch.nn.Linear(n_in, n_out, dtype=torch_dtype, device=device))
        if l < len(dims) - 2:
            layers.append(torch.nn.ReLU())
    model = torch.nn.Sequential(*layers)
    X, Y = batch_data(dims, batch, dtype)
    inputs = torch.as_tensor(X.T.copy(), device=device)
    targets = torch.as_tensor(Y.argmax(axis=0), device=device)
    optimizer = TORCH_OPTIMIZERS[optimizer](torch, model.parameters())
    loss_fn = torch.nn.CrossEntropyLoss()

    def step():
        optimizer.zero_grad(set_to_none=True)
        loss_fn(model(inputs), targets).backward()
        optimizer.step()

    sync = torch.cuda.synchronize if device == "cuda" else (lambda: None)
    return step, sync


def sklearn_step(dims, batch, dtype, backend=None) -> Step:
    """scikit-learn's MLPClassifier, solver sgd, one partial_fit call per mini-batch."""
    import warnings

    from sklearn.neural_network import MLPClassifier

    X, Y = batch_data(dims, batch, dtype)
    inputs, labels = X.T.copy(), Y.argmax(axis=0)
    model = MLPClassifier(hidden_layer_sizes=dims[1:-1], solver="sgd", batch_size=batch,
                          learning_rate_init=LR, momentum=0.0, shuffle=False, random_state=0)
    classes = np.arange(dims[-1])

    def step():
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            model.partial_fit(inputs, labels, classes=classes)

    return step, lambda: None


def gemm_peak(n: int, dtype: str, backend: str = "numpy") -> Step:
    """A large square matrix multiply on the same backend: the machine's reachable peak."""
    xp = xpnet.backend.resolve_backend(backend)
    rng = np.random.RandomState(0)
    A = xpnet.asarray(rng.standard_normal((n, n)).astype(dtype), xp)
    B = xpnet.asarray(rng.standard_normal((n, n)).astype(dtype), xp)

    def step():
        A @ B

    return step, _sync_for(xp)


def torch_gemm_peak(n: int, dtype: str, device: str = "cpu") -> Step:
    """The same square matrix multiply through PyTorch (its own BLAS): where PyTorch's
    step is faster than NumPy's, this shows whether its matrix multiply is."""
    import torch

    rng = np.random.RandomState(0)
    A, B = (torch.as_tensor(rng.standard_normal((n, n)).astype(dtype), device=device)
            for _ in range(2))

    def step():
        A @ B

    return step, (torch.cuda.synchronize if device == "cuda" else (lambda: None))
