"""Properties that hold for any input, checked with hypothesis.

Arrays are drawn on the backend under test by hypothesis's array-API strategies
(``hypothesis.extra.array_api``), so the values are those that backend's own arrays
hold; a backend whose namespace hypothesis cannot use gets NumPy-drawn arrays
converted with ``xpnet.asarray`` (see :func:`float_arrays`).
"""

import functools
import math
import warnings

import numpy as np
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from hypothesis.errors import HypothesisWarning
from hypothesis.extra.array_api import make_strategies_namespace
from hypothesis.extra.numpy import arrays as numpy_arrays

import xpnet
from xpnet import backend as backend_module
from xpnet.activations import ACTIVATIONS
from xpnet.backend import array_namespace

from conftest import CPU_BACKENDS, load_backend

# The xp fixture is a namespace module: sharing it across examples is safe.
SHARED_FIXTURE = [HealthCheck.function_scoped_fixture]
ACTIVATION_NAMES = sorted(ACTIVATIONS)
HIDDEN_NAMES = sorted(name for name, kind in ACTIVATIONS.items() if kind.hidden_layer)
KINKED = {"relu", "leaky_relu"}  # not differentiable at Z = 0
BOUNDED_OUTPUTS = {"sigmoid", "softmax", "tanh"}

FLOAT64_MAX = float(np.finfo(np.float64).max)
# Any finite float64, with the two extremes drawn often: logits that span the whole range.
FINITE_LOGITS = (st.floats(allow_nan=False, allow_infinity=False)
                 | st.sampled_from([-FLOAT64_MAX, FLOAT64_MAX]))
# Largest |value| of an unbounded output (and its targets) whose squared error is still
# representable in float64: (2e150)**2 summed over a few dozen entries stays below 1.8e308.
SQUARABLE = 1e150
SAMPLES = st.floats(-2, 2)
WEIGHTS = st.floats(-1, 1)  # widths <= 5: pre-activations stay O(1), gradients do not vanish

GRADIENT_TOLERANCE = 1e-6
# A pre-activation of relu/leaky_relu this close to 0 could cross the kink when a
# finite difference moves a parameter by xpnet.gradcheck.STEP, 6e-6 (times at most a few
# weights on the way).
KINK_MARGIN = 1e-3
# Each cost evaluation rounds at about eps * (1 + |cost|): divided by the step 6e-6,
# ~2e-11 * (1 + |cost|) per entry. A network whose gradients are all too small for their
# relative error to rise above that noise is judged by its absolute error, against 50
# times the noise.
NOISE_FLOOR = 1e-9
PERMUTATION_RTOL = 1e-12


@functools.cache
def _array_api_strategies(xp):
    """hypothesis's strategies for ``xp``, or None where hypothesis cannot use it."""
    # PyTorch's tensors have no __array_namespace__ method (array-api-compat supplies
    # the namespace from outside), so hypothesis cannot check that the wrapped namespace
    # is an array-API library and warns; its tensors are drawn with NumPy instead.
    with warnings.catch_warnings():
        warnings.simplefilter("error", HypothesisWarning)
        try:
            return make_strategies_namespace(xp)
        except HypothesisWarning:
            return None


def float_arrays(xp, shape, elements, dtype="float64"):
    """Arrays of ``dtype`` and ``shape`` on ``xp``'s backend, drawn by hypothesis."""
    xps = _array_api_strategies(xp)
    if xps is None:
        return numpy_arrays(np.dtype(dtype), shape, elements=elements).map(
            lambda a: xpnet.asarray(a, xp))
    return xps.arrays(getattr(xp, dtype), shape, elements=elements)


def targets(xp, output, n_out, m, bound=1.0):
    """Valid targets for the loss of ``output``: 0/1, one-hot columns, or any values in [-bound, bound]."""
    if output == "sigmoid":
        return float_arrays(xp, (n_out, m), st.sampled_from([0.0, 1.0]))
    if output == "softmax":
        classes = st.lists(st.integers(0, n_out - 1), min_size=m, max_size=m)
        return classes.map(lambda c: xpnet.asarray(np.eye(n_out)[:, c], xp))
    return float_arrays(xp, (n_out, m), st.floats(-bound, bound))


layer_sizes = st.lists(st.integers(1, 5), min_size=3, max_size=5)  # 2 to 4 layers


@st.composite
def networks(draw, xp, max_samples=6):
    """``(hidden, output, X, Y, params)``: a float64 network and data for it on ``xp``."""
    dims = draw(layer_sizes, label="layer_dims")
    hidden = draw(st.sampled_from(ACTIVATION_NAMES), label="hidden")
    output = draw(st.sampled_from(ACTIVATION_NAMES), label="output")
    m = draw(st.integers(1, max_samples), label="samples")
    X = draw(float_arrays(xp, (dims[0], m), SAMPLES), label="X")
    Y = draw(targets(xp, output, dims[-1], m), label="Y")
    params = {}
    for l in range(1, len(dims)):
        params[f"W{l}"] = draw(float_arrays(xp, (dims[l], dims[l - 1]), WEIGHTS), label=f"W{l}")
        params[f"b{l}"] = draw(float_arrays(xp, (dims[l], 1), WEIGHTS), label=f"b{l}")
    return hidden, output, X, Y, params


def host(params):
    """Private NumPy copies (to_numpy shares NumPy's memory, and updates are in place)."""
    return {key: np.array(xpnet.to_numpy(value), copy=True) for key, value in params.items()}


def assume_differentiable(caches):
    """Reject points where the cost is not smooth enough for central differences."""
    for cache in caches:
        if cache.activation in KINKED:
            Z = xpnet.to_numpy(cache.W) @ xpnet.to_numpy(cache.A_prev) + xpnet.to_numpy(cache.b)
            assume(np.all(np.abs(Z) > KINK_MARGIN))
    AL, output = xpnet.to_numpy(caches[-1].A), caches[-1].activation
    if output == "sigmoid":
        # log1p(-AL) of an AL within 1e-4 of 1 keeps only eps / (1 - AL) of absolute precision,
        # too little for a difference over a 1e-5 step; further out the cost is also clipped.
        assume(np.all(np.minimum(AL, 1 - AL) > 1e-4))
    if output == "softmax":
        assume(np.all(AL > 1e-12))  # probabilities below eps are clipped: the cost is flat there


def magnitude(*arrays):
    """The largest absolute value among ``arrays``."""
    return max(float(np.max(np.abs(xpnet.to_numpy(a)), initial=0.0)) for a in arrays)


def assert_close(actual, expected, scale):
    """Equal up to float rounding, ``PERMUTATION_RTOL`` of each value or of ``scale``.

    ``scale`` is the largest magnitude the computation went through: an entry that
    cancels to near 0 keeps the rounding of its terms, not of its value.
    """
    np.testing.assert_allclose(xpnet.to_numpy(actual), xpnet.to_numpy(expected),
                               rtol=PERMUTATION_RTOL, atol=PERMUTATION_RTOL * scale)


# 1. Gradients


@settings(max_examples=25, deadline=None, suppress_health_check=SHARED_FIXTURE)
@given(data=st.data())
def test_backprop_matches_finite_differences_for_random_networks(xp, data):
    hidden, output, X, Y, params = data.draw(networks(xp))
    AL, caches = xpnet.forward_prop(X, params, hidden=hidden, output=output)
    assume_differentiable(caches)
    cost = float(xpnet.cost_function(AL, Y, output=output))
    report = xpnet.gradient_check(params, X, Y, hidden=hidden, output=output, tol=GRADIENT_TOLERANCE)
    noise_floor = NOISE_FLOOR * (1 + abs(cost))
    assert all(e.relative_error < GRADIENT_TOLERANCE or e.max_abs_error < noise_floor
               for e in report.errors), str(report)


# 2. Softmax and costs stay finite


@settings(max_examples=50, deadline=None, suppress_health_check=SHARED_FIXTURE)
@given(data=st.data(), shape=st.tuples(st.integers(1, 6), st.integers(1, 6)))
def test_softmax_columns_are_finite_probabilities_summing_to_one(xp, data, shape):
    Z = data.draw(float_arrays(xp, shape, FINITE_LOGITS), label="Z")
    A = xpnet.to_numpy(ACTIVATIONS["softmax"].forward(Z))
    assert np.all(np.isfinite(A)) and np.all(A >= 0)
    np.testing.assert_allclose(A.sum(axis=0), 1.0, rtol=1e-12)


@settings(max_examples=50, deadline=None, suppress_health_check=SHARED_FIXTURE)
@given(data=st.data(), output=st.sampled_from(ACTIVATION_NAMES),
       shape=st.tuples(st.integers(1, 6), st.integers(1, 6)))
def test_cost_is_finite_for_any_finite_logits_and_valid_targets(xp, data, output, shape):
    # Outputs without a bound give any value back, and a squared error overflows like
    # the square it is: their logits and targets stay where the square is representable.
    bound = None if output in BOUNDED_OUTPUTS else SQUARABLE
    Z = data.draw(float_arrays(xp, shape, st.floats(-bound, bound) if bound else FINITE_LOGITS),
                  label="Z")
    Y = data.draw(targets(xp, output, *shape, bound=SQUARABLE), label="Y")
    cost = float(xpnet.cost_function(ACTIVATIONS[output].forward(Z), Y, output=output))
    assert math.isfinite(cost) and cost >= 0


# 3. Sample order


@settings(max_examples=25, deadline=None, suppress_health_check=SHARED_FIXTURE)
@given(data=st.data())
def test_outputs_cost_and_gradients_follow_a_permutation_of_the_samples(xp, data):
    hidden, output, X, Y, params = data.draw(networks(xp, max_samples=8))
    m = X.shape[1]
    order = data.draw(st.permutations(range(m)), label="order")
    indices = xpnet.asarray(np.asarray(order, dtype=np.int64), xp)
    AL, caches = xpnet.forward_prop(X, params, hidden=hidden, output=output)
    grads = xpnet.backprop(AL, Y, caches)
    scale = magnitude(X, *params.values(), *(cache.A for cache in caches), *grads.values())
    X_p, Y_p = xp.take(X, indices, axis=1), xp.take(Y, indices, axis=1)
    AL_p, caches_p = xpnet.forward_prop(X_p, params, hidden=hidden, output=output)
    grads_p = xpnet.backprop(AL_p, Y_p, caches_p)
    assert_close(AL_p, xpnet.to_numpy(AL)[:, order], scale)
    assert_close(xpnet.cost_function(AL_p, Y_p, output=output),
                 xpnet.cost_function(AL, Y, output=output), scale)
    assert sorted(grads_p) == sorted(grads)
    for key, value in grads.items():
        # dA{l} holds one column per sample; dW{l} and db{l} sum over the samples.
        expected = xpnet.to_numpy(value)[:, order] if key.startswith("dA") else value
        assert_close(grads_p[key], expected, scale)


# 4. Reproducible training


@pytest.fixture(params=CPU_BACKENDS)
def cpu_xp(request):
    """The CPU backends, where the same seed must give the same bits."""
    return load_backend(request.param)


@settings(max_examples=8, deadline=None, suppress_health_check=SHARED_FIXTURE)
@given(data=st.data(), seed=st.integers(0, 2**32 - 1), epochs=st.integers(1, 3))
def test_fit_twice_with_the_same_seed_gives_bit_identical_params(cpu_xp, data, seed, epochs):
    xp = cpu_xp
    dims = data.draw(layer_sizes, label="layer_dims")
    hidden = data.draw(st.sampled_from(HIDDEN_NAMES), label="hidden")  # what fit trains
    output = data.draw(st.sampled_from(ACTIVATION_NAMES), label="output")
    assume(output != "softmax" or dims[-1] >= 2)  # fit refuses a softmax of one unit
    m = data.draw(st.integers(2, 10), label="samples")
    batch_size = data.draw(st.integers(1, m - 1), label="batch_size")  # several shuffled batches
    X = data.draw(float_arrays(xp, (dims[0], m), SAMPLES), label="X")
    Y = data.draw(targets(xp, output, dims[-1], m), label="Y")
    runs = [xpnet.fit(X, Y, dims, epochs=epochs, lr=0.01, batch_size=batch_size, shuffle=True,
                      optimizer="adam", hidden=hidden, output=output, seed=seed, scale="xavier",
                      verbose=0)
            for _ in range(2)]
    (params, history), (params_again, history_again) = runs
    assert params is not params_again
    for key in params:
        assert np.array_equal(xpnet.to_numpy(params_again[key]), xpnet.to_numpy(params[key]))
    assert history_again.loss == history.loss


# 5. Parameters


@settings(max_examples=30, deadline=None, suppress_health_check=SHARED_FIXTURE)
@given(data=st.data(), dims=st.lists(st.integers(1, 6), min_size=2, max_size=5),
       dtype=st.sampled_from(["float32", "float64"]))
def test_update_parameters_with_zero_gradients_leaves_params_unchanged(xp, data, dims, dtype):
    # Any learning rate the parameters' dtype can hold (a larger one is infinite there).
    learning_rate = data.draw(st.floats(min_value=0, exclude_min=True, allow_infinity=False,
                                        width=32 if dtype == "float32" else 64), label="learning_rate")
    params = {}
    for l in range(1, len(dims)):
        # Any values, NaN and infinities included: a zero step changes none of them.
        params[f"W{l}"] = data.draw(float_arrays(xp, (dims[l], dims[l - 1]), {}, dtype), label=f"W{l}")
        params[f"b{l}"] = data.draw(float_arrays(xp, (dims[l], 1), {}, dtype), label=f"b{l}")
    before = host(params)
    grads = {f"d{key}": xp.zeros_like(value) for key, value in params.items()}
    assert xpnet.update_parameters(params, grads, learning_rate) is params
    assert sorted(params) == sorted(before)
    for key, value in params.items():
        assert value.dtype == getattr(xp, dtype)
        found, expected = xpnet.to_numpy(value), before[key]
        if backend_module.namespace_of(p=value).__name__.endswith("cupy") and dtype == "float32":
            # CUDA may flush float32 subnormals to zero in arithmetic: 1e-45 - 1.0 * 0 is 0 there.
            subnormal = np.abs(expected) < np.finfo(np.float32).tiny
            found = np.where(subnormal & (found == 0), expected, found)
        assert np.array_equal(found, expected, equal_nan=True)


@settings(max_examples=30, deadline=None, suppress_health_check=SHARED_FIXTURE)
@given(dims=st.lists(st.integers(1, 16), min_size=2, max_size=6), seed=st.integers(0, 2**32 - 1),
       scale=st.one_of(st.sampled_from(["he", "xavier"]), st.floats(1e-3, 10)))
def test_init_params_shapes_match_layer_dims(xp, dims, seed, scale):
    params = xpnet.init_params(dims, seed=seed, scale=scale, backend=xp)
    assert sorted(params) == sorted(f"{name}{l}" for l in range(1, len(dims)) for name in "Wb")
    for l in range(1, len(dims)):
        W, b = params[f"W{l}"], params[f"b{l}"]
        assert tuple(W.shape) == (dims[l], dims[l - 1]) and tuple(b.shape) == (dims[l], 1)
        assert array_namespace(W, b) is xp and W.dtype == b.dtype == xp.float64
        assert np.all(np.isfinite(xpnet.to_numpy(W))) and not np.any(xpnet.to_numpy(b))
