"""Run under ``mpiexec -n N python -m mpi4py``: fit on the N ranks and in one process, for
several settings; rank 0 writes what it found as JSON to the path given (argv[1])."""

import json
import sys

import numpy as np
from mpi4py import MPI

import xpnet

CASES = {
    "sgd": dict(optimizer="sgd", lr=0.5),
    "momentum, weight decay": dict(optimizer="momentum", lr=0.3, weight_decay=1e-3),
    "adam, full batch": dict(optimizer="adam", lr=0.01, batch_size=None, epochs=20),
    "adam, validation, early stopping": dict(optimizer="adam", lr=0.01, validation_split=0.2,
                                             early_stopping=1, min_delta=0.05, epochs=10,
                                             batch_size=10),
    "softmax, tanh, no shuffle": dict(optimizer="adam", lr=0.01, output="softmax",
                                      hidden="tanh", shuffle=False),
    "regression": dict(optimizer="momentum", lr=0.05, output="identity", hidden="relu"),
}


def data(output):
    rng = np.random.RandomState(0)
    X = rng.randn(5, 101)
    if output == "softmax":
        labels = (X[0] > 0).astype(int) + (X[1] > 0.5).astype(int)
        return X, np.eye(3)[labels].T
    if output == "identity":
        return X, np.stack([X[0] - 2 * X[1], np.sin(X[2])])
    return X, (X[:1] + X[1:2] > 0).astype(float)


def steps(history, m, options):
    """The training steps a history's epochs took."""
    m_train = m - int(m * options.get("validation_split", 0.0))
    batch = options["batch_size"] or m_train
    return len(history.loss) * -(-m_train // batch)


def estimator_results(comm):
    """MLPClassifier(comm=comm) against the same estimator in one process."""
    import warnings

    from sklearn.exceptions import ConvergenceWarning

    rng = np.random.RandomState(2)
    X = rng.randn(90, 4)
    y = np.where(X[:, 0] > 0.3, "a", np.where(X[:, 1] > 0, "b", "c"))
    settings = dict(hidden_layer_sizes=(6,), random_state=0, max_iter=8, batch_size=16,
                    early_stopping=True, n_iter_no_change=3, learning_rate_init=0.01)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        shared = xpnet.MLPClassifier(comm=comm, **settings).fit(X, y)
        alone = xpnet.MLPClassifier(**settings).fit(X, y) if comm.rank == 0 else None
    every_rank = comm.allgather(np.concatenate([c.ravel() for c in shared.coefs_]).tobytes())
    if comm.rank != 0:
        return {}
    worst = max(float(np.max(np.abs(a - b) / np.abs(b))) for a, b in zip(shared.coefs_, alone.coefs_))
    return {"MLPClassifier, early stopping": {
        "max_relative_parameter_difference": worst,
        "max_relative_history_difference": max(abs(a - b) / abs(b) for a, b in
                                               zip(shared.loss_curve_, alone.loss_curve_)),
        "history_lengths": [[len(shared.loss_curve_), len(alone.loss_curve_)]],
        "stop_reason": [shared.n_iter_, alone.n_iter_],
        "steps": len(alone.loss_curve_) * -(-81 // 16),
        "ranks_identical": all(b == every_rank[0] for b in every_rank)}}


def main(path):
    comm = MPI.COMM_WORLD
    results = {}
    for name, case in CASES.items():
        options = dict(epochs=4, batch_size=20, seed=7, dtype="float64", verbose=0)
        options.update(case)
        X, Y = data(options.get("output", "sigmoid"))
        layer_dims = [5, 7, 4, Y.shape[0]]
        params, history = xpnet.fit(X, Y, layer_dims, comm=comm, **options)
        flat = np.concatenate([np.ravel(params[key]) for key in sorted(params)])
        every_rank = comm.allgather(flat.tobytes())
        if comm.rank == 0:
            alone, history_alone = xpnet.fit(X, Y, layer_dims, **options)
            worst = max(float(np.max(np.abs(params[k] - alone[k]) / (np.abs(alone[k]) + 1e-300)
                                     * (np.abs(alone[k]) > 1e-12)))
                        for k in alone)
            curves = {key: (getattr(history, key), getattr(history_alone, key))
                      for key in ("loss", "accuracy", "val_loss", "val_accuracy")}
            results[name] = {
                "max_relative_parameter_difference": worst,
                "max_relative_history_difference": max(
                    [abs(a - b) / max(abs(b), 1e-300) for mine, theirs in curves.values()
                     for a, b in zip(mine, theirs)] or [0.0]),
                "history_lengths": [[len(mine), len(theirs)] for mine, theirs in curves.values()],
                "stop_reason": [history.stop_reason, history_alone.stop_reason],
                "steps": steps(history, X.shape[1], options),
                "ranks_identical": all(b == every_rank[0] for b in every_rank),
            }
    results.update(estimator_results(comm))
    if comm.rank == 0:
        with open(path, "w") as f:
            json.dump(results, f, indent=1)


if __name__ == "__main__":
    main(sys.argv[1])
