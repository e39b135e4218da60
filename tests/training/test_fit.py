"""fit: mini-batches, validation, early stopping, callbacks, divergence and the progress bar."""

import numpy as np
import pytest

import xpnet
from xpnet import backend as backend_module
from xpnet.datasets import make_moons
from xpnet.seeding import host_rng

from conftest import load_backend

X_MOONS, Y_MOONS = make_moons(120, noise=0.15, seed=0)


def hand_written_minibatch_sgd(X, Y, layer_dims, epochs, lr, batch_size, seed, **net):
    """The loop fit promises, written with the public step functions."""
    params = xpnet.init_params(layer_dims, seed=seed, scale="xavier")
    rng = host_rng(seed)
    m = X.shape[1]
    for _ in range(epochs):
        order = rng.permutation(m)
        for start in range(0, m, batch_size):
            idx = order[start:start + batch_size]
            AL, caches = xpnet.forward_prop(X[:, idx], params, **net)
            xpnet.update_parameters(params, xpnet.backprop(AL, Y[:, idx], caches), lr)
    return params


def test_minibatch_fit_equals_the_hand_written_loop_with_a_ragged_last_batch():
    net = dict(hidden="tanh", output="sigmoid")
    expected = hand_written_minibatch_sgd(X_MOONS, Y_MOONS, [2, 6, 1], 3, 0.5, 50, seed=4, **net)
    params, history = xpnet.fit(X_MOONS, Y_MOONS, [2, 6, 1], epochs=3, lr=0.5, batch_size=50,
                                seed=4, scale="xavier", verbose=0, **net)
    for key in expected:
        np.testing.assert_allclose(params[key], expected[key], rtol=1e-13)
    assert history.epochs == 3 and history.stop_reason == "completed"


def test_train_is_fit_with_the_full_batch():
    params, costs = xpnet.train(X_MOONS, Y_MOONS, [2, 4, 1], 20, 0.3)
    reference = xpnet.init_params([2, 4, 1])
    manual = []
    for _ in range(20):
        AL, caches = xpnet.forward_prop(X_MOONS, reference)
        manual.append(float(xpnet.cost_function(AL, Y_MOONS)))
        xpnet.update_parameters(reference, xpnet.backprop(AL, Y_MOONS, caches), 0.3)
    assert costs == manual
    np.testing.assert_array_equal(params["W1"], reference["W1"])


@pytest.mark.parametrize("optimizer", ["sgd", "nesterov", "adam"])
def test_fit_gives_the_same_history_on_every_backend(xp, optimizer):
    options = dict(epochs=4, lr=0.05, batch_size=32, optimizer=optimizer, hidden="relu",
                   scale="he", seed=2, validation_split=0.25, weight_decay=1e-3,
                   schedule="exponential", verbose=0)
    _, reference = xpnet.fit(X_MOONS, Y_MOONS, [2, 8, 1], backend="numpy", **options)
    params, history = xpnet.fit(X_MOONS, Y_MOONS, [2, 8, 1], backend=xp, **options)
    assert backend_module.namespace_of(W1=params["W1"]) is xp
    for name in ("loss", "accuracy", "val_loss", "val_accuracy", "lr"):
        np.testing.assert_allclose(getattr(history, name), getattr(reference, name), rtol=1e-12)


def test_every_optimizer_learns_the_moons():
    for optimizer, lr in [("sgd", 0.5), ("momentum", 0.1), ("nesterov", 0.1), ("adam", 0.01)]:
        params, history = xpnet.fit(X_MOONS, Y_MOONS, [2, 16, 1], epochs=60, lr=lr, batch_size=16,
                                    optimizer=optimizer, hidden="tanh", scale="xavier", verbose=0)
        assert history.accuracy[-1] > 0.85, optimizer
        assert history.loss[-1] < 0.5 * history.loss[0], optimizer


def test_weight_decay_adds_the_l2_gradient_to_weights_only():
    lr, wd = 0.1, 0.5
    start = xpnet.init_params([2, 1], scale=1.0)
    AL, caches = xpnet.forward_prop(X_MOONS, start)
    grads = xpnet.backprop(AL, Y_MOONS, caches)
    params, _ = xpnet.fit(X_MOONS, Y_MOONS, [2, 1], epochs=1, lr=lr, weight_decay=wd, scale=1.0,
                          verbose=0)
    np.testing.assert_allclose(params["W1"], start["W1"] - lr * (grads["dW1"] + wd * start["W1"]))
    np.testing.assert_allclose(params["b1"], start["b1"] - lr * grads["db1"])


def test_validation_data_is_scored_every_epoch():
    X_val, Y_val = make_moons(40, seed=9)
    _, history = xpnet.fit(X_MOONS, Y_MOONS, [2, 8, 1], epochs=5, lr=0.5, hidden="tanh",
                           validation_data=(X_val, Y_val), verbose=0)
    assert len(history.val_loss) == len(history.val_accuracy) == 5
    assert all(0 <= a <= 1 for a in history.val_accuracy)


def test_bad_validation_data_names_the_argument():
    with pytest.raises(ValueError, match=r"validation_data\[0\] has 3 rows"):
        xpnet.fit(X_MOONS, Y_MOONS, [2, 1], epochs=1, validation_data=(np.zeros((3, 5)), np.zeros((1, 5))),
                  verbose=0)
    with pytest.raises(ValueError, match="either validation_data or validation_split"):
        xpnet.fit(X_MOONS, Y_MOONS, [2, 1], epochs=1, validation_data=(X_MOONS, Y_MOONS),
                  validation_split=0.2, verbose=0)
    with pytest.raises(ValueError, match=r"validation_split must be a number in \(0, 1\)"):
        xpnet.fit(X_MOONS, Y_MOONS, [2, 1], epochs=1, validation_split=1.5, verbose=0)


def test_early_stopping_restores_the_best_weights():
    # Validation labels are the training labels flipped: the better the fit, the worse val_loss.
    snapshots = []
    params, history = xpnet.fit(
        X_MOONS, Y_MOONS, [2, 8, 1], epochs=100, lr=0.5, hidden="tanh", scale="xavier",
        validation_data=(X_MOONS, 1 - Y_MOONS), early_stopping=3, verbose=0,
        callbacks=[lambda epoch, logs, p: snapshots.append(p["W1"].copy())])
    assert history.stop_reason == "early_stopping"
    best = int(np.argmin(history.val_loss))
    assert history.best_epoch == best and history.epochs == best + 5
    np.testing.assert_array_equal(params["W1"], snapshots[best])


def test_weights_kept_to_fall_back_on_stay_off_the_device_and_come_back_to_it(xp):
    # Early stopping's best weights are host (NumPy) copies, so they take no device memory;
    # the weights fit hands back are the backend's arrays again, with the best values.
    seen = []
    params, history = xpnet.fit(
        X_MOONS, Y_MOONS, [2, 8, 1], epochs=100, lr=0.5, hidden="tanh", scale="xavier",
        validation_data=(X_MOONS, 1 - Y_MOONS), early_stopping=3, backend=xp, verbose=0,
        callbacks=[lambda epoch, logs, p: seen.append(backend_module.to_numpy(p["W1"]).copy())])
    assert history.stop_reason == "early_stopping"
    assert all(backend_module.namespace_of(W=p) is xp for p in params.values())
    np.testing.assert_array_equal(backend_module.to_numpy(params["W1"]), seen[history.best_epoch])
    stopper = xpnet.training.EarlyStopping(1, "loss")
    stopper.should_stop(0, {"loss": 1.0}, params)
    assert all(type(a) is np.ndarray for a in stopper.best_params.values())
    params["W1"] = params["W1"] * 0  # a later change to the network does not reach the copy
    assert np.any(stopper.best_params["W1"] != 0)


def test_a_callback_can_stop_training():
    seen = []

    def stop_at_epoch_two(epoch, logs, params):
        seen.append((epoch, sorted(logs)))
        return epoch == 2

    _, history = xpnet.fit(X_MOONS, Y_MOONS, [2, 3, 1], epochs=10, callbacks=[stop_at_epoch_two],
                           verbose=0)
    assert history.stop_reason == "callback" and history.epochs == 3
    assert seen[0] == (0, ["accuracy", "loss", "lr"])


@pytest.mark.filterwarnings("ignore::RuntimeWarning")  # NumPy reports the overflow it is fed
def test_divergence_raises_and_keeps_the_last_good_weights(xp):
    X = np.random.RandomState(0).randn(3, 50) * 10
    Y = X.sum(axis=0, keepdims=True)
    ends = []  # the weights at the end of each good epoch, on the host
    with pytest.raises(xpnet.TrainingDivergedError, match="training diverged at epoch .*lower the "
                                                          "learning rate") as caught:
        xpnet.fit(X, Y, [3, 16, 1], epochs=200, lr=0.02, hidden="relu", output="identity",
                  scale="he", backend=xp, verbose=0, callbacks=[lambda e, logs, p: ends.append(
                      {k: xpnet.to_numpy(v).copy() for k, v in p.items()})])
    error = caught.value
    assert error.history.stop_reason == "non_finite_loss" and error.history.epochs == len(ends)
    assert len(ends) >= 2, "the example must diverge after a few good epochs"
    # The bad epoch's loss is not finite, so the weights are those from the start of the
    # epoch before it: the end of the epoch before that.
    for key, value in error.params.items():
        assert backend_module.namespace_of(p=value) is xp
        np.testing.assert_array_equal(xpnet.to_numpy(value), ends[-2][key], err_msg=key)
    AL, _ = xpnet.forward_prop(xpnet.asarray(X, xp), error.params, hidden="relu",
                               output="identity")
    assert np.isfinite(float(xpnet.cost_function(AL, xpnet.asarray(Y, xp), output="identity")))


@pytest.mark.filterwarnings("ignore::RuntimeWarning")
@pytest.mark.filterwarnings("ignore::RuntimeWarning")
def test_without_restore_on_nan_no_weights_are_copied_and_none_restored(monkeypatch):
    from xpnet.training.snapshots import WeightSnapshots

    copies = []
    monkeypatch.setattr(WeightSnapshots, "take", lambda self, params: copies.append(1) or dict(params))
    X = np.random.RandomState(0).randn(3, 50) * 10
    with pytest.raises(xpnet.TrainingDivergedError, match="left as they were when it was found "
                                                          r"\(restore_on_nan=False\)") as caught:
        xpnet.fit(X, X.sum(axis=0, keepdims=True), [3, 16, 1], epochs=200, lr=0.02,
                  hidden="relu", output="identity", scale="he", restore_on_nan=False, verbose=0)
    assert copies == []
    assert not all(np.all(np.isfinite(v)) and np.abs(v).max() < 1e150
                   for v in caught.value.params.values())
    with pytest.raises(TypeError, match="restore_on_nan must be True or False"):
        xpnet.fit(X_MOONS, Y_MOONS, [2, 1], epochs=1, restore_on_nan="no", verbose=0)


@pytest.mark.filterwarnings("ignore::RuntimeWarning")
@pytest.mark.parametrize("sign", [1.0, -1.0], ids=["positive", "negative"])
def test_a_weight_past_the_safe_size_is_caught_whichever_its_sign(sign):
    # Finite, but its products can overflow: past sqrt(largest float) on either side the
    # epoch's check stops the run, even where the clipped loss stays finite.
    params = xpnet.init_params([2, 3, 1], seed=0)
    params["W1"][0, 0] = sign * 1e160
    with pytest.raises(xpnet.TrainingDivergedError, match="weights grew too large"):
        xpnet.fit(X_MOONS, Y_MOONS, [2, 3, 1], epochs=2, lr=1e-300, params=params, verbose=0)


def test_early_stopping_resumed_from_a_checkpoint_keeps_its_best_weights_on_the_host():
    stopper = xpnet.training.EarlyStopping(2, "loss")
    strict = load_backend("array_api_strict")
    stopper.set_state({"best": 0.5, "best_epoch": 1, "waited": 0},
                      {"W1": xpnet.asarray(np.ones((2, 2)), strict)})
    assert type(stopper.best_params["W1"]) is np.ndarray


def test_divergence_can_stop_quietly():
    X = np.random.RandomState(0).randn(3, 50) * 10
    params, history = xpnet.fit(X, X.sum(axis=0, keepdims=True), [3, 16, 1], epochs=200, lr=5.0,
                                hidden="relu", output="identity", scale="he", on_nan="stop", verbose=0)
    assert history.stop_reason == "non_finite_loss"
    assert all(np.all(np.isfinite(v)) for v in params.values())


def test_fit_continues_from_given_params():
    params, first = xpnet.fit(X_MOONS, Y_MOONS, [2, 8, 1], epochs=5, lr=0.5, hidden="tanh", verbose=0)
    same, second = xpnet.fit(X_MOONS, Y_MOONS, [2, 8, 1], epochs=5, lr=0.5, hidden="tanh",
                             params=params, verbose=0)
    assert same is params and second.loss[0] < first.loss[0]
    with pytest.raises(ValueError, match=r"params were built for layer_dims \[2, 8, 1\], not \[2, 4, 1\]"):
        xpnet.fit(X_MOONS, Y_MOONS, [2, 4, 1], epochs=1, params=params, verbose=0)


@pytest.mark.parametrize("option, message", [
    (dict(batch_size=0), "batch_size must be an int >= 1 or None"),
    (dict(weight_decay=-1.0), "weight_decay must be a finite number >= 0"),
    (dict(early_stopping=-2), "early_stopping .* must be an int >= 0"),
    (dict(on_nan="ignore"), "on_nan must be 'raise' or 'stop'"),
    (dict(verbose=5), "verbose must be 0"),
    (dict(optimizer="lbfgs"), "unknown optimizer 'lbfgs'"),
])
def test_fit_rejects_bad_options(option, message):
    with pytest.raises(ValueError, match=message):
        xpnet.fit(X_MOONS, Y_MOONS, [2, 1], epochs=1, **option)


def test_a_non_callable_callback_is_refused():
    with pytest.raises(TypeError, match=r"callbacks\[0\] must be callable"):
        xpnet.fit(X_MOONS, Y_MOONS, [2, 1], epochs=1, callbacks=["print"], verbose=0)


def test_batch_size_larger_than_the_data_is_the_full_batch():
    _, big = xpnet.fit(X_MOONS, Y_MOONS, [2, 3, 1], epochs=3, batch_size=10_000, verbose=0)
    _, full = xpnet.fit(X_MOONS, Y_MOONS, [2, 3, 1], epochs=3, verbose=0)
    assert big.loss == full.loss


def test_progress_bar_shows_epochs_and_metrics_when_asked(capsys):
    xpnet.fit(X_MOONS, Y_MOONS, [2, 3, 1], epochs=3, verbose=2)
    err = capsys.readouterr().err
    assert "3/3" in err and "loss=" in err and "accuracy=" in err


def test_progress_bar_is_off_when_stderr_is_not_a_terminal(capsys):
    xpnet.fit(X_MOONS, Y_MOONS, [2, 3, 1], epochs=3, verbose=1)
    assert capsys.readouterr().err == ""


def test_float32_training_stays_float32_on_every_backend(xp):
    params, history = xpnet.fit(X_MOONS.astype(np.float32), Y_MOONS, [2, 4, 1], epochs=2,
                                batch_size=40, optimizer="adam", validation_split=0.2,
                                backend=xp, verbose=0)
    assert all(p.dtype == xp.float32 for p in params.values())
    assert all(isinstance(v, float) for v in history.loss + history.val_loss)


def test_regression_history_has_no_accuracy():
    X = np.random.RandomState(0).randn(2, 30)
    _, history = xpnet.fit(X, X[:1] * 2, [2, 1], epochs=2, output="identity", verbose=0)
    assert history.accuracy == [] and len(history.loss) == 2


def test_fit_refuses_x_and_params_on_different_backends():
    strict = load_backend("array_api_strict")
    params = xpnet.init_params([2, 1], backend=strict)
    with pytest.raises(TypeError, match="X on numpy but W1, b1 on array_api_strict"):
        xpnet.fit(X_MOONS, Y_MOONS, [2, 1], epochs=1, params=params, backend="numpy", verbose=0)


def test_an_epoch_reads_back_once_and_uploads_only_its_sample_order(monkeypatch):
    # array-api-strict arrays reach the host only through these methods: count every call
    # made while an epoch runs, wherever in xpnet it comes from (float(), bool(), np.asarray).
    strict = load_backend("array_api_strict")
    from array_api_strict._array_object import Array
    from xpnet.training import epoch as epoch_module, loop, run as run_module

    in_epoch, reads = [False], []
    for name in ("__array__", "__dlpack__", "__bool__", "__float__", "__int__", "__index__"):
        if hasattr(Array, name):
            def counting(self, *args, _original=getattr(Array, name), _name=name, **kwargs):
                if in_epoch[0]:
                    reads.append(_name)
                return _original(self, *args, **kwargs)
            monkeypatch.setattr(Array, name, counting)
    uploads = []
    for module in (run_module, epoch_module):  # the split's upload, then each epoch's order
        monkeypatch.setattr(module, "asarray",
                            lambda x, *a, **k: uploads.append(len(x)) or xpnet.asarray(x, *a, **k))
    epoch = epoch_module.train_epoch

    def watched(run, number, before_update):
        in_epoch[0] = True
        try:
            return epoch(run, number, before_update)
        finally:
            in_epoch[0] = False

    monkeypatch.setattr(loop, "train_epoch", watched)
    xpnet.fit(X_MOONS, Y_MOONS, [2, 4, 1], epochs=3, batch_size=16, validation_split=0.25,
              optimizer="adam", weight_decay=1e-3, backend=strict, verbose=0)
    assert len(reads) == 3  # the epoch's metrics, read back once per epoch
    assert uploads == [120] + [90] * 3  # the validation split once, then one permutation per epoch


def test_a_reused_optimizer_starts_afresh_on_a_new_network():
    adam = xpnet.Adam()
    xpnet.fit(X_MOONS, Y_MOONS, [2, 8, 1], epochs=2, optimizer=adam, verbose=0)
    _, reused = xpnet.fit(X_MOONS, Y_MOONS, [2, 4, 1], epochs=2, optimizer=adam, verbose=0)
    _, fresh = xpnet.fit(X_MOONS, Y_MOONS, [2, 4, 1], epochs=2, optimizer=xpnet.Adam(), verbose=0)
    assert reused.loss == fresh.loss


def test_callbacks_also_see_the_epoch_that_stops_early():
    seen = []
    _, history = xpnet.fit(X_MOONS, Y_MOONS, [2, 4, 1], epochs=50, lr=0.5, early_stopping=0,
                           validation_data=(X_MOONS, 1 - Y_MOONS), verbose=0,
                           callbacks=[lambda epoch, logs, params: seen.append(epoch)])
    assert history.stop_reason == "early_stopping" and seen == list(range(history.epochs))


def test_numpy_integers_are_accepted_as_sizes():
    _, history = xpnet.fit(X_MOONS, Y_MOONS, [2, 3, 1], epochs=np.int64(2), batch_size=np.int64(30),
                           verbose=0)
    assert history.epochs == 2


def test_fit_with_unit_sample_weights_follows_the_unweighted_run():
    options = dict(epochs=4, lr=0.5, batch_size=32, seed=1, verbose=0)
    plain, plain_history = xpnet.fit(X_MOONS, Y_MOONS, [2, 5, 1], **options)
    weighted, history = xpnet.fit(X_MOONS, Y_MOONS, [2, 5, 1], sample_weight=np.ones(120),
                                  **options)
    for key, value in plain.items():
        np.testing.assert_allclose(weighted[key], value, rtol=1e-12, atol=1e-15)
    np.testing.assert_allclose(history.loss, plain_history.loss, rtol=1e-12)


def test_fit_sample_weight_and_decay_per_sample_weigh_like_repeated_samples():
    weights = np.arange(120) % 3
    options = dict(epochs=3, lr=0.5, weight_decay=0.3, decay_per_sample=True, seed=1, verbose=0)
    weighted, _ = xpnet.fit(X_MOONS, Y_MOONS, [2, 5, 1], sample_weight=weights, **options)
    repeated, _ = xpnet.fit(np.repeat(X_MOONS, weights, axis=1), np.repeat(Y_MOONS, weights, axis=1),
                            [2, 5, 1], **options)
    for key, value in repeated.items():
        np.testing.assert_allclose(weighted[key], value, rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("weights, message", [
    (np.ones(119), r"one weight per sample \(120\)"),
    (-np.ones(120), "finite weights >= 0"),
    (np.zeros(120), "all zero"),
])
def test_fit_refuses_bad_sample_weight(weights, message):
    with pytest.raises(ValueError, match=message):
        xpnet.fit(X_MOONS, Y_MOONS, [2, 1], sample_weight=weights, epochs=1, verbose=0)


def test_fit_refuses_sample_weight_with_validation_split():
    with pytest.raises(ValueError, match="validation_data"):
        xpnet.fit(X_MOONS, Y_MOONS, [2, 1], sample_weight=np.ones(120), validation_split=0.2,
                  epochs=1, verbose=0)
