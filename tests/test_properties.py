"""Properties that hold for any input, checked with hypothesis."""

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

import xpnet
from xpnet.activations import ACTIVATIONS

# The xp fixture is a namespace module: sharing it across examples is safe.
SHARED_FIXTURE = [HealthCheck.function_scoped_fixture]
finite_logits = arrays(np.float64, st.tuples(st.integers(1, 6), st.integers(1, 6)),
                       elements=st.floats(-1e4, 1e4, allow_nan=False))


@settings(max_examples=60, deadline=None, suppress_health_check=SHARED_FIXTURE)
@given(Z=finite_logits)
def test_softmax_columns_are_finite_probabilities_summing_to_one(xp, Z):
    A = xpnet.to_numpy(ACTIVATIONS["softmax"].forward(xpnet.asarray(Z, xp)))
    assert np.all(np.isfinite(A)) and np.all(A >= 0)
    np.testing.assert_allclose(A.sum(axis=0), 1.0, rtol=1e-12)


@settings(max_examples=60, deadline=None, suppress_health_check=SHARED_FIXTURE)
@given(Z=finite_logits, labels=st.integers(0, 2**32 - 1))
def test_cost_is_finite_for_any_finite_logits(xp, Z, labels):
    Y = (np.random.RandomState(labels).rand(*Z.shape) > 0.5).astype(np.float64)
    AL = ACTIVATIONS["sigmoid"].forward(xpnet.asarray(Z, xp))
    assert np.isfinite(float(xpnet.cost_function(AL, xpnet.asarray(Y, xp))))


@settings(max_examples=25, deadline=None, suppress_health_check=SHARED_FIXTURE)
@given(seed=st.integers(0, 2**32 - 1), m=st.integers(2, 12))
def test_predictions_follow_a_permutation_of_the_samples(xp, seed, m):
    rng = np.random.RandomState(seed)
    params = xpnet.init_params([3, 4, 2], seed=seed % 1000, scale=1.0, backend=xp)
    X = rng.randn(3, m)
    order = rng.permutation(m)
    AL, _ = xpnet.forward_prop(xpnet.asarray(X, xp), params, hidden="tanh")
    AL_permuted, _ = xpnet.forward_prop(xpnet.asarray(X[:, order], xp), params, hidden="tanh")
    np.testing.assert_allclose(xpnet.to_numpy(AL)[:, order], xpnet.to_numpy(AL_permuted), rtol=1e-13)
