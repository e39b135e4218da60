"""fit's layer-by-layer training step against backprop + optimizer.step, and the fused GEMM."""

import copy

import numpy as np
import pytest

import xpnet
from xpnet import backend as backend_module
from xpnet import gradients as gradients_module
from xpnet.gradients import WeightGradient
from xpnet.kernels import add_product_into
from xpnet.network import backward, forward, layer_activations
from xpnet.training.optimizers import SGD, Adam, Optimizer, RMSprop
from xpnet.training.step import backward_and_update

OPTIMIZERS = [SGD(), SGD(momentum=0.9), SGD(momentum=0.9, nesterov=True), Adam(), RMSprop()]
DIMS = [6, 7, 5, 3]


def network_and_batches(xp, dtype="float64", steps=3):
    rng = np.random.RandomState(0)
    params = xpnet.init_params(DIMS, seed=1, scale="he", dtype=dtype, backend=xp)
    batches = []
    for _ in range(steps):
        X = rng.randn(DIMS[0], 9).astype(dtype)
        Y = np.eye(DIMS[-1], dtype=dtype)[:, rng.randint(DIMS[-1], size=9)]
        batches.append((xpnet.asarray(X, xp), xpnet.asarray(Y, xp)))
    return params, batches


def train_whole(params, batches, optimizer, lr, weight_decay):
    """The reference: every gradient from backward, the penalty added, then optimizer.step."""
    activations = layer_activations(len(DIMS) - 1, "relu", "softmax")
    for X, Y in batches:
        AL, caches = forward(X, params, activations)
        grads = backward(AL, Y, caches, input_gradient=False)
        for key in [k for k in params if k.startswith("W")]:
            grads[f"d{key}"] = grads[f"d{key}"] + weight_decay * params[key] if weight_decay \
                else grads[f"d{key}"]
        optimizer.step(params, grads, lr)
    return params


def train_by_layer(params, batches, optimizer, lr, weight_decay):
    activations = layer_activations(len(DIMS) - 1, "relu", "softmax")
    for X, Y in batches:
        AL, caches = forward(X, params, activations)
        backward_and_update(AL, Y, caches, params, "softmax", optimizer, lr, weight_decay)
    return params


@pytest.mark.parametrize("weight_decay", [0.0, 0.01])
@pytest.mark.parametrize("optimizer", OPTIMIZERS, ids=repr)
def test_updating_layer_by_layer_gives_the_numbers_of_a_whole_step(xp, optimizer, weight_decay):
    whole_params, batches = network_and_batches(xp)
    layer_params, _ = network_and_batches(xp)
    train_whole(whole_params, batches, copy.deepcopy(optimizer), 0.1, weight_decay)
    train_by_layer(layer_params, batches, copy.deepcopy(optimizer), 0.1, weight_decay)
    assert_same_numbers(xp, layer_params, whole_params)


def assert_same_numbers(xp, got, expected):
    """Bit-identical on the CPU backends; on CuPy the fused GEMM rounds once where the
    generic update rounds twice, so the last bits may differ."""
    for key in expected:
        a, b = xpnet.to_numpy(got[key]), xpnet.to_numpy(expected[key])
        if backend_module.backend_name(xp) == "cupy":
            np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-14, err_msg=key)
        else:
            np.testing.assert_array_equal(a, b, err_msg=key)


class WholeGradientsOnly(Optimizer):
    """An optimizer of a user's own: plain SGD through step() alone."""

    def step(self, params, grads, learning_rate):
        for key in params:
            params[key] = params[key] - learning_rate * grads[f"d{key}"]

    def get_state(self):
        return {}, {}

    def set_state(self, arrays, values):
        pass


class LoggingSGD(SGD):
    """A subclass that overrides step only: it must keep receiving whole gradients."""

    def __init__(self):
        super().__init__()
        self.calls = 0

    def step(self, params, grads, learning_rate):
        self.calls += 1
        super().step(params, grads, learning_rate)


def test_fit_gives_whole_gradients_to_optimizers_whose_step_is_their_own():
    # Both are given every gradient of a mini-batch at once, through their own step().
    assert not SGD()._takes_whole_steps() and not Adam()._takes_whole_steps()
    assert WholeGradientsOnly()._takes_whole_steps() and LoggingSGD()._takes_whole_steps()
    logging = LoggingSGD()
    X, Y = xpnet.datasets.make_moons(40, seed=0)
    xpnet.fit(X, Y, [2, 4, 1], epochs=2, batch_size=10, optimizer=logging, verbose=0)
    assert logging.calls == 8


def fit_moons(n_samples, layer_dims, **options):
    X, Y = xpnet.datasets.make_moons(n_samples, seed=0)
    return xpnet.fit(X, Y, layer_dims, lr=0.3, hidden="relu", scale="he", verbose=0, **options)


@pytest.mark.parametrize("weight_decay", [0.0, 0.01])
def test_fit_trains_the_same_whichever_way_the_optimizer_takes_its_gradients(xp, weight_decay):
    def trained(optimizer):
        return fit_moons(60, [2, 8, 8, 1], epochs=3, batch_size=16, optimizer=optimizer,
                         weight_decay=weight_decay, backend=xp)

    (by_layer, h1), (whole, h2) = trained("sgd"), trained(LoggingSGD())
    np.testing.assert_allclose(h1.loss, h2.loss, rtol=1e-12 if backend_module.backend_name(xp) == "cupy" else 0)
    assert_same_numbers(xp, by_layer, whole)


def test_the_fused_product_is_declined_off_cupy_and_touches_nothing(xp):
    target = xpnet.asarray(np.ones((3, 4)), xp)
    A, B = xpnet.asarray(np.ones((3, 2)), xp), xpnet.asarray(np.ones((4, 2)), xp)
    assert add_product_into(target, -0.5, A, B, 1.0) is (backend_module.backend_name(xp) == "cupy")
    if backend_module.backend_name(xp) != "cupy":
        np.testing.assert_array_equal(xpnet.to_numpy(target), np.ones((3, 4)))


@pytest.mark.gpu
@pytest.mark.parametrize("order", ["C", "F"])
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_the_fused_product_on_cupy_matches_the_generic_expression(order, dtype):
    import cupy

    rng = np.random.RandomState(0)
    C, A, B = (rng.randn(*shape).astype(dtype) for shape in [(64, 48), (64, 32), (48, 32)])
    target = cupy.asarray(C, order=order)
    # A and B as fit passes them: A C-ordered (dZ), B a transposed view (a batch of rows).
    assert add_product_into(target, -0.1, cupy.asarray(A), cupy.asarray(np.ascontiguousarray(B.T)).T, 0.9)
    rtol = 1e-5 if dtype == "float32" else 1e-12
    np.testing.assert_allclose(target.get(), 0.9 * C - 0.1 * (A @ B.T), rtol=rtol, atol=rtol)


@pytest.mark.gpu
def test_the_fused_product_on_cupy_takes_strided_operands_and_writes_the_target_in_place():
    import cupy

    rng = np.random.RandomState(1)
    C, A, B = (rng.randn(*shape) for shape in [(16, 12), (16, 40), (12, 40)])
    target = cupy.asarray(C)
    pointer = target.data.ptr
    # Every other column: neither C- nor F-contiguous, like a column slice of the data.
    assert add_product_into(target, -0.1, cupy.asarray(A)[:, ::2], cupy.asarray(B)[:, ::2], 1.0)
    assert target.data.ptr == pointer
    np.testing.assert_allclose(target.get(), C - 0.1 * (A[:, ::2] @ B[:, ::2].T), rtol=1e-12)


@pytest.mark.gpu
@pytest.mark.parametrize("optimizer", ["sgd", "momentum"])
@pytest.mark.parametrize("weight_decay", [0.0, 0.01])
def test_fit_with_the_fused_update_on_cupy_matches_numpy(optimizer, weight_decay):
    (on_gpu, h_gpu), (on_cpu, h_cpu) = (
        fit_moons(256, [2, 64, 64, 1], epochs=5, batch_size=64, optimizer=optimizer,
                  weight_decay=weight_decay, backend=backend) for backend in ("cupy", "numpy"))
    np.testing.assert_allclose(h_gpu.loss, h_cpu.loss, rtol=1e-9)
    for key in on_cpu:
        np.testing.assert_allclose(xpnet.to_numpy(on_gpu[key]), on_cpu[key], rtol=1e-8, atol=1e-10)


@pytest.mark.gpu
def test_the_fused_sgd_step_on_cupy_holds_no_weight_gradient():
    import cupy

    dims, batch = [1024, 2048, 2048, 10], 256
    xp = backend_module.resolve_backend("cupy")
    params = xpnet.init_params(dims, scale="he", dtype="float32", backend=xp)
    rng = np.random.RandomState(0)
    X = xpnet.asarray(rng.randn(dims[0], batch).astype("float32"), xp)
    Y = xpnet.asarray(np.eye(10, dtype="float32")[:, rng.randint(10, size=batch)], xp)
    activations = layer_activations(3, "relu", "softmax")
    pool = cupy.get_default_memory_pool()

    def peak_of(train):
        cupy.cuda.Device().synchronize()
        pool.free_all_blocks()
        before = pool.used_bytes()
        AL, caches = forward(X, params, activations)
        train(AL, caches)
        cupy.cuda.Device().synchronize()
        return pool.total_bytes() - before

    fused = peak_of(lambda AL, caches: backward_and_update(AL, Y, caches, params, "softmax", SGD(),
                                                           1e-3))
    whole = peak_of(lambda AL, caches: SGD().step(params, backward(AL, Y, caches, False), 1e-3))
    weight_bytes = 2048 * 2048 * 4
    # The whole step holds dW2 and dW3 at once; the fused one forms no dW at all.
    assert whole - fused >= weight_bytes


class ScaledSGD(Optimizer):
    """An optimizer of a user's own, written as a rule: plain SGD, with lr halved."""

    def update(self, param, gradient, state, learning_rate):
        return gradient.add_into(param, -learning_rate / 2)


def test_a_rule_of_the_users_own_trains_as_the_same_steps_written_by_hand():
    X, Y = xpnet.datasets.make_moons(40, seed=0)
    trained = [xpnet.fit(X, Y, [2, 4, 1], epochs=2, batch_size=10, lr=lr, optimizer=optimizer,
                         verbose=0)[0] for optimizer, lr in ((ScaledSGD(), 1.0), (WholeGradientsOnly(), 0.5))]
    for key in trained[0]:
        np.testing.assert_array_equal(trained[0][key], trained[1][key])
    assert ScaledSGD().get_state() == ({}, {})  # a rule's state is saved by itself


def test_an_optimizer_with_neither_rule_nor_step_says_what_to_define():
    class Empty(Optimizer):
        pass

    params = {"W1": np.ones((1, 1)), "b1": np.zeros((1, 1))}
    grads = {"dW1": np.ones((1, 1)), "db1": np.ones((1, 1))}
    with pytest.raises(NotImplementedError, match=r"Empty must define update\(param, gradient"):
        Empty().step(params, grads, 0.1)
    with pytest.raises(NotImplementedError, match="get_state"):
        Empty().get_state()


@pytest.mark.parametrize("dtype, lr, weight_decay, folded", [
    ("float64", 0.1, 0.01, True),
    ("float32", 0.1, 0.01, True),      # 1 - 1e-3 is resolved to 6e-8 in float32: 0.006% off
    ("float32", 1e-4, 1e-4, False),    # 1 - 1e-8 rounds to 1 in float32: the decay would vanish
    ("float32", 1e-3, 0.0, True),      # no decay: nothing to resolve
])
def test_weight_decay_is_folded_into_the_product_only_where_the_dtype_resolves_it(
        monkeypatch, dtype, lr, weight_decay, folded):
    calls = []
    monkeypatch.setattr(gradients_module, "add_product_into",
                        lambda target, alpha, A, B, beta: calls.append((alpha, beta)) or True)
    W = np.ones((3, 2), dtype=dtype)
    gradient = WeightGradient(np.ones((3, 4), dtype=dtype), np.ones((2, 4), dtype=dtype), W,
                              weight_decay)
    assert gradient._folded(W, -lr, 1.0) is folded
    assert calls == ([(-lr, 1.0 - lr * weight_decay)] if folded else [])


def test_a_velocity_folds_only_a_gradient_without_weight_decay(monkeypatch):
    calls = []
    monkeypatch.setattr(gradients_module, "add_product_into",
                        lambda target, alpha, A, B, beta: calls.append((alpha, beta)) or True)
    v, W = np.zeros((3, 2)), np.ones((3, 2))
    assert WeightGradient(np.ones((3, 4)), np.ones((2, 4)), W)._folded(v, -0.1, 0.9)
    assert not WeightGradient(np.ones((3, 4)), np.ones((2, 4)), W, 0.01)._folded(v, -0.1, 0.9)
    assert calls == [(-0.1, 0.9)]


@pytest.mark.parametrize("optimizer, weight_sized_temporaries", [
    (SGD(), 1), (SGD(momentum=0.9), 1), (Adam(), 2), (RMSprop(), 2)])
def test_the_step_on_numpy_holds_no_more_weight_sized_temporaries_than_its_rule_needs(
        optimizer, weight_sized_temporaries):
    import tracemalloc

    dims, batch = [16, 512, 512, 4], 8  # one 2 MiB weight matrix; the activations are tiny
    params = xpnet.init_params(dims, scale="he", backend="numpy")
    rng = np.random.RandomState(0)
    X, Y = rng.randn(dims[0], batch), np.eye(dims[-1])[:, rng.randint(dims[-1], size=batch)]
    activations = layer_activations(3, "relu", "softmax")
    for _ in range(2):  # the second step: the optimizer's state exists already
        AL, caches = forward(X, params, activations)
        tracemalloc.start()
        backward_and_update(AL, Y, caches, params, "softmax", optimizer, 1e-3)
        peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
    weight_bytes = params["W2"].nbytes
    assert peak < (weight_sized_temporaries + 0.5) * weight_bytes, peak / weight_bytes
