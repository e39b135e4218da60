"""A grid of data and tensor parallelism on every backend, ranks played by threads: the
weights and the history equal one process's, checkpoints pass between a grid and other
layouts, and a mesh that does not fit is refused on every rank."""

from __future__ import annotations

import numpy as np
import pytest

import xpnet
from xpnet.backend import to_numpy
from xpnet.training.ranks import check_parallel
from xpnet.training.tensor import share_of, tensor_layout

from .test_tensor_parallel import DIMS, PAUSED_RUN, data, pause_after_epoch_1
from .threads import fit_on_threads

GRID = ("data", "tensor")
CASES = {
    "sgd": dict(optimizer="sgd", lr=0.1, validation_split=0.25),
    "momentum, weight decay per sample": dict(optimizer="momentum", lr=0.1,
                                              decay_per_sample=True, validation_split=0.25),
    "adam, sample weights, validation data": dict(optimizer="adam", lr=0.01),
}


def options_for(case, xp):
    """``fit``'s options for ``case``: 30 training samples in batches of 7, so the last
    batch (2 samples) leaves a data group of 3 without a piece, and widths 7 and 6 split
    unevenly over 3 tensor ranks."""
    options = dict(epochs=4, batch_size=7, seed=6, hidden="relu", output="softmax",
                   weight_decay=1e-3, verbose=0, **CASES[case])
    if "validation_split" not in options:
        X_val, Y_val = data(xp, m=11)
        weights = np.random.RandomState(1).uniform(0.2, 2.0, 30)
        options.update(validation_data=(X_val, Y_val), sample_weight=weights)
    return options


def training_data(xp, options):
    """40 samples when a quarter is held out for validation, else 30."""
    return data(xp, m=40 if "validation_split" in options else 30)


def check_shares_equal_the_whole(results, mesh, alone):
    """Every rank's share is its part of ``alone``, and bitwise the same in every group."""
    assert not any(isinstance(r, BaseException) for r in results), results
    n_tensor = mesh[1]
    for rank, (share, _) in enumerate(results):
        layout = tensor_layout(DIMS, rank % n_tensor, n_tensor)
        expected = share_of(layout, {k: to_numpy(v) for k, v in alone.items()}, alone["W1"])
        assert sorted(share) == sorted(expected)
        for key in expected:
            np.testing.assert_allclose(to_numpy(share[key]), to_numpy(expected[key]),
                                       rtol=1e-12, atol=1e-14, err_msg=f"rank {rank} {key}")
            np.testing.assert_array_equal(to_numpy(share[key]),
                                          to_numpy(results[rank % n_tensor][0][key]))


@pytest.mark.parametrize("mesh", [(2, 2), (2, 3), (3, 2)])
@pytest.mark.parametrize("case", CASES)
def test_fit_on_a_grid_equals_fit_alone(xp, mesh, case):
    options = options_for(case, xp)
    X, Y = training_data(xp, options)
    alone, history = xpnet.fit(X, Y, DIMS, **options)
    results = fit_on_threads(mesh[0] * mesh[1], X, Y, DIMS, parallel=GRID, mesh=mesh, **options)
    check_shares_equal_the_whole(results, mesh, alone)
    for _, grid_history in results:
        np.testing.assert_allclose(grid_history.loss, history.loss, rtol=1e-12)
        np.testing.assert_allclose(grid_history.accuracy, history.accuracy, rtol=1e-12)
        np.testing.assert_allclose(grid_history.val_loss, history.val_loss, rtol=1e-12)
        np.testing.assert_allclose(grid_history.val_accuracy, history.val_accuracy, rtol=1e-12)


@pytest.mark.parametrize("mesh", [(2, 2), (3, 2)])
def test_gather_params_with_the_mesh_joins_one_copy_on_rank_0(mesh):
    X, Y = data("numpy")
    options = dict(epochs=2, batch_size=8, seed=6, hidden="relu", output="softmax", verbose=0)
    alone, _ = xpnet.fit(X, Y, DIMS, **options)
    results = fit_on_threads(mesh[0] * mesh[1], X, Y, DIMS, parallel=GRID, mesh=mesh,
                             then=lambda t, r: xpnet.gather_params(r[0], t, mesh=mesh), **options)
    assert all(whole is None for whole in results[1:]), results
    for key in alone:
        np.testing.assert_allclose(results[0][key], alone[key], rtol=1e-12, atol=1e-14)
    refused = fit_on_threads(4, X, Y, DIMS, parallel=GRID, mesh=(2, 2),
                             then=lambda t, r: xpnet.gather_params(r[0], t, mesh=(4, 2)), **options)
    assert all(isinstance(e, (ValueError, xpnet.errors.RankFailedError)) for e in refused)
    assert "mesh must be the grid's (n_data, n_tensor)" in str(refused[0])


def test_a_grid_continues_given_shares(xp):
    """params given on every rank, its share (rank t of each tensor group) as a
    tensor-parallel fit returns them, continue as the whole network would alone; the
    first group's shares are the ones every group starts from."""
    options = options_for("sgd", xp)
    X, Y = training_data(xp, options)
    first, _ = xpnet.fit(X, Y, DIMS, **options)
    host = {k: np.array(to_numpy(v)) for k, v in first.items()}  # copies: fit updates params
    alone, _ = xpnet.fit(X, Y, DIMS, params={k: xpnet.asarray(v.copy(), xp)
                                            for k, v in host.items()}, **options)

    def params_of(rank):  # a copy for each rank (fit updates params in place)
        share = share_of(tensor_layout(DIMS, rank % 2, 2), host, first["W1"])
        if rank >= 2:  # the second group's copy is off: the first group's is broadcast
            share["W1"] = share["W1"] * 2.0
        return {"params": share}

    results = fit_on_threads(4, X, Y, DIMS, parallel=GRID, mesh=(2, 2), per_rank=params_of,
                             **options)
    check_shares_equal_the_whole(results, (2, 2), alone)


def test_a_grid_checkpoint_resumes_alone_on_tensor_ranks_and_on_a_grid(xp, tmp_path,
                                                                      monkeypatch):
    """The file holds the whole network, written by world rank 0 alone (the other data
    group's tensor rank 0 holds a copy of the same shares and stays out). Paused on a
    grid and resumed alone, on tensor ranks or on another grid, and the other way round:
    each ends within 1e-12 of the run never paused."""
    import xpnet.training.checkpoint as checkpoint

    writes = []
    write = checkpoint.write_checkpoint
    monkeypatch.setattr(checkpoint, "write_checkpoint",
                        lambda path, state: (writes.append(path), write(path, state)))
    X, Y = data(xp)
    options = PAUSED_RUN
    alone, _ = xpnet.fit(X, Y, DIMS, epochs=6, **options)

    def run(where, **more):
        """fit alone (None), or on ``(ranks, parallel, mesh)``; the whole network it ends
        with (joined from a grid's or tensor ranks' shares through a checkpoint)."""
        if where is None:
            return xpnet.fit(X, Y, DIMS, **options, **more)[0]
        size, parallel, mesh = where
        results = fit_on_threads(size, X, Y, DIMS, parallel=parallel, mesh=mesh, **options,
                                 **more)
        assert not any(isinstance(r, BaseException) for r in results), results
        return results

    grid_2x2, grid_3x2 = (4, GRID, (2, 2)), (6, GRID, (3, 2))
    tensor_2, data_2 = (2, "tensor", None), (2, "data", None)
    # How each layout's ranks hold the network, as a grid's (n_data, n_tensor).
    held_as = {None: (1, 1), grid_2x2: (2, 2), grid_3x2: (3, 2), tensor_2: (1, 2),
               data_2: (2, 1)}
    for first, then in ((grid_2x2, None), (grid_2x2, tensor_2), (grid_2x2, data_2),
                        (grid_2x2, grid_3x2), (None, grid_2x2)):
        path = tmp_path / f"{first}-{then}.ckpt.npz"
        writes.clear()
        run(first, epochs=6, checkpoint=path, callbacks=[pause_after_epoch_1])
        assert len(writes) == 2, (first, writes)  # epochs 0 and 1, once each
        ended = run(then, epochs=6, checkpoint=path, resume=True)
        if then is None:
            ended = [(ended, None)]
        check_shares_equal_the_whole(ended, held_as[then], alone)


def test_bad_meshes_are_refused_on_every_rank():
    X, Y = data("numpy")
    bad = {(3, 2): "makes a grid of 6 ranks, but comm has 4",
           (1, 4): "n_tensor=4 ranks, and layer_dims [5, 7, 3, 3] has one of 3 units",
           (2, 2.0): "two positive ints", (0, 4): "two positive ints", "2x2": "two positive ints",
           None: "pass mesh=(n_data, n_tensor) with n_data * n_tensor == 4"}
    for mesh, message in bad.items():
        errors = fit_on_threads(4, X, Y, [5, 7, 3, 3], parallel=GRID, mesh=mesh, epochs=1,
                                output="softmax", verbose=0)
        assert all(isinstance(e, ValueError) and message in str(e) for e in errors), (mesh, errors)
    errors = fit_on_threads(2, X, Y, [5, 3], parallel=GRID, mesh=(2, 1), epochs=1, verbose=0,
                            output="softmax")
    assert all(isinstance(e, ValueError) and "has none" in str(e) for e in errors), errors
    errors = fit_on_threads(2, X, Y, DIMS, mesh=(2, 1), epochs=1, verbose=0, output="softmax")
    assert all(isinstance(e, ValueError) and "leave mesh out" in str(e) for e in errors), errors


def test_the_grid_needs_comm_and_its_own_spelling():
    X, Y = data("numpy")
    with pytest.raises(ValueError, match="pass comm"):
        xpnet.fit(X, Y, DIMS, parallel=GRID, mesh=(1, 1), output="softmax")
    with pytest.raises(ValueError, match="mesh arranges the ranks of comm"):
        xpnet.fit(X, Y, DIMS, mesh=(1, 1), output="softmax")
    assert check_parallel(["data", "tensor"], object()) == "grid"
    for wrong in (("tensor", "data"), ("data",), "grid"):
        with pytest.raises(ValueError, match=r"'data', 'tensor' or \('data', 'tensor'\)"):
            check_parallel(wrong, object())


def test_the_estimators_refuse_a_grid():
    X, Y = data("numpy")
    clf = xpnet.MLPClassifier(comm=object(), parallel=GRID)
    with pytest.raises(NotImplementedError, match=r"xpnet.fit\(\.\.\., parallel=\('data'"):
        clf.fit(to_numpy(X).T, to_numpy(Y).argmax(axis=0))


def test_a_given_transport_without_split_is_refused_on_every_rank():
    from xpnet.distributed import Transport

    from .threads import ThreadTransport, on_threads

    class NoSplit(ThreadTransport):  # a transport of one's own that cannot make groups
        split = Transport.split

    X, Y = data("numpy")

    def work(rank, transport):
        transport.__class__ = NoSplit
        try:
            xpnet.fit(X, Y, DIMS, comm=transport, parallel=GRID, mesh=(2, 2), verbose=0)
        except (NotImplementedError, xpnet.errors.RankFailedError) as exc:
            return exc

    errors = on_threads(4, work)
    assert all(isinstance(e, (NotImplementedError, xpnet.errors.RankFailedError)) for e in errors)
    assert "does not define split(color, key)" in str(errors[0])
