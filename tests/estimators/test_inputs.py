"""X beyond plain arrays: SciPy sparse matrices, and tables with named columns (pandas)."""

import warnings

import numpy as np
import pytest

from xpnet.estimators import MLPClassifier, MLPRegressor, load

from .conftest import blobs

ESTIMATORS = [MLPClassifier, MLPRegressor]


def quick(cls):
    return cls(hidden_layer_sizes=(4,), max_iter=5, random_state=0, backend="numpy")


class Table:
    """The little of a pandas DataFrame that scikit-learn reads: ``columns`` and ``__array__``."""

    def __init__(self, values, columns):
        self.values, self.columns = np.asarray(values), list(columns)

    def __array__(self, dtype=None, copy=None):
        return self.values if dtype is None else self.values.astype(dtype)


@pytest.mark.parametrize("cls", ESTIMATORS)
@pytest.mark.parametrize("layout", ["csr_matrix", "csc_matrix", "csr_array", "coo_array"])
def test_a_scipy_sparse_x_trains_and_predicts_as_its_dense_values(cls, layout):
    sparse = pytest.importorskip("scipy.sparse")
    X, y = blobs()
    X[np.abs(X) < 0.5] = 0
    dense = quick(cls).fit(X, y)
    model = quick(cls).fit(getattr(sparse, layout)(X), y)
    np.testing.assert_array_equal(model.predict(getattr(sparse, layout)(X)), dense.predict(X))
    np.testing.assert_array_equal(model.params_["W1"], dense.params_["W1"])


def test_another_sparse_format_is_refused_naming_the_conversion():
    class OtherSparse:
        def toarray(self):
            return np.zeros((3, 2))

    with pytest.raises(TypeError, match=r"not OtherSparse; convert X with X\.toarray\(\)"):
        quick(MLPClassifier).fit(OtherSparse(), [0, 1, 0])


@pytest.mark.parametrize("cls", ESTIMATORS)
def test_named_columns_become_feature_names_in_and_are_checked_at_predict(cls, tmp_path):
    X, y = blobs()
    model = quick(cls).fit(Table(X, ["a", "b", "c"]), y)
    np.testing.assert_array_equal(model.feature_names_in_, np.array(["a", "b", "c"], dtype=object))
    assert model.feature_names_in_.dtype == object
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        expected = model.predict(Table(X, ["a", "b", "c"]))
    with pytest.raises(ValueError, match=r"feature names should match.*unseen at fit time: \['d'\]"):
        model.predict(Table(X, ["a", "b", "d"]))
    with pytest.warns(UserWarning, match="X does not have valid feature names"):
        model.predict(X)
    loaded = load(model.save(tmp_path / "model.npz"))
    np.testing.assert_array_equal(loaded.feature_names_in_, model.feature_names_in_)
    np.testing.assert_array_equal(loaded.predict(Table(X, ["a", "b", "c"])), expected)


@pytest.mark.parametrize("cls", ESTIMATORS)
def test_columns_without_string_names_give_no_feature_names(cls):
    X, y = blobs()
    model = quick(cls).fit(Table(X, ["a", "b", "c"]), y).fit(Table(X, [0, 1, 2]), y)
    assert not hasattr(model, "feature_names_in_")  # the refit forgets the old names
    with pytest.warns(UserWarning, match="X has feature names, but .* was fitted without"):
        model.predict(Table(X, ["a", "b", "c"]))
    with pytest.raises(TypeError, match="all input features have string names"):
        quick(cls).fit(Table(X, ["a", 1, "c"]), y)


@pytest.mark.parametrize("cls", ESTIMATORS)
def test_a_pandas_dataframe_gives_feature_names_in(cls):
    pd = pytest.importorskip("pandas")
    X, y = blobs()
    frame = pd.DataFrame(X, columns=["a", "b", "c"])
    model = quick(cls).fit(frame, y)
    assert model.feature_names_in_.tolist() == ["a", "b", "c"]
    with pytest.raises(ValueError, match="feature names should match"):
        model.predict(frame[["c", "b", "a"]])
