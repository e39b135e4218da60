"""Optimizers and learning-rate schedules against their textbook formulas."""

import math

import numpy as np
import pytest

import xpnet
from xpnet import backend as backend_module
from xpnet.training.optimizers import get_optimizer
from xpnet.training.schedules import get_schedule


def run_steps(xp, optimizer, grads_sequence, lr=0.1):
    params = {"W1": xpnet.asarray(np.ones((2, 3)), xp), "b1": xpnet.asarray(np.zeros((2, 1)), xp)}
    for g in grads_sequence:
        grads = {"dW1": xpnet.asarray(g, xp), "db1": xpnet.asarray(g[:, :1], xp)}
        optimizer.step(params, grads, lr)
    return params


def reference_steps(kind, grads_sequence, lr=0.1, mu=0.9, b1=0.9, b2=0.999, eps=1e-8, rho=0.9):
    W, v, m, s = np.ones((2, 3)), np.zeros((2, 3)), np.zeros((2, 3)), np.zeros((2, 3))
    for t, g in enumerate(grads_sequence, start=1):
        if kind == "sgd":
            W = W - lr * g
        elif kind in ("momentum", "nesterov"):
            v = mu * v - lr * g
            W = W + (mu * v - lr * g if kind == "nesterov" else v)
        elif kind == "rmsprop":
            s = rho * s + (1 - rho) * g * g
            W = W - lr * g / (np.sqrt(s) + eps)
        else:
            m = b1 * m + (1 - b1) * g
            s = b2 * s + (1 - b2) * g * g
            W = W - lr * (m / (1 - b1 ** t)) / (np.sqrt(s / (1 - b2 ** t)) + eps)
    return W


GRADS = [np.random.RandomState(i).randn(2, 3) for i in range(4)]


@pytest.mark.parametrize("kind", ["sgd", "momentum", "nesterov", "adam", "rmsprop"])
def test_optimizer_steps_follow_the_textbook_formula(xp, kind):
    params = run_steps(xp, get_optimizer(kind), GRADS)
    # Adam folds its bias corrections into one step size: equal up to rounding (and epsilon's place).
    rtol = 1e-7 if kind == "adam" else 1e-14
    np.testing.assert_allclose(xpnet.to_numpy(params["W1"]), reference_steps(kind, GRADS), rtol=rtol)


@pytest.mark.parametrize("kind, slots", [("momentum", ["velocity"]), ("adam", ["m", "v"]),
                                         ("rmsprop", ["square_average"])])
def test_optimizer_state_lives_on_the_parameters_backend(xp, kind, slots):
    optimizer = get_optimizer(kind)
    run_steps(xp, optimizer, GRADS[:1])
    arrays, _ = optimizer.get_state()
    assert sorted(arrays) == sorted(f"{slot}/{key}" for slot in slots for key in ("W1", "b1"))
    assert all(backend_module.namespace_of(state=a) is xp for a in arrays.values())


@pytest.mark.parametrize("kind", ["momentum", "nesterov", "adam", "rmsprop"])
def test_an_optimizer_restored_from_its_state_continues_with_the_same_numbers(xp, kind):
    straight = get_optimizer(kind)
    expected = run_steps(xp, straight, GRADS)
    first, resumed = get_optimizer(kind), get_optimizer(kind)
    params = run_steps(xp, first, GRADS[:2])
    arrays, values = first.get_state()
    resumed.set_state({name: xp.asarray(a, copy=True) for name, a in arrays.items()}, values)
    for g in GRADS[2:]:
        resumed.step(params, {"dW1": xpnet.asarray(g, xp), "db1": xpnet.asarray(g[:, :1], xp)}, 0.1)
    for key in expected:
        np.testing.assert_array_equal(xpnet.to_numpy(params[key]), xpnet.to_numpy(expected[key]))


def test_a_saved_state_that_lacks_a_slot_or_holds_a_stranger_is_refused():
    adam = xpnet.Adam()
    with pytest.raises(ValueError, match=r"state of \['W1'\] lacks some of \['m', 'v'\]"):
        adam.set_state({"m/W1": np.zeros((2, 2))}, {"t": 1})
    with pytest.raises(ValueError, match="entries this optimizer does not keep: \\['velocity/W1'\\]"):
        adam.set_state({"velocity/W1": np.zeros((2, 2))}, {"t": 1})
    with pytest.raises(ValueError, match="does not keep: \\['t'\\]"):
        xpnet.RMSprop().set_state({}, {"t": 1})


def test_optimizers_keep_float32(xp):
    params = {"W1": xpnet.asarray(np.ones((2, 2)), xp, "float32"),
              "b1": xpnet.asarray(np.zeros((2, 1)), xp, "float32")}
    grads = {"dW1": xpnet.asarray(np.ones((2, 2)), xp, "float32"),
             "db1": xpnet.asarray(np.ones((2, 1)), xp, "float32")}
    for kind in ("sgd", "nesterov", "adam", "rmsprop"):
        get_optimizer(kind).step(params, grads, 0.1)
    assert params["W1"].dtype == xp.float32 and params["b1"].dtype == xp.float32


@pytest.mark.parametrize("make, message", [
    (lambda: xpnet.SGD(momentum=1.0), "momentum must be a number in"),
    (lambda: xpnet.SGD(nesterov=True), "nesterov=True needs momentum > 0"),
    (lambda: xpnet.Adam(beta2=1.5), "beta2 must be a number in"),
    (lambda: xpnet.Adam(epsilon=0), "epsilon must be a finite number > 0"),
    (lambda: xpnet.RMSprop(rho=1.0), "rho must be a number in"),
    (lambda: get_optimizer("lion"), "unknown optimizer 'lion'; valid names are sgd, momentum, "
                                    "nesterov, adam, rmsprop"),
])
def test_bad_optimizer_settings_are_refused(make, message):
    with pytest.raises(ValueError, match=message):
        make()


@pytest.mark.parametrize("schedule, expected", [
    ("constant", [0.1, 0.1, 0.1, 0.1]),
    (xpnet.StepDecay(step_size=2, gamma=0.5), [0.1, 0.1, 0.05, 0.05]),
    (xpnet.ExponentialDecay(gamma=0.5), [0.1, 0.05, 0.025, 0.0125]),
    (xpnet.InverseScaling(power_t=1.0), [0.1, 0.05, 0.1 / 3, 0.025]),
])
def test_schedules_give_the_documented_learning_rates(schedule, expected):
    rates = [get_schedule(schedule)(0.1, epoch) for epoch in range(4)]
    assert rates == pytest.approx(expected, rel=1e-15)


def test_unknown_schedule_lists_the_valid_names():
    with pytest.raises(ValueError, match="unknown schedule 'cosine'; valid names are constant, step, "
                                         "exponential, inverse_scaling"):
        get_schedule("cosine")


def test_schedule_settings_are_checked():
    with pytest.raises(ValueError, match="gamma must be a finite number > 0"):
        xpnet.ExponentialDecay(gamma=-1)
    with pytest.raises(ValueError, match="step_size must be an int >= 1"):
        xpnet.StepDecay(step_size=0)
    assert math.isfinite(xpnet.InverseScaling()(0.1, 10**6))


